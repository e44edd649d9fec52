"""Task and indicator status: pure functions of plain data and today's date.

The monitoring rules come from the Đồng Phú plan (seed 003, section IV.2):

* a task is **red** when it is past its deadline and not done, when its progress is
  below half of where the elapsed time says it should be
  (``percent < 0.5 × elapsed share of start→deadline``), or when its evidence was
  rejected;
* a task is done only when the standing office approved its evidence; rejected
  evidence puts it back to "Chờ hoàn thiện" (needs work).

Recurring and ongoing tasks are judged one period at a time (month, quarter, half-year
or year; "Thường xuyên" is reported monthly). The headline of such a task is the
period that has just closed when it was not done (so a missed report stays visible
during the next period), otherwise the current period. Tasks "on event" have no
deadline until an officer sets one.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.dates import add_months
from bot.i18n import N_
from bot.plans.target import TargetSpec, is_vacuous, target_met
from db.enums import EvidenceStatus

MAX_PERIODS = 120  # ten years of months: a bound on the work, far beyond any plan


class Status(StrEnum):
    """Where a task (or one period of it) stands."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    AWAITING_REVIEW = "awaiting_review"
    DONE = "done"
    NEEDS_WORK = "needs_work"
    OVERDUE = "overdue"


class Reason(StrEnum):
    """Why a task is red."""

    OVERDUE = "overdue"
    BEHIND = "behind"
    REJECTED = "rejected"


class Verdict(StrEnum):
    """How an indicator stands against this year's target."""

    MET = "met"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"


STATUS_LABELS: dict[Status, str] = {
    Status.NOT_STARTED: N_("Not started"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.AWAITING_REVIEW: N_("Awaiting review"),
    Status.DONE: N_("Done"),
    Status.NEEDS_WORK: N_("Needs completing"),
    Status.OVERDUE: N_("Overdue"),
}
REASON_LABELS: dict[Reason, str] = {
    Reason.OVERDUE: N_("past the deadline and not done"),
    Reason.BEHIND: N_("progress is less than half of what the time elapsed calls for"),
    Reason.REJECTED: N_("evidence was rejected"),
}
VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.MET: N_("Met"),
    Verdict.ON_TRACK: N_("On track"),
    Verdict.AT_RISK: N_("At risk"),
    Verdict.NO_DATA: N_("No data yet"),
    Verdict.NO_TARGET: N_("No target"),
}
REPEAT_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


# ------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Schedule:
    """When a task is due: its kind, first due date, repetition and effective start."""

    kind: str  # once | recurring | ongoing | on_event
    due: dt.date | None
    repeat: str | None
    start: dt.date


@dataclass(frozen=True)
class ProgressEntry:
    """One progress report."""

    period: str
    percent: int
    at: dt.datetime


@dataclass(frozen=True)
class EvidenceEntry:
    """One piece of evidence and its review state."""

    period: str
    status: EvidenceStatus
    at: dt.datetime  # when it was uploaded


def effective_start(
    task_start: dt.date | None, plan_issued: dt.date | None, imported: dt.date
) -> dt.date:
    """The start of a task: its own start date, else the plan's issue date, else the import."""
    return task_start or plan_issued or imported


# ------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """One reporting period of a task ("" for a one-off task)."""

    key: str
    start: dt.date
    due: dt.date | None


def period_key(repeat: str, day: dt.date) -> str:
    """The key of the calendar period containing ``day`` ("2026-03", "2026-Q1", "2026-H1", "2026")."""
    if repeat == "monthly":
        return f"{day.year}-{day.month:02d}"
    if repeat == "quarterly":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if repeat == "half_yearly":
        return f"{day.year}-H{(day.month - 1) // 6 + 1}"
    return f"{day.year}"


