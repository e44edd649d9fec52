"""Submitting a village report: the month must be open, the figures possible, oddities confirmed.

``submit_report`` is the one way a report is recorded, whatever asked for it (a one-line
message, the guided /baocao flow): it returns what happened, and the caller only says it.
Runs in the caller's transaction (never commits).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.dates import month_start
from bot.errors import ReadableError
from bot.tallies.store import Recorded, grace_day, load_facts, record_report
from bot.tallies.validation import Issue, check_values, period_problem
from db.models import Person, Village

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Saved:
    """The figures are recorded (or were already, unchanged)."""

    recorded: Recorded

    @property
    def unchanged(self) -> bool:
        """Every figure was already recorded with the same value."""
        return not self.recorded.recorded


@dataclass(frozen=True)
class NeedsConfirmation:
    """A drop or an unusual jump: recorded only once the reporter confirms."""

    period: dt.date
    values: dict[str, int]
    warnings: tuple[Issue, ...]


@dataclass(frozen=True)
class Refused:
    """Nothing is recorded; each reason reads on its own (``reason.render(t)``).

    ``kept``: the report's other figures, which could still be recorded (the guided flow
    keeps them); empty when the whole report is refused (its month is closed).
    """

    reasons: tuple[Issue | ReadableError, ...]
    kept: dict[str, int] = field(default_factory=dict)
    period_closed: bool = False


SubmitOutcome = Saved | NeedsConfirmation | Refused


def check_report(
    session: Session, village: Village, period: dt.date, values: Mapping[str, int]
) -> list[Issue]:
    """Every issue with these figures for the village and month, in the order given."""
    assert village.id is not None
    facts, _current = load_facts(session, village.id, period)
    return check_values(values, facts, village=village.name)


def submit_report(
    session: Session,
    *,
    village: Village,
    period: dt.date,
    values: Mapping[str, int],
    actor: Person,
    now: dt.datetime,
    today: dt.date,
    is_admin: bool = False,
    confirmed: bool = False,
) -> SubmitOutcome:
    """Validate and record a village's figures for a month, or say why not.

    The current month is always open; an earlier one only in its grace days (or for an
    admin). A figure above its denominator is refused; a drop or a jump needs
    ``confirmed`` and is then recorded flagged, with an audit entry.
    """
    assert village.id is not None
    if period != month_start(today):
        problem = period_problem(
            period,
            today,
            grace_day=grace_day(session, village.commune_id),
            is_admin=is_admin,
        )
        if problem is not None:
            message_id, params = problem
            return Refused((ReadableError(message_id, **params),), period_closed=True)
    facts, _current = load_facts(session, village.id, period)
    issues = check_values(values, facts, village=village.name)
    blocking = tuple(issue for issue in issues if issue.blocking)
    if blocking:
        refused = {issue.code for issue in blocking}
        return Refused(blocking, {c: v for c, v in values.items() if c not in refused})
    warnings = tuple(issue for issue in issues if not issue.blocking)
    if warnings and not confirmed:
        return NeedsConfirmation(period, dict(values), warnings)
    flagged = {issue.code: f"{issue.kind} confirmed by the reporter" for issue in warnings}
    recorded = record_report(
        session,
        village=village,
        period=period,
        values=values,
        actor=actor,
        now=now,
        flagged=flagged,
        previous={code: facts[code].previous for code in values if code in facts},
    )
    log.info(
        "tally recorded village=%s period=%s person=%s codes=%s flagged=%s",
        village.id,
        period,
        actor.id,
        ",".join(recorded.recorded),
        ",".join(flagged),
    )
    return Saved(recorded)
