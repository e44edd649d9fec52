"""Validate the guide library (run by ``tocns guides check`` and by the tests).

Every problem is a sentence in Vietnamese, prefixed with the guide's slug, for the
content team. The rules, in short:

- the front matter is complete (title, answer, summary, category, example questions
  typed with and without diacritics, keywords, reviewed date, sources);
- every source says who published it, when, and what it supports; every number, date,
  legal reference, price and phone number a resident reads appears in some source's
  ``supports`` (so none is invented);
- the newest source is recent enough for the topic (``FRESHNESS_MONTHS``: VNeID, scams,
  banking change fast);
- a menu path or screen label the text tells the resident to choose is confirmed by a
  source's ``menu`` list;
- notes for the content team stay in ``team_notes``, never in the resident's text;
- the text never tells the resident to "bấm" (press) a button, which Zalo and the
  console do not show, and never mentions the bot's own buttons;
- every phone page fits (``PAGE_LINES`` lines of ``PHONE_WIDTH`` characters), steps are
  numbered 1, 2, 3… and each is one short action.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.content.guides import (
    CATEGORIES,
    OFFICES_FILE,
    PAGE_LINES,
    PHONE_WIDTH,
    TELEGRAM_LIMIT,
    ZALO_LIMIT,
    Guide,
    OfficeTable,
    Source,
    load_offices,
    newest_source,
    phone_lines,
)

# Printed on posters as deep links and QR codes: these slugs must never change.
REQUIRED_SLUGS: tuple[str, ...] = (
    "vneid-cai-dat",
    "vneid-muc-2",
    "vneid-kich-hoat",
    "vneid-quen-mat-khau",
    "vneid-tich-hop-giay-to",
    "vneid-xuat-trinh",
    "so-suc-khoe-dien-tu",
    "chu-ky-so-dang-ky",
    "chu-ky-so-ky-tai-lieu",
    "dvc-dang-nhap",
    "dvc-nop-ho-so",
    "dvc-thanh-toan",
    "dvc-khai-sinh",
    "cu-tru-luu-tru",
    "ly-lich-tu-phap",
    "giay-phep-lai-xe",
    "dia-chi-sau-sap-nhap",
    "chuyen-khoan-qr",
    "sinh-trac-hoc-ngan-hang",
    "hoa-don-truc-tuyen",
    "vssid",
    "lua-dao-gia-danh",
    "lua-dao-link-otp",
    "bi-lua-dao",
    "bao-mat-tai-khoan",
    "thuong-mai-dien-tu",
    "binh-dan-hoc-vu-so",
    "hoc-ai-an-toan",
)

MIN_EXAMPLES = 6
MIN_GUIDES = 60

# How old the newest source of a guide may be, by topic class.
FRESHNESS_MONTHS: dict[str, int] = {"fast": 18, "normal": 36, "slow": 60}
FRESHNESS_NAMES: dict[str, str] = {"fast": "thay đổi nhanh", "normal": "vừa", "slow": "ít thay đổi"}
# The topic class of a guide that does not declare one.
CATEGORY_FRESHNESS: dict[str, str] = {
    "vneid": "fast",
    "lua-dao": "fast",
    "ngan-hang": "fast",
    "chu-ky-so": "fast",
    "dich-vu-cong": "normal",
    "ho-tich-cu-tru": "normal",
    "dat-dai-kinh-doanh": "normal",
    "suc-khoe": "normal",
    "ky-nang-so": "normal",
}

ANSWER_LINES = 3  # the one-line answer, wrapped on a phone
SUMMARY_LINES = 4  # "2–3 lines" of a sentence or two, wrapped on a phone
TITLE_LINES = 2
STEP_LINES = 4  # one action per step

# Telegram deep-link payload is "g_<slug>", at most 64 characters of [A-Za-z0-9_-].
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MAX_SLUG = 62
_SOURCE_DATE = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")
_URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$")

# Words meant for the content team; they must never reach a resident.
_TEAM_PHRASES = re.compile(
    r"chúng tôi chưa|chúng tôi không có|chúng tôi không nêu|đường dẫn menu|menu chính xác"
    r"|\btodo\b|\bfixme\b|\btbd\b|cần xác minh|chưa xác minh|chưa kiểm chứng|chưa có nguồn"
    r"|nhóm nội dung|tổ nội dung|ghi chú nội bộ|team_notes",
    re.IGNORECASE,
)
# "Press" verbs: Zalo and the console show numbered choices, not buttons.
_PRESS = re.compile(r"\b(bấm|nhấn|click|nhấp)\b", re.IGNORECASE)
# The bot's own choices ("Tiếp", "Có/Chưa") are the chat's business, not the guide's.
_BOT_BUTTONS = re.compile(
    r"(chọn|nút)\s+(?:[\"“](?:tiếp|tiếp theo|👍|👎)[\"”]|(?:tiếp|👍|👎)(?!\s*tục)(?=[\s.,:;!?)]|$))",
    re.IGNORECASE,
)
# A quoted label after an action verb is a screen label the resident is told to choose.
_QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")
_ACTION_BEFORE = re.compile(
    r"(chọn|chạm|mở|vào|vào mục|mục|tại mục|nút|ô|phần|đánh dấu vào ô|tích vào ô)\s*$",
    re.IGNORECASE,
)
# Fact tokens: legal references, dates, money, phone numbers, versions, any 3+ digit number.
_LEGAL = re.compile(
    r"\b(?:Nghị định|Thông tư|Quyết định|Luật|Công văn|Kế hoạch|Hướng dẫn|Công điện|QĐ|NĐ|TT)"
    r"\s+(?:số\s+)?(\d+[\w/.\-]*)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w/.,])\d+(?:[./,]\d+)*(?![\w/])")
# A small number with a unit is a fact too: "60 ngày", "14 tuổi", "10 triệu", "20%".
_UNIT_NUMBER = re.compile(
    r"(?<![\w/.,])(\d+(?:[.,]\d+)*)\s*(?:ngày|tháng|năm|tuổi|triệu|nghìn|ngàn|tỷ|đồng|đ|%|giờ)"
    r"(?!\w)",
    re.IGNORECASE,
)


def check_guides(
    guides: Sequence[Guide],
    today: dt.date | None = None,
    offices: OfficeTable | None = None,
) -> list[str]:
    """Return every problem found in the library (an empty list means all is well).

    ``today`` decides which sources are too old (default: the real date);
    ``offices`` is the out-of-scope office table (default: the packaged file).
    """
    today = today or dt.date.today()
    problems: list[str] = []
    slugs = Counter(guide.slug for guide in guides)
    for slug, count in slugs.items():
        if count > 1:
            problems.append(f"{slug}: tên (slug) bị {count} tệp dùng chung")
    for slug in REQUIRED_SLUGS:
        if slug not in slugs:
            problems.append(f"{slug}: thiếu hướng dẫn bắt buộc (đã in trên áp phích)")
    problems.extend(check_library_size(guides))
    titles = {guide.title for guide in guides}
    for guide in guides:
        name = guide.slug or str(guide.path)
        problems.extend(f"{name}: {p}" for p in check_guide(guide, set(slugs), today))
        problems.extend(f"{name}: {p}" for p in _check_references(guide, titles))
    if offices is None and OFFICES_FILE.exists():
        offices = load_offices()
    problems.extend(f"offices.yaml: {p}" for p in check_offices(offices or OfficeTable(), today))
    return problems


def check_library_size(guides: Sequence[Guide]) -> list[str]:
    """The packaged library must cover at least ``MIN_GUIDES`` topics."""
    if len(guides) < MIN_GUIDES:
        return [f"thư viện chỉ có {len(guides)} hướng dẫn, cần ít nhất {MIN_GUIDES}"]
    return []


def check_guide(guide: Guide, slugs: Iterable[str], today: dt.date) -> list[str]:
    """Every problem of one guide, in Vietnamese."""
    problems: list[str] = []
    problems += _check_front_matter(guide, set(slugs), today)
    problems += _check_sources(guide, today)
    problems += _check_body(guide)
    text = guide.resident_text()
    problems += _check_team_notes(guide, text)
    problems += _check_wording(text)
    problems += _check_menu_paths(guide)
    problems += _check_facts(guide, text)
    problems += _check_pages(guide)
    return problems


def _check_front_matter(guide: Guide, slugs: set[str], today: dt.date) -> list[str]:
    problems: list[str] = []
    if not _SLUG.match(guide.slug) or len(guide.slug) > _MAX_SLUG:
        problems.append("slug phải là chữ thường không dấu nối bằng '-', tối đa 62 ký tự")
    if guide.path is not None and guide.path.stem != guide.slug:
        problems.append(f"tên tệp {guide.path.name} không khớp slug")
    for name, label in (
        ("title", "tiêu đề (title)"),
        ("answer", "câu trả lời một dòng (answer)"),
        ("summary", "tóm tắt (summary)"),
        ("category", "nhóm (category)"),
    ):
        if not getattr(guide, name).strip():
            problems.append(f"thiếu {label}")
    if guide.category and guide.category not in CATEGORIES:
        problems.append(f"nhóm '{guide.category}' không có trong danh mục")
    for value, label, most in (
        (guide.title, "tiêu đề", TITLE_LINES),
        (guide.answer, "câu trả lời một dòng", ANSWER_LINES),
        (guide.summary, "tóm tắt", SUMMARY_LINES),
    ):
        if value and phone_lines(value) > most:
            problems.append(f"{label} dài {phone_lines(value)} dòng trên điện thoại, tối đa {most}")
    if len(guide.examples) < MIN_EXAMPLES:
        problems.append(f"cần ít nhất {MIN_EXAMPLES} câu hỏi mẫu (questions)")
    elif not any(_has_marks(q) for q in guide.examples) or all(
        _has_marks(q) for q in guide.examples
    ):
        problems.append("câu hỏi mẫu phải có cả câu gõ có dấu và câu gõ không dấu")
    if not guide.keywords:
        problems.append("thiếu từ khóa (keywords)")
    elif not any(_has_marks(k) for k in guide.keywords) or all(
        _has_marks(k) for k in guide.keywords
    ):
        problems.append("từ khóa phải có cả dạng có dấu và không dấu, như người dân hay gõ")
    if guide.reviewed is None:
        problems.append("thiếu ngày kiểm tra (reviewed: YYYY-MM-DD)")
    elif guide.reviewed > today:
        problems.append(f"ngày kiểm tra {guide.reviewed:%d/%m/%Y} ở tương lai")
    if guide.freshness and guide.freshness not in FRESHNESS_MONTHS:
        problems.append(
            f"freshness '{guide.freshness}' không hợp lệ (dùng {', '.join(FRESHNESS_MONTHS)})"
        )
    for related in guide.related:
        if related not in slugs:
            problems.append(f"hướng dẫn liên quan '{related}' không tồn tại")
        if related == guide.slug:
            problems.append("một hướng dẫn không thể liên quan đến chính nó")
    return problems


_GUIDE_REFERENCE = re.compile(r"hướng dẫn [\"“]([^\"”]+)[\"”]")


def _check_references(guide: Guide, titles: set[str]) -> list[str]:
    """A guide named in the text ("xem hướng dẫn "…"") must exist under that exact title.

    Residents open it by typing the title, so a near miss leads nowhere.
    """
    return [
        f"nhắc đến hướng dẫn \"{title}\" nhưng không có hướng dẫn nào mang đúng tên này"
        for title in dict.fromkeys(_GUIDE_REFERENCE.findall(guide.resident_text()))
        if title not in titles
    ]


def freshness_class(guide: Guide) -> str:
    """The guide's topic class: declared, or from its category."""
    return guide.freshness or CATEGORY_FRESHNESS.get(guide.category, "normal")


