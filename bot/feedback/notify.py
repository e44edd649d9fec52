"""Who hears about a change to a report, and what they read: outbox rows, queued once.

Each history event of a report tells the people it concerns:

========== ===================================== ======================= ==================
event      the resident                          the unit's officers     the standing office
========== ===================================== ======================= ==================
received   "received" (not when they wrote in    —                       if no unit took it
           the chat: they read it there)
assigned   sent to unit X, answer expected by    new report for you      —
answered   the answer's text, "satisfied?"       —                       —
returned   —                                     answer again: why       —
handed_back —                                    —                       choose another unit
closed     closed (with the office's word)       —                       —
reopened   —                                     —                       not satisfied: why
question   the unit asks: …                      —                       —
info       —                                     the resident added …    if no unit has it
satisfied  —                                     👍                      —
unsatisfied —                                    👎                      once reopened: 👎
========== ===================================== ======================= ==================

Internal notes and fix photos tell nobody. The person who made the change is never told
about it. Dedupe keys are made of domain facts only — the commune, the report's code, the
event's number in its history and the recipient — so queuing the same event twice never
sends twice. Times respect quiet hours except for urgent categories
(``bot.feedback.policy.notify_at``); rows are written with ``bot.reminders.outbox.enqueue``
in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import Session, col, select

from bot.core.messages import Choice, Reply
from bot.feedback.choices import RateChoice, ReportChoice, Verb
from bot.feedback.policy import notify_at
from bot.feedback.status import MAX_REOPEN
from bot.i18n import N_, Translator, translator
from bot.plans.store import unit_officers as plan_unit_officers
from bot.reminders.outbox import enqueue
from bot.reminders.policy import load_policy
from bot.text import shorten
from db.models import (
    Commune,
    FeedbackCategory,
    FeedbackEvent,
    FeedbackPhoto,
    FeedbackRating,
    FeedbackReport,
    Person,
    PersonRole,
    Role,
    Unit,
    Village,
)

KIND_RESIDENT = "feedback"
KIND_UNIT = "feedback_unit"
KIND_OFFICE = "feedback_office"
QUOTE = 300  # characters of a report's text quoted in a notification

R_RECEIVED = N_("We received your report {code} ({category}). You will get a message at each step.")
R_ASSIGNED = N_("Your report {code} was sent to {unit}. An answer is expected by {due}.")
R_ANSWERED = N_("{unit} answered your report {code}:\n{answer}")
R_CLOSED = N_("Your report {code} is now closed.")
R_CLOSED_NOTE = N_("The standing office says: {note}")
R_QUESTION = N_(
    "{unit} asks about your report {code}:\n{question}\nChoose “Add information” to reply."
)
R_RATE = N_("Are you satisfied with how your report was handled?")
U_ASSIGNED = N_("📣 New report {code} for {unit}: {category}, {place}.\n“{text}”\nAnswer by {due}.")
U_URGENT = N_("🚨 URGENT")
U_RETURNED = N_(
    "↩️ The standing office sent back your answer to report {code}: {reason}\nPlease answer again."
)
U_INFO = N_("➕ The resident added information to report {code}: {text}")
U_INFO_PHOTOS = N_("➕ The resident added {count} photo(s) to report {code}.")
U_SATISFIED = N_("👍 The resident is satisfied with the answer to report {code}.")
U_UNSATISFIED = N_("👎 The resident is not satisfied with the answer to report {code}: {comment}")
O_RECEIVED = N_(
    "📥 Report {code} ({category}, {place}) has no unit yet. Choose the unit that will handle it."
)
O_HANDED_BACK = N_("↩️ {unit} handed report {code} back: {reason}\nChoose another unit.")
O_REOPENED = N_(
    "👎 The resident is not satisfied with the answer to report {code}: {comment}\n"
    "Return it to the unit, assign another unit, or close it."
)
O_UNSATISFIED_AGAIN = N_(
    "👎 The resident is still not satisfied with report {code} (already reopened once): {comment}"
)
NO_COMMENT = N_("(no reason given)")
NO_PLACE = N_("place not given")
ACTION_OPEN = N_("📄 Open report {code}")
ACTION_INFO = N_("➕ Add information")
ACTION_SATISFIED = N_("👍 Satisfied")
ACTION_UNSATISFIED = N_("👎 Not satisfied")


class _Facts:
    """The names and times a message about one report needs, loaded once per event."""

    def __init__(self, session: Session, report: FeedbackReport, tz: dt.tzinfo) -> None:
        self.session = session
        self.report = report
        self.tz = tz
        category = session.get(FeedbackCategory, report.category_id)
        self.category = category.name if category else ""
        village = session.get(Village, report.village_id) if report.village_id else None
        self.village = village.name if village else ""

    def unit(self, unit_id: int | None) -> str:
        unit = self.session.get(Unit, unit_id) if unit_id is not None else None
        return unit.name if unit else ""

    def place(self, t: Translator) -> str:
        parts = [p for p in (self.report.landmark, self.village) if p]
        return ", ".join(parts) if parts else t.gettext(NO_PLACE)

    def due(self, t: Translator, moment: dt.datetime) -> str:
        return t.datetime(moment.astimezone(self.tz))

    def open_choice(self, t: Translator) -> Choice:
        assert self.report.id is not None
        return Choice(
            t.gettext(ACTION_OPEN, code=self.report.code),
            ReportChoice(Verb.OPEN, self.report.id).pack(),
        )

    def rate_choices(self, t: Translator) -> list[Choice]:
        assert self.report.id is not None
        return [
            Choice(t.gettext(ACTION_SATISFIED), RateChoice(self.report.id, True).pack()),
            Choice(t.gettext(ACTION_UNSATISFIED), RateChoice(self.report.id, False).pack()),
        ]

    def rated(self) -> bool:
        return (
            self.session.exec(
                select(FeedbackRating.id).where(
                    FeedbackRating.report_id == self.report.id,
                    FeedbackRating.round == self.report.reopened,
                )
            ).first()
            is not None
        )


Compose = Callable[[Translator], Reply]


def _resident(facts: _Facts, event: FeedbackEvent) -> Compose | None:
    report = facts.report
    code = report.code
    if event.kind == "received":
        return lambda t: Reply(
            text=t.gettext(R_RECEIVED, code=code, category=facts.category),
            choices=[facts.open_choice(t)],
        )
    if event.kind == "assigned":
        unit = facts.unit(event.unit_id)
        return lambda t: Reply(
            text=t.gettext(
                R_ASSIGNED, code=code, unit=unit, due=facts.due(t, report.answer_due_at)
            ),
            choices=[facts.open_choice(t)],
        )
    if event.kind == "answered":
        unit = facts.unit(event.unit_id)

        def answered(t: Translator) -> Reply:
            text = t.gettext(R_ANSWERED, code=code, unit=unit, answer=event.text)
            return Reply(
                text=f"{text}\n\n{t.gettext(R_RATE)}",
                choices=[*facts.rate_choices(t), facts.open_choice(t)],
            )

        return answered
    if event.kind == "closed":
        rated = facts.rated()

        def closed(t: Translator) -> Reply:
            lines = [t.gettext(R_CLOSED, code=code)]
            if event.text:
                lines.append(t.gettext(R_CLOSED_NOTE, note=event.text))
            choices = [facts.open_choice(t)]
            if not rated and report.answered_at is not None:
                lines.append(t.gettext(R_RATE))
                choices = [*facts.rate_choices(t), *choices]
            return Reply(text="\n".join(lines), choices=choices)

        return closed
    if event.kind == "question":
        unit = facts.unit(event.unit_id)
        assert report.id is not None
        info = ReportChoice(Verb.INFO, report.id).pack()
        return lambda t: Reply(
            text=t.gettext(R_QUESTION, code=code, unit=unit, question=event.text),
            choices=[Choice(t.gettext(ACTION_INFO), info), facts.open_choice(t)],
        )
    return None


def _unit(facts: _Facts, event: FeedbackEvent) -> Compose | None:
    report = facts.report
    code = report.code
    if event.kind == "assigned":
        unit = facts.unit(event.unit_id)

        def assigned(t: Translator) -> Reply:
            text = t.gettext(
                U_ASSIGNED,
                code=code,
                unit=unit,
                category=facts.category,
                place=facts.place(t),
                text=shorten(report.text, QUOTE),
                due=facts.due(t, report.answer_due_at),
            )
            if report.urgent:
                text = f"{t.gettext(U_URGENT)} {text}"
            return Reply(text=text, choices=[facts.open_choice(t)])

        return assigned
    if event.kind == "returned":
        return lambda t: Reply(
            text=t.gettext(U_RETURNED, code=code, reason=event.text),
            choices=[facts.open_choice(t)],
        )
    if event.kind == "info":
        photos = len(
            facts.session.exec(
                select(FeedbackPhoto.id).where(FeedbackPhoto.event_id == event.id)
            ).all()
        )

        def info(t: Translator) -> Reply:
            if event.text:
                text = t.gettext(U_INFO, code=code, text=shorten(event.text, QUOTE))
            else:
                text = t.gettext(U_INFO_PHOTOS, code=code, count=photos)
            return Reply(text=text, choices=[facts.open_choice(t)])

        return info
    if event.kind == "satisfied":
        return lambda t: Reply(text=t.gettext(U_SATISFIED, code=code))
    if event.kind == "unsatisfied":
        return lambda t: Reply(
            text=t.gettext(U_UNSATISFIED, code=code, comment=event.text or t.gettext(NO_COMMENT)),
            choices=[facts.open_choice(t)],
        )
    return None


def _office(facts: _Facts, event: FeedbackEvent) -> Compose | None:
    report = facts.report
    code = report.code
    if event.kind in ("received", "info") and report.unit_id is None:
        return lambda t: Reply(
            text=t.gettext(O_RECEIVED, code=code, category=facts.category, place=facts.place(t)),
            choices=[facts.open_choice(t)],
        )
    if event.kind == "handed_back":
        unit = facts.unit(event.unit_id)
        return lambda t: Reply(
            text=t.gettext(O_HANDED_BACK, code=code, unit=unit, reason=event.text),
            choices=[facts.open_choice(t)],
        )
    if event.kind == "reopened":
        return lambda t: Reply(
            text=t.gettext(O_REOPENED, code=code, comment=event.text or t.gettext(NO_COMMENT)),
            choices=[facts.open_choice(t)],
        )
    if event.kind == "unsatisfied" and report.reopened >= MAX_REOPEN:
        return lambda t: Reply(
            text=t.gettext(
                O_UNSATISFIED_AGAIN, code=code, comment=event.text or t.gettext(NO_COMMENT)
            ),
            choices=[facts.open_choice(t)],
        )
    return None


def unit_officers(session: Session, unit_id: int | None) -> list[Person]:
    """The people who hear for a unit (unit-officer role, linked to the unit)."""
    if unit_id is None:
        return []
    return plan_unit_officers(session, unit_id)


def office_people(session: Session, commune_id: int) -> list[Person]:
    """The standing office of a commune."""
    return list(
        session.exec(
            select(Person)
            .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
            .where(Person.commune_id == commune_id, PersonRole.role == Role.OFFICE)
            .order_by(col(Person.id))
        ).all()
    )


def dedupe_key(report: FeedbackReport, event: FeedbackEvent, person_id: int) -> str:
    """One message per report, history event and recipient, whoever queues it and how often."""
    return f"feedback:{report.commune_id}:{report.code}:{event.seq}:{person_id}"


def event(
    session: Session,
    report: FeedbackReport,
    happened: FeedbackEvent,
    *,
    now: dt.datetime,
    tz: dt.tzinfo,
    skip: set[int] | None = None,
) -> int:
    """Queue every message ``happened`` implies; the number of rows queued."""
    facts = _Facts(session, report, tz)
    commune = session.get(Commune, report.commune_id)
    at = notify_at(
        now, load_policy(commune.settings if commune else None), tz, urgent=report.urgent
    )
    audiences: list[tuple[str, list[Person], Compose | None]] = []
    resident = session.get(Person, report.reporter_id) if report.reporter_id else None
    audiences.append((KIND_RESIDENT, [resident] if resident else [], _resident(facts, happened)))
    audiences.append((KIND_UNIT, unit_officers(session, report.unit_id), _unit(facts, happened)))
    audiences.append(
        (KIND_OFFICE, office_people(session, report.commune_id), _office(facts, happened))
    )
    skipped = (skip or set()) | ({happened.actor_id} if happened.actor_id is not None else set())
    queued = 0
    told: set[int] = set()
    for kind, people, compose in audiences:
        if compose is None:
            continue
        for person in people:
            if person.id is None or person.id in skipped or person.id in told:
                continue
            told.add(person.id)  # one message per person and event, in their first capacity
            row = enqueue(
                session,
                person_id=person.id,
                kind=kind,
                reply=compose(translator(person.locale)),
                dedupe_key=dedupe_key(report, happened, person.id),
                due_at=at,
            )
            queued += row is not None
    return queued
