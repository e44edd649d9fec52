"""Reading reports: queues most urgent first, one report with its history, a resident's own.

No permission checks here: the chat and the web decide who may see what, and what of it
(``ReportView.public_events`` is what a resident may read; the reporter's name is only
loaded when they agreed to be contacted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot.core.errors import UserError
from bot.feedback import open311
from bot.feedback.places import Point
from bot.feedback.policy import load_feedback_policy
from bot.feedback.status import OPEN_STATUSES, STATUS_LABELS, WITH_OFFICE, WITH_UNIT, Status
from bot.feedback.store import MSG_NO_REPORT, active_categories, keywords_of
from bot.i18n import N_, Translator
from db.models import (
    Commune,
    FeedbackCategory,
    FeedbackEvent,
    FeedbackPhoto,
    FeedbackRating,
    FeedbackReport,
    Person,
    Unit,
    Village,
)


@dataclass(frozen=True)
class QueueItem:
    """One line of a queue: a report with the names a person reads."""

    report: FeedbackReport
    category: str
    village: str
    unit: str
    due: dt.datetime
    overdue: bool


@dataclass
class ReportView:
    """A report with its names, history and photos, for the chat and the web."""

    report: FeedbackReport
    category: FeedbackCategory
    unit: str
    village: str
    events: list[FeedbackEvent]
    photos: list[FeedbackPhoto]
    reporter: Person | None  # only when the resident agreed to be contacted
    rated: bool  # the current round's answer was rated
    units: dict[int, str] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return Status(self.report.status)

    def public_events(self) -> list[FeedbackEvent]:
        """What the resident may read (no internal notes, no returns or hand-backs)."""
        return [e for e in self.events if not e.internal]


def next_due(report: FeedbackReport) -> dt.datetime:
    """The deadline that matters now: the first answer's until there is one, then closing."""
    if report.status in WITH_UNIT and report.answered_at is None:
        return report.answer_due_at
    return report.close_due_at


def is_overdue(report: FeedbackReport, now: dt.datetime) -> bool:
    """Whether the report missed the deadline that matters now."""
    return report.status in OPEN_STATUSES and now > next_due(report)


def _names(
    session: Session, model: type[Unit] | type[Village], ids: Iterable[int | None]
) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.exec(select(model.id, model.name).where(col(model.id).in_(wanted))).all()
    return {int(row_id): str(name) for row_id, name in rows if row_id is not None}


def queue_items(
    session: Session, reports: Sequence[FeedbackReport], now: dt.datetime
) -> list[QueueItem]:
    """Reports with the names a person reads, most urgent first."""
    categories = {
        c.id: c.name
        for c in session.exec(
            select(FeedbackCategory).where(
                col(FeedbackCategory.id).in_(sorted({r.category_id for r in reports}) or [0])
            )
        ).all()
    }
    villages = _names(session, Village, (r.village_id for r in reports))
    units = _names(session, Unit, (r.unit_id for r in reports))
    items = [
        QueueItem(
            report=r,
            category=categories.get(r.category_id, ""),
            village=villages.get(r.village_id or -1, ""),
            unit=units.get(r.unit_id or -1, ""),
            due=next_due(r),
            overdue=is_overdue(r, now),
        )
        for r in reports
    ]
    # Most urgent first: urgent categories, then what is late, then the nearest deadline.
    items.sort(key=lambda i: (not i.report.urgent, not i.overdue, i.due, i.report.id or 0))
    return items


def unit_queue(session: Session, unit_id: int, now: dt.datetime) -> list[QueueItem]:
    """The reports a unit owes an answer on, most urgent first."""
    reports = session.exec(
        select(FeedbackReport).where(
            FeedbackReport.unit_id == unit_id,
            col(FeedbackReport.status).in_(sorted(WITH_UNIT)),
        )
    ).all()
    return queue_items(session, reports, now)


def office_queue(session: Session, commune_id: int, now: dt.datetime) -> list[QueueItem]:
    """The reports waiting for the office: to route, to close or return, reopened."""
    reports = session.exec(
        select(FeedbackReport).where(
            FeedbackReport.commune_id == commune_id,
            col(FeedbackReport.status).in_(sorted(WITH_OFFICE)),
        )
    ).all()
    return queue_items(session, reports, now)


