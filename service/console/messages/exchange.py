"""Messages of the international-exchange pages (see service/console/messages/__init__.py),
and the names of countries in both languages (keys `exchange.country.XX`, ISO 3166-1
alpha-2 plus XK; English short names, Japanese names as commonly written)."""

from __future__ import annotations

FREQUENT_COUNTRIES: tuple[str, ...] = (
    "US", "CN", "KR", "TW", "TH", "VN", "SG", "IN", "ID", "MY", "PH", "DE", "FR",
    "IT", "GB", "NL", "ES", "CA", "AU", "MX", "BR",
)  # fmt: skip
"""Shown first in the country lists: the partners most exchange missions go to."""

# code|English|Japanese
_COUNTRY_NAMES = """
AD|Andorra|アンドラ
AE|United Arab Emirates|アラブ首長国連邦
AF|Afghanistan|アフガニスタン
AG|Antigua and Barbuda|アンティグア・バーブーダ
AI|Anguilla|アングイラ
AL|Albania|アルバニア
AM|Armenia|アルメニア
AO|Angola|アンゴラ
AQ|Antarctica|南極大陸
AR|Argentina|アルゼンチン
AS|American Samoa|米領サモア
AT|Austria|オーストリア
AU|Australia|オーストラリア
AW|Aruba|アルーバ
AX|Åland Islands|オーランド諸島
AZ|Azerbaijan|アゼルバイジャン
BA|Bosnia and Herzegovina|ボスニア・ヘルツェゴビナ
BB|Barbados|バルバドス
BD|Bangladesh|バングラデシュ
BE|Belgium|ベルギー
BF|Burkina Faso|ブルキナファソ
BG|Bulgaria|ブルガリア
BH|Bahrain|バーレーン
BI|Burundi|ブルンジ
BJ|Benin|ベナン
BL|Saint Barthélemy|サンバルテルミ
BM|Bermuda|バーミューダ
BN|Brunei|ブルネイ
BO|Bolivia|ボリビア
BQ|Bonaire, Sint Eustatius and Saba|ボネール、シントユースタティウス及びサバ
BR|Brazil|ブラジル
BS|Bahamas|バハマ
BT|Bhutan|ブータン
BV|Bouvet Island|ブーベ島
BW|Botswana|ボツワナ
BY|Belarus|ベラルーシ
BZ|Belize|ベリーズ
CA|Canada|カナダ
CC|Cocos (Keeling) Islands|ココス (キーリング) 諸島
CD|Democratic Republic of the Congo|コンゴ民主共和国
CF|Central African Republic|中央アフリカ共和国
CG|Congo|コンゴ
CH|Switzerland|スイス
CI|Côte d'Ivoire|コートジボワール
CK|Cook Islands|クック諸島
CL|Chile|チリ
CM|Cameroon|カメルーン
CN|China|中国
CO|Colombia|コロンビア
CR|Costa Rica|コスタリカ
CU|Cuba|キューバ
CV|Cabo Verde|カーボヴェルデ
CW|Curaçao|キュラソー
CX|Christmas Island|クリスマス島
CY|Cyprus|キプロス
CZ|Czechia|チェコ
DE|Germany|ドイツ
DJ|Djibouti|ジブチ
DK|Denmark|デンマーク
DM|Dominica|ドミニカ
DO|Dominican Republic|ドミニカ共和国
DZ|Algeria|アルジェリア
EC|Ecuador|エクアドル
EE|Estonia|エストニア
EG|Egypt|エジプト
EH|Western Sahara|西サハラ
ER|Eritrea|エリトリア
ES|Spain|スペイン
ET|Ethiopia|エチオピア
FI|Finland|フィンランド
FJ|Fiji|フィジー
FK|Falkland Islands (Malvinas)|フォークランド諸島 (マルビナス)
FM|Micronesia|ミクロネシア連邦
FO|Faroe Islands|フェロー諸島
FR|France|フランス
GA|Gabon|ガボン
GB|United Kingdom|イギリス
GD|Grenada|グレナダ
GE|Georgia|ジョージア
GF|French Guiana|仏領ギアナ
GG|Guernsey|ガーンジー
GH|Ghana|ガーナ
GI|Gibraltar|ジブラルタル
GL|Greenland|グリーンランド
GM|Gambia|ガンビア
GN|Guinea|ギニア
GP|Guadeloupe|グアドループ
GQ|Equatorial Guinea|赤道ギニア
GR|Greece|ギリシャ
GS|South Georgia and the South Sandwich Islands|サウスジョージア及びサウスサンドウィッチ諸島
GT|Guatemala|グアテマラ
GU|Guam|グアム
GW|Guinea-Bissau|ギニアビサウ
GY|Guyana|ガイアナ
HK|Hong Kong|香港
HM|Heard Island and McDonald Islands|ハード島及びマクドナルド諸島
HN|Honduras|ホンジュラス
HR|Croatia|クロアチア
HT|Haiti|ハイチ
HU|Hungary|ハンガリー
ID|Indonesia|インドネシア
IE|Ireland|アイルランド
IL|Israel|イスラエル
IM|Isle of Man|マン島
IN|India|インド
IO|British Indian Ocean Territory|英国インド洋領土
IQ|Iraq|イラク
IR|Iran|イラン
IS|Iceland|アイスランド
IT|Italy|イタリア
JE|Jersey|ジャージー
JM|Jamaica|ジャマイカ
JO|Jordan|ヨルダン
JP|Japan|日本
KE|Kenya|ケニア
KG|Kyrgyzstan|キルギス
KH|Cambodia|カンボジア
KI|Kiribati|キリバス
KM|Comoros|コモロ
KN|Saint Kitts and Nevis|セントクリストファー・ネーヴィス
KP|North Korea|北朝鮮
KR|South Korea|韓国
KW|Kuwait|クウェート
KY|Cayman Islands|ケイマン諸島
KZ|Kazakhstan|カザフスタン
LA|Laos|ラオス
LB|Lebanon|レバノン
LC|Saint Lucia|セントルシア
LI|Liechtenstein|リヒテンシュタイン
LK|Sri Lanka|スリランカ
LR|Liberia|リベリア
LS|Lesotho|レソト
LT|Lithuania|リトアニア
LU|Luxembourg|ルクセンブルク
LV|Latvia|ラトビア
LY|Libya|リビア
MA|Morocco|モロッコ
MC|Monaco|モナコ
MD|Moldova|モルドバ
ME|Montenegro|モンテネグロ
MF|Saint Martin (French part)|サンマルタン (仏領)
MG|Madagascar|マダガスカル
MH|Marshall Islands|マーシャル諸島
MK|North Macedonia|北マケドニア
ML|Mali|マリ
MM|Myanmar|ミャンマー
MN|Mongolia|モンゴル
MO|Macao|マカオ
MP|Northern Mariana Islands|北マリアナ諸島
MQ|Martinique|マルティニーク
MR|Mauritania|モーリタニア
MS|Montserrat|モントセラト
MT|Malta|マルタ
MU|Mauritius|モーリシャス
MV|Maldives|モルディブ
MW|Malawi|マラウイ
MX|Mexico|メキシコ
MY|Malaysia|マレーシア
MZ|Mozambique|モザンビーク
NA|Namibia|ナミビア
NC|New Caledonia|ニューカレドニア
NE|Niger|ニジェール
NF|Norfolk Island|ノーフォーク島
NG|Nigeria|ナイジェリア
NI|Nicaragua|ニカラグア
NL|Netherlands|オランダ
NO|Norway|ノルウェー
NP|Nepal|ネパール
NR|Nauru|ナウル
NU|Niue|ニウエ
NZ|New Zealand|ニュージーランド
OM|Oman|オマーン
PA|Panama|パナマ
PE|Peru|ペルー
PF|French Polynesia|仏領ポリネシア
PG|Papua New Guinea|パプアニューギニア
PH|Philippines|フィリピン
PK|Pakistan|パキスタン
PL|Poland|ポーランド
PM|Saint Pierre and Miquelon|サンピエール及びミクロン
PN|Pitcairn|ピトケアン
PR|Puerto Rico|プエルトリコ
PS|Palestine|パレスチナ
PT|Portugal|ポルトガル
PW|Palau|パラオ
PY|Paraguay|パラグアイ
QA|Qatar|カタール
RE|Réunion|レユニオン
RO|Romania|ルーマニア
RS|Serbia|セルビア
RU|Russia|ロシア
RW|Rwanda|ルワンダ
SA|Saudi Arabia|サウジアラビア
SB|Solomon Islands|ソロモン諸島
SC|Seychelles|セーシェル
SD|Sudan|スーダン
SE|Sweden|スウェーデン
SG|Singapore|シンガポール
SH|Saint Helena, Ascension and Tristan da Cunha|セントヘレナ・アセンション・トリスタンダクーニャ
SI|Slovenia|スロベニア
SJ|Svalbard and Jan Mayen|スヴァールバル及びヤンマイエン
SK|Slovakia|スロバキア
SL|Sierra Leone|シエラレオネ
SM|San Marino|サンマリノ
SN|Senegal|セネガル
SO|Somalia|ソマリア
SR|Suriname|スリナム
SS|South Sudan|南スーダン
ST|Sao Tome and Principe|サントメ・プリンシペ
SV|El Salvador|エルサルバドル
SX|Sint Maarten (Dutch part)|サンマルタン (オランダ領)
SY|Syria|シリア
SZ|Eswatini|エスワティニ
TC|Turks and Caicos Islands|タークス及びカイコス諸島
TD|Chad|チャド
TF|French Southern Territories|フランス南方領土
TG|Togo|トーゴ
TH|Thailand|タイ
TJ|Tajikistan|タジキスタン
TK|Tokelau|トケラウ
TL|Timor-Leste|東ティモール
TM|Turkmenistan|トルクメニスタン
TN|Tunisia|チュニジア
TO|Tonga|トンガ
TR|Türkiye|トルコ
TT|Trinidad and Tobago|トリニダード・トバゴ
TV|Tuvalu|ツバル
TW|Taiwan|台湾
TZ|Tanzania|タンザニア
UA|Ukraine|ウクライナ
UG|Uganda|ウガンダ
UM|United States Minor Outlying Islands|アメリカ合衆国外諸島
US|United States|アメリカ合衆国
UY|Uruguay|ウルグアイ
UZ|Uzbekistan|ウズベキスタン
VA|Vatican City|バチカン
VC|Saint Vincent and the Grenadines|セントビンセント及びグレナディーン諸島
VE|Venezuela|ベネズエラ
VG|British Virgin Islands|英領ヴァージン諸島
VI|U.S. Virgin Islands|米領ヴァージン諸島
VN|Vietnam|ベトナム
VU|Vanuatu|バヌアツ
WF|Wallis and Futuna|ワリー及びフテュナ
WS|Samoa|サモア
XK|Kosovo|コソボ
YE|Yemen|イエメン
YT|Mayotte|マヨット
ZA|South Africa|南アフリカ
ZM|Zambia|ザンビア
ZW|Zimbabwe|ジンバブエ
"""


