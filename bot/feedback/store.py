"""Reports and every change to them, written in the caller's transaction.

Each function here is one change: it checks who may make it (``bot.feedback.status``),
locks the report row (PostgreSQL: ``FOR UPDATE``; SQLite has one writer), writes the
report, one history event, its photos and its notifications (outbox rows, see
``bot.feedback.notify``), and flushes. The caller commits once — the chat dispatcher does,
per update — so a report and the messages about it exist together or not at all.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import audit
from bot.admin.setup import find_unit
from bot.core.errors import UserError
from bot.core.people import roles_of
from bot.feedback import notify
from bot.feedback.categories import DEFAULT_CATEGORIES
from bot.feedback.open311 import Submission
from bot.feedback.photos import StoredPhoto
from bot.feedback.places import Point, guess_village
from bot.feedback.policy import due_at, load_feedback_policy, reference
from bot.feedback.status import (
    MAX_REOPEN,
    MSG_CLOSED,
    Actor,
    Move,
    MoveRefused,
    Status,
    transition,
)
from bot.i18n import N_
from bot.reminders.policy import load_policy
from bot.text import clean, fold
from db.models import (
    Commune,
    FeedbackCategory,
    FeedbackEvent,
    FeedbackPhoto,
    FeedbackRating,
    FeedbackReport,
    Person,
    Role,
    Unit,
    Village,
)

TEXT_MIN = 5
TEXT_MAX = 4000  # Open311's limit for a description
LANDMARK_MAX = 300
NOTE_MAX = 2000
NUMBER_ATTEMPTS = 5

MSG_NO_REPORT = N_("I could not find that report. Type /phananh to see your reports.")
MSG_NO_CATEGORY = N_("This kind of report is not available any more. Please choose another one.")
MSG_NO_UNIT = N_("I could not find that unit in this commune.")
MSG_SAME_UNIT = N_("Report {code} is already with {unit}.")
MSG_TEXT_SHORT = N_("Please write a few more words (at least {minimum} characters).")
MSG_TEXT_LONG = N_("That is too long ({length} characters). Please keep it under {limit}.")
MSG_DAILY_LIMIT = N_(
    "You have sent {limit} reports today, the most one person can send in a day. "
    "Please send the next one tomorrow; if it is an emergency, call the commune police."
)
MSG_TOO_MANY_PHOTOS = N_("A report can have at most {limit} photos.")
MSG_ONLY_OFFICE = N_("Only the standing office can do this with report {code}.")
MSG_ONLY_UNIT = N_("Only the officers of the unit handling report {code} can do this.")
MSG_ONLY_REPORTER = N_("Only the person who sent report {code} can do this.")
MSG_ONLY_STAFF = N_("Only the standing office and the unit handling report {code} can do this.")
MSG_NOT_RATEABLE = N_("Report {code} can be rated once it has been answered.")
MSG_ALREADY_RATED = N_("You already rated the answer to report {code}. Thank you!")
MSG_NO_CONTACT = N_(
    "The person who sent report {code} did not agree to be contacted. Write your answer instead."
)
MSG_BAD_DAYS = N_(
    "Deadlines are working days: the first answer from 0 to 60, closing from the first answer's "
    "deadline up to 120."
)
MSG_UNKNOWN_CATEGORY_CODE = N_("There is no report category “{code}” in this commune.")
MSG_BAD_CATEGORY_CODE = N_(
    "A category code is 2 to 40 lowercase letters without accents, digits or “_”, "
    "for example “cay_xanh”."
)
MSG_CATEGORY_CODE_TAKEN = N_("This commune already has a category with the code “{code}”.")
CATEGORY_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")


# ------------------------------------------------------------------ categories


def ensure_categories(session: Session, commune_id: int) -> list[FeedbackCategory]:
    """The commune's categories, creating the default list (routed to its units) if it has none."""
    existing = list(
        session.exec(
            select(FeedbackCategory)
            .where(FeedbackCategory.commune_id == commune_id)
            .order_by(col(FeedbackCategory.position), col(FeedbackCategory.id))
        ).all()
    )
    if existing:
        return existing

    created = []
    for position, default in enumerate(DEFAULT_CATEGORIES, 1):
        unit = next(
            (u for u in (find_unit(session, commune_id, name) for name in default.units) if u),
            None,
        )
        row = FeedbackCategory(
            commune_id=commune_id,
            code=default.code,
            name=default.name,
            group=default.group,
            description=default.description,
            keywords=", ".join(default.keywords),
            lead_unit_id=unit.id if unit is not None else None,
            urgent=default.urgent,
            answer_days=default.answer_days,
            close_days=default.close_days,
            position=position,
        )
        session.add(row)
        created.append(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another process created them at the same moment
        return ensure_categories(session, commune_id)
    return created


def active_categories(session: Session, commune_id: int) -> list[FeedbackCategory]:
    """The categories residents can choose, in the commune's order."""
    return [c for c in ensure_categories(session, commune_id) if c.active]


def keywords_of(category: FeedbackCategory) -> list[str]:
    """A category's keywords, one by one."""
    return [k.strip() for k in category.keywords.split(",") if k.strip()]


_UNSET = object()


def _lead_unit(session: Session, commune_id: int, unit: object) -> Unit | None:
    """A unit of the commune by id (the web's list) or by name or spelling (the CLI)."""
    if isinstance(unit, int):
        found = session.get(Unit, unit)
        return found if found is not None and found.commune_id == commune_id else None
    return find_unit(session, commune_id, str(unit))


def update_category(
    session: Session,
    commune_id: int,
    code: str,
    *,
    actor: Person | None = None,
    now: dt.datetime | None = None,
    name: str | None = None,
    lead_unit: int | str | None | object = _UNSET,
    urgent: bool | None = None,
    answer_days: int | None = None,
    close_days: int | None = None,
    active: bool | None = None,
) -> FeedbackCategory:
    """Change one of the commune's categories (routing, urgency, deadlines…), audited.

    ``lead_unit`` is a unit's name or recorded spelling; None sends the category to the
    standing office for routing.
    """
    categories = {c.code: c for c in ensure_categories(session, commune_id)}
    category = categories.get(code)
    if category is None:
        raise UserError(MSG_UNKNOWN_CATEGORY_CODE, code=code[:40])
    old = _category_snapshot(category)
    if name is not None:
        category.name = check_text(name, minimum=2, limit=200)
    if lead_unit is not _UNSET:
        if lead_unit is None:
            category.lead_unit_id = None
        else:
            unit = _lead_unit(session, commune_id, lead_unit)
            if unit is None:
                raise UserError(MSG_NO_UNIT)
            category.lead_unit_id = unit.id
    if urgent is not None:
        category.urgent = urgent
    answer = category.answer_days if answer_days is None else answer_days
    close = category.close_days if close_days is None else close_days
    if not 0 <= answer <= 60 or not answer <= close <= 120:
        raise UserError(MSG_BAD_DAYS)
    category.answer_days, category.close_days = answer, close
    if active is not None:
        category.active = active
    session.add(category)
    audit.record(
        session,
        commune_id=commune_id,
        action="feedback.category",
        entity="feedbackcategory",
        entity_id=category.id,
        actor=actor,
        old=old,
        new=_category_snapshot(category),
        at=now,
    )
    session.flush()
    return category


def add_category(
    session: Session,
    commune_id: int,
    code: str,
    name: str,
    *,
    actor: Person | None = None,
    now: dt.datetime | None = None,
    lead_unit: int | str | None = None,
    urgent: bool = False,
    answer_days: int = 2,
    close_days: int = 10,
    group: str = "",
    keywords: str = "",
) -> FeedbackCategory:
    """Add a kind of report to the commune's list (last in its order), audited.

    ``code`` is stable (reports and Open311 clients refer to it); ``lead_unit`` is a
    unit's name or recorded spelling, None for the standing office to route.
    """
    code = code.strip()
    if not CATEGORY_CODE.fullmatch(code):
        raise UserError(MSG_BAD_CATEGORY_CODE)
    existing = ensure_categories(session, commune_id)
    if any(c.code == code for c in existing):
        raise UserError(MSG_CATEGORY_CODE_TAKEN, code=code)
    unit_id = None
    if lead_unit is not None:
        unit = _lead_unit(session, commune_id, lead_unit)
        if unit is None:
            raise UserError(MSG_NO_UNIT)
        unit_id = unit.id
    if not 0 <= answer_days <= 60 or not answer_days <= close_days <= 120:
        raise UserError(MSG_BAD_DAYS)
    category = FeedbackCategory(
        commune_id=commune_id,
        code=code,
        name=check_text(name, minimum=2, limit=200),
        group=clean(group)[:100],
        keywords=", ".join(k.strip() for k in keywords.split(",") if k.strip())[:1000],
        lead_unit_id=unit_id,
        urgent=urgent,
        answer_days=answer_days,
        close_days=close_days,
        position=max((c.position for c in existing), default=0) + 1,
    )
    session.add(category)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # added by someone else at the same moment
        raise UserError(MSG_CATEGORY_CODE_TAKEN, code=code) from None
    audit.record(
        session,
        commune_id=commune_id,
        action="feedback.category_add",
        entity="feedbackcategory",
        entity_id=category.id,
        actor=actor,
        old=None,
        new={"category_code": code, **_category_snapshot(category)},
        at=now,
    )
    session.flush()
    return category


def _category_snapshot(category: FeedbackCategory) -> dict[str, object]:
    return {
        "name": category.name,
        "lead_unit_id": category.lead_unit_id,
        "urgent": category.urgent,
        "answer_days": category.answer_days,
        "close_days": category.close_days,
        "active": category.active,
    }


# ------------------------------------------------------------------ submitting


@dataclass(frozen=True)
class NewReport:
    """Everything a resident said in the flow, checked before anything is stored."""

    category_id: int
    text: str
    village_id: int | None = None
    landmark: str = ""
    point: Point | None = None
    contact_allowed: bool = False
    photos: tuple[StoredPhoto, ...] = ()
    source: str = "chat"  # chat | open311 | web | sample
    channel: str = ""


@dataclass(frozen=True)
class Submitted:
    """A stored report; ``duplicate`` when it is one the same person just sent."""

    report: FeedbackReport
    duplicate: bool = False
    queued: int = 0  # notifications queued


def check_text(text: str, *, minimum: int = TEXT_MIN, limit: int = TEXT_MAX) -> str:
    """The cleaned text, or a readable error if it is too short or too long."""
    value = clean(text or "")
    if len(value) < minimum:
        raise UserError(MSG_TEXT_SHORT, minimum=minimum)
    if len(value) > limit:
        raise UserError(MSG_TEXT_LONG, length=len(value), limit=limit)
    return value


def text_key(text: str) -> str:
    """What two reports with "the same text" share: the checksum of the folded words."""
    words = " ".join(fold(text).replace(".", " ").replace(",", " ").split())
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


def _local_midnight(now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    local = now.astimezone(tz)
    return dt.datetime.combine(local.date(), dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def submit(
    session: Session,
    *,
    commune: Commune,
    reporter_id: int | None,
    new: NewReport,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> Submitted:
    """Store a new report, route it to its category's unit, and queue the notifications.

    The same person sending the same text again within the commune's duplicate window gets
    the report they already sent; a person's reports per local day are limited.
    """
    assert commune.id is not None
    text = check_text(new.text)
    policy = load_feedback_policy(commune.settings)
    calendar = load_policy(commune.settings)
    category = session.get(FeedbackCategory, new.category_id)
    if category is None or category.commune_id != commune.id or not category.active:
        raise UserError(MSG_NO_CATEGORY)
    key = text_key(text)
    if reporter_id is not None:
        window = now - dt.timedelta(minutes=policy.duplicate_minutes)
        same = session.exec(
            select(FeedbackReport)
            .where(
                FeedbackReport.reporter_id == reporter_id,
                FeedbackReport.text_key == key,
                col(FeedbackReport.created_at) >= window,
            )
            .order_by(col(FeedbackReport.id).desc())
        ).first()
        if same is not None:
            return Submitted(same, duplicate=True)
        today = session.exec(
            select(func.count())
            .select_from(FeedbackReport)
            .where(
                FeedbackReport.reporter_id == reporter_id,
                col(FeedbackReport.created_at) >= _local_midnight(now, tz),
            )
        ).one()
        if today >= policy.daily_limit:
            raise UserError(MSG_DAILY_LIMIT, limit=policy.daily_limit)
    if len(new.photos) > policy.max_photos:
        raise UserError(MSG_TOO_MANY_PHOTOS, limit=policy.max_photos)
    village_id = new.village_id
    if village_id is not None:
        village = session.get(Village, village_id)
        if village is None or village.commune_id != commune.id:
            village_id = None
    report = FeedbackReport(
        commune_id=commune.id,
        number=0,
        code="",
        category_id=category.id,  # type: ignore[arg-type]
        text=text,
        text_key=key,
        village_id=village_id,
        landmark=clean(new.landmark)[:LANDMARK_MAX],
        latitude=new.point.latitude if new.point else None,
        longitude=new.point.longitude if new.point else None,
        contact_allowed=new.contact_allowed and reporter_id is not None,
        reporter_id=reporter_id,
        source=new.source,
        channel=new.channel,
        status=Status.RECEIVED,
        urgent=category.urgent,
        created_at=now,
        updated_at=now,
        answer_due_at=due_at(now, category.answer_days, calendar, tz, policy.day_ends),
        close_due_at=due_at(now, category.close_days, calendar, tz, policy.day_ends),
    )
    _insert_numbered(session, report, commune.id, policy.prefix)
    # The resident who wrote in the chat reads the outcome there: no outbox copy of it.
    told_in_chat = {reporter_id} if new.source == "chat" and reporter_id is not None else set()
    resident_role = Actor.RESIDENT if reporter_id is not None else Actor.SYSTEM
    received = _event(
        session, report, "received", resident_role, reporter_id, None, Status.RECEIVED, now=now
    )
    _add_photos(session, report, received, new.photos, "report", reporter_id, now)
    queued = 0
    if category.lead_unit_id is not None:
        queued += _move_assign(
            session, report, category.lead_unit_id, Actor.SYSTEM, None, now, tz, skip=told_in_chat
        )
    # After routing: the office hears of a new report only when no unit took it.
    queued += notify.event(session, report, received, now=now, tz=tz, skip=told_in_chat)
    session.flush()
    return Submitted(report, queued=queued)


def _insert_numbered(
    session: Session, report: FeedbackReport, commune_id: int, prefix: str
) -> None:
    """Give the report the commune's next number; two at once both get one (retry on clash)."""
    for _attempt in range(NUMBER_ATTEMPTS):
        highest = session.exec(
            select(func.max(FeedbackReport.number)).where(FeedbackReport.commune_id == commune_id)
        ).one()
        report.number = int(highest or 0) + 1
        report.code = reference(prefix, report.number)
        try:
            with session.begin_nested():
                session.add(report)
                session.flush()
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not number a feedback report")


# ------------------------------------------------------------------ changes


def _locked(session: Session, report_id: int) -> FeedbackReport:
    report = session.exec(
        select(FeedbackReport)
        .where(FeedbackReport.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if report is None:
        raise UserError(MSG_NO_REPORT)
    return report


def _event(
    session: Session,
    report: FeedbackReport,
    kind: str,
    actor: Actor,
    actor_id: int | None,
    before: Status | None,
    after: Status | None,
    *,
    now: dt.datetime,
    text: str = "",
    internal: bool = False,
    unit_id: int | None = None,
) -> FeedbackEvent:
    """Append one event to the report's history (the report row is locked by the caller)."""
    assert report.id is not None
    highest = session.exec(
        select(func.max(FeedbackEvent.seq)).where(FeedbackEvent.report_id == report.id)
    ).one()
    event = FeedbackEvent(
        report_id=report.id,
        seq=int(highest or 0) + 1,
        kind=kind,
        actor_id=actor_id,
        actor_role=actor.value,
        from_status=before.value if before else None,
        to_status=after.value if after else None,
        unit_id=unit_id if unit_id is not None else report.unit_id,
        text=text,
        internal=internal,
        at=now,
    )
    session.add(event)
    report.updated_at = now
    session.add(report)
    session.flush()
    return event


def _add_photos(
    session: Session,
    report: FeedbackReport,
    event: FeedbackEvent,
    photos: Iterable[StoredPhoto],
    purpose: str,
    uploaded_by: int | None,
    now: dt.datetime,
) -> int:
    count = 0
    for photo in photos:
        session.add(
            FeedbackPhoto(
                report_id=report.id,  # type: ignore[arg-type]
                event_id=event.id,
                purpose=purpose,
                kind=photo.kind,
                mime_type=photo.mime_type,
                size=photo.size,
                sha256=photo.sha256,
                storage_path=photo.storage_path,
                url=photo.url,
                metadata_removed=photo.metadata_removed,
                uploaded_by=uploaded_by,
                at=now,
            )
        )
        count += 1
    return count


def _audit(
    session: Session,
    report: FeedbackReport,
    action: str,
    by: Person,
    before: Status | None,
    *,
    unit_before: int | None,
    now: dt.datetime,
    text: str = "",
) -> None:
    """The audit entry of a staff member's change to a report (chat or web, the same one)."""
    audit.record(
        session,
        commune_id=report.commune_id,
        action=f"feedback.{action}",
        entity="feedback",
        entity_id=report.code,
        actor=by,
        old={"report_status": before.value if before else None, "unit_id": unit_before},
        new={"report_status": report.status, "unit_id": report.unit_id, "text": text[:500]},
        at=now,
    )


def _check_actor(session: Session, report: FeedbackReport, person: Person, actor: Actor) -> None:
    """Refuse unless ``person`` may act on ``report`` as ``actor``."""
    if actor is Actor.RESIDENT:
        if report.reporter_id is None or report.reporter_id != person.id:
            raise UserError(MSG_ONLY_REPORTER, code=report.code)
        return
    assert person.id is not None
    roles = roles_of(session, person.id)
    if actor is Actor.OFFICE:
        if Role.OFFICE not in roles or person.commune_id != report.commune_id:
            raise UserError(MSG_ONLY_OFFICE, code=report.code)
        return
    if actor is Actor.UNIT:
        if Role.UNIT not in roles or report.unit_id is None or person.unit_id != report.unit_id:
            raise UserError(MSG_ONLY_UNIT, code=report.code)
        return
    raise UserError(MSG_ONLY_STAFF, code=report.code)


def staff_capacity(session: Session, report: FeedbackReport, person: Person) -> Actor | None:
    """How a person may handle a report: as its unit's officer, as the office, or not at all."""
    assert person.id is not None
    roles = roles_of(session, person.id)
    if Role.UNIT in roles and report.unit_id is not None and person.unit_id == report.unit_id:
        return Actor.UNIT
    if Role.OFFICE in roles and person.commune_id == report.commune_id:
        return Actor.OFFICE
    return None


def _move(report: FeedbackReport, move: Move, actor: Actor) -> tuple[Status, Status]:
    before = Status(report.status)
    try:
        after = transition(
            before,
            move,
            actor,
            code=report.code,
            reopened=report.reopened,
            has_unit=report.unit_id is not None,
        )
    except MoveRefused as refused:
        raise UserError(refused.message_id, **refused.params) from refused
    report.status = after
    return before, after


def _move_assign(
    session: Session,
    report: FeedbackReport,
    unit_id: int,
    actor: Actor,
    actor_id: int | None,
    now: dt.datetime,
    tz: dt.tzinfo,
    *,
    skip: set[int] | None = None,
) -> int:
    before, after = _move(report, Move.ASSIGN, actor)
    report.unit_id = unit_id
    event = _event(session, report, "assigned", actor, actor_id, before, after, now=now)
    return notify.event(session, report, event, now=now, tz=tz, skip=skip)


def _staff_text(text: str, limit: int = NOTE_MAX) -> str:
    return check_text(text, minimum=2, limit=limit)


def _staff_step(
    session: Session,
    report: FeedbackReport,
    by: Person,
    actor: Actor,
    kind: str,
    action: str,
    before: Status,
    after: Status,
    *,
    unit_before: int | None,
    now: dt.datetime,
    tz: dt.tzinfo,
    text: str,
    internal: bool = False,
) -> FeedbackReport:
    """Record a staff member's move of a report: its event, who is told, the audit entry."""
    event = _event(
        session,
        report,
        kind,
        actor,
        by.id,
        before,
        after,
        now=now,
        text=text,
        internal=internal,
        unit_id=unit_before,
    )
    notify.event(session, report, event, now=now, tz=tz, skip={by.id or 0})
    _audit(session, report, action, by, before, unit_before=unit_before, now=now, text=text)
    session.flush()
    return report


def assign(
    session: Session,
    report_id: int,
    *,
    by: Person,
    unit_id: int,
    now: dt.datetime,
    tz: dt.tzinfo,
    note: str = "",
) -> FeedbackReport:
    """The office sends a report to a unit (first routing or a reassignment)."""
    report = _locked(session, report_id)
    _check_actor(session, report, by, Actor.OFFICE)
    unit = session.get(Unit, unit_id)
    if unit is None or unit.commune_id != report.commune_id:
        raise UserError(MSG_NO_UNIT)
    if report.unit_id == unit_id and report.status == Status.ASSIGNED:
        raise UserError(MSG_SAME_UNIT, code=report.code, unit=unit.name)
    before, unit_before = Status(report.status), report.unit_id
    _move_assign(session, report, unit_id, Actor.OFFICE, by.id, now, tz, skip={by.id or 0})
    if note.strip():
        _event(
            session,
            report,
            "note",
            Actor.OFFICE,
            by.id,
            None,
            None,
            now=now,
            text=_staff_text(note),
            internal=True,
        )
    _audit(
        session, report, "assign", by, before, unit_before=unit_before, now=now, text=note.strip()
    )
    session.flush()
    return report


def answer(
    session: Session, report_id: int, *, by: Person, text: str, now: dt.datetime, tz: dt.tzinfo
) -> FeedbackReport:
    """The unit answers: the resident receives the answer's text."""
    report = _locked(session, report_id)
    _check_actor(session, report, by, Actor.UNIT)
    words = check_text(text)
    before, after = _move(report, Move.ANSWER, Actor.UNIT)
    if report.answered_at is None:
        report.answered_at = now
    return _staff_step(
        session,
        report,
        by,
        Actor.UNIT,
        "answered",
        "answer",
        before,
        after,
        unit_before=report.unit_id,
        now=now,
        tz=tz,
        text=words,
    )


def return_to_unit(
    session: Session, report_id: int, *, by: Person, reason: str, now: dt.datetime, tz: dt.tzinfo
) -> FeedbackReport:
    """The office sends the unit's answer back: the unit must answer again."""
    report = _locked(session, report_id)
    _check_actor(session, report, by, Actor.OFFICE)
    words = _staff_text(reason)
    before, after = _move(report, Move.RETURN, Actor.OFFICE)
    return _staff_step(
        session,
        report,
        by,
        Actor.OFFICE,
        "returned",
        "return",
        before,
        after,
        unit_before=report.unit_id,
        now=now,
        tz=tz,
        text=words,
        internal=True,
    )


def hand_back(
    session: Session, report_id: int, *, by: Person, reason: str, now: dt.datetime, tz: dt.tzinfo
) -> FeedbackReport:
    """The unit says the report is not theirs: it goes back to the office for routing."""
    report = _locked(session, report_id)
    _check_actor(session, report, by, Actor.UNIT)
    words = _staff_text(reason)
    unit_id = report.unit_id
    before, after = _move(report, Move.HAND_BACK, Actor.UNIT)
    report.unit_id = None
    return _staff_step(
        session,
        report,
        by,
        Actor.UNIT,
        "handed_back",
        "hand_back",
        before,
        after,
        unit_before=unit_id,
        now=now,
        tz=tz,
        text=words,
        internal=True,
    )


def close(
    session: Session, report_id: int, *, by: Person, note: str, now: dt.datetime, tz: dt.tzinfo
) -> FeedbackReport:
    """The office closes a report (with a word for the resident, if any)."""
    report = _locked(session, report_id)
    _check_actor(session, report, by, Actor.OFFICE)
    words = clean(note)[:NOTE_MAX]
    before, after = _move(report, Move.CLOSE, Actor.OFFICE)
    report.closed_at = now
    return _staff_step(
        session,
        report,
        by,
        Actor.OFFICE,
        "closed",
        "close",
        before,
        after,
        unit_before=report.unit_id,
        now=now,
        tz=tz,
        text=words,
    )


def add_note(
    session: Session, report_id: int, *, by: Person, text: str, now: dt.datetime
) -> FeedbackEvent:
    """An internal note by the office or the unit: never shown or sent to the resident."""
    report = _locked(session, report_id)
    capacity = staff_capacity(session, report, by)
    if capacity is None:
        raise UserError(MSG_ONLY_STAFF, code=report.code)
    event = _event(
        session,
        report,
        "note",
        capacity,
        by.id,
        None,
        None,
        now=now,
        text=_staff_text(text),
        internal=True,
    )
    status = Status(report.status)
    _audit(
        session, report, "note", by, status, unit_before=report.unit_id, now=now, text=event.text
    )
    session.flush()
    return event


def add_fix_photo(
    session: Session,
    report_id: int,
    *,
    by: Person,
    photo: StoredPhoto,
    now: dt.datetime,
    caption: str = "",
) -> FeedbackEvent:
    """A photo of the fix, by the unit or the office; the resident sees it on the report."""
    report = _locked(session, report_id)
    capacity = staff_capacity(session, report, by)
    if capacity is None:
        raise UserError(MSG_ONLY_STAFF, code=report.code)
    event = _event(
        session,
        report,
        "fix_photo",
        capacity,
        by.id,
        None,
        None,
        now=now,
        text=clean(caption)[:NOTE_MAX],
    )
    _add_photos(session, report, event, [photo], "fix", by.id, now)
    status = Status(report.status)
    _audit(
        session,
        report,
        "fix_photo",
        by,
        status,
        unit_before=report.unit_id,
        now=now,
        text=event.text,
    )
    session.flush()
    return event


def add_info(
    session: Session,
    report_id: int,
    *,
    by: Person,
    text: str = "",
    photos: Sequence[StoredPhoto] = (),
    now: dt.datetime,
    tz: dt.tzinfo,
) -> FeedbackEvent:
    """The resident adds words or photos to their open report; the handler is told."""
    report = _locked(session, report_id)
    _check_actor(session, report, by, Actor.RESIDENT)
    if report.status == Status.CLOSED:
        raise UserError(MSG_CLOSED, code=report.code)
    words = check_text(text, minimum=2) if text.strip() else ""
    if not words and not photos:
        raise UserError(MSG_TEXT_SHORT, minimum=2)
    commune = session.get(Commune, report.commune_id)
    limit = load_feedback_policy(commune.settings if commune else None).max_photos
    stored = len(
        session.exec(select(FeedbackPhoto.id).where(FeedbackPhoto.report_id == report.id)).all()
    )
    if photos and stored + len(photos) > limit:
        raise UserError(MSG_TOO_MANY_PHOTOS, limit=limit)
    event = _event(session, report, "info", Actor.RESIDENT, by.id, None, None, now=now, text=words)
    _add_photos(session, report, event, photos, "info", by.id, now)
    notify.event(session, report, event, now=now, tz=tz, skip={by.id or 0})
    session.flush()
    return event


def ask_resident(
    session: Session, report_id: int, *, by: Person, question: str, now: dt.datetime, tz: dt.tzinfo
) -> FeedbackEvent:
    """The unit asks the resident for more (only if they agreed to be contacted)."""
    report = _locked(session, report_id)
    _check_actor(session, report, by, Actor.UNIT)
    if not report.contact_allowed or report.reporter_id is None:
        raise UserError(MSG_NO_CONTACT, code=report.code)
    if report.status == Status.CLOSED:
        raise UserError(MSG_CLOSED, code=report.code)
    event = _event(
        session,
        report,
        "question",
        Actor.UNIT,
        by.id,
        None,
        None,
        now=now,
        text=_staff_text(question),
    )
    notify.event(session, report, event, now=now, tz=tz, skip={by.id or 0})
    session.flush()
    return event


class Rated(enum.StrEnum):
    """What a rating did to the report."""

    CLOSED = "closed"  # satisfied with an answer: the report is done
    REOPENED = "reopened"  # not satisfied: back to the office, once
    RECORDED = "recorded"  # kept for the statistics; the status stays


def rate(
    session: Session,
    report_id: int,
    *,
    by: Person,
    satisfied: bool,
    comment: str = "",
    now: dt.datetime,
    tz: dt.tzinfo,
) -> Rated:
    """The resident's verdict on the answer: "hài lòng" closes, "chưa hài lòng" reopens once."""
    report = _locked(session, report_id)
    _check_actor(session, report, by, Actor.RESIDENT)
    if report.status not in (Status.ANSWERED, Status.CLOSED) or report.answered_at is None:
        raise UserError(MSG_NOT_RATEABLE, code=report.code)
    round_ = report.reopened
    exists = session.exec(
        select(FeedbackRating.id).where(
            FeedbackRating.report_id == report.id, FeedbackRating.round == round_
        )
    ).first()
    if exists is not None:
        raise UserError(MSG_ALREADY_RATED, code=report.code)
    words = clean(comment)[:1000]
    session.add(
        FeedbackRating(
            report_id=report.id,  # type: ignore[arg-type]
            round=round_,
            satisfied=satisfied,
            comment=words,
            rated_by=by.id,
            at=now,
        )
    )
    rated = _event(
        session,
        report,
        "satisfied" if satisfied else "unsatisfied",
        Actor.RESIDENT,
        by.id,
        None,
        None,
        now=now,
        text=words,
    )
    skip = {by.id or 0}
    notify.event(session, report, rated, now=now, tz=tz, skip=skip)
    outcome = Rated.RECORDED
    if satisfied and report.status == Status.ANSWERED:
        before, after = _move(report, Move.CLOSE, Actor.RESIDENT)
        report.closed_at = now
        event = _event(session, report, "closed", Actor.RESIDENT, by.id, before, after, now=now)
        notify.event(session, report, event, now=now, tz=tz, skip=skip)
        outcome = Rated.CLOSED
    elif not satisfied and report.reopened < MAX_REOPEN:
        before, after = _move(report, Move.REOPEN, Actor.RESIDENT)
        report.reopened += 1
        report.closed_at = None
        _restart_deadlines(session, report, now, tz)
        event = _event(
            session, report, "reopened", Actor.RESIDENT, by.id, before, after, now=now, text=words
        )
        notify.event(session, report, event, now=now, tz=tz, skip=skip)
        outcome = Rated.REOPENED
    session.flush()
    return outcome


def _restart_deadlines(
    session: Session, report: FeedbackReport, now: dt.datetime, tz: dt.tzinfo
) -> None:
    """A reopened report gets its category's deadlines again, from now."""
    commune = session.get(Commune, report.commune_id)
    category = session.get(FeedbackCategory, report.category_id)
    settings = commune.settings if commune else None
    policy, calendar = load_feedback_policy(settings), load_policy(settings)
    answer_days = category.answer_days if category else 2
    close_days = category.close_days if category else 10
    report.answer_due_at = due_at(now, answer_days, calendar, tz, policy.day_ends)
    report.close_due_at = due_at(now, close_days, calendar, tz, policy.day_ends)
    report.answered_at = None


def open311_counts(session: Session, commune_id: int, now: dt.datetime) -> tuple[int, int]:
    """How many Open311 reports the commune received in the last hour and the last day."""

    def since(start: dt.datetime) -> int:
        query = select(func.count()).where(
            FeedbackReport.commune_id == commune_id,
            FeedbackReport.source == "open311",
            FeedbackReport.created_at > start,
        )
        return int(session.exec(query).one())

    return since(now - dt.timedelta(hours=1)), since(now - dt.timedelta(days=1))


def submit_open311(
    session: Session,
    *,
    commune: Commune,
    submission: Submission,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> FeedbackReport:
    """Store a report POSTed by an Open311 client (anonymous: clients are not residents).

    The village is read from ``address_string`` when it names one; the address itself is
    kept as the landmark. ``parse_submission`` has already checked the service code.
    """
    assert commune.id is not None
    categories = {c.code: c for c in active_categories(session, commune.id)}
    category = categories.get(submission.service_code)
    if category is None or category.id is None:
        raise UserError(MSG_NO_CATEGORY)
    villages = session.exec(select(Village).where(Village.commune_id == commune.id)).all()
    village_id = guess_village(
        submission.address_string, [(v.id, v.name) for v in villages if v.id is not None]
    )
    new = NewReport(
        category_id=category.id,
        text=submission.description,
        village_id=village_id,
        landmark=submission.address_string,
        point=submission.point,
        source="open311",
    )
    return submit(session, commune=commune, reporter_id=None, new=new, now=now, tz=tz).report
