"""Reading a report message: "bc", a month ("tháng 2"), a village name, then the figures.

The one reading shared by the chat and ``tocns tally parse``: "tháng 2 vneid 45",
"bc Xóm 3: vneid 45" and "vneid 45" are read the same way wherever they are typed.
Pure: the village names of the commune are given by the caller (lazily, because most
messages start with a code and never need them).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.dates import month_start
from bot.tallies.codes import resolve_label
from bot.tallies.parser import TallyParseError, looks_like_tally, parse_tally_parts
from bot.text import fold

VillageNames = Callable[[], Sequence[str]]
_PREFIX_WORDS = ("bc", "baocao")
_TRIM = ":,;.-"

_PERIOD = re.compile(
    r"^\s*(?:(?:bc|b[aá]o\s*c[aá]o)[\s:,;.-]+)?(?:t|th[aá]ng)\s*(\d{1,2})"
    r"(?:\s*[/.-]\s*(\d{4}))?(?![\d/])[\s:,;.-]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ReportText:
    """A report message split into its parts; ``figures`` is what is left to parse."""

    period: dt.date | None  # the month written before the figures, if any
    villages: tuple[str, ...]  # villages named before the figures, as the commune spells them
    figures: str


@dataclass(frozen=True)
class ReadReport:
    """A report message read whole: its month and villages if written, and the figures.

    ``error`` says why the figures cannot be read (then ``values`` is empty); the month
    and the villages are read even then, so a reply can mention them first.
    """

    period: dt.date | None
    villages: tuple[str, ...]
    values: dict[str, int]
    error: TallyParseError | None = None
    percents: dict[str, float] = field(default_factory=dict)  # figures typed as "20%"


def _no_villages() -> Sequence[str]:
    return ()


def split_period(text: str, today: dt.date) -> tuple[dt.date | None, str]:
    """Read a leading "tháng 2" / "tháng 2/2026" / "T2" from a report and return the rest."""
    text = unicodedata.normalize("NFC", text)
    match = _PERIOD.match(text)
    if match is None:
        return None, text
    month = int(match.group(1))
    if not 1 <= month <= 12:
        return None, text
    year = int(match.group(2)) if match.group(2) else today.year
    if match.group(2) is None and dt.date(year, month, 1) > month_start(today):
        year -= 1  # "tháng 12" written in January means last December
    return dt.date(year, month, 1), text[match.end() :]


def split_report(
    text: str, today: dt.date, village_names: VillageNames = _no_villages
) -> ReportText:
    """Strip "bc", a month ("tháng 2") and a village name from the start of a report."""
    period: dt.date | None = None
    villages: list[str] = []
    names: list[str] | None = None
    for _ in range(3):
        words = text.split()
        if words and fold(words[0]).strip(_TRIM) in _PREFIX_WORDS:
            text = " ".join(words[1:])
            continue
        if len(words) > 1 and " ".join(fold(" ".join(words[:2])).split()) == "bao cao":
            text = " ".join(words[2:])
            continue
        found = None
        if words and resolve_label(words[0].strip(":,;=.-")) is None and not words[0][:1].isdigit():
            if names is None:  # only when the text does not start with a code
                names = sorted(village_names(), key=len, reverse=True)
            found, text = _strip_village(text, names)
        if found is not None:
            villages.append(found)
            continue
        month, rest = split_period(text, today)
        if month is not None:
            period, text = month, rest
            continue
        break
    return ReportText(period, tuple(villages), text)


def _strip_village(text: str, names: Sequence[str]) -> tuple[str | None, str]:
    words = text.split()
    for name in names:
        size = len(name.split())
        if len(words) < size:
            continue
        head = " ".join(words[:size])
        if " ".join(fold(head).strip(_TRIM).split()) == fold(name):
            return name, " ".join(words[size:]).lstrip(":,;.- ")
    return None, text


def looks_like_report(
    text: str, today: dt.date, village_names: VillageNames = _no_villages
) -> bool:
    """Whether free text is a report attempt (maybe after a month or village name)."""
    if looks_like_tally(text):
        return True
    return looks_like_tally(split_report(text, today, village_names).figures)


def read_report(
    text: str, today: dt.date, village_names: VillageNames = _no_villages
) -> ReadReport:
    """Read a whole report message, the one way the chat and the CLI read it."""
    parts = split_report(text, today, village_names)
    try:
        parsed = parse_tally_parts(parts.figures)
    except TallyParseError as error:
        return ReadReport(parts.period, parts.villages, {}, error)
    return ReadReport(parts.period, parts.villages, parsed.values, percents=parsed.percents)