def _countries(column: int) -> dict[str, str]:
    out = {}
    for line in _COUNTRY_NAMES.strip().splitlines():
        parts = line.split("|")
        out[f"exchange.country.{parts[0]}"] = parts[column]
    return out


JA: dict[str, str] = {
    "exchange.nav.search": "海外の相手先検索",
    "exchange.nav.shortlists": "候補リスト",
    "exchange.purpose.overseas": "海外の相手先",
    "exchange.purpose.partner": "協業パートナー",
    "exchange.purpose.buyer": "バイヤー・販路",
    "exchange.purpose.academia": "大学・研究機関",
    "exchange.search.title": "海外の相手先を探す",
    "exchange.search.lead": (
        "探している相手を、どの言語でも自由に書いてください。日本語で書いても、"
        "イタリア語や韓国語などで書かれたプロフィールが見つかります。"
    ),
    "exchange.search.text": "探している相手",
    "exchange.search.text_hint": (
        "例: 欧州で精密歯車を扱う輸入代理店。5000文字まで、どの言語でも書けます。"
    ),
    "exchange.search.countries": "対象の国・地域",
    "exchange.search.countries_hint": (
        "Ctrl キー（Mac は ⌘ キー）を押しながら選ぶと複数選べます。"
        "選ばなければすべての国が対象です。"
    ),
    "exchange.search.countries_frequent": "主な相手国",
    "exchange.search.countries_chosen": "選択中: {names}",
    "exchange.search.list_separator": "、",
    "exchange.search.countries_all": "すべての国・地域",
    "exchange.search.kinds": "相手の種別",
    "exchange.search.kinds_hint": "選ばなければすべての種別が対象です。",
    "exchange.search.purpose": "目的",
    "exchange.search.from_country": "自分たちの国",
    "exchange.search.from_hint": "「海外の相手先」では、この国の組織は結果に含まれません。",
    "exchange.search.from_none": "（指定しない）",
    "exchange.search.k": "表示件数",
    "exchange.search.submit": "検索",
    "exchange.search.reset": "条件をクリア",
    "exchange.search.error.text_blank": "探している相手を入力してください。",
    "exchange.search.error.text_too_long": "5000文字以内にしてください。",
    "exchange.search.error.country": "国・地域の指定が正しくありません。一覧から選んでください。",
    "exchange.search.error.kind": "種別の指定が正しくありません。一覧から選んでください。",
    "exchange.search.error.purpose": "目的を一覧から選んでください。",
    "exchange.search.error.k": "表示件数を一覧から選んでください。",
    "exchange.results.title": "検索結果（{count}件）",
    "exchange.results.caption": "検索結果。候補リストに追加する相手を選べます。",
    "exchange.results.none": (
        "条件に合う相手は見つかりませんでした。国や種別の条件を減らしてみてください。"
    ),
    "exchange.results.choose": "選択",
    "exchange.results.choose_one": "{name} を選ぶ",
    "exchange.results.rank": "順位",
    "exchange.results.name": "名称",
    "exchange.results.score": "スコア",
    "exchange.results.reason": "理由",
    "exchange.results.similar": "プロフィールが近い",
    "exchange.add.shortlist": "追加先の候補リスト",
    "exchange.add.new_list": "新しいリストを作る",
    "exchange.add.new_name": "新しいリストの名前",
    "exchange.add.new_name_hint": "「新しいリストを作る」を選んだときに使います。",
    "exchange.add.candidates": "追加する相手",
    "exchange.add.submit": "選んだ相手を候補リストに追加",
    "exchange.add.error.choose_list": (
        "追加先の候補リストを選ぶか、新しいリストの名前を入力してください。"
    ),
    "exchange.error.invalid": "入力内容を確認してください。",
    "exchange.error.shortlist.name_blank": "リストの名前を入力してください。",
    "exchange.error.shortlist.name_too_long": "リストの名前は200文字以内にしてください。",
    "exchange.error.shortlist.name_invalid": "リストの名前に制御文字は使えません。",
    "exchange.error.shortlist.name_taken": "同じ名前の候補リストがすでにあります。",
    "exchange.error.shortlist.too_many_lists": (
        "候補リストは200件までです。不要なリストを削除してください。"
    ),
    "exchange.error.shortlist.no_profiles": "追加する相手を1件以上選んでください。",
    "exchange.error.shortlist.profile_unknown": "選んだ相手のプロフィールが見つかりません。",
    "exchange.error.shortlist.too_many_entries": "1つの候補リストに入れられるのは500件までです。",
    "exchange.error.shortlist.note_too_long": "メモは2000文字以内にしてください。",
    "exchange.error.shortlist.note_invalid": "メモに制御文字は使えません。",
    "exchange.error.shortlist.group_invalid": "グループ名は1〜64文字にしてください。",
    "exchange.lists.title": "候補リスト",
    "exchange.lists.lead": (
        "検索で見つけた相手を名前付きのリストに集め、メモを付けて、"
        "Excel に書き出したり商談会の参加者に加えたりできます。"
    ),
    "exchange.lists.yours": "あなたの候補リスト",
    "exchange.lists.all": "すべての候補リスト",
    "exchange.lists.name": "リストの名前",
    "exchange.lists.name_hint": "例: 2025年秋 イタリア訪問団",
    "exchange.lists.entries": "件数",
    "exchange.lists.owner": "作成者",
    "exchange.lists.updated": "最終更新",
    "exchange.lists.empty": (
        "候補リストはまだありません。検索結果から作るか、右のフォームで作成してください。"
    ),
    "exchange.lists.new": "新しい候補リスト",
    "exchange.lists.create": "作成",
    "exchange.lists.to_search": "海外の相手先を探す",
    "exchange.lists.deleted": "候補リスト「{name}」を削除しました。",
    "exchange.list.crumb": "リスト",
    "exchange.list.count": "{count}件",
    "exchange.list.owner": "作成者: {name}",
    "exchange.list.added": "{added}件を追加しました（すでにリストにあった相手: {already}件）。",
    "exchange.list.renamed": "名前を変更しました。",
    "exchange.list.noted": "メモを保存しました。",
    "exchange.list.removed": "{id} をリストから外しました。",
    "exchange.list.entries": "候補",
    "exchange.list.candidate": "相手",
    "exchange.list.note": "メモ",
    "exchange.list.actions": "操作",
    "exchange.list.gone": "このプロフィールは削除されました。",
    "exchange.list.added_meta": "{at} に {by} が追加",
    "exchange.list.note_for": "{name} についてのメモ",
    "exchange.list.for": "（{name}）",
    "exchange.list.save_note": "メモを保存",
    "exchange.list.remove": "外す",
    "exchange.list.empty": "このリストにはまだ相手がいません。",
    "exchange.list.find_more": "相手を探して追加",
    "exchange.list.manage": "リストの管理",
    "exchange.list.rename": "名前を変更",
    "exchange.list.delete": "リストを削除",
    "exchange.export.title": "書き出し",
    "exchange.export.hint": "Excel でそのまま開けます（CSV は BOM 付き UTF-8）。",
    "exchange.export.csv": "CSV をダウンロード",
    "exchange.export.xlsx": "Excel（XLSX）をダウンロード",
    "exchange.send.title": "商談会に参加者として追加",
    "exchange.send.hint": (
        "リストの相手を、あなたの商談会の参加者に加えます。すでに参加している相手は追加しません。"
    ),
    "exchange.send.event": "商談会",
    "exchange.send.choose": "商談会を選んでください",
    "exchange.send.event_option": "{name}（参加者 {count}）",
    "exchange.send.group": "グループ",
    "exchange.send.group_hint": (
        "面談の組み合わせルールで使うグループ名です（例: participant、buyer）。"
    ),
    "exchange.send.submit": "参加者に追加",
    "exchange.send.no_events": "あなたの商談会がまだありません。先に商談会を作成してください。",
    "exchange.send.done": (
        "商談会「{event}」に {added}件を追加しました（既に参加: {skipped}件）。"
        "参加者は現在 {participants} です。"
    ),
    "exchange.send.missing": "プロフィールが削除されていた {count}件は追加していません。",
    "exchange.send.lonely": (
        "注意: この商談会の組み合わせルールにはグループ「{group}」が含まれていないため、"
        "追加した相手はまだ誰とも面談できません。"
    ),
    "exchange.send.error.choose_event": "商談会を一覧から選んでください。",
    "exchange.send.error.event_invalid": (
        "この商談会には追加できません（参加者の上限などを確認してください）。"
    ),
    "exchange.delete.title": "候補リストの削除",
    "exchange.delete.body": "候補リスト「{name}」（{count}件）を削除します。元に戻せません。",
    "exchange.delete.confirm": "削除する",
    "exchange.delete.cancel": "やめる",
    **_countries(2),
}

