"""The data behind each dashboard page, built from the plans and tallies modules.

Status, red flags and verdicts come from ``bot.plans.status`` (through
``bot.plans.store``); rates, trends, rankings and completeness from
``bot.tallies.store``. This module only selects what a viewer may see, filters
and arranges it; the few queries here are the dashboard's own (audit log, one task's
history, completeness by month).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from bot.audit import ENTITY_LABELS, AuditLine, describe
from bot.content.questions import feedback_summary, unanswered
from bot.core.people import roles_of
from bot.dates import add_months, month_start
from bot.i18n import Translator
from bot.plans.status import DUE_SOON_DAYS, Status, TaskStatus, Verdict, due_within, is_open
from bot.plans.store import (
    EvidenceView,
    IndicatorView,
    TaskView,
    commune_plans,
    indicator_views,
    pending_evidence,
    plan_tasks,
    task_views,
)
from bot.tallies.codes import CODE_NAMES
from bot.tallies.progress import CodeProgress, CommuneProgress
from bot.tallies.store import commune_view
from bot.web.access import Scope, Viewer, can_see_task, unit_scope, village_scope
from bot.web.params import BadInput
from db.models import (
    AuditEntry,
    ChatIdentity,
    Evidence,
    Indicator,
    Person,
    PersonRole,
    Plan,
    Tally,
    Task,
    TaskProgress,
    UnansweredQuestion,
    Unit,
    UnitAlias,
    Village,
    VillageDenominator,
)

COMPLETENESS_MONTHS = 12
AUDIT_PAGE_SIZE = 50
DEADLINE_FILTERS = ("overdue", "7", "14", "30", "none")
STATUS_FILTERS = ("red", *(s.value for s in Status))


# ------------------------------------------------------------------ who is looking


def load_viewer(session: Session, person_id: int) -> Viewer | None:
    """The access-relevant facts about a signed-in person (None if they are gone)."""
    person = session.get(Person, person_id)
    if person is None or person.id is None:
        return None
    return Viewer(
        person_id=person.id,
        name=person.display_name,
        commune_id=person.commune_id,
        roles=roles_of(session, person.id),
        unit_id=person.unit_id,
        village_id=person.village_id,
        province=person.province,
    )


def unit_names(session: Session, commune_id: int) -> dict[int, str]:
    """Every unit of a commune by id."""
    rows = session.exec(select(Unit).where(Unit.commune_id == commune_id).order_by(col(Unit.name)))
    return {u.id: u.name for u in rows if u.id is not None}


def choose_plan(
    session: Session, commune_id: int, slug: str | None
) -> tuple[Plan | None, list[Plan]]:
    """The plan a page shows (by slug, else the newest import) and all the commune's plans."""
    plans = commune_plans(session, commune_id)
    chosen = next((p for p in plans if slug and p.slug == slug), None)
    return chosen or (plans[0] if plans else None), plans


def plan_known(session: Session, commune_id: int, slug: str) -> bool:
    """Whether the commune has a plan with this slug."""
    return any(p.slug == slug for p in commune_plans(session, commune_id))


# ------------------------------------------------------------------ tasks


def visible_tasks(session: Session, viewer: Viewer, plan: Plan, today: dt.date) -> list[TaskView]:
    """The plan's active tasks this viewer may see, most urgent first."""
    scope = unit_scope(viewer)
    if scope.empty:
        return []
    views = plan_tasks(session, plan.id or 0, today)
    if scope.everything:
        return views
    return [
        v
        for v in views
        if can_see_task(viewer, plan.commune_id, v.task.lead_unit_id, v.task.coordinating)
    ]


