"""The dashboard's reading of reports: a filtered queue, and one report with its people.

No permission checks and no HTTP here (``bot.web.routes.feedback`` decides who sees
what): ``board`` takes the unit a unit officer is limited to, ``report_page`` names the
people of a report's history without ever naming a resident who did not agree to be
contacted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.feedback import queues
from bot.feedback.status import OPEN_STATUSES, STATUS_LABELS, Actor, Status
from bot.feedback.store import ensure_categories
from bot.i18n import N_
from db.models import FeedbackEvent, FeedbackRating, FeedbackReport, Person

SHOWN_LIMIT = 500  # rows on one page (a commune's month is far fewer)
OPEN, OVERDUE = "open", "overdue"
STATUS_FILTERS: dict[str, str] = {
    OPEN: N_("Not closed yet"),
    OVERDUE: N_("Past the deadline"),
    **{status.value: label for status, label in STATUS_LABELS.items()},
}
AGE_FILTERS: dict[str, str] = {
    "2": N_("Received in the last 2 days"),
    "7": N_("Received in the last 7 days"),
    "30": N_("Received in the last 30 days"),
    "older": N_("Received more than 30 days ago"),
}


@dataclass(frozen=True)
class Filters:
    """What the queue is narrowed to (None: no filter)."""

    status: str | None = None
    category: str | None = None  # a category code
    village_id: int | None = None
    unit_id: int | None = None
    age: str | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.status, self.category, self.village_id,
                                           self.unit_id, self.age))  # fmt: skip


@dataclass
class Board:
    """A queue page: the reports shown, how many there are, and the filters' choices."""

    items: list[queues.QueueItem]
    total: int  # reports the viewer may see, before the filters
    matched: int  # after the filters (``items`` stops at SHOWN_LIMIT)
    filters: Filters
    categories: list[tuple[str, str]] = field(default_factory=list)  # code, name
    villages: list[tuple[int, str]] = field(default_factory=list)
    units: list[tuple[int, str]] = field(default_factory=list)
    ratings: dict[int, bool] = field(default_factory=dict)  # report id -> last verdict


def _sort_key(item: queues.QueueItem) -> tuple[object, ...]:
    report = item.report
    if report.status == Status.CLOSED:
        closed = report.closed_at or report.updated_at
        return (1, 0, 0, -closed.timestamp(), report.id or 0)
    return (0, not report.urgent, not item.overdue, item.due.timestamp(), report.id or 0)


def board(
    session: Session,
    commune_id: int,
    *,
    only_unit: int | None,
    filters: Filters,
    now: dt.datetime,
    limit: int = SHOWN_LIMIT,
) -> Board:
    """The commune's reports (or one unit's, ``only_unit``), filtered, most urgent first.

    Open reports come first (urgent, then late, then the nearest deadline), closed ones
    after, the most recently closed first.
    """
    where = [col(FeedbackReport.commune_id) == commune_id]
    if only_unit is not None:
        where.append(col(FeedbackReport.unit_id) == only_unit)
    total = session.exec(select(func.count()).select_from(FeedbackReport).where(*where)).one()
    scope = select(FeedbackReport).where(*where)
    categories = ensure_categories(session, commune_id)
    statement = scope
    status = filters.status
    if status in (OPEN, OVERDUE):
        statement = statement.where(col(FeedbackReport.status).in_(sorted(OPEN_STATUSES)))
    elif status is not None:
        statement = statement.where(FeedbackReport.status == status)
    if filters.category is not None:
        wanted = [c.id for c in categories if c.code == filters.category]
        statement = statement.where(col(FeedbackReport.category_id).in_(wanted or [-1]))
    if filters.village_id is not None:
        statement = statement.where(FeedbackReport.village_id == filters.village_id)
    if filters.unit_id is not None:
        statement = statement.where(FeedbackReport.unit_id == filters.unit_id)
    if filters.age == "older":
        statement = statement.where(col(FeedbackReport.created_at) < now - dt.timedelta(days=30))
    elif filters.age is not None:
        since = now - dt.timedelta(days=int(filters.age))
        statement = statement.where(col(FeedbackReport.created_at) >= since)
    items = queues.queue_items(session, session.exec(statement).all(), now)
    if status == OVERDUE:
        items = [i for i in items if i.overdue]
    items.sort(key=_sort_key)
    shown = items[:limit]
    ids = [i.report.id for i in shown if i.report.id is not None]
    ratings: dict[int, bool] = {}
    if ids:
        for rating in session.exec(
            select(FeedbackRating)
            .where(col(FeedbackRating.report_id).in_(ids))
            .order_by(col(FeedbackRating.round), col(FeedbackRating.id))
        ).all():
            ratings[rating.report_id] = rating.satisfied  # the last round's verdict wins
    return Board(
        items=shown,
        total=total,
        matched=len(items),
        filters=filters,
        categories=[(c.code, c.name) for c in categories],
        villages=[(v.id, v.name) for v in queues.villages_of(session, commune_id) if v.id],
        units=[(u.id, u.name) for u in queues.units_of(session, commune_id) if u.id],
        ratings=ratings,
    )


def category_codes(session: Session, commune_id: int) -> list[str]:
    """The codes a category filter may take."""
    return [c.code for c in ensure_categories(session, commune_id)]


@dataclass
class ReportPage:
    """One report for the dashboard: the view, who did each step, whether it is late."""

    view: queues.ReportView
    actors: dict[int, str | None]  # event id -> an officer's name; None: the resident;
    # "": tocns itself. A resident is never named in the history.
    overdue: bool
    due: dt.datetime


def report_page(session: Session, report_id: int, now: dt.datetime) -> ReportPage:
    """Everything the dashboard shows about a report (callers check who may see it)."""
    view = queues.report_view(session, report_id)
    staff_ids = sorted(
        {e.actor_id for e in view.events if e.actor_id is not None and e.actor_role != "resident"}
    )
    names = {
        person.id: person.display_name
        for person in session.exec(select(Person).where(col(Person.id).in_(staff_ids or [-1])))
        if person.id is not None
    }
    actors: dict[int, str | None] = {}
    for event in view.events:
        if event.id is None:
            continue
        actors[event.id] = _actor(event, names)
    return ReportPage(
        view=view,
        actors=actors,
        overdue=queues.is_overdue(view.report, now),
        due=queues.next_due(view.report),
    )


def _actor(event: FeedbackEvent, names: dict[int, str]) -> str | None:
    """Who made a step: an officer's name; None for the resident; "" for tocns itself."""
    if event.actor_role == Actor.RESIDENT:
        return None
    if event.actor_role == Actor.SYSTEM or event.actor_id is None:
        return ""
    return names.get(event.actor_id, "")