EN: dict[str, str] = {
    "exchange.nav.search": "Overseas search",
    "exchange.nav.shortlists": "Shortlists",
    "exchange.purpose.overseas": "Overseas counterparts",
    "exchange.purpose.partner": "Partners",
    "exchange.purpose.buyer": "Buyers and channels",
    "exchange.purpose.academia": "Universities and labs",
    "exchange.search.title": "Find overseas counterparts",
    "exchange.search.lead": (
        "Describe whom you are looking for, in any language: a query in Japanese finds "
        "profiles written in Italian, Korean or English too."
    ),
    "exchange.search.text": "Whom you are looking for",
    "exchange.search.text_hint": (
        "For example: an importer of precision gears in Europe. Any language, "
        "up to 5,000 characters."
    ),
    "exchange.search.countries": "Target countries and regions",
    "exchange.search.countries_hint": (
        "Hold Ctrl (⌘ on a Mac) to choose several. None chosen: every country."
    ),
    "exchange.search.countries_frequent": "Frequent partners",
    "exchange.search.countries_chosen": "Chosen: {names}",
    "exchange.search.list_separator": ", ",
    "exchange.search.countries_all": "All countries and regions",
    "exchange.search.kinds": "Kinds of organization",
    "exchange.search.kinds_hint": "None chosen: every kind.",
    "exchange.search.purpose": "Purpose",
    "exchange.search.from_country": "Your country",
    "exchange.search.from_hint": "Overseas searches leave out organizations of this country.",
    "exchange.search.from_none": "(none)",
    "exchange.search.k": "Results",
    "exchange.search.submit": "Search",
    "exchange.search.reset": "Clear",
    "exchange.search.error.text_blank": "Describe whom you are looking for.",
    "exchange.search.error.text_too_long": "Use at most 5,000 characters.",
    "exchange.search.error.country": "Unknown country or region: choose from the list.",
    "exchange.search.error.kind": "Unknown kind: choose from the list.",
    "exchange.search.error.purpose": "Choose a purpose from the list.",
    "exchange.search.error.k": "Choose a number of results from the list.",
    "exchange.results.title": "Results ({count})",
    "exchange.results.caption": "Search results; choose counterparts to add to a shortlist.",
    "exchange.results.none": "Nothing matched. Try fewer countries or kinds.",
    "exchange.results.choose": "Choose",
    "exchange.results.choose_one": "Choose {name}",
    "exchange.results.rank": "Rank",
    "exchange.results.name": "Name",
    "exchange.results.score": "Score",
    "exchange.results.reason": "Why",
    "exchange.results.similar": "Similar profile",
    "exchange.add.shortlist": "Add to shortlist",
    "exchange.add.new_list": "A new shortlist",
    "exchange.add.new_name": "New shortlist's name",
    "exchange.add.new_name_hint": "Used when \u201cA new shortlist\u201d is chosen.",
    "exchange.add.candidates": "Counterparts to add",
    "exchange.add.submit": "Add the chosen to the shortlist",
    "exchange.add.error.choose_list": "Choose a shortlist, or give the new one a name.",
    "exchange.error.invalid": "Please check what you entered.",
    "exchange.error.shortlist.name_blank": "Give the shortlist a name.",
    "exchange.error.shortlist.name_too_long": "Use at most 200 characters for the name.",
    "exchange.error.shortlist.name_invalid": "The name must not contain control characters.",
    "exchange.error.shortlist.name_taken": "A shortlist with this name exists.",
    "exchange.error.shortlist.too_many_lists": (
        "You can keep at most 200 shortlists. Delete one you no longer need."
    ),
    "exchange.error.shortlist.no_profiles": "Choose at least one counterpart.",
    "exchange.error.shortlist.profile_unknown": "A chosen profile no longer exists.",
    "exchange.error.shortlist.too_many_entries": "A shortlist holds at most 500 counterparts.",
    "exchange.error.shortlist.note_too_long": "Use at most 2,000 characters for a note.",
    "exchange.error.shortlist.note_invalid": "A note must not contain control characters.",
    "exchange.error.shortlist.group_invalid": "Use 1 to 64 characters for the group.",
    "exchange.lists.title": "Shortlists",
    "exchange.lists.lead": (
        "Collect the counterparts you find in named lists, note why each matters, and "
        "export them for Excel or add them to an event as participants."
    ),
    "exchange.lists.yours": "Your shortlists",
    "exchange.lists.all": "All shortlists",
    "exchange.lists.name": "Shortlist name",
    "exchange.lists.name_hint": "For example: Italy mission, autumn 2025",
    "exchange.lists.entries": "Counterparts",
    "exchange.lists.owner": "Owner",
    "exchange.lists.updated": "Last changed",
    "exchange.lists.empty": (
        "No shortlists yet. Make one from search results, or with the form here."
    ),
    "exchange.lists.new": "New shortlist",
    "exchange.lists.create": "Create",
    "exchange.lists.to_search": "Find overseas counterparts",
    "exchange.lists.deleted": "The shortlist \u201c{name}\u201d was deleted.",
    "exchange.list.crumb": "List",
    "exchange.list.count": "{count} counterparts",
    "exchange.list.owner": "Owner: {name}",
    "exchange.list.added": "{added} added ({already} were on the list already).",
    "exchange.list.renamed": "The shortlist was renamed.",
    "exchange.list.noted": "The note was saved.",
    "exchange.list.removed": "{id} was taken off the list.",
    "exchange.list.entries": "Counterparts",
    "exchange.list.candidate": "Counterpart",
    "exchange.list.note": "Note",
    "exchange.list.actions": "Actions",
    "exchange.list.gone": "This profile was deleted.",
    "exchange.list.added_meta": "Added {at} by {by}",
    "exchange.list.note_for": "Note on {name}",
    "exchange.list.for": "({name})",
    "exchange.list.save_note": "Save note",
    "exchange.list.remove": "Remove",
    "exchange.list.empty": "Nobody on this list yet.",
    "exchange.list.find_more": "Find counterparts to add",
    "exchange.list.manage": "Manage the list",
    "exchange.list.rename": "Rename",
    "exchange.list.delete": "Delete the list",
    "exchange.export.title": "Export",
    "exchange.export.hint": "Opens directly in Excel (the CSV is UTF-8 with a BOM).",
    "exchange.export.csv": "Download CSV",
    "exchange.export.xlsx": "Download Excel (XLSX)",
    "exchange.send.title": "Add to an event as participants",
    "exchange.send.hint": (
        "Adds the list's counterparts to one of your events; those already taking part are skipped."
    ),
    "exchange.send.event": "Event",
    "exchange.send.choose": "Choose an event",
    "exchange.send.event_option": "{name} ({count} participants)",
    "exchange.send.group": "Group",
    "exchange.send.group_hint": (
        "The group the event's who-meets-whom rules use (for example participant, buyer)."
    ),
    "exchange.send.submit": "Add as participants",
    "exchange.send.no_events": "You have no events yet. Create one first.",
    "exchange.send.done": (
        "Added {added} to \u201c{event}\u201d ({skipped} were taking part already). "
        "It now has {participants} participants."
    ),
    "exchange.send.missing": "{count} whose profiles were deleted were not added.",
    "exchange.send.lonely": (
        "Note: the event's who-meets-whom rules do not name the group \u201c{group}\u201d, "
        "so the counterparts added cannot meet anyone yet."
    ),
    "exchange.send.error.choose_event": "Choose one of your events from the list.",
    "exchange.send.error.event_invalid": (
        "They cannot be added to this event (check its limit of participants)."
    ),
    "exchange.delete.title": "Delete shortlist",
    "exchange.delete.body": (
        "This deletes the shortlist \u201c{name}\u201d ({count} counterparts). It cannot be undone."
    ),
    "exchange.delete.confirm": "Delete",
    "exchange.delete.cancel": "Cancel",
    **_countries(1),
}