def filter_tasks(
    views: Iterable[TaskView],
    today: dt.date,
    *,
    unit_id: int | None = None,
    status: str = "",
    deadline: str = "",
) -> list[TaskView]:
    """Tasks matching the filters of the task list (empty values match everything)."""
    out = []
    for view in views:
        s = view.status
        if unit_id is not None and view.task.lead_unit_id != unit_id:
            continue
        if status == "red" and not s.red:
            continue
        if status and status != "red" and s.status.value != status:
            continue
        if deadline == "overdue" and not (s.due is not None and s.due < today and is_open(s)):
            continue
        if deadline.isdigit() and not due_within(s, today, int(deadline)):
            continue
        if deadline == "none" and s.due is not None:
            continue
        out.append(view)
    return out


# ------------------------------------------------------------------ indicators


def plan_indicators(
    session: Session, plan: Plan, today: dt.date, progress: CommuneProgress | None = None
) -> list[IndicatorView]:
    """The plan's active indicators with targets, actual values and verdicts, in plan order.

    ``progress``: the plan's commune's progress this month, if the caller has it already.
    """
    rows = list(
        session.exec(
            select(Indicator)
            .where(Indicator.plan_id == plan.id, col(Indicator.active).is_(True))
            .order_by(col(Indicator.position), col(Indicator.id))
        )
    )
    known = {plan.commune_id: progress} if progress is not None else None
    return indicator_views(session, rows, today, known)


def verdict_counts(views: Iterable[IndicatorView]) -> dict[Verdict, int]:
    """How many indicators are met, on track, at risk…"""
    counts = {verdict: 0 for verdict in Verdict}
    for view in views:
        counts[view.status.verdict] += 1
    return counts


# ------------------------------------------------------------------ tallies


@dataclass(frozen=True)
class Completeness:
    """How many villages (of those visible) have reported this month."""

    reported: int
    total: int
    missing: list[str]

    @property
    def share(self) -> float:
        return self.reported / self.total if self.total else 0.0


def completeness(progress: CommuneProgress, scope: Scope) -> Completeness:
    """Villages (of those in scope) that reported this month."""
    rows = [v for v in progress.villages if scope.allows(v.village_id)]
    return Completeness(
        reported=sum(1 for v in rows if v.reported),
        total=len(rows),
        missing=[v.name for v in rows if not v.reported],
    )


def completeness_history(
    session: Session,
    commune_id: int,
    period: dt.date,
    scope: Scope,
    months: int = COMPLETENESS_MONTHS,
) -> list[tuple[dt.date, int, int]]:
    """(month, villages that reported, villages in scope) for the last months, oldest first."""
    villages = select(Village.id).where(Village.commune_id == commune_id)
    if not scope.everything:
        villages = villages.where(col(Village.id).in_(scope.ids or {-1}))
    total = len(session.exec(villages).all())
    start = add_months(period, -(months - 1))
    rows = session.exec(
        select(col(Tally.period), func.count(func.distinct(Tally.village_id)))
        .where(col(Tally.village_id).in_(villages), Tally.period >= start, Tally.period <= period)
        .group_by(col(Tally.period))
    ).all()
    counts = {month: int(n) for month, n in rows}
    return [
        (add_months(start, i), counts.get(add_months(start, i), 0), total) for i in range(months)
    ]


# ------------------------------------------------------------------ pages


@dataclass(frozen=True)
class CodeChart:
    """One tally code on the overview: its rate month by month this year, villages ranked.

    ``months`` holds every month of the year (first days), with the rate of the villages
    the viewer sees, or None for months to come or without a denominator. ``ranking`` is
    (village, rate, the viewer's own village) best first; empty when one village is seen.
    """

    code: str
    months: list[tuple[dt.date, float | None]]
    target: float | None
    target_year: int | None
    ranking: list[tuple[str, float | None, bool]]
    whole_commune: bool

    @property
    def latest(self) -> float | None:
        known = [rate for _, rate in self.months if rate is not None]
        return known[-1] if known else None


