"""The standing office's queue of flagged figures: accept them, or ask the village to correct.

A figure is flagged when a team member confirmed a value that dropped or jumped from
the month before (``bot.tallies.submission``). It leaves the queue in one of two ways:

* the office **accepts** it (``accept_flag``): the flag is cleared and audited;
* the village **replaces** it with a new value that needs no confirmation
  (``bot.tallies.store.record_report``): a new value carries only its own flag.

Asking the village to correct (``ask_correction``) keeps the figure in the queue until
one of those happens; it queues a chat message to the village's team members.
Functions work in the caller's transaction and never commit, so the chat can use them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot import audit
from bot.core.errors import UserError
from bot.core.messages import Reply
from bot.dates import month_start
from bot.i18n import N_, translator
from bot.reminders.outbox import enqueue
from bot.tallies.codes import CODE_LABELS
from bot.tallies.store import grace_day
from bot.tallies.validation import month_label, period_problem
from db.enums import Role
from db.models import AuditEntry, Person, PersonRole, Tally, Village

MSG_NOT_FLAGGED = N_("This figure is no longer waiting for a check. Reload the page.")
MSG_ASK_FIX = N_(
    "⚠️ The commune office asks {village} to check the figure “{label}” for {month}: "
    "you sent {value}, the month before was {previous}. "
    "If it is wrong, please send it again, for example: {code} {value}"
)
MSG_ASK_FIX_NO_PREVIOUS = N_(
    "⚠️ The commune office asks {village} to check the figure “{label}” for {month}: "
    "you sent {value}. If it is wrong, please send it again, for example: {code} {value}"
)
MSG_ASK_FIX_LAST_MONTH = N_(
    "⚠️ The commune office asks {village} to check the figure “{label}” for {month}: "
    "you sent {value}. If it is wrong, please send /baocao, choose month {month} "
    "and send it again."
)
MSG_MONTH_CLOSED = N_(
    "Month {month} is closed: the village can no longer send it again. "
    "Accept the figure, or ask an admin to correct it."
)
ASK_KIND = "tally_fix"  # the outbox kind of the request to correct


@dataclass(frozen=True)
class FlaggedFigure:
    """One flagged value of the queue, with what the office needs to decide."""

    tally_id: int
    village_id: int
    village: str
    code: str
    period: dt.date
    previous: int | None  # the village's last value before this month
    value: int
    reporter: str
    updated_at: dt.datetime
    asked_at: dt.datetime | None  # when the office last asked for a correction

    @property
    def dropped(self) -> bool:
        return self.previous is not None and self.value < self.previous


def entity_id(village_id: int, period: dt.date, code: str) -> str:
    """The audit entity id of one figure (the one ``record_report`` writes)."""
    return f"{village_id}:{period.isoformat()}:{code}"


def _previous(session: Session, row: Tally) -> int | None:
    return session.exec(
        select(Tally.value)
        .where(
            Tally.village_id == row.village_id,
            Tally.code == row.code,
            col(Tally.period) < row.period,
        )
        .order_by(col(Tally.period).desc())
        .limit(1)
    ).first()


def _utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as aware UTC (SQLite gives back naive UTC times)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _asked_at(
    session: Session, commune_id: int, key: str, since: dt.datetime
) -> dt.datetime | None:
    at = session.exec(
        select(AuditEntry.at)
        .where(
            AuditEntry.commune_id == commune_id,
            AuditEntry.action == "tally.ask_fix",
            AuditEntry.entity_id == key,
        )
        .order_by(col(AuditEntry.at).desc())
        .limit(1)
    ).first()
    # Only a request about this value counts, not one about a value it replaced.
    return _utc(at) if at is not None and _utc(at) >= _utc(since) else None


def flagged_queue(session: Session, commune_id: int) -> list[FlaggedFigure]:
    """The commune's flagged values, oldest first."""
    rows = session.exec(
        select(Tally, Village.name, Person.display_name)
        .join(Village, col(Village.id) == col(Tally.village_id))
        .join(Person, col(Person.id) == col(Tally.reported_by), isouter=True)
        .where(Village.commune_id == commune_id, col(Tally.flagged).is_(True))
        .order_by(col(Tally.updated_at), col(Tally.id))
    ).all()
    queue: list[FlaggedFigure] = []
    for row, village, reporter in rows:
        assert row.id is not None
        key = entity_id(row.village_id, row.period, row.code)
        queue.append(
            FlaggedFigure(
                tally_id=row.id,
                village_id=row.village_id,
                village=village,
                code=row.code,
                period=row.period,
                previous=_previous(session, row),
                value=row.value,
                reporter=reporter or "",
                updated_at=row.updated_at,
                asked_at=_asked_at(session, commune_id, key, row.updated_at),
            )
        )
    return queue