def _check_sources(guide: Guide, today: dt.date) -> list[str]:
    problems: list[str] = []
    if not guide.sources:
        return ["không có nguồn nào: mọi thông tin phải có nguồn"]
    for number, source in enumerate(guide.sources, 1):
        problems += [f"nguồn {number}: {p}" for p in _check_source(source)]
    newest = newest_source(guide.sources)
    if newest is None:
        problems.append("không nguồn nào có ngày: cần ít nhất một nguồn có ngày đăng")
        return problems
    if newest > today:
        problems.append(f"nguồn mới nhất ghi ngày {newest:%d/%m/%Y}, sau hôm nay")
    topic = freshness_class(guide)
    months = FRESHNESS_MONTHS.get(topic, FRESHNESS_MONTHS["normal"])
    if _months_between(newest, today) > months:
        problems.append(
            f"nguồn mới nhất ({newest:%m/%Y}) đã quá {months} tháng cho chủ đề "
            f"{FRESHNESS_NAMES.get(topic, topic)}: cần kiểm tra lại với nguồn mới"
        )
    return problems


def _check_source(source: Source) -> list[str]:
    problems: list[str] = []
    if not source.ref:
        problems.append("thiếu địa chỉ (url)")
    elif not _URL.match(source.ref):
        problems.append(f"'{source.ref}' không phải địa chỉ http(s) đầy đủ")
    if not source.publisher:
        problems.append("thiếu nơi đăng (publisher)")
    if not source.supports:
        problems.append("thiếu phần nguồn này chứng minh điều gì (supports)")
    if source.date and not _SOURCE_DATE.match(source.date):
        problems.append(f"ngày '{source.date}' không theo dạng YYYY-MM hoặc YYYY-MM-DD")
    return problems