def code_charts(
    progress: CommuneProgress, scope: Scope, own_village: int | None
) -> list[CodeChart]:
    """Each tally code's rate by month of the year against its target, and villages ranked.

    ``progress`` must carry a trend back to January (``months=period.month - 1``). The
    whole commune's totals for viewers who see every village; else the villages they see.
    """
    period = progress.period
    seen = [v for v in progress.villages if scope.allows(v.village_id)]
    out = []
    for code in CODE_NAMES:
        parts = [progress.totals[code]] if scope.everything else [v.codes[code] for v in seen]
        denominator = sum(p.denominator or 0 for p in parts)
        width = period.month  # January .. this month
        rates: list[float | None] = []
        for index in range(width):
            values = [
                p.trend[len(p.trend) - width + index]
                for p in parts
                if len(p.trend) >= width and p.trend[len(p.trend) - width + index] is not None
            ]
            total = sum(v for v in values if v is not None)
            rates.append(total / denominator if values and denominator else None)
        months = [
            (period.replace(month=m), rates[m - 1] if m <= width else None) for m in range(1, 13)
        ]
        ranking = (
            []
            if len(seen) < 2
            else [
                (v.name, v.codes[code].rate, v.village_id == own_village)
                for v in sorted(
                    seen,
                    key=lambda v, c=code: (
                        v.codes[c].rate is None,
                        -(v.codes[c].rate or 0.0),
                        v.name,
                    ),  # type: ignore[misc]
                )
            ]
        )
        head = progress.totals[code]
        out.append(
            CodeChart(code, months, head.target, head.target_year, ranking, scope.everything)
        )
    return out


@dataclass
class OverviewData:
    """The overview page."""

    plan: Plan | None
    plans: list[Plan]
    indicators: list[IndicatorView]
    verdicts: dict[Verdict, int]
    red: list[TaskView]
    due_soon: list[TaskView]
    task_count: int
    status_counts: dict[Status, int]
    completeness: Completeness | None
    pending: list[EvidenceView]
    units: dict[int, str]
    month: dt.date
    shows_tasks: bool  # False for viewers who may see no task (team members)
    charts: list[CodeChart] = field(default_factory=list)


def overview(
    session: Session, viewer: Viewer, today: dt.date, plan_slug: str | None = None
) -> OverviewData:
    """Indicators against targets, red tasks, tasks due soon, tally completeness, evidence to review."""
    assert viewer.commune_id is not None
    commune_id = viewer.commune_id
    plan, plans = choose_plan(session, commune_id, plan_slug)
    tasks = visible_tasks(session, viewer, plan, today) if plan else []
    month = month_start(today)
    villages = village_scope(viewer)
    # The trend back to January feeds the charts (the months before it are not loaded);
    # the indicators' tally rates come from the same totals, computed once.
    progress = (
        None
        if villages.empty
        else commune_view(session, commune_id, month, months=max(1, month.month - 1))
    )
    indicators = plan_indicators(session, plan, today, progress) if plan else []
    status_counts = {status: 0 for status in Status}
    for view in tasks:
        status_counts[view.status.status] += 1
    shows_tasks = not unit_scope(viewer).empty
    pending = [
        e
        for e in (pending_evidence(session, commune_id) if shows_tasks else [])
        if can_see_task(viewer, commune_id, e.task.lead_unit_id, e.task.coordinating)
    ]
    return OverviewData(
        plan=plan,
        plans=plans,
        indicators=indicators,
        verdicts=verdict_counts(indicators),
        red=[v for v in tasks if v.status.red],
        due_soon=sorted(
            (v for v in tasks if due_within(v.status, today, DUE_SOON_DAYS)),
            key=lambda v: (v.status.due or dt.date.max, v.task.position),
        ),
        task_count=len(tasks),
        status_counts=status_counts,
        completeness=completeness(progress, villages) if progress and progress.villages else None,
        pending=pending,
        units=unit_names(session, commune_id),
        month=month,
        shows_tasks=shows_tasks,
        charts=code_charts(progress, villages, viewer.village_id)
        if progress and progress.villages
        else [],
    )


