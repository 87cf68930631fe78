"""Messages of the organizer pages (see service/console/messages/__init__.py)."""

from __future__ import annotations

_PROFILE_FIELDS_JA = {
    "id": "ID",
    "name": "名称",
    "name_en": "英語名",
    "kind": "種別",
    "country": "国",
    "region": "地域",
    "cluster": "クラスター",
    "description": "概要",
    "offers": "提供できること",
    "needs": "求めていること",
    "industries": "業種",
    "markets": "対象市場",
    "languages": "対応言語",
    "employees": "従業員数",
    "founded": "設立年",
    "website": "ウェブサイト",
    "contact": "連絡先",
}
_PROFILE_FIELDS_EN = {
    "id": "ID",
    "name": "Name",
    "name_en": "English name",
    "kind": "Kind",
    "country": "Country",
    "region": "Region",
    "cluster": "Cluster",
    "description": "Description",
    "offers": "Offers",
    "needs": "Needs",
    "industries": "Industries",
    "markets": "Markets",
    "languages": "Languages",
    "employees": "Employees",
    "founded": "Founded",
    "website": "Website",
    "contact": "Contact",
}

JA: dict[str, str] = {
    "nav.organizer.profiles": "プロフィール",
    "nav.organizer.import": "取り込み",
    "nav.organizer.events": "商談会",
    **{f"organizer.field.{k}": v for k, v in _PROFILE_FIELDS_JA.items()},
    "organizer.any": "すべて",
    "organizer.actions": "操作",
    "organizer.edit": "編集",
    "organizer.remove": "削除",
    "organizer.save": "保存する",
    "organizer.cancel": "キャンセル",
    "organizer.refresh": "最新の状態を表示",
    "organizer.prev": "前のページ",
    "organizer.next": "次のページ",
    "organizer.pager": "ページ送り",
    "organizer.page_of": "{page} / {pages} ページ",
    "organizer.level.must": "必須（must）",
    "organizer.level.want": "希望（want）",
    "organizer.level.no": "不可（no）",
    "organizer.job.queued": "順番待ち",
    "organizer.job.running": "取り込み中",
    "organizer.job.succeeded": "完了",
    "organizer.job.failed": "失敗",
    # profiles
    "organizer.profiles.title": "プロフィール一覧",
    "organizer.profiles.filters": "プロフィールの絞り込み",
    "organizer.profiles.q": "名称で検索",
    "organizer.profiles.q_hint": (
        "名称の一部で探します。「意味で検索」では事業内容の近いものを探します。"
    ),
    "organizer.profiles.country_hint": "2文字の国コード（例: JP, IT）",
    "organizer.profiles.meaning": "意味で検索",
    "organizer.profiles.search": "検索",
    "organizer.profiles.clear": "条件をクリア",
    "organizer.profiles.count": "{n} 件（{page} / {pages} ページ）",
    "organizer.profiles.semantic_count": "意味の近い順に {n} 件",
    "organizer.profiles.none": "条件に合うプロフィールはありません。",
    "organizer.profiles.index_loading": (
        "検索用の索引を読み込み中です。しばらくしてからもう一度お試しください。"
    ),
    # import
    "organizer.import.title": "プロフィールの取り込み",
    "organizer.import.steps": "取り込みの手順",
    "organizer.import.step1": "1. ファイルを選ぶ",
    "organizer.import.step2": "2. 内容を確認する",
    "organizer.import.step3": "3. 取り込み方法を選ぶ",
    "organizer.import.file": "ファイル",
    "organizer.import.file_hint": (
        "CSV（UTF-8 または Excel の Shift_JIS/cp932）、Excel ブック（.xlsx、最初のシート）、"
        "JSONL。{mb} MB まで。1行目は見出しです。"
    ),
    "organizer.import.ignore_unknown": "知らない列（備考など）は無視する",
    "organizer.import.preview": "内容を確認する",
    "organizer.import.cancelled": "取り込みを取り消しました。何も書き込まれていません。",
    "organizer.import.columns": "使える列",
    "organizer.import.columns_lead": (
        "見出しは日本語でも英語でも構いません（例: 企業名、会社名、name）。"
    ),
    "organizer.import.columns_hint": (
        "必須は ID と名称です。複数の値は「;」や「、」で区切ります。"
        "種別は「企業」「大学」などと書けます。"
    ),
    "organizer.import.error.no_file": "ファイルを選んでください。",
    "organizer.import.error.empty": "ファイルが空です。",
    "organizer.import.error.too_large": "ファイルが大きすぎます（{mb} MB まで）。",
    "organizer.import.error.unreadable": "このファイルは読み込めません。理由は次のとおりです。",
    "organizer.import.preview_title": "取り込み内容の確認",
    "organizer.import.rows": "データ行",
    "organizer.import.good": "取り込める行",
    "organizer.import.bad": "エラーのある行",
    "organizer.import.nothing_yet": (
        "まだ何も書き込まれていません。下で取り込み方法を選んでください。"
    ),
    "organizer.import.bad_rows_title": "エラーのある行（{n} 行）",
    "organizer.import.row": "行",
    "organizer.import.field": "項目",
    "organizer.import.reason": "理由",
    "organizer.import.whole_row": "行全体",
    "organizer.import.more_errors": (
        "ほかに {n} 件のエラーがあります（最初の分だけ表示しています）。"
    ),
    "organizer.import.sample_title": "取り込める行の例（{good} 行のうち {n} 行）",
    "organizer.import.fix_or_skip": (
        "ファイルを直してもう一度選ぶか、エラーのない行だけを取り込むかを選んでください。"
    ),
    "organizer.import.do_all": "{n} 行を取り込む",
    "organizer.import.do_partial": "エラーのない {n} 行だけ取り込み、{bad} 行は飛ばす",
    "organizer.import.cancel": "取り込まない（ファイルを直す）",
    "organizer.import.choose": "取り込み方法を選んでください。",
    "organizer.import.has_bad_rows": (
        "エラーのある行があります。エラーのない行だけを取り込むか、ファイルを直してください。"
    ),
    "organizer.import.changed": "確認した内容と違います。もう一度確認してください。",
    "organizer.import.expired.title": "確認中のファイルが見つかりません",
    "organizer.import.expired.body": (
        "取り込みは取り消されたか、期限（1時間）が切れたか、別のサインインのものです。"
        "もう一度ファイルを選んでください。"
    ),
    "organizer.import.unreadable_now.title": "ファイルを読み込めません",
    "organizer.import.unreadable_now.body": "{detail}",
    "organizer.import.done_title": "取り込みが終わりました",
    "organizer.import.done_lead": "{n} 件のプロフィールを書き込みました。",
    "organizer.import.created": "新規",
    "organizer.import.updated": "更新",
    "organizer.import.unchanged": "変更なし",
    "organizer.import.skipped": "飛ばした行",
    "organizer.import.another": "ほかのファイルを取り込む",
    "organizer.import.job_title": "プロフィールを取り込んでいます",
    "organizer.import.job_running": (
        "大きなファイルのため、裏で取り込んでいます。このページは自動で更新されます。"
    ),
    "organizer.import.job_failed": "取り込みに失敗しました。何も書き込まれていません。",
    # reasons of bad rows
    "organizer.reason.missing": "必須の項目が空です",
    "organizer.reason.duplicate": "ID が重複しています（最初は {row} 行目）",
    "organizer.reason.country": "「{value}」は国コード（ISO 3166-1 の2文字、例: JP）ではありません",
    "organizer.reason.integer": "整数で入力してください（入力: {value}）",
    "organizer.reason.max": "{limit} 以下にしてください",
    "organizer.reason.min": "{limit} 以上にしてください",
    "organizer.reason.too_long": "{limit} 文字以内にしてください",
    "organizer.reason.kind": (
        "種別が正しくありません（入力: {value}）。企業、大学、研究機関、商社、金融機関、公的機関、"
        "支援機関、その他 のいずれかです"
    ),
    "organizer.reason.id_pattern": (
        "ID は英数字で始め、英数字と . _ : @ - だけを使ってください（入力: {value}）"
    ),
    "organizer.reason.unknown_field": "知らない項目です",
    "organizer.reason.no_header": "見出しのない列 {column} に値があります",
    "organizer.reason.not_object": "JSON のオブジェクトではありません",
    "organizer.reason.key_twice": "同じ項目が2回あります",
    "organizer.reason.other_office": (
        "事務局「{office}」のプロフィールです。変更できるのはその事務局か管理者だけです"
    ),
    "organizer.reason.shared_directory": (
        "共有ディレクトリ（事務局なし）のプロフィールです。変更できるのは管理者だけです"
    ),
    # events
    "organizer.events.title": "商談会",
    "organizer.events.new": "商談会を作成",
    "organizer.events.create": "作成する",
    "organizer.events.none": "まだ商談会はありません。",
    "organizer.events.participants": "参加者",
    "organizer.events.schedule": "スケジュール",
    "organizer.events.scheduled": "作成済み",
    "organizer.events.not_scheduled": "未作成",
    "organizer.event.edit": "設定を編集",
    "organizer.event.edit_title": "商談会の設定",
    "organizer.event.tabs": "商談会のページ",
    "organizer.event.tab.summary": "概要",
    "organizer.event.tab.participants": "参加者",
    "organizer.event.tab.suggestions": "推薦ペア",
    "organizer.event.tab.wishes": "希望",
    "organizer.event.tab.schedule": "スケジュール",
    "organizer.event.section.basics": "基本情報",
    "organizer.event.section.slots": "時間枠とテーブル",
    "organizer.event.section.groups": "グループと組み合わせ",
    "organizer.event.section.wishes": "希望の受付と商談数",
    "organizer.event.field.name": "商談会の名称",
    "organizer.event.field.date": "開催日",
    "organizer.event.field.venue": "会場",
    "organizer.event.field.time_zone": "タイムゾーン",
    "organizer.event.field.start": "最初の枠の開始時刻",
    "organizer.event.field.slot_minutes": "1枠の長さ（分）",
    "organizer.event.field.slots": "枠の数",
    "organizer.event.field.tables": "テーブル数",
    "organizer.event.field.groups": "グループ",
    "organizer.event.field.allow": "商談できる組み合わせ",
    "organizer.event.field.wish_deadline": "希望の締め切り",
    "organizer.event.field.default_min": "最少商談数（既定）",
    "organizer.event.field.default_max": "最多商談数（既定）",
    "organizer.event.hint.slot_minutes": "5〜240 分",
    "organizer.event.hint.groups": "カンマ区切り（例: buyer, supplier／発注企業, 受注企業）",
    "organizer.event.hint.allow": "チェックした組み合わせどうしだけが商談します。",
    "organizer.event.hint.one_group": "グループが1つなので、全員が互いに商談できます。",
    "organizer.event.hint.wish_deadline": (
        "参加企業はこの日時まで希望を送れます（商談会のタイムゾーン）。"
    ),
    "organizer.event.hint.default_max": "空欄は上限なし",
    "organizer.event.refresh_pairs": "組み合わせの一覧を更新",
    "organizer.event.error.required": "入力してください。",
    "organizer.event.error.too_long": "長すぎます。",
    "organizer.event.error.integer": "整数で入力してください。",
    "organizer.event.error.date": "日付を YYYY-MM-DD で入力してください。",
    "organizer.event.error.time": "時刻を HH:MM で入力してください。",
    "organizer.event.error.datetime": "日時を正しく入力してください。",
    "organizer.event.error.time_zone": "一覧からタイムゾーンを選んでください。",
    "organizer.event.error.range.slot_minutes": "5〜240 分にしてください。",
    "organizer.event.error.range.slots": "1〜500 枠にしてください。",
    "organizer.event.error.range.tables": "1〜1000 卓にしてください。",
    "organizer.event.error.range.default_min": "0〜200 にしてください。",
    "organizer.event.error.range.default_max": "0〜200 にしてください。",
    "organizer.event.error.groups_many": "グループは10個までです。",
    "organizer.event.error.group_long": "グループ名は40文字までです。",
    "organizer.event.error.group_in_use": (
        "参加者が所属しているグループは外せません。先に参加者のグループを変えてください。"
    ),
    "organizer.event.error.allow_none": "商談できる組み合わせを1つ以上選んでください。",
    "organizer.event.error.allow": "組み合わせが正しくありません。",
    "organizer.event.error.min_over_max": "最少が最多を超えています。",
    "organizer.event.error.deadline_after": "締め切りは開始より前にしてください。",
    "organizer.event.error.name": "名称は1〜300文字にしてください。",
    "organizer.event.error.slots": "枠の数が正しくありません。",
    "organizer.event.error.slot_times": "時間枠を作れません（開始時刻と長さを確認してください）。",
    "organizer.event.error.slot_minutes": "1枠の長さが正しくありません。",
    "organizer.event.error.tables": "テーブル数が正しくありません。",
    "organizer.event.error.availability": (
        "参加者の参加可能枠が新しい枠の数を超えています。先に参加者の枠を直してください。"
    ),
    "organizer.event.error.locked": "固定された商談が新しい枠の数に収まりません。",
    "organizer.event.done.created": "商談会を作成しました。次に参加者を追加してください。",
    "organizer.event.done.saved": "設定を保存しました。",
    "organizer.event.done.deleted": "商談会を削除しました。",
    "organizer.event.slots_label": "時間枠",
    "organizer.event.slots_summary": "{n} 枠 × {minutes} 分",
    "organizer.event.allow_all": "全員が互いに商談できます",
    "organizer.event.meetings_default": "商談数（既定）",
    "organizer.event.progress": "準備の状況",
    "organizer.event.decided": "必須 {must}・希望 {want}・不可 {no}",
    "organizer.event.to_schedule": "スケジュールへ",
    "organizer.event.delete": "この商談会を削除",
    "organizer.event.delete_warning": (
        "参加者、希望、スケジュールもすべて削除されます。元に戻せません。"
    ),
    "organizer.event.delete_confirm": "削除する",
    # participants
    "organizer.participants.list": "参加者（{n}）",
    "organizer.participants.none": (
        "まだ参加者はいません。下のプロフィール検索か名簿ファイルで追加してください。"
    ),
    "organizer.participants.group": "グループ",
    "organizer.participants.min": "最少商談数",
    "organizer.participants.max": "最多商談数",
    "organizer.participants.available": "参加できる枠",
    "organizer.participants.available_hint": "参加できる時間枠にチェックを入れてください。",
    "organizer.participants.all_slots": "全枠",
    "organizer.participants.some_slots": "{n} / {total} 枠",
    "organizer.participants.add_title": "プロフィールから追加",
    "organizer.participants.search": "追加するプロフィールの検索",
    "organizer.participants.search_hint": (
        "名称・種別・クラスターで探して、追加する組織を選びます。"
    ),
    "organizer.participants.found": "{n} 件見つかりました（{shown} 件を表示）。",
    "organizer.participants.choose": "追加するプロフィール",
    "organizer.participants.already": "参加済み",
    "organizer.participants.add_selected": "選んだ組織を追加",
    "organizer.participants.upload_title": "名簿ファイルから追加",
    "organizer.participants.list_file": "名簿（CSV）",
    "organizer.participants.list_hint": (
        "列: id または profile_id（必須）、group、min、max、"
        "available（枠の番号、例: 1-4;6）、name。"
        "日本語の見出し（プロフィールID、グループ、最小、最大、参加可能枠）も使えます。"
    ),
    "organizer.participants.upload": "名簿を読み込む",
    "organizer.participants.error.none": "追加するプロフィールを選んでください。",
    "organizer.participants.error.group": "この商談会のグループから選んでください。",
    "organizer.participants.error.invalid": "この変更は商談会の条件と矛盾します。",
    "organizer.participants.error.no_file": "名簿ファイルを選んでください。",
    "organizer.participants.error.unreadable": "名簿ファイルを読み込めません。",
    "organizer.participants.error.bad_rows": "名簿にエラーがあるため、誰も追加していません。",
    "organizer.participants.error.count": "0〜200 の整数にしてください。",
    "organizer.participants.error.min_over_max": "最少が最多を超えています。",
    "organizer.participants.error.min_over_slots": "最少商談数が参加できる枠の数を超えています。",
    "organizer.participants.error.no_slots": "参加できる枠を1つ以上選んでください。",
    "organizer.participants.csv.missing": "id も profile_id もありません",
    "organizer.participants.csv.bad_id": "ID が正しくありません（{value}）",
    "organizer.participants.csv.duplicate": "ID が重複しています（最初は {first} 行目）",
    "organizer.participants.csv.unknown_profile": "プロフィール「{value}」は登録されていません",
    "organizer.participants.csv.unknown_group": "グループ「{value}」はこの商談会にありません",
    "organizer.participants.csv.bad_count": "整数で入力してください（{value}）",
    "organizer.participants.csv.min_over_max": "最少が最多を超えています",
    "organizer.participants.csv.bad_slots": "枠「{value}」が正しくありません（1〜{slots}）",
    "organizer.participants.csv.file": "{detail}",
    "organizer.participants.done.added": "{n} 件の参加者を追加しました。",
    "organizer.participants.done.uploaded": "名簿から {n} 件を追加し、{m} 件を更新しました。",
    "organizer.participants.done.removed": (
        "参加者を削除しました（関連する希望など {n} 件も削除）。"
    ),
    "organizer.participants.done.saved": "参加者の設定を保存しました。",
    # suggestions
    "organizer.suggestions.per_participant": "1参加者あたりの推薦数",
    "organizer.suggestions.generate": "マッチングから推薦を作る",
    "organizer.suggestions.lead": "{n} 件の参加者のプロフィールから、相性のよい相手を探します。",
    "organizer.suggestions.explain": (
        "「採用」は主催者の指定として商談を依頼します（希望=want、必須=must）。"
        "「見送り」はこの組み合わせを組まないようにします。「ピン留め」は一覧の先頭に残す印で、"
        "推薦を作り直しても消えません（スケジュールには影響しません）。"
        "グループの組み合わせ、商談不可のペア、過去に商談済みのペアは推薦しません。"
    ),
    "organizer.suggestions.none": (
        "推薦はまだありません。参加者を追加してから推薦を作ってください。"
    ),
    "organizer.suggestions.and": "と",
    "organizer.suggestions.score": "スコア",
    "organizer.suggestions.reason_from": "{name} から見た理由:",
    "organizer.suggestions.pinned": "ピン留め",
    "organizer.suggestions.decision.want": "採用（希望）",
    "organizer.suggestions.decision.must": "採用（必須）",
    "organizer.suggestions.decision.no": "見送り",
    "organizer.suggestions.accept_want": "採用（希望）",
    "organizer.suggestions.accept_must": "採用（必須）",
    "organizer.suggestions.reject": "見送り",
    "organizer.suggestions.undo": "取り消し",
    "organizer.suggestions.pin": "ピン留め",
    "organizer.suggestions.unpin": "ピンを外す",
    "organizer.suggestions.error.count": "1〜20 の整数にしてください。",
    "organizer.suggestions.error.pair": "この商談会の参加者の組み合わせではありません。",
    "organizer.suggestions.error.invalid": "この判断は商談会の条件と矛盾します。",
    "organizer.suggestions.done.generated": "推薦を作りました（{n} 組）。",
    "organizer.suggestions.done.decided": "判断を保存しました。",
    "organizer.suggestions.done.pinned": "ピン留めしました。",
    "organizer.suggestions.done.unpinned": "ピンを外しました。",
    # wishes
    "organizer.wishes.add_title": "希望を入力",
    "organizer.wishes.lead": (
        "参加者に代わって希望を入力します。主催者は締め切り後も入力できます。"
    ),
    "organizer.wishes.need_two": "希望を入力するには参加者が2件以上必要です。",
    "organizer.wishes.choose": "選んでください",
    "organizer.wishes.field.source": "希望する参加者",
    "organizer.wishes.field.target": "相手",
    "organizer.wishes.field.level": "希望の強さ",
    "organizer.wishes.field.priority": "優先度",
    "organizer.wishes.highest": "最優先",
    "organizer.wishes.lowest": "最も低い",
    "organizer.wishes.add": "追加する",
    "organizer.wishes.list": "入力済みの希望（{n}）",
    "organizer.wishes.none": "まだ希望はありません。",
    "organizer.wishes.overrides": "主催者の指定（{n}）",
    "organizer.wishes.overrides_hint": (
        "推薦ペアの採用・見送りで決めた組み合わせです。両者の希望より優先されます。"
    ),
    "organizer.wishes.pair": "組み合わせ",
    "organizer.wishes.error.choose": "参加者を選んでください。",
    "organizer.wishes.error.self": "自分自身は選べません。",
    "organizer.wishes.error.level": "must・want・no から選んでください。",
    "organizer.wishes.error.priority": "1〜5 から選んでください。",
    "organizer.wishes.error.contradicts": (
        "同じ相手への別の強さの希望がすでにあります。先にそちらを削除してください。"
    ),
    "organizer.wishes.error.override": (
        "主催者が採用した組み合わせに「不可」は入力できません。先に指定を外してください。"
    ),
    "organizer.wishes.error.locked": "固定された商談と矛盾します。",
    "organizer.wishes.error.blocked": "この組み合わせは商談不可に設定されています。",
    "organizer.wishes.error.unknown": "この商談会の参加者ではありません。",
    "organizer.wishes.done.added": "希望を追加しました。",
    "organizer.wishes.done.removed": "削除しました。",
}