def _check_body(guide: Guide) -> list[str]:
    problems: list[str] = []
    sections = guide.sections
    for title in sections.unknown:
        problems.append(
            f"mục '## {title}' không thuộc các mục được dùng (Cần chuẩn bị, Các bước, "
            "Làm ở đâu, Chi phí, Nếu không được, Lưu ý)"
        )
    if sections.loose:
        problems.append("có chữ nằm ngoài mọi mục '## …'")
    steps = sections.all_steps
    if not steps:
        problems.append("thiếu mục '## Các bước' có các bước đánh số")
    numbers = [_step_number(step) for step in steps]
    if steps and numbers != list(range(1, len(steps) + 1)):
        problems.append("các bước phải đánh số liền nhau 1, 2, 3… (mỗi dòng một bước)")
    for step in steps:
        if phone_lines(step) > STEP_LINES:
            problems.append(
                f"bước '{step[:30]}…' dài {phone_lines(step)} dòng: mỗi bước chỉ một việc, "
                f"tối đa {STEP_LINES} dòng"
            )
    if any(_EMPTY_PREPARE.search(line) for line in sections.prepare):
        problems.append("mục 'Cần chuẩn bị' chỉ viết khi có thứ cần chuẩn bị")
    return problems


_EMPTY_PREPARE = re.compile(r"không cần (chuẩn bị|gì)", re.IGNORECASE)