def _flagged(session: Session, tally_id: int, commune_id: int | None) -> tuple[Tally, Village]:
    """A flagged value of this commune; UserError otherwise (already cleared, other commune)."""
    row = session.get(Tally, tally_id)
    village = session.get(Village, row.village_id) if row else None
    if row is None or village is None or not row.flagged or village.commune_id != commune_id:
        raise UserError(MSG_NOT_FLAGGED)
    return row, village


def _audit_new(row: Tally, village: Village, **extra: object) -> dict[str, object]:
    return {
        "value": row.value,
        "period": row.period.isoformat(),
        "code": row.code,
        "village": village.name,
        **extra,
    }


def accept_flag(session: Session, tally_id: int, *, actor: Person, now: dt.datetime) -> Tally:
    """Accept a flagged value as it is: clear the flag, audited."""
    row, village = _flagged(session, tally_id, actor.commune_id)
    row.flagged = False
    session.add(row)
    audit.record(
        session,
        commune_id=village.commune_id,
        action="tally.accept",
        entity="tally",
        entity_id=entity_id(village.id or 0, row.period, row.code),
        actor=actor,
        new=_audit_new(row, village),
        at=now,
    )
    session.flush()
    return row


def village_team(session: Session, village_id: int) -> list[Person]:
    """The village's team members and team leader, by id."""
    return list(
        session.exec(
            select(Person)
            .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
            .where(
                Person.village_id == village_id,
                col(PersonRole.role).in_([Role.TEAM.value, Role.LEADER.value]),
            )
            .distinct()
            .order_by(col(Person.id))
        )
    )


def ask_correction(
    session: Session, tally_id: int, *, actor: Person, now: dt.datetime, today: dt.date
) -> int:
    """Ask the village's team to check a flagged value and resend it; audited.

    The value stays flagged. Returns how many people the message was queued for (0 when
    no one of the team can be reached, or they were already asked about this value).
    A month the team may no longer report (past its grace days) cannot be asked about.
    """
    row, village = _flagged(session, tally_id, actor.commune_id)
    assert village.id is not None and row.id is not None
    this_month = row.period == month_start(today)
    if not this_month and period_problem(
        row.period, today, grace_day=grace_day(session, village.commune_id)
    ):
        raise UserError(MSG_MONTH_CLOSED, month=month_label(row.period))
    previous = _previous(session, row)
    version = int(_utc(row.updated_at).timestamp())  # the value asked about, by its time
    queued = 0
    for person in village_team(session, village.id):
        assert person.id is not None
        t = translator(person.locale)
        params = {
            "village": village.name,
            "label": t.gettext(CODE_LABELS.get(row.code, row.code)),
            "month": month_label(row.period),
            "value": row.value,
            "code": row.code,
        }
        if not this_month:  # a one-line report is this month's: the guided one asks
            text = t.gettext(MSG_ASK_FIX_LAST_MONTH, **params)
        elif previous is None:
            text = t.gettext(MSG_ASK_FIX_NO_PREVIOUS, **params)
        else:
            text = t.gettext(MSG_ASK_FIX, previous=previous, **params)
        message = enqueue(
            session,
            person_id=person.id,
            kind=ASK_KIND,
            reply=Reply(text=text),
            dedupe_key=f"{ASK_KIND}:{row.id}:{version}:{person.id}",
            due_at=now,
        )
        queued += message is not None
    audit.record(
        session,
        commune_id=village.commune_id,
        action="tally.ask_fix",
        entity="tally",
        entity_id=entity_id(village.id, row.period, row.code),
        actor=actor,
        new=_audit_new(row, village, recipients=queued),
        at=now,
    )
    session.flush()
    return queued
