"""Messages of the admin pages (see service/console/messages/__init__.py)."""

from __future__ import annotations

JA: dict[str, str] = {
    "admin.nav.users": "ユーザー",
    "admin.nav.keys": "API キー",
    "admin.nav.ranker": "ランキング",
    "admin.error.self_change": "自分自身の権限は変更できません。",
    "admin.error.self_disable": "自分自身を無効にはできません。",
    "admin.error.key_name_invalid": "名前は200文字以内で、制御文字を含めないでください。",
    "admin.error.disabled_link": (
        "無効なユーザーにはリンクを発行できません。先に有効にしてください。"
    ),
    "admin.users.title": "ユーザー",
    "admin.users.lead": (
        "コンソールにサインインする人のアカウントです。招待するとパスワード設定用のリンクが"
        "一度だけ表示されるので、本人に渡してください。"
    ),
    "admin.users.list": "ユーザー一覧（{count}人）",
    "admin.users.user": "ユーザー",
    "admin.users.state": "状態",
    "admin.users.actions": "操作",
    "admin.users.you": "あなた",
    "admin.users.self": "自分自身の権限変更や無効化はできません。",
    "admin.users.created": "登録: {at}",
    "admin.users.active": "有効",
    "admin.users.invited": "招待中（パスワード未設定）",
    "admin.users.disabled": "無効",
    "admin.users.role_of": "{email} の権限",
    "admin.users.profile_of": "{email} のプロフィールID（会員企業のみ）",
    "admin.users.profile_placeholder": "プロフィールID（会員企業のみ）",
    "admin.users.change_role": "権限・事務局を変更",
    "admin.users.disable": "無効にする",
    "admin.users.enable": "有効にする",
    "admin.users.new_link": "新しいリンクを発行",
    "admin.users.new": "ユーザーを招待",
    "admin.users.new_hint": (
        "作成後に表示されるリンクから、本人がパスワードを設定します（7日間有効）。"
    ),
    "admin.users.profile_id": "プロフィールID",
    "admin.users.profile_hint": "会員企業のときだけ入力します（例: jp-1）。",
    "admin.users.create": "招待する",
    "admin.users.office_hint": (
        "このユーザーが所属するクラスター事務局（例: kansai）。空欄なら default。"
        "主催者は自分の事務局のプロフィールと商談会を管理します。"
    ),
    "admin.users.office_of": "{email} の事務局",
    "admin.users.office_placeholder": "事務局",
    "admin.users.done.role": "{email} の権限を変更しました。",
    "admin.users.done.disabled": (
        "{email} を無効にしました。サインイン中のセッションも終了しました。"
    ),
    "admin.users.done.enabled": "{email} を有効にしました。",
    "admin.link.title": "パスワード設定用のリンク",
    "admin.link.created": "{email} を招待しました。",
    "admin.link.renewed": (
        "{email} の新しいリンクを発行しました。以前のリンクは使えなくなりました。"
    ),
    "admin.link.label": "一度だけ使えるリンク",
    "admin.link.hint": (
        "このリンクはこの画面に一度だけ表示されます。コピーして本人に安全な方法で渡してください。"
        "7日間有効で、一度使うと無効になります。"
    ),
    "admin.link.back": "ユーザー一覧へ",
    "admin.keys.title": "API キー",
    "admin.keys.lead": (
        "ほかのシステムから API を使うためのキーです。キーそのものは発行時に一度だけ表示され、"
        "ここには保存されません。"
    ),
    "admin.keys.list": "API キー一覧（{count}件）",
    "admin.keys.number": "番号",
    "admin.keys.name": "名前",
    "admin.keys.name_hint": "誰が何に使うキーか（例: 県の受発注システム）。",
    "admin.keys.created": "発行日時",
    "admin.keys.state": "状態",
    "admin.keys.active": "有効",
    "admin.keys.revoked": "失効",
    "admin.keys.revoke": "失効させる",
    "admin.keys.revoked_done": "キー {id} を失効させました。",
    "admin.keys.empty": "API キーはまだありません。",
    "admin.keys.new": "API キーを発行",
    "admin.keys.new_hint": "発行したキーは次の画面で一度だけ表示されます。",
    "admin.keys.create": "発行する",
    "admin.keys.office_hint": (
        "キーが所属するクラスター事務局（例: kansai）。空欄なら default。"
        "主催者のキーは自分の事務局のプロフィールと商談会を管理します。"
    ),
    "admin.key_created.title": "API キーを発行しました",
    "admin.key_created.body": "キー {id} を発行しました。",
    "admin.key_created.label": "API キー",
    "admin.key_created.hint": (
        "このキーはこの画面に一度だけ表示され、あとから確認することはできません。"
        "コピーして安全な場所に保管してください。"
    ),
    "admin.key_created.back": "API キー一覧へ",
    "admin.revoke.title": "API キーの失効",
    "admin.revoke.body": (
        "キー {id}（{name}）を失効させます。このキーを使うシステムは API を使えなくなります。"
        "元に戻せません。"
    ),
    "admin.revoke.already": "このキーはすでに失効しています。",
    "admin.revoke.confirm": "失効させる",
    "admin.revoke.cancel": "やめる",
    "admin.ranker.title": "ランキングモデル",
    "admin.ranker.lead": (
        "マッチング結果の並び順を、過去の商談・協業の記録から学習したモデルで調整します。"
        "記録が増えたら再学習してください。"
    ),
    "admin.ranker.status": "現在の状態",
    "admin.ranker.method": "並び順の決め方",
    "admin.ranker.method.learned": "学習済みモデル",
    "admin.ranker.method.hand": "既定の重み（学習なし）",
    "admin.ranker.interactions": "過去の記録",
    "admin.ranker.native": "高速化（ネイティブコード）",
    "admin.ranker.yes": "あり",
    "admin.ranker.no": "なし",
    "admin.ranker.note": "注記",
    "admin.ranker.model": "モデルの情報",
    "admin.ranker.retrain": "再学習",
    "admin.ranker.retrain_hint": "バックグラウンドで実行します。数秒から数分かかります。",
    "admin.ranker.seed": "乱数シード",
    "admin.ranker.seed_hint": "同じシードなら同じ結果になります（0以上）。",
    "admin.ranker.max_queries": "学習に使う問い合わせ数の上限",
    "admin.ranker.max_queries_hint": "10〜20000。大きいほど時間がかかります。",
    "admin.ranker.submit": "再学習を始める",
    "admin.ranker.error.seed": "0 から 2147483648 までの整数にしてください。",
    "admin.ranker.error.max_queries": "10 から 20000 までの整数にしてください。",
    "admin.job.title": "再学習",
    "admin.job.lead": "進み具合は自動で更新されます。このページを離れても学習は続きます。",
    "admin.job.progress": "進み具合",
    "admin.job.bar": "進捗",
    "admin.job.status.queued": "待機中",
    "admin.job.status.running": "実行中",
    "admin.job.status.succeeded": "完了",
    "admin.job.status.failed": "失敗",
    "admin.job.polling": "1秒ごとに更新しています。",
    "admin.job.reload": "手動で更新",
    "admin.job.failed": "再学習に失敗しました。",
    "admin.job.report": "結果",
    "admin.job.queries": "問い合わせ数",
    "admin.job.rows": "学習データの行数",
    "admin.job.positives": "正例",
    "admin.job.models": "モデル数",
    "admin.job.took": "所要時間",
    "admin.job.seconds": "{s} 秒",
    "admin.job.hand_hint": (
        "記録が少ないため、既定の重みのままです。記録が増えたら再学習してください。"
    ),
    "admin.job.back": "ランキングモデルへ",
    "admin.job.status_hint": "学習が終わると、新しいモデルがすぐに使われます。",
    "admin.nav.audit": "監査ログ",
    "admin.audit.title": "監査ログ",
    "admin.audit.lead": (
        "API・コンソール・コマンドによるすべての書き込み（拒否されたものを含む）の記録です。"
        "誰が・いつ・何を・どこから行ったかを確認できます。記録は変更・削除できません。"
    ),
    "admin.audit.filters": "絞り込み",
    "admin.audit.actor": "実行者",
    "admin.audit.actor_hint": "例: user:3、key:5、cli",
    "admin.audit.route": "操作（ルートの先頭）",
    "admin.audit.route_hint": "例: /v1/events、/console/admin",
    "admin.audit.method": "種類",
    "admin.audit.any": "すべて",
    "admin.audit.path": "対象ID・パス",
    "admin.audit.since": "開始日",
    "admin.audit.until": "終了日",
    "admin.audit.failed": "拒否・失敗のみ（400以上）",
    "admin.audit.apply": "絞り込む",
    "admin.audit.clear": "解除",
    "admin.audit.at": "日時",
    "admin.audit.what": "操作",
    "admin.audit.status": "結果",
    "admin.audit.where": "接続元",
    "admin.audit.none": "条件に合う記録はありません。",
    "admin.audit.older": "さらに古い記録",
    "admin.audit.newest": "最新に戻る",
    "admin.audit.anonymous": "未認証",
    "admin.audit.error.date": "日付は 2026-04-01 の形で入力してください。",
}

