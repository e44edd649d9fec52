"""Does a free-text message look like a report ("đường xóm 3 bị ngập")? Conservatively.

A message is read as a possible report only when it is not a question (guides answer
questions: "làm sao báo lừa đảo" is about scams, not a report of one) and either says so
("phản ánh", "báo tin", "kiến nghị") or names something a category covers together with a
problem, or asks where to report one ("đèn đường hỏng thì báo ai?"). A keyword that is itself a problem ("mất điện", "ngập", "lừa đảo") is enough; a
plain subject ("đường", "đèn đường", "rác") needs a problem word beside it ("hỏng", "bị",
"vỡ"…). Even then the chat only *offers* to start a report. Pure: strings in, ids out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.text import clean, fold

# Matched as whole words with their diacritics ("ở đâu" asks, "ở đầu ngõ" does not); a
# message typed without any diacritics is matched on the folded forms instead.
QUESTION_MARKERS = (
    "làm sao",
    "làm thế nào",
    "như thế nào",
    "thế nào",
    "ra sao",
    "như nào",
    "cách nào",
    "cách để",
    "cách làm",
    "hướng dẫn",
    "ở đâu",
    "bao nhiêu",
    "bao giờ",
    "khi nào",
    "tại sao",
    "vì sao",
    "là gì",
    "phải làm gì",
    "làm gì",
    "được không",
    "có phải",
    "có nên",
    "nên làm",
    "xin hỏi",
    "cho hỏi",
    "how",
    "what",
)
# "… có … không" at the end asks yes or no ("mất điện có được hoàn tiền không").
_YES_NO = re.compile(r"(?<!\w)co(?!\w).*(?<!\w)(khong|ko)\W*$")
# "đèn đường hỏng thì báo ai?" asks where to report: the answer is a report, so it is offered.
_WHERE_TO_REPORT = re.compile(
    r"(?<!\w)(bao|phan anh|kien nghi)( cho| voi| len| den)? (ai|o dau|dau|cho ai|voi ai)(?!\w)"
)
REPORT_VERBS = ("phan anh", "kien nghi", "bao tin", "to giac", "trinh bao", "bao su co")
PROBLEM_MARKERS = (
    "bi",
    "hong",
    "vo",
    "nut",
    "lun",
    "sut",
    "gay",
    "tac",
    "ngap",
    "tran",
    "chap",
    "ro ri",
    "khong sang",
    "boc mui",
    "hoi thoi",
    "bua bai",
    "nguy hiem",
    "chan loi",
    "chan duong",
    "o nhiem",
    "khong thu gom",
    "khong co",
    "cham",
    "tre hen",
    "xuong cap",
    "sap do",
)
# Keywords that name a problem by themselves (folded); any other keyword is a subject.
PROBLEM_WORDS = frozenset(
    {
        "o ga",
        "o voi",
        "sut lun",
        "mat dien",
        "chap dien",
        "mat nuoc",
        "vo ong",
        "nuoc ban",
        "xa thai",
        "o nhiem",
        "boc mui",
        "dot rac",
        "ngap",
        "ngap ung",
        "ung",
        "tac cong",
        "lua dao",
        "trom",
        "mat trom",
        "cuop",
        "danh nhau",
        "gay roi",
        "ma tuy",
        "co bac",
        "chay",
        "chay no",
        "hoa hoan",
        "sat lo",
        "lu",
        "loc",
        "cay do",
        "dien giat",
        "tre hen",
        "cham tra",
        "gay kho khan",
        "hach dich",
        "nhung nhieu",
        "dich benh",
        "sot xuat huyet",
        "ngo doc",
    }
)


_PROBLEM_WORDS = tuple(sorted(PROBLEM_WORDS))  # a fixed order for ``_has``

# Compounds whose first word is a subject keyword folded ("điện thoại" is not "điện"):
# blanked before the categories' keywords are looked for.
NOT_SUBJECTS = (
    "dien thoai",
    "dien may",
    "nuoc ngoai",
    "truong hop",
)
# The person's own phone, account or app: "điện thoại hỏng, đổi máy, VNeID không đăng nhập
# được" asks for help with an account (a guide), unless a strong problem or "phản ánh" says
# otherwise.
OWN_ACCOUNT = (
    "vneid",
    "otp",
    "mat khau",
    "tai khoan",
    "dang nhap",
    "ung dung",
    "app",
    "sim",
    "so dien thoai",
    "dien thoai",
    "chu ky so",
    "vssid",
    "dinh danh",
    "kich hoat",
    "ma xac thuc",
    "so suc khoe",
    "dich vu cong",
)
# Words that, alone, ask for a topic the guides cover ("lừa đảo": the scam warnings).
TOPIC_ONLY = frozenset({"lua dao", "bi lua dao", "lua dao qua mang", "lua dao truc tuyen"})
# What is left of "tôi muốn gửi phản ánh ạ" without its report verb: nothing to report yet.
_FILLER = re.compile(
    r"(?<!\w)(toi|em|minh|chau|con|muon|can|xin|gui|lam|mot|cai|ve|a|nhe|voi|giup|cho|"
    r"di|nay|viec|co|kien|y|phan|anh|nghi|bao|tin)(?!\w)"
)


@dataclass(frozen=True)
class Detected:
    """A message that may be a report, and the category it most likely belongs to."""

    category_id: int | None
    asked: bool = False  # it asked where to report ("… báo ai?")


@functools.lru_cache(maxsize=1024)
def _word(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(phrase)}(?![\w])")


def _has(folded: str, phrases: Sequence[str]) -> bool:
    return any(_word(phrase).search(folded) for phrase in phrases)


def is_question(text: str) -> bool:
    """Whether a message asks something (a guide's business, not a report)."""
    if "?" in text:
        return True
    lowered = " ".join(clean(text).lower().split())
    if _has(lowered, QUESTION_MARKERS):
        return True
    folded = fold(text)
    if _YES_NO.search(folded):
        return True
    typed_plain = folded == lowered.replace("đ", "d")
    return typed_plain and _has(folded, tuple(fold(m) for m in QUESTION_MARKERS))


def detect(
    text: str,
    categories: Sequence[tuple[int, Sequence[str]]]
    | Callable[[], Sequence[tuple[int, Sequence[str]]]],
) -> Detected | None:
    """A possible report in ``text``, given each category's (id, keywords); None if not one.

    The category is the one whose matching keyword is a problem word, else the longest
    matching subject; None when the message says "phản ánh" but names nothing known.
    ``categories`` may be a function giving them: it is called only for a text that could
    be a report (not for a plain question, most free text), sparing the query.
    """
    folded = fold(text or "")
    if not folded:
        return None
    asked = bool(_WHERE_TO_REPORT.search(folded))
    if is_question(text) and not asked:
        return None
    plain = " ".join(re.sub(r"[^\w\s]", " ", folded).split())
    if plain in TOPIC_ONLY:
        return None
    explicit = _has(folded, REPORT_VERBS)
    if not explicit and _has(folded, OWN_ACCOUNT) and not _has(folded, _PROBLEM_WORDS):
        return None
    for compound in NOT_SUBJECTS:
        folded = _word(compound).sub(" ", folded)
    problem = _has(folded, PROBLEM_MARKERS) or asked
    if not explicit and not problem and not _has(folded, _PROBLEM_WORDS):
        return None  # only a problem word could make it one, and it names none
    best: tuple[bool, int] | None = None
    chosen: int | None = None
    if callable(categories):
        categories = categories()
    for category_id, keywords in categories:
        for keyword in keywords:
            phrase = fold(keyword)
            if not phrase or not _word(phrase).search(folded):
                continue
            strong = phrase in PROBLEM_WORDS
            if not strong and not problem and not explicit:
                continue
            rank = (strong, len(phrase))
            if best is None or rank > best:
                best, chosen = rank, category_id
    if chosen is None and (asked or not explicit):
        return None
    return Detected(chosen, asked)


def says_only_report(text: str) -> bool:
    """Whether a message only says it wants to report ("phản ánh", "tôi muốn kiến nghị ạ")."""
    folded = fold(text or "")
    if not _has(folded, REPORT_VERBS):
        return False
    return not _FILLER.sub(" ", re.sub(r"[^\w\s]", " ", folded)).split()


def category_named(
    text: str, categories: Sequence[tuple[int, Sequence[str]]]
) -> tuple[int, bool] | None:
    """The category a typed answer names by a keyword ("lua dao", "đèn đường hỏng ở xóm 2").

    Returns (id, described): ``described`` when the text says more than the keyword, so it
    can be kept as what happened. None when no keyword matches.
    """
    folded = fold(text or "")
    for compound in NOT_SUBJECTS:
        folded = _word(compound).sub(" ", folded)
    plain = " ".join(re.sub(r"[^\w\s]", " ", folded).split())
    best: tuple[bool, int] | None = None
    chosen: tuple[int, bool] | None = None
    for category_id, keywords in categories:
        for keyword in keywords:
            phrase = fold(keyword)
            if not phrase or not _word(phrase).search(plain):
                continue
            rank = (phrase in PROBLEM_WORDS, len(phrase))
            if best is None or rank > best:
                best, chosen = rank, (category_id, plain != phrase)
    return chosen
