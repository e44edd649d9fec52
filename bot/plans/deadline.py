"""Read the completion time of a plan task as written in Vietnamese plans.

"Quý III/2025", "Tháng 7,8 /2025", "Giai đoạn 2025-2026", "trước ngày 15 tháng 02
năm 2026", "Hàng năm", "3 tháng/lần", "Thường xuyên", "Khi có văn bản của cấp trên",
"Tháng 7/2025, duy trì hàng năm"… A named period means its last day; a repetition
gives a recurring deadline; the seeds' OCR slips ("Qúy III//2025", "Sai khi tình
triển khai") are tolerated. The text is folded first (no diacritics, lower case).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.errors import ReadableError
from bot.i18n import N_
from bot.text import fold, shorten

Kind = Literal["once", "recurring", "ongoing", "on_event"]
Repeat = Literal["monthly", "quarterly", "half_yearly", "yearly"]

MIN_YEAR = 1990
MAX_YEAR = 2100
MAX_LENGTH = 1000

MSG_EMPTY = N_(
    "The completion time is empty. Write for example: Quý III/2025, Tháng 7/2025, "
    "15/02/2026, Hàng năm or Thường xuyên."
)
MSG_UNREADABLE = N_(
    "I cannot read the completion time “{text}”. Write for example: Quý III/2025, "
    "Tháng 7/2025, 15/02/2026, Hàng năm or Thường xuyên."
)
MSG_BAD_DATE = N_("“{value}” is not a real date. Check the day and the month.")
MSG_BAD_MONTH = N_("There is no month {value}. Months go from 1 to 12.")
MSG_BAD_QUARTER = N_("There is no quarter {value}. Quarters go from I to IV.")
MSG_BAD_YEAR = N_(
    "The year {value} looks wrong. Write the year with four digits, for example 2026."
)
MSG_BAD_REPEAT = N_(
    "“{value}” is not a repetition I can follow. Use: hàng tháng, hàng quý, 6 tháng/lần "
    "or hàng năm."
)
MSG_BAD_RANGE = N_("The period “{value}” ends before it starts. Check the years.")

_MAX_QUOTE = 60


class DeadlineParseError(ReadableError, ValueError):
    """A completion time that cannot be read, with a translatable explanation."""


@dataclass(frozen=True)
class Deadline:
    """A parsed completion time: its kind, its (first) due date and how it repeats."""

    kind: Kind
    due: dt.date | None
    repeat: Repeat | None
    text: str

    def to_json(self) -> dict[str, Any]:
        """Return {"kind", "due" (YYYY-MM-DD or None), "repeat"} for the CLI and the API."""
        return {
            "kind": self.kind,
            "due": self.due.isoformat() if self.due else None,
            "repeat": self.repeat,
        }


# --- vocabulary ----------------------------------------------------------------------

_ROMAN = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
    "xi": 11,
    "xii": 12,
}
_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "sau": 6, "muoi hai": 12}

_N = r"(?:\d{1,2}|[ivxl]{1,4})(?![a-z\d])"  # a month or quarter number, Arabic or Roman
_YEAR = r"(?<!\d)\d{4}(?!\d)"
_TO_YEAR = r"\s*(?:[/\-.,]\s*)*(?:nam\s*)?"  # "/", "//", " /", "/năm ", " năm "
_LIST_SEP = r"\s*(?:[,;&\-]|va)\s*"

_PERIODS = re.compile(
    "|".join(
        (
            # 2026-02-15
            r"(?P<iso>(?<!\d)(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})(?!\d))",
            # 15/02/2026, 15-2-2026, (ngày) 15 tháng 02 (,) năm 2026
            r"(?P<dmy>(?:ngay\s*)?(?<!\d)(?P<dmy_d>\d{1,2})\s*(?:[/.\-]|thang)\s*"
            r"(?P<dmy_m>\d{1,2})\s*(?:[/.\-]|,?\s*nam)\s*(?P<dmy_y>\d{4})(?!\d))",
            # ngày 15/02, ngày 15 tháng 2 (this year)
            r"(?P<dm>ngay\s*(?P<dm_d>\d{1,2})\s*(?:[/.\-]|thang)\s*(?P<dm_m>\d{1,2})(?!\d))",
            # 6 tháng đầu năm 2026, 6 tháng cuối năm, nửa đầu năm 2026
            r"(?P<half>(?:(?P<half_n>\d{1,2}|sau)\s*thang|nua)\s*(?P<half_which>dau|cuoi)"
            r"\s*(?:nam)?" + r"(?:\s*(?:[/\-.,]\s*)?(?P<half_y>\d{4})(?!\d))?)",
            # Quý III/2025, Quý II/năm 2025, Qúy III//2025, Quý III, IV/2025
            rf"(?P<quarter>quy\s*(?P<quarters>{_N}(?:{_LIST_SEP}(?:quy\s*)?{_N})*)"
            rf"(?:{_TO_YEAR}(?P<quarter_y>{_YEAR}))?)",
            # Tháng 7/2025, Tháng 7,8 /2025, tháng VII năm 2025
            rf"(?P<month>thang\s*(?P<months>{_N}(?:{_LIST_SEP}(?:thang\s*)?{_N})*)"
            rf"(?:{_TO_YEAR}(?P<month_y>{_YEAR}))?)",
            # 07/2025
            r"(?P<my>(?<!\d)(?P<my_m>\d{1,2})\s*/\s*(?P<my_y>\d{4})(?!\d))",
            # Giai đoạn 2025-2026, từ năm 2025 đến năm 2030
            r"(?P<range>(?P<range_a>" + _YEAR + r")\s*(?:-|–|—|den|toi)\s*(?:het\s*)?(?:nam\s*)?"
            r"(?P<range_b>" + _YEAR + r"))",
            r"(?P<year>" + _YEAR + r")",
        )
    )
)

_EVERY_N_MONTHS = re.compile(
    r"(?:(?P<n>\d{1,2}|mot|hai|ba|bon|sau|muoi hai)\s*)?thang\s*(?:/|mot|1)\s*lan"
)
_TIMES_A_YEAR = re.compile(r"(?P<n>\d{1,2}|mot|hai|bon)\s*lan\s*(?:/|mot|1|moi|trong)\s*nam")
_REPEATS: tuple[tuple[Repeat, re.Pattern[str]], ...] = (
    ("monthly", re.compile(r"\b(?:hang|moi|tung)\s*thang\b|\bdinh ky thang\b|\btheo thang\b")),
    (
        "quarterly",
        re.compile(
            r"\b(?:hang|moi|tung)\s*quy\b|\bquy\s*(?:/|mot|1)\s*lan\b"
            r"|\b(?:dinh ky|theo)\s*quy\b(?!\s*" + _N + r")"
        ),
    ),
    (
        "half_yearly",
        re.compile(r"\b(?:hang|moi)\s*nua\s*nam\b|\bnua\s*nam\s*(?:/|mot|1)\s*lan\b"),
    ),
    (
        "yearly",
        re.compile(
            r"\b(?:hang|moi|tung)\s*nam\b(?!\s*\d)|\bthuong nien\b|\bnam\s*(?:/|mot|1)\s*lan\b"
            r"|\bdinh ky nam\b"
        ),
    ),
)
_ORDER: tuple[Repeat, ...] = ("monthly", "quarterly", "half_yearly", "yearly")
_BY_MONTHS: dict[int, Repeat] = {1: "monthly", 3: "quarterly", 6: "half_yearly", 12: "yearly"}
_BY_TIMES: dict[int, Repeat] = {12: "monthly", 4: "quarterly", 2: "half_yearly", 1: "yearly"}

_ONGOING = re.compile(
    r"\b(?:thuong xuyen|lien tuc|hang ngay|moi ngay|hang tuan|moi tuan|"
    r"suot nhiem ky|thuong ky)\b"
)
_KEEP_UP = re.compile(r"\bduy tri\b")
_ON_EVENT = re.compile(
    r"\b(?:khi co|sau khi|khi duoc|khi nao|ngay khi|theo huong dan|theo chi dao|"
    r"theo yeu cau|theo van ban|theo ke hoach cua|khi cap tren|theo lo trinh|"
    r"theo de nghi|khi phat sinh|dot xuat)\b"
)
_OCR_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/+"), "/"),
    (re.compile(r"\bsai khi\b"), "sau khi"),
    (re.compile(r"\bqui\b"), "quy"),
)


def _number(token: str, what: str) -> int:
    """Read an Arabic or Roman month/quarter number (OCR "lll" for "III" included)."""
    token = token.strip()
    if token.isdigit():
        return int(token)
    value = _ROMAN.get(token.replace("l", "i"))
    if value is None:
        raise DeadlineParseError(
            MSG_BAD_QUARTER if what == "quarter" else MSG_BAD_MONTH, value=token.upper()
        )
    return value


def _check_year(raw: str | None, today: dt.date) -> int:
    if raw is None:
        return today.year
    year = int(raw)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DeadlineParseError(MSG_BAD_YEAR, value=raw)
    return year


def _month_end(year: int, month: int) -> dt.date:
    if not 1 <= month <= 12:
        raise DeadlineParseError(MSG_BAD_MONTH, value=month)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _day(year: int, month: int, day: int, written: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DeadlineParseError(MSG_BAD_DATE, value=shorten(written, _MAX_QUOTE)) from None


def _list_numbers(listing: str, what: str) -> list[int]:
    words = re.split(r"\s*(?:[,;&\-]|\bva\b)\s*", listing)
    numbers = []
    for word in words:
        word = re.sub(r"^(?:quy|thang)\s*", "", word.strip())
        if word:
            numbers.append(_number(word, what))
    return numbers


def _dates(folded: str, today: dt.date) -> list[dt.date]:
    """Every date or named period mentioned, each as its last day."""
    found: list[dt.date] = []
    for m in _PERIODS.finditer(folded):
        g = m.groupdict()
        if g["iso"]:
            year = _check_year(g["iso_y"], today)
            found.append(_day(year, int(g["iso_m"]), int(g["iso_d"]), g["iso"]))
        elif g["dmy"]:
            year = _check_year(g["dmy_y"], today)
            found.append(_day(year, int(g["dmy_m"]), int(g["dmy_d"]), g["dmy"]))
        elif g["dm"]:
            found.append(_day(today.year, int(g["dm_m"]), int(g["dm_d"]), g["dm"]))
        elif g["half"]:
            year = _check_year(g["half_y"], today)
            raw_n = g["half_n"]
            months = 6 if raw_n in (None, "sau") else int(raw_n)
            if g["half_which"] == "cuoi" or months == 12:
                found.append(dt.date(year, 12, 31))
            else:
                found.append(_month_end(year, months))
        elif g["quarter"]:
            year = _check_year(g["quarter_y"], today)
            for quarter in _list_numbers(g["quarters"], "quarter"):
                if not 1 <= quarter <= 4:
                    raise DeadlineParseError(MSG_BAD_QUARTER, value=quarter)
                found.append(_month_end(year, quarter * 3))
        elif g["month"]:
            year = _check_year(g["month_y"], today)
            for month in _list_numbers(g["months"], "month"):
                found.append(_month_end(year, month))
        elif g["my"]:
            year = _check_year(g["my_y"], today)
            found.append(_month_end(year, int(g["my_m"])))
        elif g["range"]:
            start, end = _check_year(g["range_a"], today), _check_year(g["range_b"], today)
            if end < start:
                raise DeadlineParseError(MSG_BAD_RANGE, value=shorten(g["range"], _MAX_QUOTE))
            found.append(dt.date(end, 12, 31))
        elif g["year"]:
            found.append(dt.date(_check_year(g["year"], today), 12, 31))
    return found


def _count(raw: str) -> int:
    return _NUMBER_WORDS[raw] if raw in _NUMBER_WORDS else int(raw)


def _repeat(folded: str) -> Repeat | None:
    """The most frequent repetition mentioned ("hàng tháng, quý" reports monthly)."""
    found: set[Repeat] = set()
    for m in _EVERY_N_MONTHS.finditer(folded):
        months = _count(m.group("n")) if m.group("n") else 1
        if months not in _BY_MONTHS:
            raise DeadlineParseError(MSG_BAD_REPEAT, value=shorten(m.group(), _MAX_QUOTE))
        found.add(_BY_MONTHS[months])
    for m in _TIMES_A_YEAR.finditer(folded):
        times = _count(m.group("n"))
        if times not in _BY_TIMES:
            raise DeadlineParseError(MSG_BAD_REPEAT, value=shorten(m.group(), _MAX_QUOTE))
        found.add(_BY_TIMES[times])
    for repeat, pattern in _REPEATS:
        if pattern.search(folded):
            found.add(repeat)
    return next((r for r in _ORDER if r in found), None)


def parse_deadline(text: str, today: dt.date | None = None) -> Deadline:
    """Read a Vietnamese completion time; raise DeadlineParseError when it cannot be read.

    ``today`` supplies the year when the text names none ("Quý IV", "ngày 15/02").
    """
    if len(text) > MAX_LENGTH:  # a completion time is a short phrase, never a page
        raise DeadlineParseError(MSG_UNREADABLE, text=shorten(text, _MAX_QUOTE))
    folded = fold(text)
    if not re.search(r"\w", folded):
        raise DeadlineParseError(MSG_EMPTY)
    for pattern, replacement in _OCR_FIXES:
        folded = pattern.sub(replacement, folded)
    today = today or dt.date.today()

    # Repetition words are matched first and blanked out so that "3 tháng/lần" or
    # "hàng năm" never reads as a month or a year.
    repeat = _repeat(folded)
    dates = _dates(_EVERY_N_MONTHS.sub(" ", _TIMES_A_YEAR.sub(" ", folded)), today)
    due = max(dates) if dates else None
    clean = " ".join(text.split())

    if repeat is not None:
        return Deadline("recurring", due, repeat, clean)
    if _ONGOING.search(folded):
        return Deadline("ongoing", due, None, clean)
    if due is not None:
        return Deadline("once", due, None, clean)
    if _ON_EVENT.search(folded):
        return Deadline("on_event", None, None, clean)
    if _KEEP_UP.search(folded):
        return Deadline("ongoing", None, None, clean)
    raise DeadlineParseError(MSG_UNREADABLE, text=shorten(text, _MAX_QUOTE))