EN: dict[str, str] = {
    "admin.nav.users": "Users",
    "admin.nav.keys": "API keys",
    "admin.nav.ranker": "Ranker",
    "admin.error.self_change": "You cannot change your own role.",
    "admin.error.self_disable": "You cannot disable yourself.",
    "admin.error.key_name_invalid": "Use at most 200 characters and no control characters.",
    "admin.error.disabled_link": "A disabled user gets no link: enable them first.",
    "admin.users.title": "Users",
    "admin.users.lead": (
        "The people who sign in to the console. Inviting someone shows a link to set their "
        "password, once: hand it to them."
    ),
    "admin.users.list": "Users ({count})",
    "admin.users.user": "User",
    "admin.users.state": "State",
    "admin.users.actions": "Actions",
    "admin.users.you": "You",
    "admin.users.self": "You cannot change your own role or disable yourself.",
    "admin.users.created": "Since {at}",
    "admin.users.active": "Active",
    "admin.users.invited": "Invited (no password yet)",
    "admin.users.disabled": "Disabled",
    "admin.users.role_of": "Role of {email}",
    "admin.users.profile_of": "Profile ID of {email} (member firms only)",
    "admin.users.profile_placeholder": "Profile ID (members only)",
    "admin.users.change_role": "Change role and office",
    "admin.users.disable": "Disable",
    "admin.users.enable": "Enable",
    "admin.users.new_link": "New link",
    "admin.users.new": "Invite a user",
    "admin.users.new_hint": "They set their password with the link shown next (valid 7 days).",
    "admin.users.profile_id": "Profile ID",
    "admin.users.profile_hint": "For a member firm only (for example jp-1).",
    "admin.users.create": "Invite",
    "admin.users.office_hint": (
        "The cluster office the user works for (for example kansai); blank: default. An "
        "organizer manages the profiles and events of its office."
    ),
    "admin.users.office_of": "Office of {email}",
    "admin.users.office_placeholder": "Office",
    "admin.users.done.role": "The role of {email} was changed.",
    "admin.users.done.disabled": "{email} was disabled, and their sessions ended.",
    "admin.users.done.enabled": "{email} was enabled.",
    "admin.link.title": "Link to set the password",
    "admin.link.created": "{email} was invited.",
    "admin.link.renewed": "A new link for {email}; earlier links no longer work.",
    "admin.link.label": "One-time link",
    "admin.link.hint": (
        "This link is shown on this page only. Copy it and hand it over safely. It works "
        "once, for 7 days."
    ),
    "admin.link.back": "Back to the users",
    "admin.keys.title": "API keys",
    "admin.keys.lead": (
        "Keys for other systems to use the API. A key is shown once, when it is issued; "
        "only its digest is kept."
    ),
    "admin.keys.list": "API keys ({count})",
    "admin.keys.number": "No.",
    "admin.keys.name": "Name",
    "admin.keys.name_hint": "Who uses it, for what (for example: the prefecture's order system).",
    "admin.keys.created": "Issued",
    "admin.keys.state": "State",
    "admin.keys.active": "Active",
    "admin.keys.revoked": "Revoked",
    "admin.keys.revoke": "Revoke",
    "admin.keys.revoked_done": "Key {id} was revoked.",
    "admin.keys.empty": "No API keys yet.",
    "admin.keys.new": "Issue an API key",
    "admin.keys.new_hint": "The key is shown once, on the next page.",
    "admin.keys.create": "Issue",
    "admin.keys.office_hint": (
        "The cluster office the key works for (for example kansai); blank: default. An "
        "organizer's key manages the profiles and events of its office."
    ),
    "admin.key_created.title": "API key issued",
    "admin.key_created.body": "Key {id} was issued.",
    "admin.key_created.label": "API key",
    "admin.key_created.hint": (
        "The key is shown on this page only and cannot be looked up later. Copy it and keep "
        "it somewhere safe."
    ),
    "admin.key_created.back": "Back to the API keys",
    "admin.revoke.title": "Revoke API key",
    "admin.revoke.body": (
        "This revokes key {id} ({name}): systems using it lose access to the API. It cannot "
        "be undone."
    ),
    "admin.revoke.already": "This key is revoked already.",
    "admin.revoke.confirm": "Revoke",
    "admin.revoke.cancel": "Cancel",
    "admin.ranker.title": "Ranking model",
    "admin.ranker.lead": (
        "Matches are ordered by a model learned from past meetings and collaborations. "
        "Retrain it when the history has grown."
    ),
    "admin.ranker.status": "Now in use",
    "admin.ranker.method": "Ordering",
    "admin.ranker.method.learned": "Learned model",
    "admin.ranker.method.hand": "Default weights (not learned)",
    "admin.ranker.interactions": "Past interactions",
    "admin.ranker.native": "Compiled to native code",
    "admin.ranker.yes": "Yes",
    "admin.ranker.no": "No",
    "admin.ranker.note": "Note",
    "admin.ranker.model": "The model",
    "admin.ranker.retrain": "Retrain",
    "admin.ranker.retrain_hint": "Runs in the background; seconds to minutes.",
    "admin.ranker.seed": "Random seed",
    "admin.ranker.seed_hint": "The same seed gives the same model (0 or more).",
    "admin.ranker.max_queries": "Most queries to learn from",
    "admin.ranker.max_queries_hint": "10 to 20,000; more takes longer.",
    "admin.ranker.submit": "Start retraining",
    "admin.ranker.error.seed": "Use a whole number from 0 to 2147483648.",
    "admin.ranker.error.max_queries": "Use a whole number from 10 to 20000.",
    "admin.job.title": "Retraining",
    "admin.job.lead": "The progress updates by itself. Training goes on if you leave this page.",
    "admin.job.progress": "Progress",
    "admin.job.bar": "Progress",
    "admin.job.status.queued": "Queued",
    "admin.job.status.running": "Running",
    "admin.job.status.succeeded": "Done",
    "admin.job.status.failed": "Failed",
    "admin.job.polling": "Updated every second.",
    "admin.job.reload": "Update now",
    "admin.job.failed": "The retraining failed.",
    "admin.job.report": "Report",
    "admin.job.queries": "Queries",
    "admin.job.rows": "Training rows",
    "admin.job.positives": "Positives",
    "admin.job.models": "Models",
    "admin.job.took": "Took",
    "admin.job.seconds": "{s} s",
    "admin.job.hand_hint": (
        "Too little history: the default weights stay in use. Retrain when it has grown."
    ),
    "admin.job.back": "Back to the ranking model",
    "admin.job.status_hint": "A new model is used as soon as the training ends.",
    "admin.nav.audit": "Audit log",
    "admin.audit.title": "Audit log",
    "admin.audit.lead": (
        "Every write through the API, the console and the command line, refused ones "
        "included: who did what, when and from where. Entries cannot be changed or deleted."
    ),
    "admin.audit.filters": "Filters",
    "admin.audit.actor": "Who",
    "admin.audit.actor_hint": "e.g. user:3, key:5, cli",
    "admin.audit.route": "What (start of the route)",
    "admin.audit.route_hint": "e.g. /v1/events, /console/admin",
    "admin.audit.method": "Kind",
    "admin.audit.any": "Any",
    "admin.audit.path": "Id or path",
    "admin.audit.since": "From",
    "admin.audit.until": "To",
    "admin.audit.failed": "Refused or failed only (400 and above)",
    "admin.audit.apply": "Filter",
    "admin.audit.clear": "Clear",
    "admin.audit.at": "When",
    "admin.audit.what": "What",
    "admin.audit.status": "Result",
    "admin.audit.where": "From",
    "admin.audit.none": "No entry matches.",
    "admin.audit.older": "Older entries",
    "admin.audit.newest": "Back to the newest",
    "admin.audit.anonymous": "not signed in",
    "admin.audit.error.date": "Enter dates as 2026-04-01.",
}
