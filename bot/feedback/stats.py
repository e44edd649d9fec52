"""Monthly statistics of reports, per unit and per category, recounted from the raw rows.

For the reports received in a local month (the month of ``created_at`` in the commune's
time zone):

* **received** — how many;
* **answered** — how many have a first answer, and **on time** — answered no later than
  their first-answer deadline (``answered_at <= answer_due_at``);
* **average time to answer** — the mean, over the answered ones, of the working days from
  receipt to the first answer, counted as the deadlines count them (Sundays and the
  commune's holidays skipped; ``bot.feedback.policy.working_days_taken``);
* **closed** and **late** (still open past the deadline that matters now);
* **satisfaction** — of the reports the resident rated, the share whose last rating was
  "hài lòng".

A report counts for the unit holding it now (none: "no unit yet"). ``count`` is pure; the
loader reads the rows the viewer may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot.dates import add_months
from bot.feedback.policy import load_feedback_policy, working_days_taken
from bot.feedback.queues import is_overdue
from bot.feedback.status import Status
from bot.feedback.store import ensure_categories
from bot.reminders.policy import load_policy
from db.models import Commune, FeedbackRating, FeedbackReport, Unit

Taken = Callable[[FeedbackReport], int]
"""The working days a report's first answer took (called only for answered reports)."""


@dataclass
class Tally:
    """The counts of one group of reports (a unit, a category, or the whole commune)."""

    received: int = 0
    answered: int = 0
    on_time: int = 0
    answer_working_days: int = 0
    closed: int = 0
    late: int = 0
    rated: int = 0
    satisfied: int = 0

    def add(
        self, report: FeedbackReport, verdict: bool | None, now: dt.datetime, taken: Taken
    ) -> None:
        self.received += 1
        if report.answered_at is not None:
            self.answered += 1
            self.on_time += report.answered_at <= report.answer_due_at
            self.answer_working_days += taken(report)
        self.closed += report.status == Status.CLOSED
        self.late += is_overdue(report, now)
        if verdict is not None:
            self.rated += 1
            self.satisfied += verdict

    @property
    def average_days(self) -> float | None:
        """The mean time to the first answer, in working days (None: nothing answered)."""
        return self.answer_working_days / self.answered if self.answered else None

    @property
    def on_time_rate(self) -> float | None:
        """On-time answers as a share of the reports received (None: none received)."""
        return self.on_time / self.received if self.received else None

    @property
    def satisfaction(self) -> float | None:
        """Satisfied residents as a share of those who rated (None: nobody rated)."""
        return self.satisfied / self.rated if self.rated else None


@dataclass
class MonthStats:
    """One month's figures: the commune (or unit) total, by unit and by category."""

    month: dt.date
    total: Tally = field(default_factory=Tally)
    by_unit: list[tuple[str, Tally]] = field(default_factory=list)
    by_category: list[tuple[str, Tally]] = field(default_factory=list)


def count(
    reports: Iterable[FeedbackReport],
    verdicts: Mapping[int, bool],
    units: Mapping[int, str],
    categories: Mapping[int, str],
    *,
    month: dt.date,
    now: dt.datetime,
    no_unit: str,
    taken: Taken,
) -> MonthStats:
    """Count the reports (already narrowed to the month) by unit and by category."""
    stats = MonthStats(month=month)
    unit_tallies: dict[str, Tally] = {}
    category_tallies: dict[str, Tally] = {name: Tally() for name in categories.values()}
    for report in reports:
        verdict = verdicts.get(report.id or 0)
        stats.total.add(report, verdict, now, taken)
        unit = units.get(report.unit_id or -1, no_unit) if report.unit_id else no_unit
        unit_tallies.setdefault(unit, Tally()).add(report, verdict, now, taken)
        name = categories.get(report.category_id, "")
        category_tallies.setdefault(name, Tally()).add(report, verdict, now, taken)
    stats.by_unit = sorted(unit_tallies.items(), key=lambda kv: (kv[0] == no_unit, kv[0]))
    stats.by_category = [(n, t) for n, t in category_tallies.items() if t.received]
    return stats


def month_bounds(month: dt.date, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of a local month and of the next one, in UTC."""
    start = dt.datetime.combine(month.replace(day=1), dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(add_months(month.replace(day=1), 1), dt.time(0), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def month_stats(
    session: Session,
    commune_id: int,
    month: dt.date,
    *,
    tz: dt.tzinfo,
    now: dt.datetime,
    only_unit: int | None,
    no_unit: str,
) -> MonthStats:
    """The statistics of the reports a viewer may see, received in ``month``."""
    start, end = month_bounds(month, tz)
    query = select(FeedbackReport).where(
        FeedbackReport.commune_id == commune_id,
        col(FeedbackReport.created_at) >= start,
        col(FeedbackReport.created_at) < end,
    )
    if only_unit is not None:
        query = query.where(FeedbackReport.unit_id == only_unit)
    reports = list(session.exec(query.order_by(col(FeedbackReport.id))).all())
    ids = [r.id for r in reports if r.id is not None]
    verdicts: dict[int, bool] = {}
    if ids:
        ratings = session.exec(
            select(FeedbackRating)
            .where(col(FeedbackRating.report_id).in_(ids))
            .order_by(col(FeedbackRating.round), col(FeedbackRating.id))
        ).all()
        for rating in ratings:  # the last round's verdict wins
            verdicts[rating.report_id] = rating.satisfied
    units = {
        u.id: u.name
        for u in session.exec(select(Unit).where(Unit.commune_id == commune_id)).all()
        if u.id is not None
    }
    categories = {c.id: c.name for c in ensure_categories(session, commune_id) if c.id is not None}
    commune = session.get(Commune, commune_id)
    settings = commune.settings if commune is not None else None
    calendar, day_ends = load_policy(settings), load_feedback_policy(settings).day_ends

    def taken(report: FeedbackReport) -> int:
        assert report.answered_at is not None
        return working_days_taken(report.created_at, report.answered_at, calendar, tz, day_ends)

    return count(
        reports, verdicts, units, categories, month=month, now=now, no_unit=no_unit, taken=taken
    )