@dataclass(frozen=True)
class VillageRow:
    """One village on the villages page, for the chosen code."""

    village_id: int
    name: str
    reported: bool
    progress: CodeProgress
    rank: int | None


@dataclass
class VillagesData:
    """The villages page: one code across villages, all codes for the commune."""

    code: str
    month: dt.date
    rows: list[VillageRow]
    totals: dict[str, CodeProgress]
    village_count: int
    completeness: Completeness
    history: list[tuple[dt.date, int, int]]
    show_totals: bool


def villages(
    session: Session, viewer: Viewer, today: dt.date, code: str = "", month: dt.date | None = None
) -> VillagesData:
    """Rates, trend, ranking and completeness per village for one tally code ("": the first)."""
    assert viewer.commune_id is not None
    code = code or CODE_NAMES[0]
    period = month_start(month or today)
    progress = commune_view(session, viewer.commune_id, period)
    scope = village_scope(viewer)
    ranking = {vid: i + 1 for i, vid in enumerate(progress.ranking.get(code, []))}
    rows = [
        VillageRow(
            v.village_id,
            v.name,
            v.reported,
            v.codes[code],
            ranking.get(v.village_id) if v.codes[code].rate is not None else None,
        )
        for v in progress.villages
        if scope.allows(v.village_id)
    ]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.name))
    return VillagesData(
        code=code,
        month=period,
        rows=rows,
        totals=progress.totals,
        village_count=len(progress.villages),
        completeness=completeness(progress, scope),
        history=completeness_history(session, viewer.commune_id, period, scope),
        show_totals=scope.everything,
    )


@dataclass
class TasksData:
    """The task list with its filters."""

    plan: Plan | None
    plans: list[Plan]
    tasks: list[TaskView]
    total: int
    units: dict[int, str]
    unit_filter: int | None
    status_filter: str
    deadline_filter: str
    unit_choices: list[tuple[int, str]]


def tasks_page(
    session: Session,
    viewer: Viewer,
    today: dt.date,
    plan_slug: str | None = None,
    unit_filter: int | None = None,
    status_filter: str = "",
    deadline_filter: str = "",
) -> TasksData:
    """The tasks a viewer may see, filtered by unit, status and deadline (already checked)."""
    assert viewer.commune_id is not None
    plan, plans = choose_plan(session, viewer.commune_id, plan_slug)
    views = visible_tasks(session, viewer, plan, today) if plan else []
    units = unit_names(session, viewer.commune_id)
    if unit_filter is not None and unit_filter not in units:
        raise BadInput(400, "unit")
    shown = filter_tasks(
        views, today, unit_id=unit_filter, status=status_filter, deadline=deadline_filter
    )
    leading = sorted(
        {v.task.lead_unit_id for v in views if v.task.lead_unit_id is not None},
        key=lambda u: units.get(u, ""),
    )
    return TasksData(
        plan=plan,
        plans=plans,
        tasks=shown,
        total=len(views),
        units=units,
        unit_filter=unit_filter,
        status_filter=status_filter,
        deadline_filter=deadline_filter,
        unit_choices=[(u, units[u]) for u in leading if u in units],
    )


@dataclass(frozen=True)
class ProgressRow:
    """One progress report on a task."""

    period: str
    percent: int
    note: str
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class EvidenceRow:
    """One piece of evidence with its review decision."""

    evidence: Evidence
    by: str
    reviewer: str


@dataclass
class TaskPageData:
    """One task: its status per period, progress history, evidence and audit trail."""

    view: TaskView
    lead: str | None
    coordinating: list[str]
    progress: list[ProgressRow]
    evidence: list[EvidenceRow]
    audit: list[AuditLine]


def find_task(session: Session, task_id: int) -> tuple[Task, Plan] | None:
    """An active task and its plan, or None."""
    task = session.get(Task, task_id)
    if task is None or not task.active:
        return None
    plan = session.get(Plan, task.plan_id)
    return (task, plan) if plan is not None else None


