"""The pure status and red-alert rules (Đồng Phú plan, section IV.2)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bot.plans.status import (
    EvidenceEntry,
    ProgressEntry,
    Reason,
    Schedule,
    Status,
    Verdict,
    current_period,
    effective_start,
    indicator_status,
    periods,
    task_status,
    urgency,
)
from bot.plans.target import parse_target
from db.models import EvidenceStatus

START = dt.date(2026, 1, 1)
DUE = dt.date(2026, 12, 31)  # 364 days after START


def at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 3, 0, tzinfo=dt.UTC)


def once(due: dt.date | None = DUE, start: dt.date = START) -> Schedule:
    return Schedule(kind="once", due=due, repeat=None, start=start)


def progress(percent: int, day: dt.date, period: str = "") -> ProgressEntry:
    return ProgressEntry(period, percent, at(day))


def evidence(status: str, day: dt.date, period: str = "") -> EvidenceEntry:
    return EvidenceEntry(period, EvidenceStatus(status), at(day))


def test_not_started_before_start() -> None:
    status = task_status(once(), [], [], START)
    assert (status.status, status.red, status.percent) == (Status.NOT_STARTED, False, 0)


def test_in_progress_on_track() -> None:
    today = dt.date(2026, 7, 2)  # half the time elapsed: needs at least 25%
    status = task_status(once(), [progress(30, today)], [], today)
    assert (status.status, status.red, status.reasons) == (Status.IN_PROGRESS, False, ())


def test_behind_is_red() -> None:
    today = dt.date(2026, 7, 2)
    status = task_status(once(), [progress(20, today)], [], today)
    assert status.status == Status.IN_PROGRESS
    assert status.red and status.reasons == (Reason.BEHIND,)


def test_latest_progress_counts() -> None:
    today = dt.date(2026, 7, 2)
    reports = [progress(10, dt.date(2026, 2, 1)), progress(40, dt.date(2026, 6, 1))]
    assert task_status(once(), reports, [], today).percent == 40


def test_overdue_not_done_is_red() -> None:
    today = dt.date(2027, 1, 5)
    status = task_status(once(), [progress(90, dt.date(2026, 12, 1))], [], today)
    assert status.status == Status.OVERDUE
    assert status.red and status.reasons == (Reason.OVERDUE,)


def test_overdue_and_behind() -> None:
    status = task_status(once(), [progress(10, dt.date(2026, 12, 1))], [], dt.date(2027, 1, 5))
    assert status.reasons == (Reason.OVERDUE, Reason.BEHIND)


def test_pending_evidence_awaits_review_and_is_not_red() -> None:
    today = dt.date(2026, 12, 20)
    status = task_status(
        once(), [progress(100, today)], [evidence("pending", today)], dt.date(2027, 1, 3)
    )
    assert (status.status, status.red) == (Status.AWAITING_REVIEW, False)


def test_late_evidence_is_red() -> None:
    sent = dt.date(2027, 1, 2)
    status = task_status(once(), [progress(100, sent)], [evidence("pending", sent)], sent)
    assert status.status == Status.AWAITING_REVIEW
    assert status.reasons == (Reason.OVERDUE,)


def test_approved_is_done_even_after_due() -> None:
    day = dt.date(2026, 6, 1)
    status = task_status(
        once(), [progress(100, day)], [evidence("approved", day)], dt.date(2027, 6, 1)
    )
    assert (status.status, status.red, status.percent) == (Status.DONE, False, 100)


def test_rejected_needs_work_and_is_red() -> None:
    day = dt.date(2026, 3, 1)
    status = task_status(
        once(), [progress(100, day)], [evidence("rejected", day)], dt.date(2026, 3, 2)
    )
    assert status.status == Status.NEEDS_WORK
    assert status.red and Reason.REJECTED in status.reasons


def test_new_evidence_after_rejection_awaits_review() -> None:
    proofs = [evidence("rejected", dt.date(2026, 3, 1)), evidence("pending", dt.date(2026, 3, 5))]
    status = task_status(once(), [progress(100, dt.date(2026, 3, 5))], proofs, dt.date(2026, 3, 6))
    assert (status.status, status.red) == (Status.AWAITING_REVIEW, False)


def test_no_deadline_never_red_unless_rejected() -> None:
    event = Schedule(kind="on_event", due=None, repeat=None, start=START)
    assert task_status(event, [], [], dt.date(2030, 1, 1)).red is False
    assert task_status(once(None), [], [], dt.date(2030, 1, 1)).status == Status.NOT_STARTED
    rejected = task_status(event, [], [evidence("rejected", START)], dt.date(2026, 2, 1))
    assert rejected.reasons == (Reason.REJECTED,)


def test_on_event_with_a_date_set_by_an_officer() -> None:
    event = Schedule(kind="on_event", due=dt.date(2026, 2, 1), repeat=None, start=START)
    assert task_status(event, [], [], dt.date(2026, 2, 2)).status == Status.OVERDUE


def test_effective_start() -> None:
    imported = dt.date(2026, 3, 10)
    assert effective_start(dt.date(2026, 1, 5), dt.date(2025, 7, 7), imported) == dt.date(
        2026, 1, 5
    )
    assert effective_start(None, dt.date(2025, 7, 7), imported) == dt.date(2025, 7, 7)
    assert effective_start(None, None, imported) == imported


# ------------------------------------------------------------------ recurring periods


def test_ongoing_is_monthly() -> None:
    ongoing = Schedule(kind="ongoing", due=None, repeat=None, start=dt.date(2026, 1, 15))
    found = periods(ongoing, dt.date(2026, 3, 10))
    assert [p.key for p in found] == ["2026-01", "2026-02", "2026-03"]
    assert found[0].start == dt.date(2026, 1, 15)
    assert found[1].due == dt.date(2026, 2, 28)


def test_quarterly_and_half_yearly_and_yearly_keys() -> None:
    today = dt.date(2026, 8, 1)
    quarterly = Schedule(kind="recurring", due=None, repeat="quarterly", start=START)
    assert [p.key for p in periods(quarterly, today)] == ["2026-Q1", "2026-Q2", "2026-Q3"]
    half = Schedule(kind="recurring", due=None, repeat="half_yearly", start=START)
    assert [p.key for p in periods(half, today)] == ["2026-H1", "2026-H2"]
    yearly = Schedule(kind="recurring", due=None, repeat="yearly", start=dt.date(2025, 7, 7))
    assert [(p.key, p.due) for p in periods(yearly, today)] == [
        ("2025", dt.date(2025, 12, 31)),
        ("2026", dt.date(2026, 12, 31)),
    ]


def test_first_date_then_yearly() -> None:
    # "Tháng 7/2025, duy trì hàng năm"
    schedule = Schedule(
        kind="recurring", due=dt.date(2025, 7, 31), repeat="yearly", start=dt.date(2025, 7, 7)
    )
    found = periods(schedule, dt.date(2026, 9, 1))
    assert [(p.key, p.due) for p in found] == [
        ("2025", dt.date(2025, 7, 31)),
        ("2026", dt.date(2026, 7, 31)),
        ("2027", dt.date(2027, 7, 31)),
    ]


def test_each_period_has_its_own_status() -> None:
    monthly = Schedule(kind="ongoing", due=None, repeat=None, start=dt.date(2026, 1, 1))
    today = dt.date(2026, 3, 10)
    reports = [progress(100, dt.date(2026, 1, 30), "2026-01")]
    proofs = [evidence("approved", dt.date(2026, 1, 30), "2026-01")]
    status = task_status(monthly, reports, proofs, today)
    by_key = {p.period.key: p.status for p in status.periods}
    assert by_key == {
        "2026-01": Status.DONE,
        "2026-02": Status.OVERDUE,
        "2026-03": Status.NOT_STARTED,
    }
    # The month that just closed without a report is the headline, and it is red.
    assert status.period.key == "2026-02"
    assert status.status == Status.OVERDUE and status.red


def test_current_period_after_a_done_previous_period() -> None:
    monthly = Schedule(kind="ongoing", due=None, repeat=None, start=dt.date(2026, 2, 1))
    today = dt.date(2026, 3, 2)
    proofs = [evidence("approved", dt.date(2026, 2, 27), "2026-02")]
    status = task_status(monthly, [progress(100, dt.date(2026, 2, 27), "2026-02")], proofs, today)
    assert status.period.key == "2026-03"
    assert current_period(monthly, today).key == "2026-03"
    assert status.status == Status.NOT_STARTED


def test_progress_of_another_period_does_not_count() -> None:
    quarterly = Schedule(kind="recurring", due=None, repeat="quarterly", start=START)
    status = task_status(
        quarterly, [progress(80, dt.date(2026, 3, 20), "2026-Q1")], [], dt.date(2026, 4, 2)
    )
    assert status.periods[-1].percent == 0


def test_urgency_orders_red_then_nearest_due() -> None:
    today = dt.date(2026, 7, 2)
    red = task_status(once(dt.date(2026, 12, 31)), [], [], today)
    fine_soon = task_status(once(dt.date(2026, 7, 10), start=today), [], [], today)
    done = task_status(once(), [], [evidence("approved", today)], today)
    undated = task_status(once(None), [], [], today)
    ordered = sorted([done, undated, fine_soon, red], key=urgency)
    assert ordered == [red, fine_soon, undated, done]


@given(
    kind=st.sampled_from(["once", "recurring", "ongoing", "on_event"]),
    repeat=st.sampled_from([None, "monthly", "quarterly", "half_yearly", "yearly"]),
    due=st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31))),
    start=st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)),
    today=st.dates(dt.date(2020, 1, 1), dt.date(2040, 12, 31)),
    percent=st.integers(0, 100),
)
def test_status_never_crashes(
    kind: str, repeat: str | None, due: dt.date | None, start: dt.date, today: dt.date, percent: int
) -> None:
    schedule = Schedule(kind=kind, due=due, repeat=repeat, start=start)
    key = current_period(schedule, today).key
    status = task_status(schedule, [progress(percent, today, key)], [], today)
    assert status.status in set(Status)
    assert status.red == bool(status.reasons)
    assert 1 <= len(status.periods) <= 120


# ------------------------------------------------------------------ indicators


def targets(**by_year: str) -> dict[int, tuple[str, object]]:
    return {int(year[1:]): (raw, parse_target(raw)) for year, raw in by_year.items()}


def test_indicator_met() -> None:
    status = indicator_status(targets(y2026="≥ 70%"), 72.5, dt.date(2026, 5, 1))
    assert (status.verdict, status.year, status.raw) == (Verdict.MET, 2026, "≥ 70%")


def test_indicator_this_year_target_is_chosen() -> None:
    status = indicator_status(targets(y2026="≥ 70", y2030="≥ 90"), 50, dt.date(2026, 3, 1))
    assert status.year == 2026
    later = indicator_status(targets(y2026="≥ 70", y2030="≥ 90"), 50, dt.date(2027, 3, 1))
    assert later.year == 2030


def test_indicator_on_track_and_at_risk() -> None:
    middle = dt.date(2026, 7, 2)
    assert indicator_status(targets(y2026="≥ 80"), 45, middle).verdict == Verdict.ON_TRACK
    assert indicator_status(targets(y2026="≥ 80"), 30, middle).verdict == Verdict.AT_RISK


def test_indicator_past_year_not_met_is_at_risk() -> None:
    assert (
        indicator_status(targets(y2025="≥ 80"), 79, dt.date(2026, 2, 1)).verdict == Verdict.AT_RISK
    )


def test_indicator_without_data_or_target() -> None:
    assert (
        indicator_status(targets(y2026="Đạt"), None, dt.date(2026, 2, 1)).verdict == Verdict.NO_DATA
    )
    assert indicator_status({}, 10, dt.date(2026, 2, 1)).verdict == Verdict.NO_TARGET


def test_qualitative_indicator() -> None:
    assert indicator_status(targets(y2026="Đạt"), 1, dt.date(2026, 2, 1)).verdict == Verdict.MET
    assert (
        indicator_status(targets(y2026="Đạt"), 0, dt.date(2026, 2, 1)).verdict == Verdict.ON_TRACK
    )
    assert (
        indicator_status(targets(y2026="Đạt"), 0, dt.date(2026, 10, 1)).verdict == Verdict.AT_RISK
    )
