"""Messages of the outcome pages (see service/console/messages/__init__.py)."""

from __future__ import annotations

JA: dict[str, str] = {
    "organizer.event.tab.outcomes": "商談結果",
    "outcomes.slot": "枠 {n}",
    "outcomes.label.attendance.held": "実施",
    "outcomes.label.attendance.no_show": "欠席",
    "outcomes.label.attendance.cancelled": "中止",
    "outcomes.label.interest.none": "関心なし",
    "outcomes.label.interest.some": "関心あり",
    "outcomes.label.interest.strong": "強い関心",
    "outcomes.label.next_step.none": "なし",
    "outcomes.label.next_step.another_meeting": "再商談",
    "outcomes.label.next_step.samples_or_quote": "サンプル・見積",
    "outcomes.label.next_step.nda": "NDA（秘密保持契約）",
    "outcomes.label.next_step.joint_proposal": "共同提案",
    "outcomes.label.stage.no_progress": "進展なし",
    "outcomes.label.stage.negotiation": "商談中",
    "outcomes.label.stage.nda": "NDA締結",
    "outcomes.label.stage.joint_development": "共同開発",
    "outcomes.label.stage.contract": "受注・契約",
    "outcomes.label.stage.new_business": "新事業",
    "outcomes.label.no_show.partner": "相手が来なかった",
    "outcomes.label.no_show.self": "自社が参加できなかった",
    "outcomes.label.no_show.both": "双方とも参加できなかった",
    "outcomes.label.source.api": "API",
    "outcomes.label.source.console": "コンソール",
    "outcomes.label.source.import": "シート取込",
    # the member's agenda
    "outcomes.agenda.column": "商談結果",
    "outcomes.agenda.record": "結果を記録",
    "outcomes.agenda.record_label": "{name} との商談結果を記録",
    "outcomes.agenda.recorded": "記録済み",
    # a member's meeting
    "outcomes.member.title": "商談結果の記録",
    "outcomes.member.lead": (
        "この商談の結果を記録してください。記録は自社と主催者だけが見られます。"
        "相手企業には見えません。"
    ),
    "outcomes.member.meeting": "商談",
    "outcomes.member.with": "相手",
    "outcomes.member.when": "日時",
    "outcomes.member.table": "テーブル",
    "outcomes.member.as": "自社の参加者",
    "outcomes.member.not_started": (
        "この商談はまだ始まっていません。今記録できるのは「中止」だけです。"
    ),
    "outcomes.member.current": "現在の記録",
    "outcomes.member.none_yet": "まだ記録がありません。",
    "outcomes.member.correct": "記録を修正する",
    "outcomes.member.record": "記録する",
    "outcomes.member.correct_hint": (
        "修正すると新しい記録が追加されます。前の記録は履歴に残ります。"
    ),
    "outcomes.member.history": "記録の履歴",
    "outcomes.member.history_by": "{when} · {who}（{source}）",
    "outcomes.member.back": "商談会のページへ戻る",
    "outcomes.field.attendance": "実施状況",
    "outcomes.field.no_show": "欠席したのは",
    "outcomes.field.interest": "関心度",
    "outcomes.field.next_step": "次のステップ",
    "outcomes.field.note": "メモ（自社と主催者だけに表示）",
    "outcomes.field.choose": "選んでください",
    "outcomes.field.no_show_hint": "実施状況が「欠席」のときに選んでください。",
    "outcomes.field.held_hint": "関心度と次のステップは、商談を実施したときに記録します。",
    "outcomes.saved": "商談結果を記録しました。",
    "outcomes.error.attendance": "実施状況を選んでください。",
    "outcomes.error.no_show": "欠席したのが誰かを選んでください（実施状況が「欠席」のときだけ）。",
    "outcomes.error.interest": "関心度は、実施した商談にだけ記録できます。",
    "outcomes.error.next_step": "次のステップは、実施した商談にだけ記録できます。",
    "outcomes.error.note": "メモが長すぎます（2,000文字まで）。",
    "outcomes.error.not_started": "商談の開始前です。開始前に記録できるのは「中止」だけです。",
    # follow-up rounds
    "outcomes.round.title": "その後の進捗（フォローアップ）",
    "outcomes.round.lead": (
        "商談会の後、決まった時期にその後の進み具合をうかがいます。分かった時点でいつでも回答できます。"
    ),
    "outcomes.round.name": "{m}か月後",
    "outcomes.round.due_on": "回答時期: {date}",
    "outcomes.round.due": "回答待ち",
    "outcomes.round.upcoming": "時期前",
    "outcomes.round.answered": "回答済み",
    "outcomes.round.stage": "段階",
    "outcomes.round.amount": "金額（円、任意）",
    "outcomes.round.amount_hint": "例: 1200000、120万円",
    "outcomes.round.note": "メモ",
    "outcomes.round.submit": "回答する",
    "outcomes.round.saved": "フォローアップの回答を記録しました。",
    "outcomes.round.error.stage": "段階を選んでください。",
    "outcomes.round.error.amount": "金額は円の数字で入力してください（例: 1200000、120万円）。",
    "outcomes.round.error.amount_yen": "金額は0円から10兆円までで入力してください。",
    "outcomes.round.error.amount_no_progress": "「進展なし」には金額を付けられません。",
    "outcomes.round.error.note": "メモが長すぎます（2,000文字まで）。",
    # the organizer's page
    "outcomes.organizer.title": "商談結果",
    "outcomes.organizer.lead": (
        "各商談の双方の記録（実施・欠席、関心度、次のステップ）と、フォローアップの回答状況です。"
    ),
    "outcomes.organizer.meetings": "商談",
    "outcomes.organizer.summary": "概況",
    "outcomes.organizer.recorded": "記録済み（双方の合計）",
    "outcomes.organizer.held": "実施",
    "outcomes.organizer.not_held": "欠席・中止",
    "outcomes.organizer.unknown": "未記録",
    "outcomes.organizer.strong": "強い関心",
    "outcomes.organizer.rounds": "フォローアップ",
    "outcomes.organizer.round_line": (
        "{m}か月後（{date}）: 対象 {asked}・回答 {answered}・回答待ち {due}"
    ),
    "outcomes.organizer.not_reached": (
        "{m}か月後（{date}）: まだ時期前です（対象 {asked}・回答 {answered}）"
    ),
    "outcomes.organizer.day_from.slot_times": "起算日 {date}（商談会の開催日）",
    "outcomes.organizer.day_from.created_at": "起算日 {date}（時刻のない商談会のため作成日）",
    "outcomes.organizer.none": "スケジュールに商談がまだありません。",
    "outcomes.organizer.col.when": "日時",
    "outcomes.organizer.col.table": "テーブル",
    "outcomes.organizer.col.side": "参加者と記録",
    "outcomes.organizer.col.held": "実施",
    "outcomes.organizer.not_recorded": "未記録",
    "outcomes.organizer.status.dropped": "再計画で削除",
    "outcomes.organizer.status.earlier": "以前のスケジュール",
    "outcomes.organizer.held_yes": "実施",
    "outcomes.organizer.held_no": "未実施",
    "outcomes.organizer.held_unknown": "不明",
    "outcomes.organizer.sheet": "フォローアップシート（商談シート）",
    "outcomes.organizer.sheet_lead": (
        "聞き取りやメールで回答を集めるためのシートです。1行が1商談の片側です。"
        "記入したシートをそのまま取り込めます（CSV は UTF-8 でも Shift_JIS でも可）。"
    ),
    "outcomes.organizer.sheet_csv": "CSV（日本語）",
    "outcomes.organizer.sheet_xlsx": "Excel（日本語）",
    "outcomes.organizer.sheet_en": "英語版",
    "outcomes.import.file": "記入したシート（CSV または XLSX）",
    "outcomes.import.file_hint": "{mb} MB まで",
    "outcomes.import.partial": "問題のない行だけを取り込む（問題のある行は取り込まずに一覧します）",
    "outcomes.import.submit": "取り込む",
    "outcomes.import.done": (
        "取り込みました: 商談結果 {outcomes} 件、"
        "フォローアップ {follow_ups} 件（変更なし {unchanged} 件）。"
    ),
    "outcomes.import.partial_done": (
        "問題のない行だけを取り込みました。次の {n} 行は取り込んでいません。"
    ),
    "outcomes.import.error.rows": (
        "{n} 行に問題があるため、何も取り込んでいません。"
        "直して取り込み直すか、問題のない行だけを取り込んでください。"
    ),
    "outcomes.import.error.no_file": "ファイルを選んでください。",
    "outcomes.import.error.too_large": "ファイルが大きすぎます。",
    "outcomes.import.error.unreadable": "ファイルを読み取れません。",
    "outcomes.import.col.row": "行",
    "outcomes.import.result": "取り込み結果",
    "outcomes.organizer.due": "回答待ち",
    "outcomes.organizer.due_count": "回答待ち {n}",
    "outcomes.import.col.column": "列",
    "outcomes.import.col.reason": "理由",
    "outcomes.import.warnings": "注意",
    "outcomes.reason.required": "必須です",
    "outcomes.reason.one_of": "次のいずれかで記入してください: {choices}",
    "outcomes.reason.amount": (
        "円の金額として読めません: {value}（例: 1200000、1,200,000円、120万円）"
    ),
    "outcomes.reason.no_header": "見出しのない列に値があります",
    "outcomes.reason.too_long": "{n} 文字までです",
    "outcomes.reason.attendance_needed": "この行に商談の記録があるため、出欠が必要です",
    "outcomes.reason.stage_needed": "金額かメモがあるため、その回の段階が必要です",
    "outcomes.reason.no_show_who": "自社・相手・双方のいずれか、または欠席者のIDを記入してください",
    "outcomes.reason.repeated": "{row} 行目と同じ商談・同じ回答者です",
    "outcomes.reason.participant": "この商談会に参加者「{id}」はいません",
    "outcomes.reason.same_participant": "回答者と相手が同じです",
    "outcomes.reason.no_meeting": "「{a}」と「{b}」の商談はスケジュールにありません",
    "outcomes.reason.no_show_missing": "欠席のときは欠席者（自社・相手・双方）を記入してください",
    "outcomes.reason.no_show_only": "欠席者は出欠が「欠席」のときだけ記入します",
    "outcomes.reason.held_only": "実施した商談にだけ記入できます",
    "outcomes.reason.not_started": "商談（{when}）の開始前です。開始前は「中止」だけ記録できます",
    "outcomes.reason.amount_range": "金額は0円から{max}円までです",
    "outcomes.reason.amount_no_progress": "「進展なし」には金額を付けられません",
}