def task_page(session: Session, task: Task, today: dt.date, t: Translator) -> TaskPageData:
    """Everything about one task (the caller checked the viewer may see it)."""
    assert task.id is not None
    view = task_views(session, [task], today)[0]
    plan = view.plan
    units = unit_names(session, plan.commune_id)
    progress_rows = list(
        session.exec(
            select(TaskProgress)
            .where(TaskProgress.task_id == task.id)
            .order_by(col(TaskProgress.at).desc())
        )
    )
    evidence_rows = list(
        session.exec(
            select(Evidence)
            .where(Evidence.task_id == task.id)
            .order_by(col(Evidence.uploaded_at).desc())
        )
    )
    people = _names(
        session,
        [p.reported_by for p in progress_rows]
        + [e.uploaded_by for e in evidence_rows]
        + [e.reviewed_by for e in evidence_rows],
    )
    evidence_ids = [str(e.id) for e in evidence_rows]
    audit = list(
        session.exec(
            select(AuditEntry)
            .where(
                or_(
                    and_(
                        col(AuditEntry.entity) == "task", col(AuditEntry.entity_id) == str(task.id)
                    ),
                    and_(
                        col(AuditEntry.entity) == "evidence",
                        col(AuditEntry.entity_id).in_(evidence_ids or ["-"]),
                    ),
                )
            )
            .order_by(col(AuditEntry.at).desc())
        )
    )
    return TaskPageData(
        view=view,
        lead=units.get(task.lead_unit_id) if task.lead_unit_id is not None else None,
        coordinating=[units[u] for u in task.coordinating if u in units],
        progress=[
            ProgressRow(p.period, p.percent, p.note, people.get(p.reported_by or 0, ""), p.at)
            for p in progress_rows
        ],
        evidence=[
            EvidenceRow(e, people.get(e.uploaded_by or 0, ""), people.get(e.reviewed_by or 0, ""))
            for e in evidence_rows
        ],
        audit=describe(session, audit, t),
    )


def find_evidence(session: Session, evidence_id: int) -> tuple[Evidence, Task, Plan] | None:
    """A piece of evidence with its task and plan, or None."""
    evidence = session.get(Evidence, evidence_id)
    task = session.get(Task, evidence.task_id) if evidence else None
    plan = session.get(Plan, task.plan_id) if task else None
    if evidence is None or task is None or plan is None:
        return None
    return evidence, task, plan


def _names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        p.id: p.display_name
        for p in session.exec(select(Person).where(col(Person.id).in_(wanted)))
        if p.id is not None
    }


# ------------------------------------------------------------------ units ranking


@dataclass
class UnitScore:
    """A unit's record on the periods of the tasks it leads."""

    unit_id: int
    name: str
    tasks: int = 0
    on_time: int = 0
    late: int = 0
    waiting: int = 0  # sent for review, not judged yet
    red: int = 0
    rank: int = 0

    @property
    def judged(self) -> int:
        return self.on_time + self.late

    @property
    def rate(self) -> float | None:
        return self.on_time / self.judged if self.judged else None


def rank_units(
    tasks: Sequence[tuple[int, TaskStatus, Mapping[str, dt.date]]],
    names: Mapping[int, str],
    today: dt.date,
) -> list[UnitScore]:
    """Rank units by on-time completion of the periods of the tasks they lead.

    ``tasks`` holds (lead unit id, status, first approved evidence date per period). A
    period counts once its deadline has passed or it is done: on time when its approved
    evidence was sent by the deadline, late otherwise; a period sent for review and not
    yet judged is "waiting". Best rate first, then more periods on time, fewer red tasks.
    """
    scores: dict[int, UnitScore] = {}
    for unit_id, status, approved in tasks:
        score = scores.setdefault(unit_id, UnitScore(unit_id, names.get(unit_id, "")))
        score.tasks += 1
        score.red += 1 if status.red else 0
        for period in status.periods:
            due = period.period.due
            if period.status == Status.DONE:
                sent = approved.get(period.period.key)
                if due is None or (sent is not None and sent <= due):
                    score.on_time += 1
                else:
                    score.late += 1
            elif period.status == Status.AWAITING_REVIEW:
                score.waiting += 1
            elif due is not None and due < today:
                score.late += 1
    ranked = sorted(
        scores.values(),
        key=lambda s: (s.rate is None, -(s.rate or 0.0), -s.on_time, s.red, s.name),
    )
    for index, score in enumerate(ranked, 1):
        score.rank = index
    return ranked