def calendar_bounds(repeat: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the calendar period containing ``day``."""
    months = REPEAT_MONTHS.get(repeat, 12)
    first_month = (day.month - 1) // months * months + 1
    last_month = first_month + months - 1
    last = calendar.monthrange(day.year, last_month)[1]
    return dt.date(day.year, first_month, 1), dt.date(day.year, last_month, last)


def _repeat_of(schedule: Schedule) -> str | None:
    if schedule.kind == "recurring":
        return schedule.repeat or "yearly"
    if schedule.kind == "ongoing":
        return schedule.repeat or "monthly"
    return None


def periods(schedule: Schedule, today: dt.date) -> list[Period]:
    """Every period of a task from its start up to the one containing today."""
    repeat = _repeat_of(schedule)
    if repeat is None:
        return [Period("", schedule.start, schedule.due)]
    step = REPEAT_MONTHS[repeat]
    found: list[Period] = []
    if schedule.kind == "recurring" and schedule.due is not None:
        # "Tháng 7/2025, duy trì hàng năm": the first due date, then every step after it.
        due = schedule.due
        start = min(schedule.start, calendar_bounds(repeat, due)[0])
        while len(found) < MAX_PERIODS:
            found.append(Period(period_key(repeat, due), start, due))
            if due >= today:
                break
            start, due = due + dt.timedelta(days=1), add_months(due, step)
        return found[-MAX_PERIODS:]
    # Calendar periods; an ongoing task may end at its due date ("Thường xuyên đến 2030").
    first, last = calendar_bounds(repeat, schedule.start)
    start = schedule.start
    while len(found) < MAX_PERIODS:
        end = last if schedule.due is None else min(last, schedule.due)
        found.append(Period(period_key(repeat, first), start, end))
        if last >= today or (schedule.due is not None and last >= schedule.due):
            break
        first, last = calendar_bounds(repeat, last + dt.timedelta(days=1))
        start = first
    return found


def current_period(schedule: Schedule, today: dt.date) -> Period:
    """The period progress and evidence sent today belong to."""
    return periods(schedule, today)[-1]


# ------------------------------------------------------------------ task status


@dataclass(frozen=True)
class PeriodStatus:
    """The status of one period of a task."""

    period: Period
    status: Status
    percent: int
    red: bool
    reasons: tuple[Reason, ...]
    expected: float | None  # share of the time elapsed, 0..1 (None without a deadline)


@dataclass(frozen=True)
class TaskStatus:
    """A task's headline status plus one status per period."""

    status: Status
    percent: int
    red: bool
    reasons: tuple[Reason, ...]
    period: Period
    periods: tuple[PeriodStatus, ...]

    @property
    def due(self) -> dt.date | None:
        return self.period.due


def _elapsed_share(period: Period, today: dt.date) -> float | None:
    if period.due is None:
        return None
    if today >= period.due:
        return 1.0
    if today <= period.start:
        return 0.0
    total = (period.due - period.start).days
    return min(1.0, max(0.0, (today - period.start).days / total)) if total > 0 else 1.0


def task_period_status(
    period: Period,
    progress: Iterable[ProgressEntry],
    evidence: Iterable[EvidenceEntry],
    today: dt.date,
) -> PeriodStatus:
    """Apply the monitoring rules to one period (entries of other periods are ignored)."""
    reports = sorted((p for p in progress if p.period == period.key), key=lambda p: p.at)
    proofs = sorted((e for e in evidence if e.period == period.key), key=lambda e: e.at)
    percent = reports[-1].percent if reports else 0
    share = _elapsed_share(period, today)
    past_due = period.due is not None and today > period.due
    reasons: list[Reason] = []
    if any(e.status == EvidenceStatus.APPROVED for e in proofs):
        return PeriodStatus(period, Status.DONE, 100, False, (), share)
    pending = [e for e in proofs if e.status == EvidenceStatus.PENDING]
    if pending:
        # The unit did its part; it is late only if the evidence itself came late.
        sent_on = pending[0].at.date()
        late = period.due is not None and sent_on > period.due
        if late:
            reasons.append(Reason.OVERDUE)
        return PeriodStatus(period, Status.AWAITING_REVIEW, percent, late, tuple(reasons), share)
    if proofs and proofs[-1].status == EvidenceStatus.REJECTED:
        status = Status.NEEDS_WORK
        reasons.append(Reason.REJECTED)
    elif past_due:
        status = Status.OVERDUE
    elif percent > 0:
        status = Status.IN_PROGRESS
    else:
        status = Status.NOT_STARTED
    if past_due:
        reasons.insert(0, Reason.OVERDUE)
    if share is not None and share > 0 and percent / 100 < 0.5 * share:
        reasons.insert(1 if past_due else 0, Reason.BEHIND)
    return PeriodStatus(period, status, percent, bool(reasons), tuple(reasons), share)


def task_status(
    schedule: Schedule,
    progress: Sequence[ProgressEntry],
    evidence: Sequence[EvidenceEntry],
    today: dt.date,
) -> TaskStatus:
    """A task's status and red flag from its schedule, progress history and evidence."""
    statuses = tuple(
        task_period_status(p, progress, evidence, today) for p in periods(schedule, today)
    )
    headline = statuses[-1]
    if len(statuses) > 1 and statuses[-2].status not in (Status.DONE, Status.AWAITING_REVIEW):
        previous = statuses[-2]
        if previous.period.due is not None and today > previous.period.due:
            headline = previous
    return TaskStatus(
        status=headline.status,
        percent=headline.percent,
        red=headline.red,
        reasons=headline.reasons,
        period=headline.period,
        periods=statuses,
    )


def urgency(status: TaskStatus, number: str = "") -> tuple[int, int, dt.date, str]:
    """A sort key: red first, then the nearest deadline; done and undated tasks last."""
    done = status.status == Status.DONE
    due = status.due or dt.date.max
    return (1 if done else 0, 0 if status.red else 1, due, number)


# ------------------------------------------------------------------ indicators


@dataclass(frozen=True)
class IndicatorStatus:
    """An indicator's actual value against the target that applies this year."""

    actual: float | None
    year: int | None
    raw: str | None
    target: TargetSpec | None
    verdict: Verdict


def pick_target(
    targets: Mapping[int, tuple[str, TargetSpec]], today: dt.date
) -> tuple[int, str, TargetSpec] | None:
    """This year's target, else the next future one, else the last past one.

    A year whose target any value meets ("0": nothing asked yet) is skipped, so the
    indicator is judged by the next real target, or has none.
    """
    years = sorted(y for y, (_raw, target) in targets.items() if not is_vacuous(target))
    if not years:
        return None
    future = [y for y in years if y >= today.year]
    year = future[0] if future else years[-1]
    raw, target = targets[year]
    return year, raw, target


def indicator_status(
    targets: Mapping[int, tuple[str, TargetSpec]],
    actual: float | None,
    today: dt.date,
    start: dt.date | None = None,
) -> IndicatorStatus:
    """Met / on track / at risk for an indicator.

    Not yet met: a past target year is at risk; an "at least" target is on track when
    the actual value is at or above the straight line from zero at ``start`` (default:
    1 January of this year) to the target at the end of its year; other targets are at
    risk once more than half of their final year has passed.
    """
    chosen = pick_target(targets, today)
    if chosen is None:
        return IndicatorStatus(actual, None, None, None, Verdict.NO_TARGET)
    year, raw, target = chosen
    if actual is None:
        return IndicatorStatus(None, year, raw, target, Verdict.NO_DATA)
    if target_met(target, actual):
        return IndicatorStatus(actual, year, raw, target, Verdict.MET)
    end = dt.date(year, 12, 31)
    if today > end:
        return IndicatorStatus(actual, year, raw, target, Verdict.AT_RISK)
    goal = target.low if target.op == "between" else target.value
    if target.op in (">=", ">", "between") and goal is not None:
        begin = start if start is not None and start < end else dt.date(today.year, 1, 1)
        span = max(1, (end - begin).days)
        share = min(1.0, max(0.0, (today - begin).days / span))
        verdict = Verdict.ON_TRACK if actual >= float(goal) * share else Verdict.AT_RISK
        return IndicatorStatus(actual, year, raw, target, verdict)
    late_in_year = year == today.year and today > dt.date(year, 6, 30)
    verdict = Verdict.AT_RISK if late_in_year else Verdict.ON_TRACK
    return IndicatorStatus(actual, year, raw, target, verdict)


DUE_SOON_DAYS = 14  # "due soon" on the dashboard and in the office's Monday digest
OPEN_STATUSES = frozenset(
    {Status.NOT_STARTED, Status.IN_PROGRESS, Status.NEEDS_WORK, Status.OVERDUE}
)


def is_open(status: TaskStatus) -> bool:
    """A task (period) still waiting for the unit: not done and not sent for review."""
    return status.status in OPEN_STATUSES


def due_within(status: TaskStatus, today: dt.date, days: int = DUE_SOON_DAYS) -> bool:
    """Open and due between today and ``days`` days from now."""
    due = status.due
    return due is not None and is_open(status) and today <= due <= today + dt.timedelta(days=days)