def open_counts(session: Session, commune_id: int, now: dt.datetime) -> tuple[int, int]:
    """(open reports with the units, of which overdue) for the office's summary line."""
    reports = session.exec(
        select(FeedbackReport).where(
            FeedbackReport.commune_id == commune_id,
            col(FeedbackReport.status).in_(sorted(WITH_UNIT)),
        )
    ).all()
    return len(reports), sum(1 for r in reports if is_overdue(r, now))


def own_reports(session: Session, person_id: int, limit: int = 10) -> list[FeedbackReport]:
    """A resident's reports: open ones first, newest first."""
    reports = session.exec(
        select(FeedbackReport)
        .where(FeedbackReport.reporter_id == person_id)
        .order_by(col(FeedbackReport.created_at).desc(), col(FeedbackReport.id).desc())
        .limit(100)
    ).all()
    ordered = sorted(reports, key=lambda r: r.status == Status.CLOSED)
    return ordered[:limit]


def report_view(session: Session, report_id: int) -> ReportView:
    """Everything about one report (no permission check: callers decide who sees what)."""
    report = session.get(FeedbackReport, report_id)
    if report is None:
        raise UserError(MSG_NO_REPORT)
    category = session.get(FeedbackCategory, report.category_id)
    assert category is not None
    events = list(
        session.exec(
            select(FeedbackEvent)
            .where(FeedbackEvent.report_id == report_id)
            .order_by(col(FeedbackEvent.seq))
        ).all()
    )
    photos = list(
        session.exec(
            select(FeedbackPhoto)
            .where(FeedbackPhoto.report_id == report_id)
            .order_by(col(FeedbackPhoto.id))
        ).all()
    )
    units = _names(session, Unit, [report.unit_id, *(e.unit_id for e in events)])
    village = session.get(Village, report.village_id) if report.village_id else None
    reporter = (
        session.get(Person, report.reporter_id)
        if report.contact_allowed and report.reporter_id is not None
        else None
    )
    rated = (
        session.exec(
            select(FeedbackRating.id).where(
                FeedbackRating.report_id == report_id, FeedbackRating.round == report.reopened
            )
        ).first()
        is not None
    )
    return ReportView(
        report=report,
        category=category,
        unit=units.get(report.unit_id or -1, ""),
        village=village.name if village else "",
        events=events,
        photos=photos,
        reporter=reporter,
        rated=rated,
        units=units,
    )


def find_report(session: Session, commune_id: int | None, typed: str) -> FeedbackReport | None:
    """A report by the code a person typed: "PA-0427", "pa 427" or "427"."""
    digits = "".join(ch for ch in typed if ch.isascii() and ch.isdigit())
    if not digits or len(digits) > 9 or commune_id is None:
        return None
    return session.exec(
        select(FeedbackReport).where(
            FeedbackReport.commune_id == commune_id, FeedbackReport.number == int(digits)
        )
    ).first()


def villages_of(session: Session, commune_id: int) -> list[Village]:
    """The commune's villages in their order (bot.communes.villages_of once it is on main)."""
    return list(
        session.exec(
            select(Village)
            .where(Village.commune_id == commune_id)
            .order_by(col(Village.position), col(Village.id))
        ).all()
    )


def units_of(session: Session, commune_id: int) -> list[Unit]:
    """The commune's units, in the order they were set up."""
    return list(
        session.exec(select(Unit).where(Unit.commune_id == commune_id).order_by(col(Unit.id))).all()
    )


# ------------------------------------------------------------------ Open311

NOTICE = N_("First answer within {answer} working day(s); settled within {close} working day(s).")


def jurisdiction_id(commune: Commune) -> str:
    """The commune's Open311 jurisdiction_id: as configured, else its slug."""
    return load_feedback_policy(commune.settings).jurisdiction_id or commune.slug


