"""Unanswered questions and guide feedback, stored without personal identifiers.

Before a question is stored it is scrubbed (``scrub``): links, e-mail addresses, phone,
ID, account and plate numbers, house addresses and people's names are replaced by
placeholders. ``REMOVED`` lists every kind of detail the scrubber removes, so the
dashboard can tell the team exactly what was taken out (names are found after a cue such
as "tôi là", "tên", "anh", "chị", "bà", or as a family name with more name words).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from bot.text import clean, fold
from db.models import GuideFeedback, UnansweredQuestion

MAX_STORED = 300

# Every kind of detail scrub() removes, in the order a page should name them:
# people's names, house addresses (house numbers, lanes, hamlets), phone numbers, ID,
# account and other long numbers, vehicle plates, e-mail addresses, links.
REMOVED: tuple[str, ...] = ("name", "address", "phone", "id_number", "plate", "email", "link")

_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b(?:[a-z0-9-]+\.)+(?:vn|com|net|org|info|top|xyz|vip|io|me)(?:/\S*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\S+@\S+")
_PLATE = re.compile(r"\b\d{2}\s?[A-Z]{1,2}\d?\s?-?\s?\d{3}\.?\d{1,2}\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_DIGITS = re.compile(r"\d[\d .\-]{4,}\d")  # ID, account and other long numbers
_NUMBER = "<số>"


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Common Vietnamese family names, folded (Nguyễn, Trần, Lê …): a name almost always
# starts with one, so a lower-case name ("tôi là nguyễn văn an") is still found.
_SURNAMES = _wordset(
    """
    nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh dao doan
    trinh truong lam mai luong cao ta ha thai kieu kim lai lu mac quach tong thach tieu
    chau giang khuc la lieu luu ma nghiem ong phung quan than thieu tu ung van vuong
    """
)
# Words that introduce the writer's own name: the name may follow in lower case.
_OWN_NAME = re.compile(
    r"(?i)\b(?:tôi là|tui là|mình là|em là|cháu là|con là|tên tôi là|tên em là|tên mình là"
    r"|tên là|họ tên|họ và tên|tôi tên|em tên|mình tên|cháu tên)\s+$"
)
# Words that address or name someone ("anh Long", "bà Thắng"): only a capitalised name
# counts, since "chị đăng ký giúp" or "tên đăng nhập" are not names.
_KIN = re.compile(
    r"(?i)\b(?:tên|anh|chị|cô|chú|bác|ông|bà|cụ|dì|cậu|mợ|thím|bạn|em|cháu|con|"
    r"độc giả|bạn đọc)\s+$"
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Number-led address parts ("số nhà 12", "ngõ 38", "hẻm 283/5") and named hamlets.
_ADDRESS_NUMBERED = re.compile(
    r"(?i)\b(?:số nhà|nhà số|số|ngõ|ngách|hẻm|kiệt|tổ|lô|phòng|căn hộ|km)\s*\d+[\w/\-]*"
)
_ADDRESS_NAMED = re.compile(
    r"(?i)\b(?:thôn|xóm|ấp|khu phố|tổ dân phố|khu dân cư|kp|tdp)\s+"
    r"(?:\d+\w*|(?!(?:xã|phường|huyện|tỉnh|thành|quận|thị)\b)[^\W\d_]+"
    r"(?:\s+(?!(?:xã|phường|huyện|tỉnh|thành|quận|thị)\b)[^\W\d_]+){0,2})"
)


@dataclass(frozen=True)
class Scrubbed:
    """A question with personal details replaced, and which kinds were found."""

    text: str
    removed: tuple[str, ...]  # the kinds found, in REMOVED's order


def scrub(text: str) -> Scrubbed:
    """Replace links, e-mails, numbers, plates, addresses and names with placeholders.

    Names without a cue or a family name ("Minh Thư hỏi") cannot be told from other
    words and are kept; the result says which kinds of detail were found.
    """
    found: set[str] = set()

    def sub(pattern: re.Pattern[str], kind: str, placeholder: str, value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            found.add(kind)
            return placeholder

        return pattern.sub(replace, value)

    text = clean(text)
    text = sub(_EMAIL, "email", "<email>", text)
    text = sub(_URL, "link", "<link>", text)
    text = sub(_PLATE, "plate", "<biển số>", text)
    text = sub(_PHONE, "phone", _NUMBER, text)
    text = sub(_DIGITS, "id_number", _NUMBER, text)
    text = sub(_ADDRESS_NUMBERED, "address", "<địa chỉ>", text)
    text = sub(_ADDRESS_NAMED, "address", "<địa chỉ>", text)
    text, names = _remove_names(text)
    if names:
        found.add("name")
    text = " ".join(text.lower().split())[:MAX_STORED]
    return Scrubbed(text, tuple(kind for kind in REMOVED if kind in found))


def _remove_names(text: str) -> tuple[str, bool]:
    """Replace people's names: after a cue ("tôi là", "anh", "bà") or a full family name."""
    pieces: list[str] = []
    position = 0
    removed = False
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words):
        before = text[max(0, words[i].start() - 20) : words[i].start()]
        cue = "own" if _OWN_NAME.search(before) else ("kin" if _KIN.search(before) else "")
        run = _name_run(words, i, text, cue)
        if run:
            pieces.append(text[position : words[i].start()])
            pieces.append("<tên>")
            position = words[i + run - 1].end()
            removed = True
            i += run
        else:
            i += 1
    pieces.append(text[position:])
    return "".join(pieces), removed


