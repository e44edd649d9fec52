"""Calendar arithmetic shared by tallies, plans and reminders (pure, no framework)."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from typing import Any


@functools.cache
def days_in_month(year: int, month: int) -> int:
    """How many days the month has (remembered: roll-ups ask it tens of thousands of times)."""
    return calendar.monthrange(year, month)[1]


def month_start(day: dt.date) -> dt.date:
    """The first day of the month containing ``day``."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of the month containing ``day``."""
    return day.replace(day=days_in_month(day.year, day.month))


def is_month_end(day: dt.date) -> bool:
    """Whether ``day`` is the last day of its month."""
    return day.day == days_in_month(day.year, day.month)


def add_months(day: dt.date, months: int, *, keep_month_end: bool | None = None) -> dt.date:
    """``day`` moved by whole months (negative goes back), the day clamped to the month.

    ``keep_month_end``: a month end stays a month end (31/3 + 1 → 30/4, 30/4 + 1 → 31/5).
    ``None`` (the default) keeps it when ``day`` is a month end; ``True`` always gives the
    month's last day; ``False`` only clamps (30/4 + 1 → 30/5).
    """
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    last = days_in_month(year, month0 + 1)
    to_end = is_month_end(day) if keep_month_end is None else keep_month_end
    return dt.date(year, month0 + 1, last if to_end else min(day.day, last))


def parse_date(value: Any) -> dt.date | None:
    """A date from a cell: a date, 2026-03-15, 15/03/2026 or 15-3-2026; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = " ".join(str(value).split())
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})", text)
    if match:
        return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    raise ValueError(text)