@dataclass
class UnitsData:
    plan: Plan | None
    plans: list[Plan]
    scores: list[UnitScore]
    own_unit: int | None


def units_page(
    session: Session, viewer: Viewer, today: dt.date, tz: ZoneInfo, plan_slug: str | None
) -> UnitsData:
    """Units ranked by on-time completion of the tasks they lead."""
    assert viewer.commune_id is not None
    plan, plans = choose_plan(session, viewer.commune_id, plan_slug)
    views = plan_tasks(session, plan.id or 0, today) if plan else []
    ids = [v.id for v in views]
    approved: dict[int, dict[str, dt.date]] = defaultdict(dict)
    if ids:
        rows = session.exec(
            select(col(Evidence.task_id), col(Evidence.period), func.min(Evidence.uploaded_at))
            .where(col(Evidence.task_id).in_(ids), Evidence.status == "approved")
            .group_by(col(Evidence.task_id), col(Evidence.period))
        ).all()
        for task_id, period, at in rows:
            moment = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            approved[task_id][period] = moment.astimezone(tz).date()
    names = unit_names(session, viewer.commune_id)
    entries = [
        (v.task.lead_unit_id, v.status, approved.get(v.id, {}))
        for v in views
        if v.task.lead_unit_id is not None
    ]
    return UnitsData(
        plan,
        plans,
        rank_units(entries, names, today),
        None if viewer.sees_all else viewer.unit_id,
    )


# ------------------------------------------------------------------ audit


@dataclass
class AuditData:
    lines: list[AuditLine]
    page: int
    has_more: bool
    kind: str
    kinds: list[str] = field(default_factory=list)


AUDIT_KINDS = tuple(ENTITY_LABELS)  # "admin" last: every other entity


def audit_page(
    session: Session, viewer: Viewer, t: Translator, page: int = 1, kind: str = ""
) -> AuditData:
    """The commune's audit log, newest first, optionally one kind of entity."""
    page = max(1, page)
    query = select(AuditEntry).where(AuditEntry.commune_id == viewer.commune_id)
    if kind == "admin":
        query = query.where(col(AuditEntry.entity).not_in(AUDIT_KINDS[:-1]))
    elif kind in AUDIT_KINDS:
        query = query.where(AuditEntry.entity == kind)
    else:
        kind = ""
    rows = list(
        session.exec(
            query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
            .offset((page - 1) * AUDIT_PAGE_SIZE)
            .limit(AUDIT_PAGE_SIZE + 1)
        )
    )
    return AuditData(
        describe(session, rows[:AUDIT_PAGE_SIZE], t),
        page,
        len(rows) > AUDIT_PAGE_SIZE,
        kind,
        list(AUDIT_KINDS),
    )


# ------------------------------------------------------------------ content


@dataclass(frozen=True)
class FeedbackRow:
    slug: str
    title: str
    helpful: int
    not_helpful: int


@dataclass
class ContentData:
    """Questions no guide answered and how residents rated the guides."""

    unanswered: list[UnansweredQuestion]
    feedback: list[FeedbackRow]


def content_page(session: Session, titles: Mapping[str, str]) -> ContentData:
    """Unanswered questions (most asked first) and guide feedback (most 👎 first)."""
    return ContentData(
        unanswered=unanswered(session, limit=100),
        feedback=[
            FeedbackRow(slug, titles.get(slug, slug), yes, no)
            for slug, yes, no in feedback_summary(session)
        ],
    )


