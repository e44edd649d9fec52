"""Counting working days: "within N working days" skips a commune's days off.

Which days are off is the reminder policy's business (``ReminderPolicy.is_day_off``:
Sundays and the commune's holidays); this module only counts, given that predicate, so
every deadline written in working days is counted the same way. Pure: no database, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

DayOff = Callable[[dt.date], bool]
SEARCH_LIMIT = 400  # days; a calendar with no working day this long is a configuration error


def next_working_day(day: dt.date, is_day_off: DayOff) -> dt.date:
    """``day`` itself if it is a working day, else the first working day after it."""
    current = day
    for _ in range(SEARCH_LIMIT):
        if not is_day_off(current):
            return current
        current += dt.timedelta(days=1)
    raise ValueError("no working day within 400 days: check days off and holidays")


def add_working_days(day: dt.date, days: int, is_day_off: DayOff) -> dt.date:
    """The working day ``days`` working days after ``day`` (0: the first working day from ``day``)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = next_working_day(day, is_day_off)
    for _ in range(days):
        current = next_working_day(current + dt.timedelta(days=1), is_day_off)
    return current


def working_days_between(start: dt.date, end: dt.date, is_day_off: DayOff) -> int:
    """How many working days fall after ``start`` up to and including ``end`` (0 if end <= start)."""
    count = 0
    current = start + dt.timedelta(days=1)
    while current <= end:
        count += not is_day_off(current)
        current += dt.timedelta(days=1)
    return count