def _step_number(step: str) -> int | None:
    match = re.match(r"(\d+)\.\s", step)
    return int(match.group(1)) if match else None


def _check_team_notes(guide: Guide, text: str) -> list[str]:
    problems: list[str] = []
    for match in _TEAM_PHRASES.finditer(text):
        problems.append(
            f"ghi chú cho nhóm nội dung lọt vào chữ người dân đọc ('{match.group(0)}'): "
            "chuyển vào team_notes"
        )
    folded = _fold(text)
    for note in guide.team_notes:
        if len(note) >= 20 and _fold(note) in folded:
            problems.append("một ghi chú trong team_notes cũng xuất hiện trong chữ người dân đọc")
    return problems


def _check_wording(text: str) -> list[str]:
    problems: list[str] = []
    for match in _PRESS.finditer(text):
        problems.append(
            f"không viết '{match.group(0)}': Zalo và máy tính không hiện nút; "
            "dùng 'chọn' hoặc 'mở' cho màn hình ứng dụng"
        )
    for match in _BOT_BUTTONS.finditer(text):
        problems.append(f"không nhắc đến nút của chính bot ('{match.group(0)}')")
    return problems


def ui_labels(text: str) -> list[str]:
    """The screen labels and menu paths the text tells the resident to choose.

    A quoted label after an action word ("chọn "Ví giấy tờ"") and every part of a
    path written with "→" count.
    """
    labels: list[str] = []
    for line in text.split("\n"):
        for match in _QUOTED.finditer(line):
            before = line[: match.start()]
            after = line[match.end() :]
            if _ACTION_BEFORE.search(before) or before.rstrip().endswith("→") or (
                after.lstrip().startswith("→")
            ):
                labels.append(match.group(1))
        if "→" in line:
            for part in line.split("→"):
                quoted = _QUOTED.findall(part)
                if quoted:
                    continue  # quoted parts were collected above
                labels.append(_path_part(part))
    return [label for label in (_norm_label(x) for x in labels) if label]