# ------------------------------------------------------------------ people


@dataclass
class PersonRow:
    """One person of the commune as the people page lists them."""

    person: Person
    roles: list[str]
    village: str
    unit: str
    channels: list[str]  # where they can be written to privately
    group_only: list[str] = field(default_factory=list)  # Zalo: seen only in a group chat

    @property
    def id(self) -> int:
        assert self.person.id is not None
        return self.person.id


def people_rows(
    session: Session, commune_id: int, village_id: int | None = None
) -> list[PersonRow]:
    """The commune's people (residents left out), by village then name; three queries."""
    query = select(Person).where(Person.commune_id == commune_id)
    if village_id is not None:
        query = query.where(Person.village_id == village_id)
    people = {p.id: p for p in session.exec(query.order_by(col(Person.display_name)))}
    roles: dict[int, list[str]] = defaultdict(list)
    channels: dict[int, set[str]] = defaultdict(set)
    in_groups: dict[int, set[str]] = defaultdict(set)
    ids = [i for i in people if i is not None]
    if ids:
        for person_id, role in session.exec(
            select(PersonRole.person_id, PersonRole.role).where(col(PersonRole.person_id).in_(ids))
        ):
            roles[person_id].append(role)
        for person_id, channel, private in session.exec(
            select(ChatIdentity.person_id, ChatIdentity.channel, ChatIdentity.private).where(
                col(ChatIdentity.person_id).in_(ids)
            )
        ):
            (channels if private else in_groups)[person_id].add(channel)
    villages = {
        v.id: v.name for v in session.exec(select(Village).where(Village.commune_id == commune_id))
    }
    units = unit_names(session, commune_id)
    rows = [
        PersonRow(
            person,
            sorted(roles[pid]),
            villages.get(person.village_id, "") if person.village_id else "",
            units.get(person.unit_id, "") if person.unit_id else "",
            sorted(channels[pid]),
            sorted(in_groups[pid] - channels[pid]),
        )
        for pid, person in people.items()
        if pid is not None and set(roles[pid]) - {"resident"}
    ]
    rows.sort(key=lambda r: (r.village or "~", r.person.display_name))
    return rows


def commune_villages(session: Session, commune_id: int) -> list[Village]:
    """The commune's villages in their order."""
    return list(
        session.exec(
            select(Village).where(Village.commune_id == commune_id).order_by(col(Village.position))
        )
    )


def commune_units(session: Session, commune_id: int) -> list[Unit]:
    """The commune's units by name."""
    return list(
        session.exec(select(Unit).where(Unit.commune_id == commune_id).order_by(col(Unit.name)))
    )


# ------------------------------------------------------------------ set-up


@dataclass
class SetupData:
    """The commune as set up: villages with their latest denominators, units and spellings."""

    villages: list[tuple[Village, VillageDenominator | None]]
    units: list[tuple[Unit, list[str]]]


def setup_page(session: Session, commune_id: int) -> SetupData:
    """The villages (with the denominators in force, and since when) and units of a commune."""
    villages = commune_villages(session, commune_id)
    latest: dict[int, VillageDenominator] = {}
    ids = [v.id for v in villages if v.id is not None]
    if ids:
        for row in session.exec(
            select(VillageDenominator)
            .where(col(VillageDenominator.village_id).in_(ids))
            .order_by(col(VillageDenominator.valid_from))
        ):
            latest[row.village_id] = row  # the last one in date order wins
    units = commune_units(session, commune_id)
    aliases: dict[int, list[str]] = defaultdict(list)
    for alias in session.exec(select(UnitAlias).where(UnitAlias.commune_id == commune_id)):
        aliases[alias.unit_id].append(alias.alias)
    return SetupData(
        villages=[(v, latest.get(v.id or 0)) for v in villages],
        units=[
            (u, sorted(a for a in aliases[u.id or 0] if a.casefold() != u.name.casefold()))
            for u in units
        ],
    )