EN: dict[str, str] = {
    "organizer.event.tab.outcomes": "Outcomes",
    "outcomes.slot": "Slot {n}",
    "outcomes.label.attendance.held": "Held",
    "outcomes.label.attendance.no_show": "No-show",
    "outcomes.label.attendance.cancelled": "Cancelled",
    "outcomes.label.interest.none": "No interest",
    "outcomes.label.interest.some": "Some interest",
    "outcomes.label.interest.strong": "Strong interest",
    "outcomes.label.next_step.none": "None",
    "outcomes.label.next_step.another_meeting": "Another meeting",
    "outcomes.label.next_step.samples_or_quote": "Samples or a quote",
    "outcomes.label.next_step.nda": "NDA",
    "outcomes.label.next_step.joint_proposal": "Joint proposal",
    "outcomes.label.stage.no_progress": "No progress",
    "outcomes.label.stage.negotiation": "Negotiation",
    "outcomes.label.stage.nda": "NDA signed",
    "outcomes.label.stage.joint_development": "Joint development",
    "outcomes.label.stage.contract": "Order or contract",
    "outcomes.label.stage.new_business": "New business",
    "outcomes.label.no_show.partner": "The partner did not come",
    "outcomes.label.no_show.self": "We could not come",
    "outcomes.label.no_show.both": "Neither side came",
    "outcomes.label.source.api": "API",
    "outcomes.label.source.console": "console",
    "outcomes.label.source.import": "sheet import",
    "outcomes.agenda.column": "Outcome",
    "outcomes.agenda.record": "Record outcome",
    "outcomes.agenda.record_label": "Record the outcome of the meeting with {name}",
    "outcomes.agenda.recorded": "Recorded",
    "outcomes.member.title": "Meeting outcome",
    "outcomes.member.lead": (
        "Record how this meeting went. Only your organization and the organizer see it; "
        "the other side never does."
    ),
    "outcomes.member.meeting": "Meeting",
    "outcomes.member.with": "With",
    "outcomes.member.when": "When",
    "outcomes.member.table": "Table",
    "outcomes.member.as": "Attending for you",
    "outcomes.member.not_started": (
        "This meeting has not started yet: for now it can only be recorded as cancelled."
    ),
    "outcomes.member.current": "Current record",
    "outcomes.member.none_yet": "Nothing recorded yet.",
    "outcomes.member.correct": "Correct the record",
    "outcomes.member.record": "Record",
    "outcomes.member.correct_hint": (
        "A correction adds a new record; the earlier one stays in the history."
    ),
    "outcomes.member.history": "History",
    "outcomes.member.history_by": "{when} · {who} ({source})",
    "outcomes.member.back": "Back to the event",
    "outcomes.field.attendance": "Did the meeting take place?",
    "outcomes.field.no_show": "Who did not come",
    "outcomes.field.interest": "Interest",
    "outcomes.field.next_step": "Next step",
    "outcomes.field.note": "Note (only you and the organizer see it)",
    "outcomes.field.choose": "Choose",
    "outcomes.field.no_show_hint": "Only for a no-show.",
    "outcomes.field.held_hint": (
        "Interest and the next step are recorded for a meeting that was held."
    ),
    "outcomes.saved": "The outcome is recorded.",
    "outcomes.error.attendance": "Choose whether the meeting took place.",
    "outcomes.error.no_show": "Choose who did not come (for a no-show only).",
    "outcomes.error.interest": "Interest is recorded only for a meeting that was held.",
    "outcomes.error.next_step": "A next step is recorded only for a meeting that was held.",
    "outcomes.error.note": "The note is too long (at most 2,000 characters).",
    "outcomes.error.not_started": (
        "The meeting has not started: before it starts it can only be recorded as cancelled."
    ),
    "outcomes.round.title": "Follow-up",
    "outcomes.round.lead": (
        "Some months after the event we ask how things went on. You can answer as soon as you know."
    ),
    "outcomes.round.name": "After {m} months",
    "outcomes.round.due_on": "Due on {date}",
    "outcomes.round.due": "Awaiting your answer",
    "outcomes.round.upcoming": "Not due yet",
    "outcomes.round.answered": "Answered",
    "outcomes.round.stage": "Stage",
    "outcomes.round.amount": "Amount in yen (optional)",
    "outcomes.round.amount_hint": "e.g. 1200000 or 120万円",
    "outcomes.round.note": "Note",
    "outcomes.round.submit": "Answer",
    "outcomes.round.saved": "Your follow-up answer is recorded.",
    "outcomes.round.error.stage": "Choose a stage.",
    "outcomes.round.error.amount": "Give the amount in yen as a number (e.g. 1200000 or 120万円).",
    "outcomes.round.error.amount_yen": "The amount must be from 0 to 10 trillion yen.",
    "outcomes.round.error.amount_no_progress": "'No progress' takes no amount.",
    "outcomes.round.error.note": "The note is too long (at most 2,000 characters).",
    "outcomes.organizer.title": "Outcomes",
    "outcomes.organizer.lead": (
        "Both sides' records of each meeting (held or no-show, interest, next step) and "
        "where the follow-up rounds stand."
    ),
    "outcomes.organizer.meetings": "Meetings",
    "outcomes.organizer.summary": "At a glance",
    "outcomes.organizer.recorded": "Sides recorded",
    "outcomes.organizer.held": "Held",
    "outcomes.organizer.not_held": "No-show or cancelled",
    "outcomes.organizer.unknown": "Not recorded",
    "outcomes.organizer.strong": "Strong interest",
    "outcomes.organizer.rounds": "Follow-up rounds",
    "outcomes.organizer.round_line": (
        "After {m} months ({date}): asked {asked}, answered {answered}, awaiting {due}"
    ),
    "outcomes.organizer.not_reached": (
        "After {m} months ({date}): not due yet (asked {asked}, answered {answered})"
    ),
    "outcomes.organizer.day_from.slot_times": "Counted from {date} (the event day)",
    "outcomes.organizer.day_from.created_at": (
        "Counted from {date} (the event has no clock times: the day it was created)"
    ),
    "outcomes.organizer.none": "The schedule has no meetings yet.",
    "outcomes.organizer.col.when": "When",
    "outcomes.organizer.col.table": "Table",
    "outcomes.organizer.col.side": "Participant and record",
    "outcomes.organizer.col.held": "Held",
    "outcomes.organizer.not_recorded": "Not recorded",
    "outcomes.organizer.status.dropped": "Dropped by a re-plan",
    "outcomes.organizer.status.earlier": "An earlier schedule",
    "outcomes.organizer.held_yes": "Held",
    "outcomes.organizer.held_no": "Not held",
    "outcomes.organizer.held_unknown": "Unknown",
    "outcomes.organizer.sheet": "Follow-up sheet",
    "outcomes.organizer.sheet_lead": (
        "A sheet to collect answers by phone or e-mail: one row per side of a meeting. Read "
        "the filled sheet back as it is (CSV in UTF-8 or Shift_JIS, or Excel)."
    ),
    "outcomes.organizer.sheet_csv": "CSV (Japanese)",
    "outcomes.organizer.sheet_xlsx": "Excel (Japanese)",
    "outcomes.organizer.sheet_en": "In English",
    "outcomes.import.file": "The filled sheet (CSV or XLSX)",
    "outcomes.import.file_hint": "Up to {mb} MB",
    "outcomes.import.partial": "Read the good rows only (the others are listed, not read)",
    "outcomes.import.submit": "Read the sheet",
    "outcomes.import.done": (
        "Read: {outcomes} outcomes and {follow_ups} follow-up answers ({unchanged} unchanged)."
    ),
    "outcomes.import.partial_done": "Only the good rows were read. These {n} rows were not:",
    "outcomes.import.error.rows": (
        "{n} rows have problems, so nothing was read. Fix them and read the sheet again, or "
        "read the good rows only."
    ),
    "outcomes.import.error.no_file": "Choose a file.",
    "outcomes.import.error.too_large": "The file is too large.",
    "outcomes.import.error.unreadable": "The file cannot be read.",
    "outcomes.import.col.row": "Row",
    "outcomes.import.result": "Import result",
    "outcomes.organizer.due": "Awaiting",
    "outcomes.organizer.due_count": "{n} awaiting",
    "outcomes.import.col.column": "Column",
    "outcomes.import.col.reason": "Reason",
    "outcomes.import.warnings": "Note",
    "outcomes.reason.required": "required",
    "outcomes.reason.one_of": "write one of: {choices}",
    "outcomes.reason.amount": "not an amount in yen: {value} (e.g. 1200000, 1,200,000円, 120万円)",
    "outcomes.reason.no_header": "a value in a column without a header",
    "outcomes.reason.too_long": "at most {n} characters",
    "outcomes.reason.attendance_needed": (
        "the row says something of the meeting: fill in attendance"
    ),
    "outcomes.reason.stage_needed": "the round has an amount or a note: fill in its stage",
    "outcomes.reason.no_show_who": "write self, partner or both, or the ids of who did not come",
    "outcomes.reason.repeated": "the same meeting and side as row {row}",
    "outcomes.reason.participant": "no participant '{id}' in this event",
    "outcomes.reason.same_participant": "the participant and the partner are the same",
    "outcomes.reason.no_meeting": "'{a}' and '{b}' have no meeting in the schedule",
    "outcomes.reason.no_show_missing": (
        "for a no-show, write who did not come (self, partner, both)"
    ),
    "outcomes.reason.no_show_only": "who did not come is written for a no-show only",
    "outcomes.reason.held_only": "only for a meeting that was held",
    "outcomes.reason.not_started": (
        "the meeting ({when}) has not started: only 'cancelled' before then"
    ),
    "outcomes.reason.amount_range": "the amount must be from 0 to {max} yen",
    "outcomes.reason.amount_no_progress": "'no progress' takes no amount",
}