def _path_part(part: str) -> str:
    # "Vào mục Ví giấy tờ " → "Ví giấy tờ": drop a leading action word and punctuation.
    part = re.sub(r"^.*?\b(chọn|chạm|mở|vào mục|vào|mục)\s+", "", part.strip(), flags=re.I)
    return part.strip(" .,:;()")


def _norm_label(label: str) -> str:
    return " ".join(label.replace("“", "").replace("”", "").replace('"', "").split()).casefold()


def confirmed_labels(sources: Iterable[Source]) -> set[str]:
    """Every label (and every part of every path) the sources confirm."""
    labels: set[str] = set()
    for source in sources:
        for entry in source.menu:
            labels.add(_norm_label(entry))
            labels.update(_norm_label(part) for part in entry.split("→"))
    return {label for label in labels if label}


def _check_menu_paths(guide: Guide) -> list[str]:
    confirmed = confirmed_labels(guide.sources)
    problems: list[str] = []
    seen: set[str] = set()
    for label in ui_labels(guide.resident_text()):
        if label in confirmed or label in seen:
            continue
        seen.add(label)
        problems.append(
            f"màn hình/menu '{label}' chưa được nguồn nào xác nhận: thêm vào 'menu' của "
            "nguồn đã đọc, hoặc bỏ tên mục khỏi bài"
        )
    return problems


def fact_tokens(text: str) -> list[str]:
    """Numbers a resident reads that must come from a source.

    Legal references ("Nghị định 69/2024"), dates ("1/7/2025"), money ("200.000 đ"),
    phone numbers ("1900.0368"), versions and any number of three digits or more. Step
    numbers, ages and small counts ("2 câu hỏi") are not facts of this kind.
    """
    tokens: list[str] = []
    sources_line = text.rsplit("\nNguồn:", 1)[0] if "\nNguồn:" in text else text
    for line in sources_line.split("\n"):
        body = re.sub(r"^\s*\d+\.\s+", "", line)  # the step number itself
        for match in _LEGAL.finditer(body):
            tokens.append(match.group(1).rstrip(".,"))
        for match in _NUMBER.finditer(body):
            token = match.group(0)
            digits = re.sub(r"\D", "", token)
            if len(digits) >= 3 or re.search(r"[./]", token):
                tokens.append(token)
        tokens.extend(match.group(1) for match in _UNIT_NUMBER.finditer(body))
    return list(dict.fromkeys(tokens))


def _number_key(token: str) -> str:
    """A normal form: '200.000' ≡ '200000', '01/07/2025' ≡ '1/7/2025'."""
    token = token.strip(".,")
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):
        return re.sub(r"\D", "", token)
    parts = re.split(r"[./,]", token)
    return "/".join(str(int(p)) if p.isdigit() else p.casefold() for p in parts if p)


def _check_facts(guide: Guide, text: str) -> list[str]:
    supported: set[str] = set()
    for source in guide.sources:
        for match in _NUMBER.finditer(source.supports):
            supported.add(_number_key(match.group(0)))
        for match in _LEGAL.finditer(source.supports):
            supported.add(_number_key(match.group(1)))
    problems: list[str] = []
    reported: set[str] = set()
    for token in fact_tokens(text):
        key = _number_key(token)
        if key in supported or key in reported:
            continue
        # A legal reference like "69/2024/NĐ-CP" is backed by "69/2024" in a source.
        if any(key.startswith(f"{s}/") for s in supported if "/" in s):
            continue
        # ...and "69/2024" in the text by "69/2024/NĐ-CP" in a source.
        if "/" in key and any(s.startswith(f"{key}/") for s in supported):
            continue
        reported.add(key)
        problems.append(
            f"'{token}' (số, ngày, mức tiền, số điện thoại hay văn bản) không có trong "
            "'supports' của nguồn nào"
        )
    return problems


