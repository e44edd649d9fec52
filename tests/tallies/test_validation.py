"""Tally validation rules (pure)."""

from __future__ import annotations

import datetime as dt

from bot.dates import add_months
from bot.tallies.validation import (
    MSG_PERIOD_FUTURE,
    MSG_PERIOD_LOCKED,
    NO_HISTORY_CAP,
    CodeFacts,
    check_values,
    period_problem,
    plausible_rise,
    reporting_window,
    rises_of,
)

NAMES = {"vneid": "VNeID", "cks": "CKS"}
DENOMS = {"vneid": "population", "cks": "adults"}


def check(values: dict[str, int], facts: dict[str, CodeFacts]) -> list[tuple[str, str]]:
    issues = check_values(values, facts, names=NAMES, denominator_of=DENOMS, village="Xóm 3")
    return [(i.code, i.kind) for i in issues]


def test_add_months_crosses_years() -> None:
    assert add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert add_months(dt.date(2025, 11, 1), 3) == dt.date(2026, 2, 1)


def test_count_above_denominator_is_blocking() -> None:
    issues = check_values(
        {"cks": 406},
        {"cks": CodeFacts(denominator=405)},
        names=NAMES,
        denominator_of=DENOMS,
        village="Xóm 3",
    )
    assert [(i.kind, i.blocking) for i in issues] == [("over_denominator", True)]
    assert issues[0].params["denominator"] == 405
    assert check({"cks": 405}, {"cks": CodeFacts(denominator=405)}) == []


def test_drop_from_last_month_needs_confirmation() -> None:
    issues = check_values(
        {"vneid": 40},
        {"vneid": CodeFacts(previous=45)},
        names=NAMES,
        denominator_of=DENOMS,
        village="X",
    )
    assert [(i.kind, i.blocking) for i in issues] == [("drop", False)]


def test_first_report_has_no_drop_or_jump() -> None:
    assert check({"vneid": 5000}, {"vneid": CodeFacts(denominator=6000)}) == []


def test_jump_without_history_uses_the_fixed_cap() -> None:
    facts = {"vneid": CodeFacts(previous=100)}
    assert check({"vneid": 100 + NO_HISTORY_CAP}, facts) == []
    assert check({"vneid": 101 + NO_HISTORY_CAP}, facts) == [("vneid", "jump")]


def test_band_is_learned_from_the_village_history() -> None:
    steady = (10, 12, 9, 11, 10)
    limit = plausible_rise(steady)
    assert 20 <= limit < NO_HISTORY_CAP
    facts = {"vneid": CodeFacts(previous=300, rises=steady)}
    assert check({"vneid": 300 + limit}, facts) == []
    assert check({"vneid": 301 + limit}, facts) == [("vneid", "jump")]
    fast = (150, 180, 160)
    assert plausible_rise(fast) >= 360  # a busy village may rise a lot


def test_rises_of_series() -> None:
    assert rises_of([10, 15, 15, 30]) == (5, 0, 15)
    assert rises_of([]) == ()


def test_period_rules() -> None:
    march = dt.date(2026, 3, 1)
    feb = dt.date(2026, 2, 1)
    jan = dt.date(2026, 1, 1)
    assert reporting_window(march, dt.date(2026, 3, 4)) == "open"
    assert reporting_window(feb, dt.date(2026, 3, 5)) == "grace"
    assert reporting_window(feb, dt.date(2026, 3, 6)) == "locked"
    assert reporting_window(feb, dt.date(2026, 3, 6), grace_day=10) == "grace"
    assert reporting_window(jan, dt.date(2026, 3, 1)) == "locked"
    assert reporting_window(dt.date(2026, 4, 1), dt.date(2026, 3, 31)) == "future"
    assert period_problem(feb, dt.date(2026, 3, 10)) == (MSG_PERIOD_LOCKED, {"month": "2/2026"})
    assert period_problem(feb, dt.date(2026, 3, 10), is_admin=True) is None
    assert period_problem(dt.date(2026, 4, 1), dt.date(2026, 3, 10), is_admin=True) == (
        MSG_PERIOD_FUTURE,
        {"month": "4/2026"},
    )