def services(session: Session, commune_id: int) -> list[open311.Service]:
    """The commune's active categories as Open311 services."""
    return [
        open311.Service(
            code=c.code,
            name=c.name,
            description=c.description,
            group=c.group,
            keywords=keywords_of(c),
        )
        for c in active_categories(session, commune_id)
    ]


def public_request(view: ReportView, commune: Commune, t: Translator) -> open311.PublicRequest:
    """A report as the outside sees it: no person, no internal notes, nothing identifying."""
    answers = [e for e in view.public_events() if e.kind in ("answered", "closed") and e.text]
    return _public(
        view.report,
        view.category,
        view.unit,
        view.village,
        answers[-1].text if answers else "",
        commune,
        t,
    )


def _public(
    report: FeedbackReport,
    category: FeedbackCategory,
    unit: str,
    village: str,
    note: str,
    commune: Commune,
    t: Translator,
) -> open311.PublicRequest:
    status = Status(report.status)
    point = (
        Point(report.latitude, report.longitude)
        if report.latitude is not None and report.longitude is not None
        else None
    )
    address = ", ".join(
        part for part in (report.landmark, village, commune.name, commune.province or "") if part
    )
    return open311.PublicRequest(
        service_request_id=report.code,
        status=status,
        service_code=category.code,
        service_name=category.name,
        description=report.text,
        requested=report.created_at,
        updated=report.updated_at,
        expected=report.close_due_at if status is not Status.CLOSED else None,
        status_notes=note or t.gettext(STATUS_LABELS[status]),
        agency_responsible=unit or None,
        service_notice=t.gettext(NOTICE, answer=category.answer_days, close=category.close_days),
        address=address or None,
        point=point,
    )


def public_requests(
    session: Session, commune: Commune, query: open311.RequestQuery, t: Translator
) -> list[open311.PublicRequest]:
    """GET Service Requests for a commune: the newest first, at most 1,000.

    Names, categories and the last public answer are read for all the reports at once.
    """
    statement = select(FeedbackReport).where(FeedbackReport.commune_id == commune.id)
    if query.ids:
        numbers = [n for n in (_number(i) for i in query.ids) if n is not None]
        statement = statement.where(col(FeedbackReport.number).in_(numbers or [0]))
    else:
        if query.start is not None:
            statement = statement.where(col(FeedbackReport.created_at) >= query.start)
        if query.end is not None:
            statement = statement.where(col(FeedbackReport.created_at) <= query.end)
    statement = statement.order_by(
        col(FeedbackReport.created_at).desc(), col(FeedbackReport.id).desc()
    ).limit(open311.REQUESTS_LIMIT * 2)
    reports = session.exec(statement).all()
    ids = [r.id for r in reports if r.id is not None]
    categories = {
        c.id: c
        for c in session.exec(
            select(FeedbackCategory).where(
                col(FeedbackCategory.id).in_(sorted({r.category_id for r in reports}) or [0])
            )
        ).all()
    }
    villages = _names(session, Village, (r.village_id for r in reports))
    units = _names(session, Unit, (r.unit_id for r in reports))
    notes: dict[int, str] = {}
    if ids:
        for event in session.exec(
            select(FeedbackEvent)
            .where(
                col(FeedbackEvent.report_id).in_(ids),
                col(FeedbackEvent.kind).in_(("answered", "closed")),
                col(FeedbackEvent.internal).is_(False),
                col(FeedbackEvent.text) != "",
            )
            .order_by(col(FeedbackEvent.report_id), col(FeedbackEvent.seq))
        ).all():
            notes[event.report_id] = event.text  # the last one wins
    found = []
    for report in reports:
        category = categories.get(report.category_id)
        if category is None or report.id is None:
            continue
        request = _public(
            report,
            category,
            units.get(report.unit_id or -1, ""),
            villages.get(report.village_id or -1, ""),
            notes.get(report.id, ""),
            commune,
            t,
        )
        if query.matches(request):
            found.append(request)
        if len(found) >= open311.REQUESTS_LIMIT:
            break
    return found


def _number(code: str) -> int | None:
    digits = code.rpartition("-")[2]
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 10 else None