EN: dict[str, str] = {
    "nav.organizer.profiles": "Profiles",
    "nav.organizer.import": "Import",
    "nav.organizer.events": "Events",
    **{f"organizer.field.{k}": v for k, v in _PROFILE_FIELDS_EN.items()},
    "organizer.any": "Any",
    "organizer.actions": "Actions",
    "organizer.edit": "Edit",
    "organizer.remove": "Remove",
    "organizer.save": "Save",
    "organizer.cancel": "Cancel",
    "organizer.refresh": "Show the latest state",
    "organizer.prev": "Previous page",
    "organizer.next": "Next page",
    "organizer.pager": "Pages",
    "organizer.page_of": "Page {page} of {pages}",
    "organizer.level.must": "Must",
    "organizer.level.want": "Want",
    "organizer.level.no": "No",
    "organizer.job.queued": "Queued",
    "organizer.job.running": "Importing",
    "organizer.job.succeeded": "Done",
    "organizer.job.failed": "Failed",
    # profiles
    "organizer.profiles.title": "Profiles",
    "organizer.profiles.filters": "Filter profiles",
    "organizer.profiles.q": "Search by name",
    "organizer.profiles.q_hint": (
        "Finds names containing the text. “Search by meaning” finds similar businesses instead."
    ),
    "organizer.profiles.country_hint": "Two-letter country code (e.g. JP, IT)",
    "organizer.profiles.meaning": "Search by meaning",
    "organizer.profiles.search": "Search",
    "organizer.profiles.clear": "Clear",
    "organizer.profiles.count": "{n} profiles (page {page} of {pages})",
    "organizer.profiles.semantic_count": "{n} profiles, closest in meaning first",
    "organizer.profiles.none": "No profile matches.",
    "organizer.profiles.index_loading": "The search index is still loading; try again shortly.",
    # import
    "organizer.import.title": "Import profiles",
    "organizer.import.steps": "Import steps",
    "organizer.import.step1": "1. Choose a file",
    "organizer.import.step2": "2. Check the contents",
    "organizer.import.step3": "3. Choose how to import",
    "organizer.import.file": "File",
    "organizer.import.file_hint": (
        "CSV (UTF-8, or Excel's Shift_JIS/cp932), an Excel workbook (.xlsx, first sheet) or "
        "JSONL; up to {mb} MB. The first row is the header."
    ),
    "organizer.import.ignore_unknown": "Ignore unknown columns (notes and the like)",
    "organizer.import.preview": "Check the contents",
    "organizer.import.cancelled": "The import was cancelled. Nothing was written.",
    "organizer.import.columns": "Columns",
    "organizer.import.columns_lead": (
        "Headers may be in English or Japanese (e.g. name, 企業名, 会社名)."
    ),
    "organizer.import.columns_hint": (
        "ID and name are required. Separate several values with “;”. Kinds may be written "
        "as words (firm, university, 企業, 大学 ...)."
    ),
    "organizer.import.error.no_file": "Choose a file.",
    "organizer.import.error.empty": "The file is empty.",
    "organizer.import.error.too_large": "The file is too large (up to {mb} MB).",
    "organizer.import.error.unreadable": "This file cannot be read, for this reason:",
    "organizer.import.preview_title": "Check the import",
    "organizer.import.rows": "Data rows",
    "organizer.import.good": "Rows that can be imported",
    "organizer.import.bad": "Rows with errors",
    "organizer.import.nothing_yet": "Nothing has been written yet. Choose below how to import.",
    "organizer.import.bad_rows_title": "Rows with errors ({n})",
    "organizer.import.row": "Row",
    "organizer.import.field": "Field",
    "organizer.import.reason": "Reason",
    "organizer.import.whole_row": "Whole row",
    "organizer.import.more_errors": "{n} more errors are not shown.",
    "organizer.import.sample_title": "Sample of the good rows ({n} of {good})",
    "organizer.import.fix_or_skip": (
        "Fix the file and choose it again, or import only the rows without errors."
    ),
    "organizer.import.do_all": "Import {n} rows",
    "organizer.import.do_partial": "Import the {n} good rows and skip the {bad} bad ones",
    "organizer.import.cancel": "Don't import (fix the file)",
    "organizer.import.choose": "Choose how to import.",
    "organizer.import.has_bad_rows": (
        "Some rows have errors: import only the good rows, or fix the file."
    ),
    "organizer.import.changed": "The file differs from what you checked; check it again.",
    "organizer.import.expired.title": "The file to import is gone",
    "organizer.import.expired.body": (
        "The import was cancelled, expired (after an hour) or belongs to another sign-in. "
        "Choose the file again."
    ),
    "organizer.import.unreadable_now.title": "The file cannot be read",
    "organizer.import.unreadable_now.body": "{detail}",
    "organizer.import.done_title": "Import finished",
    "organizer.import.done_lead": "{n} profiles were written.",
    "organizer.import.created": "New",
    "organizer.import.updated": "Updated",
    "organizer.import.unchanged": "Unchanged",
    "organizer.import.skipped": "Rows skipped",
    "organizer.import.another": "Import another file",
    "organizer.import.job_title": "Importing profiles",
    "organizer.import.job_running": (
        "A large file is imported in the background; this page updates itself."
    ),
    "organizer.import.job_failed": "The import failed. Nothing was written.",
    # reasons of bad rows
    "organizer.reason.missing": "Required, but empty",
    "organizer.reason.duplicate": "Duplicate ID (first on row {row})",
    "organizer.reason.country": (
        "“{value}” is not a country code (ISO 3166-1, two letters, e.g. JP)"
    ),
    "organizer.reason.integer": "Must be a whole number (got {value})",
    "organizer.reason.max": "Must be at most {limit}",
    "organizer.reason.min": "Must be at least {limit}",
    "organizer.reason.too_long": "At most {limit} characters",
    "organizer.reason.kind": (
        "Unknown kind (got {value}): firm, university, research institute, trading company, "
        "financial institution, public body, support org or other"
    ),
    "organizer.reason.id_pattern": (
        "An ID starts with a letter or digit and uses only letters, digits and . _ : @ - "
        "(got {value})"
    ),
    "organizer.reason.unknown_field": "Unknown field",
    "organizer.reason.no_header": "A value in column {column}, which has no header",
    "organizer.reason.not_object": "Not a JSON object",
    "organizer.reason.key_twice": "The same key twice",
    "organizer.reason.other_office": (
        "A profile of the office '{office}': only that office or an admin may change it"
    ),
    "organizer.reason.shared_directory": (
        "A profile of the shared directory (no office): only an admin may change it"
    ),
    # events
    "organizer.events.title": "Events",
    "organizer.events.new": "New event",
    "organizer.events.create": "Create",
    "organizer.events.none": "No events yet.",
    "organizer.events.participants": "Participants",
    "organizer.events.schedule": "Schedule",
    "organizer.events.scheduled": "Scheduled",
    "organizer.events.not_scheduled": "Not scheduled",
    "organizer.event.edit": "Edit settings",
    "organizer.event.edit_title": "Event settings",
    "organizer.event.tabs": "Event pages",
    "organizer.event.tab.summary": "Summary",
    "organizer.event.tab.participants": "Participants",
    "organizer.event.tab.suggestions": "Suggestions",
    "organizer.event.tab.wishes": "Wishes",
    "organizer.event.tab.schedule": "Schedule",
    "organizer.event.section.basics": "Basics",
    "organizer.event.section.slots": "Slots and tables",
    "organizer.event.section.groups": "Groups and who meets whom",
    "organizer.event.section.wishes": "Wishes and meetings",
    "organizer.event.field.name": "Event name",
    "organizer.event.field.date": "Date",
    "organizer.event.field.venue": "Venue",
    "organizer.event.field.time_zone": "Time zone",
    "organizer.event.field.start": "First slot starts at",
    "organizer.event.field.slot_minutes": "Slot length (minutes)",
    "organizer.event.field.slots": "Number of slots",
    "organizer.event.field.tables": "Tables",
    "organizer.event.field.groups": "Groups",
    "organizer.event.field.allow": "Who meets whom",
    "organizer.event.field.wish_deadline": "Wish deadline",
    "organizer.event.field.default_min": "Default minimum meetings",
    "organizer.event.field.default_max": "Default maximum meetings",
    "organizer.event.hint.slot_minutes": "5 to 240 minutes",
    "organizer.event.hint.groups": "Comma-separated (e.g. buyer, supplier)",
    "organizer.event.hint.allow": "Only the checked pairs of groups meet.",
    "organizer.event.hint.one_group": "One group: everyone may meet everyone.",
    "organizer.event.hint.wish_deadline": (
        "Participants can send wishes until then (in the event's time zone)."
    ),
    "organizer.event.hint.default_max": "Empty: no limit",
    "organizer.event.refresh_pairs": "Update the list of pairs",
    "organizer.event.error.required": "Required.",
    "organizer.event.error.too_long": "Too long.",
    "organizer.event.error.integer": "Enter a whole number.",
    "organizer.event.error.date": "Enter a date as YYYY-MM-DD.",
    "organizer.event.error.time": "Enter a time as HH:MM.",
    "organizer.event.error.datetime": "Enter a valid date and time.",
    "organizer.event.error.time_zone": "Choose a time zone from the list.",
    "organizer.event.error.range.slot_minutes": "5 to 240 minutes.",
    "organizer.event.error.range.slots": "1 to 500 slots.",
    "organizer.event.error.range.tables": "1 to 1000 tables.",
    "organizer.event.error.range.default_min": "0 to 200.",
    "organizer.event.error.range.default_max": "0 to 200.",
    "organizer.event.error.groups_many": "At most 10 groups.",
    "organizer.event.error.group_long": "A group name has at most 40 characters.",
    "organizer.event.error.group_in_use": (
        "A group that participants are in cannot be dropped; change their group first."
    ),
    "organizer.event.error.allow_none": "Choose at least one pair of groups that meet.",
    "organizer.event.error.allow": "The pairs of groups are not valid.",
    "organizer.event.error.min_over_max": "The minimum is above the maximum.",
    "organizer.event.error.deadline_after": "The deadline must be before the event starts.",
    "organizer.event.error.name": "The name has 1 to 300 characters.",
    "organizer.event.error.slots": "The number of slots is not valid.",
    "organizer.event.error.slot_times": "The slots cannot be made (check start and length).",
    "organizer.event.error.slot_minutes": "The slot length is not valid.",
    "organizer.event.error.tables": "The number of tables is not valid.",
    "organizer.event.error.availability": (
        "Some participants are available in slots beyond the new number; change them first."
    ),
    "organizer.event.error.locked": "Locked meetings do not fit the new number of slots.",
    "organizer.event.done.created": "The event was created. Next, add participants.",
    "organizer.event.done.saved": "The settings were saved.",
    "organizer.event.done.deleted": "The event was deleted.",
    "organizer.event.slots_label": "Slots",
    "organizer.event.slots_summary": "{n} slots × {minutes} min",
    "organizer.event.allow_all": "Everyone may meet everyone",
    "organizer.event.meetings_default": "Meetings (default)",
    "organizer.event.progress": "Preparation",
    "organizer.event.decided": "must {must} · want {want} · no {no}",
    "organizer.event.to_schedule": "Go to the schedule",
    "organizer.event.delete": "Delete this event",
    "organizer.event.delete_warning": (
        "Its participants, wishes and schedule are deleted too. This cannot be undone."
    ),
    "organizer.event.delete_confirm": "Delete",
    # participants
    "organizer.participants.list": "Participants ({n})",
    "organizer.participants.none": (
        "No participants yet. Add them from profiles or from a list file below."
    ),
    "organizer.participants.group": "Group",
    "organizer.participants.min": "Minimum meetings",
    "organizer.participants.max": "Maximum meetings",
    "organizer.participants.available": "Available slots",
    "organizer.participants.available_hint": "Check the slots this participant can attend.",
    "organizer.participants.all_slots": "All slots",
    "organizer.participants.some_slots": "{n} of {total} slots",
    "organizer.participants.add_title": "Add from profiles",
    "organizer.participants.search": "Find profiles to add",
    "organizer.participants.search_hint": "Search by name, kind or cluster, then pick whom to add.",
    "organizer.participants.found": "{n} found ({shown} shown).",
    "organizer.participants.choose": "Profiles to add",
    "organizer.participants.already": "already taking part",
    "organizer.participants.add_selected": "Add the selected",
    "organizer.participants.upload_title": "Add from a list file",
    "organizer.participants.list_file": "List (CSV)",
    "organizer.participants.list_hint": (
        "Columns: id or profile_id (required), group, min, max, available (slot numbers, "
        "e.g. 1-4;6), name. Japanese headers work too."
    ),
    "organizer.participants.upload": "Read the list",
    "organizer.participants.error.none": "Choose the profiles to add.",
    "organizer.participants.error.group": "Choose one of the event's groups.",
    "organizer.participants.error.invalid": "This change contradicts the event's rules.",
    "organizer.participants.error.no_file": "Choose a list file.",
    "organizer.participants.error.unreadable": "The list cannot be read.",
    "organizer.participants.error.bad_rows": "The list has errors, so nobody was added.",
    "organizer.participants.error.count": "A whole number from 0 to 200.",
    "organizer.participants.error.min_over_max": "The minimum is above the maximum.",
    "organizer.participants.error.min_over_slots": "The minimum is above the available slots.",
    "organizer.participants.error.no_slots": "Choose at least one slot.",
    "organizer.participants.csv.missing": "Neither id nor profile_id",
    "organizer.participants.csv.bad_id": "Not a valid ID ({value})",
    "organizer.participants.csv.duplicate": "Duplicate ID (first on row {first})",
    "organizer.participants.csv.unknown_profile": "No stored profile “{value}”",
    "organizer.participants.csv.unknown_group": "The event has no group “{value}”",
    "organizer.participants.csv.bad_count": "Must be a whole number ({value})",
    "organizer.participants.csv.min_over_max": "The minimum is above the maximum",
    "organizer.participants.csv.bad_slots": "Not a slot: “{value}” (1 to {slots})",
    "organizer.participants.csv.file": "{detail}",
    "organizer.participants.done.added": "{n} participants were added.",
    "organizer.participants.done.uploaded": "From the list: {n} added, {m} updated.",
    "organizer.participants.done.removed": (
        "The participant was removed (with {n} wishes and other items naming it)."
    ),
    "organizer.participants.done.saved": "The participant was saved.",
    # suggestions
    "organizer.suggestions.per_participant": "Suggestions per participant",
    "organizer.suggestions.generate": "Suggest pairs from matching",
    "organizer.suggestions.lead": "Finds good partners among the profiles of {n} participants.",
    "organizer.suggestions.explain": (
        "Accept asks for the meeting as the organizer's word (want or must). Reject keeps "
        "the pair apart. Pin keeps a pair at the top, also when suggestions are made again "
        "(it does not change the schedule). Pairs whose groups do not meet, blocked pairs "
        "and pairs that met before are never suggested."
    ),
    "organizer.suggestions.none": "No suggestions yet. Add participants, then suggest pairs.",
    "organizer.suggestions.and": "and",
    "organizer.suggestions.score": "Score",
    "organizer.suggestions.reason_from": "Why, for {name}:",
    "organizer.suggestions.pinned": "Pinned",
    "organizer.suggestions.decision.want": "Accepted (want)",
    "organizer.suggestions.decision.must": "Accepted (must)",
    "organizer.suggestions.decision.no": "Rejected",
    "organizer.suggestions.accept_want": "Accept (want)",
    "organizer.suggestions.accept_must": "Accept (must)",
    "organizer.suggestions.reject": "Reject",
    "organizer.suggestions.undo": "Undo",
    "organizer.suggestions.pin": "Pin",
    "organizer.suggestions.unpin": "Unpin",
    "organizer.suggestions.error.count": "A whole number from 1 to 20.",
    "organizer.suggestions.error.pair": "Not a pair of this event's participants.",
    "organizer.suggestions.error.invalid": "This decision contradicts the event's rules.",
    "organizer.suggestions.done.generated": "Suggestions made ({n} pairs).",
    "organizer.suggestions.done.decided": "The decision was saved.",
    "organizer.suggestions.done.pinned": "Pinned.",
    "organizer.suggestions.done.unpinned": "Unpinned.",
    # wishes
    "organizer.wishes.add_title": "Enter a wish",
    "organizer.wishes.lead": (
        "Enter wishes on a participant's behalf; organizers may do so after the deadline too."
    ),
    "organizer.wishes.need_two": "Wishes need at least two participants.",
    "organizer.wishes.choose": "Choose",
    "organizer.wishes.field.source": "Participant who wishes",
    "organizer.wishes.field.target": "Toward",
    "organizer.wishes.field.level": "Level",
    "organizer.wishes.field.priority": "Priority",
    "organizer.wishes.highest": "highest",
    "organizer.wishes.lowest": "lowest",
    "organizer.wishes.add": "Add",
    "organizer.wishes.list": "Wishes ({n})",
    "organizer.wishes.none": "No wishes yet.",
    "organizer.wishes.overrides": "Organizer's decisions ({n})",
    "organizer.wishes.overrides_hint": (
        "Pairs accepted or rejected on the suggestions page; they outweigh both sides' wishes."
    ),
    "organizer.wishes.pair": "Pair",
    "organizer.wishes.error.choose": "Choose a participant.",
    "organizer.wishes.error.self": "A participant cannot wish to meet itself.",
    "organizer.wishes.error.level": "Choose must, want or no.",
    "organizer.wishes.error.priority": "Choose 1 to 5.",
    "organizer.wishes.error.contradicts": (
        "There is already a wish toward the same participant at another level; remove it first."
    ),
    "organizer.wishes.error.override": (
        "The organizer accepted this pair; a “no” contradicts it. Remove the decision first."
    ),
    "organizer.wishes.error.locked": "This contradicts a locked meeting.",
    "organizer.wishes.error.blocked": "This pair is blocked.",
    "organizer.wishes.error.unknown": "Not a participant of this event.",
    "organizer.wishes.done.added": "The wish was added.",
    "organizer.wishes.done.removed": "Removed.",
}