# Place names that start with a family name ("Hà Nội", "Hồ Chí Minh"): not people.
_PLACES = (
    "ha noi",
    "ha dong",
    "ha tinh",
    "ha giang",
    "ha nam",
    "ha long",
    "ho chi minh",
    "lam dong",
    "cao bang",
    "thai binh",
    "thai nguyen",
    "phan thiet",
    "phan rang",
    "mai chau",
    "ly son",
    "vu ban",
    "truong sa",
    "kim bang",
    "quan hoa",
    "tong duy tan",
)


def _name_run(words: list[re.Match[str]], i: int, text: str, cue: str) -> int:
    """How many words from ``i`` form a person's name (0 when they do not).

    Capitalised words after any cue, or a capitalised family name with more capitalised
    words, are a name; in lower case only a family name after the writer's own cue ("tôi
    là nguyễn văn an") or a family name with a typical middle name ("lê văn tám") is.
    """
    first = words[i].group(0)
    following = " ".join(fold(w.group(0)) for w in words[i : i + 3])
    if any(following.startswith(place) for place in _PLACES):
        return 0
    surname = fold(first) in _SURNAMES
    capital = first[:1].isupper()
    if capital:
        if not (cue or surname):
            return 0
    elif not (surname and (cue == "own" or _lower_full_name(words, i))):
        return 0
    run = 1
    # A name is up to four words in one stretch of text (no punctuation in between).
    while run < 4 and i + run < len(words):
        gap = text[words[i + run - 1].end() : words[i + run].start()]
        nxt = words[i + run].group(0)
        if gap.strip() or nxt[:1].isupper() != capital:
            break
        if not capital and not _plausible_name_word(nxt):
            break
        run += 1
    if run == 1 and not cue:
        return 0  # a lone family name with no cue ("Lê" in a street name) is kept
    return run


def _lower_full_name(words: list[re.Match[str]], i: int) -> bool:
    """A lower-case family name followed by a typical middle name ("nguyễn văn an")."""
    if i + 1 >= len(words):
        return False
    return fold(words[i + 1].group(0)) in _MIDDLE_NAMES


_MIDDLE_NAMES = _wordset(
    """
    van thi huu duc minh ngoc thanh quang xuan hong kim thu hoang anh tuan cong dinh gia
    bao quoc trung hai thuy phuong ngoc my
    """
)
_NOT_NAMES = _wordset(
    """
    o tai la va cua cho khi thi de ma nhung nay kia do hoi xin cam on da dang se muon
    can co khong chua roi nhe nha a oi vneid cccd so dien thoai ngan hang
    """
)


def _plausible_name_word(word: str) -> bool:
    folded = fold(word)
    return folded not in _NOT_NAMES and len(folded) <= 7


def anonymise(text: str) -> str:
    """Normalise a question and strip what could identify someone (see ``scrub``)."""
    return scrub(text).text


def record_unanswered(
    session: Session, question: str, now: dt.datetime, retention_days: int
) -> None:
    """Count an unanswered question (scrubbed) and forget ones past the retention period."""
    text = anonymise(question)
    if not text:
        return
    row = session.exec(select(UnansweredQuestion).where(UnansweredQuestion.text == text)).first()
    if row is None:
        session.add(UnansweredQuestion(text=text, first_at=now, last_at=now))
    else:
        row.count += 1
        row.last_at = now
        session.add(row)
    prune(session, now, retention_days)


def record_feedback(
    session: Session, slug: str, helpful: bool, query: str, now: dt.datetime
) -> None:
    """Store a 👍/👎 on a guide with the (scrubbed) question that led to it."""
    session.add(GuideFeedback(slug=slug, helpful=helpful, query=anonymise(query), at=now))


def prune(session: Session, now: dt.datetime, retention_days: int) -> None:
    """Delete questions and feedback older than the retention period."""
    cutoff = now - dt.timedelta(days=retention_days)
    session.exec(delete(UnansweredQuestion).where(col(UnansweredQuestion.last_at) < cutoff))  # type: ignore[call-overload]
    session.exec(delete(GuideFeedback).where(col(GuideFeedback.at) < cutoff))  # type: ignore[call-overload]


def unanswered(session: Session, limit: int = 100) -> list[UnansweredQuestion]:
    """The most frequent unanswered questions first."""
    return list(
        session.exec(
            select(UnansweredQuestion)
            .order_by(col(UnansweredQuestion.count).desc(), col(UnansweredQuestion.last_at).desc())
            .limit(limit)
        ).all()
    )


def feedback_summary(session: Session) -> list[tuple[str, int, int]]:
    """Per guide: (slug, helpful count, not helpful count), most 👎 first."""
    rows = session.exec(select(GuideFeedback.slug, GuideFeedback.helpful)).all()
    counts: dict[str, list[int]] = {}
    for slug, helpful in rows:
        counts.setdefault(slug, [0, 0])[0 if helpful else 1] += 1
    return sorted(((s, c[0], c[1]) for s, c in counts.items()), key=lambda r: (-r[2], r[0]))
