"""Month arithmetic: one helper for tallies, plans and reminders."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bot.dates import add_months, is_month_end, month_end, month_start


def test_add_months_moves_first_of_month() -> None:
    assert add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert add_months(dt.date(2026, 11, 1), 3) == dt.date(2027, 2, 1)


def test_add_months_clamps_and_keeps_month_ends() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 4, 30), 1) == dt.date(2026, 5, 31)
    assert add_months(dt.date(2026, 4, 30), 1, keep_month_end=False) == dt.date(2026, 5, 30)
    assert add_months(dt.date(2026, 4, 10), 0, keep_month_end=True) == dt.date(2026, 4, 30)
    assert add_months(dt.date(2024, 1, 30), 1) == dt.date(2024, 2, 29)


def test_month_helpers() -> None:
    assert month_start(dt.date(2026, 7, 19)) == dt.date(2026, 7, 1)
    assert month_end(dt.date(2026, 2, 3)) == dt.date(2026, 2, 28)
    assert is_month_end(dt.date(2026, 12, 31))
    assert not is_month_end(dt.date(2026, 12, 30))


@given(
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)), st.integers(-240, 240)
)
def test_add_months_round_trip_on_first_days(day: dt.date, months: int) -> None:
    first = month_start(day)
    assert add_months(add_months(first, months), -months) == first