def _check_pages(guide: Guide) -> list[str]:
    problems: list[str] = []
    for number, page in enumerate(guide.phone_pages(), 1):
        lines = phone_lines(page)
        if lines > PAGE_LINES:
            problems.append(
                f"trang {number} dài {lines} dòng trên điện thoại ({PHONE_WIDTH} ký tự/dòng), "
                f"tối đa {PAGE_LINES}: tách bước hoặc viết ngắn lại"
            )
    for limit, channel in ((ZALO_LIMIT, "Zalo"), (TELEGRAM_LIMIT, "Telegram")):
        for number, page in enumerate(guide.pages(limit), 1):
            if len(page) > limit:
                problems.append(f"trang {number} có {len(page)} ký tự, quá {limit} của {channel}")
    return problems


def check_offices(table: OfficeTable, today: dt.date) -> list[str]:
    """Problems of the out-of-scope office table, in Vietnamese."""
    problems: list[str] = []
    for kind, ids in (
        ("cơ quan", Counter(office.id for office in table.offices)),
        ("chủ đề", Counter(topic.id for topic in table.topics)),
    ):
        for item_id, count in ids.items():
            if count > 1:
                problems.append(f"{kind} '{item_id}' lặp {count} lần")
    for office in table.offices:
        name = office.id or "(không có id)"
        if not office.id:
            problems.append("một cơ quan thiếu 'id'")
        if not office.name:
            problems.append(f"{name}: thiếu tên cơ quan (name)")
        elif _PRESS.search(office.name):
            problems.append(f"{name}: không viết 'bấm'/'nhấn'")
        if office.checked is None:
            problems.append(f"{name}: thiếu ngày kiểm tra (checked)")
        problems += [f"{name}: {p}" for p in _check_office_source(office.source, today)]
        problems += [f"{name}: {p}" for p in _unsourced(office.name, office.source)]
    known = {office.id for office in table.offices}
    for topic in table.topics:
        name = topic.id or "(không có id)"
        if not topic.id:
            problems.append("một chủ đề thiếu 'id'")
        if topic.office not in known:
            problems.append(f"{name}: cơ quan '{topic.office}' không có trong danh sách 'offices'")
        if not topic.keywords:
            problems.append(f"{name}: thiếu từ khóa")
        if _PRESS.search(topic.note):
            problems.append(f"{name}: không viết 'bấm'/'nhấn'")
        problems += [f"{name}: {p}" for p in _check_office_source(topic.source, today)]
        problems += [f"{name}: {p}" for p in _unsourced(topic.note, topic.source)]
    return problems


def _unsourced(text: str, source: Source | None) -> list[str]:
    """Numbers (phone numbers, fees, dates) in an office's text that its source lacks."""
    holder = Guide(slug="", title="", category="", summary="", body="")
    sources = (source,) if source else ()
    return _check_facts(dataclasses.replace(holder, sources=sources), text)


def _check_office_source(source: Source | None, today: dt.date) -> list[str]:
    if source is None:
        return ["thiếu nguồn (source)"]
    problems = [f"nguồn: {p}" for p in _check_source(source)]
    if source.day is not None and _months_between(source.day, today) > FRESHNESS_MONTHS["normal"]:
        problems.append(f"nguồn ({source.day:%m/%Y}) đã cũ")
    return problems


def check_offices_file(path: Path, today: dt.date) -> list[str]:
    """Load and check one offices file (for tests and the CLI)."""
    return check_offices(load_offices(path), today)


def _months_between(earlier: dt.date, later: dt.date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _has_marks(text: str) -> bool:
    return _strip_marks(text) != text.casefold()


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())
