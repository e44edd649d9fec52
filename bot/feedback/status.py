"""The life of a report: its statuses and the moves between them, as one pure function.

    received ──assign──▶ assigned ──answer──▶ answered ──close──▶ closed
        ▲                  │  ▲                 │   ▲               │
        └────hand back─────┘  └──return─────────┘   │               │
                                                    reopen (once, "chưa hài lòng")
                                                    ▼               ▼
                                                  reopened ◀────────┘

* A category with a lead unit is assigned as soon as it is received (by the system).
* The unit answers; an answer goes to the resident word for word. A unit that is not the
  right one hands the report back to the standing office, which assigns another unit.
* The office closes (or returns an answer it finds wanting to the unit, which answers
  again); a satisfied resident closes an answered report themselves.
* A resident who is not satisfied reopens the report once; it goes back to the office.

Everything here is plain data: ``transition`` refuses an illegal move with a message a
person can read (``bot.errors.ReadableError``), whoever asked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.errors import ReadableError
from bot.i18n import N_

MAX_REOPEN = 1


class Status(enum.StrEnum):
    RECEIVED = "received"  # waiting for the office to choose a unit
    ASSIGNED = "assigned"  # with a unit
    ANSWERED = "answered"  # the unit answered the resident
    RETURNED = "returned"  # the office sent the answer back to the unit
    REOPENED = "reopened"  # the resident was not satisfied: the office looks again
    CLOSED = "closed"


OPEN_STATUSES = frozenset(Status) - {Status.CLOSED}
# Statuses in which the unit owes an answer (its first-answer deadline runs).
WITH_UNIT = frozenset({Status.ASSIGNED, Status.RETURNED})
# Statuses in which the standing office has to act.
WITH_OFFICE = frozenset({Status.RECEIVED, Status.ANSWERED, Status.REOPENED})


class Move(enum.StrEnum):
    ASSIGN = "assign"
    ANSWER = "answer"
    RETURN = "return"
    HAND_BACK = "hand_back"
    CLOSE = "close"
    REOPEN = "reopen"


class Actor(enum.StrEnum):
    RESIDENT = "resident"
    UNIT = "unit"
    OFFICE = "office"
    SYSTEM = "system"


@dataclass(frozen=True)
class Rule:
    """Where a move leads, and from which statuses each kind of actor may make it."""

    target: Status
    allowed: dict[Actor, frozenset[Status]]


RULES: dict[Move, Rule] = {
    Move.ASSIGN: Rule(
        Status.ASSIGNED,
        {
            Actor.SYSTEM: frozenset({Status.RECEIVED}),
            Actor.OFFICE: frozenset(OPEN_STATUSES),  # first assignment or a reassignment
        },
    ),
    Move.ANSWER: Rule(Status.ANSWERED, {Actor.UNIT: WITH_UNIT}),
    Move.RETURN: Rule(
        Status.RETURNED, {Actor.OFFICE: frozenset({Status.ANSWERED, Status.REOPENED})}
    ),
    Move.HAND_BACK: Rule(Status.RECEIVED, {Actor.UNIT: WITH_UNIT}),
    Move.CLOSE: Rule(
        Status.CLOSED,
        {
            Actor.OFFICE: frozenset(OPEN_STATUSES),
            Actor.RESIDENT: frozenset({Status.ANSWERED}),  # "hài lòng"
        },
    ),
    Move.REOPEN: Rule(
        Status.REOPENED, {Actor.RESIDENT: frozenset({Status.ANSWERED, Status.CLOSED})}
    ),
}

# Why a move was refused, in words (msgids; see feedback.po).
MSG_CLOSED = N_("Report {code} is already closed.")
MSG_NOT_YOURS = N_("This is not something you can do with report {code}.")
MSG_NOT_NOW = N_(
    "Report {code} has moved on, so this cannot be done now. Type /phananh to see where it stands."
)
MSG_REOPEN_ONCE = N_(
    "Report {code} was already reopened once. The standing office has your message and will "
    "decide on it."
)
MSG_NO_UNIT = N_("Report {code} has no unit to send it back to. Assign a unit instead.")

STATUS_LABELS: dict[Status, str] = {
    Status.RECEIVED: N_("received"),
    Status.ASSIGNED: N_("being handled"),
    Status.ANSWERED: N_("answered"),
    Status.RETURNED: N_("being handled again"),
    Status.REOPENED: N_("being reviewed again"),
    Status.CLOSED: N_("closed"),
}
# What the resident reads: a return to the unit is the office's internal business.
RESIDENT_LABELS: dict[Status, str] = {**STATUS_LABELS, Status.RETURNED: N_("being handled")}

# One line of a report's history, for the chat and the dashboard (🔒: staff only).
EVENT_LABELS: dict[str, str] = {
    "received": N_("received"),
    "assigned": N_("sent to {unit}"),
    "answered": N_("answer from {unit}: {text}"),
    "returned": N_("🔒 answer sent back to the unit: {text}"),
    "handed_back": N_("🔒 {unit} handed it back: {text}"),
    "closed": N_("closed {text}"),
    "reopened": N_("reopened, the resident is not satisfied {text}"),
    "note": N_("🔒 note: {text}"),
    "info": N_("the resident added: {text}"),
    "question": N_("question to the resident: {text}"),
    "fix_photo": N_("photo of the fix {text}"),
    "satisfied": N_("👍 the resident is satisfied {text}"),
    "unsatisfied": N_("👎 the resident is not satisfied {text}"),
}


class MoveRefused(ReadableError):
    """A move that is not allowed now, by this actor, on this report."""


def transition(
    current: Status,
    move: Move,
    actor: Actor,
    *,
    code: str = "",
    reopened: int = 0,
    has_unit: bool = True,
) -> Status:
    """The status after ``move``, or ``MoveRefused`` saying why it cannot be made."""
    rule = RULES[move]
    sources = rule.allowed.get(actor)
    if sources is None:
        raise MoveRefused(MSG_NOT_YOURS, code=code)
    if move is Move.REOPEN and current in sources and reopened >= MAX_REOPEN:
        raise MoveRefused(MSG_REOPEN_ONCE, code=code)
    if current not in sources:
        if current is Status.CLOSED:
            raise MoveRefused(MSG_CLOSED, code=code)
        raise MoveRefused(MSG_NOT_NOW, code=code)
    if move is Move.RETURN and not has_unit:
        raise MoveRefused(MSG_NO_UNIT, code=code)
    return rule.target


def is_open(status: Status) -> bool:
    """Whether a report still waits for something (anything but closed)."""
    return status in OPEN_STATUSES
