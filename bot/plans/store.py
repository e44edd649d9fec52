"""Plan queries and writes shared by the chat handlers, the dashboard and reminders.

Every function takes the caller's session and never commits. Status is always
computed by ``bot.plans.status`` from the stored progress history and evidence.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from bot import audit
from bot.core.errors import UserError
from bot.core.messages import Choice, Reply
from bot.dates import month_start
from bot.i18n import N_, translator
from bot.plans.choices import TaskChoice
from bot.plans.evidence import StoredEvidence
from bot.plans.status import (
    EvidenceEntry,
    IndicatorStatus,
    Period,
    ProgressEntry,
    Schedule,
    TaskStatus,
    current_period,
    effective_start,
    indicator_status,
    task_status,
    urgency,
)
from bot.plans.target import TargetSpec, effective_target
from bot.reminders.outbox import enqueue
from bot.tallies.progress import CommuneProgress
from bot.tallies.store import commune_view
from bot.text import shorten
from db.models import (
    Evidence,
    EvidenceStatus,
    Indicator,
    IndicatorTarget,
    IndicatorValue,
    Person,
    PersonRole,
    Plan,
    Role,
    Task,
    TaskProgress,
    Unit,
)

MSG_NO_TASK = N_("This task no longer exists.")
MSG_NOT_YOUR_TASK = N_(
    "This task belongs to another unit, so you cannot change it. "
    "Type /nhiemvu to see your unit's tasks."
)
MSG_NO_EVIDENCE = N_("This evidence is no longer waiting for review.")
MSG_NO_INDICATOR = N_("This indicator no longer exists.")
MSG_NOT_YOUR_INDICATOR = N_("This indicator is led by another unit, so you cannot enter its value.")
MSG_TALLY_INDICATOR = N_(
    "This indicator is calculated from the villages' reports; there is nothing to enter."
)
MSG_REJECTED_NOTICE = N_(
    "❗ The standing office asked to complete task {number}: {text}\n"
    "Reason: {reason}\n"
    "Please send new evidence."
)
MSG_APPROVED_NOTICE = N_("✅ The standing office approved the evidence for task {number}: {text}")
MSG_OPEN_TASK = N_("Open the task")


# ------------------------------------------------------------------ tasks


@dataclass
class TaskView:
    """A task with its plan and computed status."""

    task: Task
    plan: Plan
    status: TaskStatus
    unit: str | None = None

    @property
    def id(self) -> int:
        assert self.task.id is not None
        return self.task.id


def schedule_of(task: Task, plan: Plan, tz_date: dt.date | None = None) -> Schedule:
    """The status module's view of when a task is due."""
    imported = tz_date or plan.imported_at.date()
    start = effective_start(task.start, plan.issued, imported)
    return Schedule(kind=task.kind, due=task.due, repeat=task.repeat, start=start)


def _history(
    session: Session, task_ids: list[int]
) -> tuple[dict[int, list[ProgressEntry]], dict[int, list[EvidenceEntry]]]:
    progress: dict[int, list[ProgressEntry]] = defaultdict(list)
    evidence: dict[int, list[EvidenceEntry]] = defaultdict(list)
    if not task_ids:
        return progress, evidence
    # Columns, not ORM objects: a province's history is tens of thousands of rows.
    for task_id, period, percent, at in session.exec(
        select(TaskProgress.task_id, TaskProgress.period, TaskProgress.percent, TaskProgress.at)
        .where(col(TaskProgress.task_id).in_(task_ids))
        .order_by(col(TaskProgress.id))
    ):
        progress[task_id].append(ProgressEntry(period, percent, at))
    for task_id, period, status, uploaded_at in session.exec(
        select(Evidence.task_id, Evidence.period, Evidence.status, Evidence.uploaded_at)
        .where(col(Evidence.task_id).in_(task_ids))
        .order_by(col(Evidence.id))
    ):
        evidence[task_id].append(EvidenceEntry(period, EvidenceStatus(status), uploaded_at))
    return progress, evidence


def task_views(session: Session, tasks: list[Task], today: dt.date) -> list[TaskView]:
    """Tasks with their status, most urgent first."""
    plans = {
        p.id: p
        for p in session.exec(select(Plan).where(col(Plan.id).in_({t.plan_id for t in tasks})))
    }
    unit_ids = {t.lead_unit_id for t in tasks if t.lead_unit_id is not None}
    units = {u.id: u.name for u in session.exec(select(Unit).where(col(Unit.id).in_(unit_ids)))}
    progress, evidence = _history(session, [t.id for t in tasks if t.id is not None])
    views = []
    for task in tasks:
        assert task.id is not None
        plan = plans[task.plan_id]
        status = task_status(schedule_of(task, plan), progress[task.id], evidence[task.id], today)
        unit = units.get(task.lead_unit_id) if task.lead_unit_id is not None else None
        views.append(TaskView(task, plan, status, unit))
    views.sort(key=lambda v: urgency(v.status, _number_key(v.task.number)))
    return views


def _number_key(number: str) -> str:
    return ".".join(part.zfill(4) for part in number.split("."))


def unit_tasks(session: Session, unit_id: int, today: dt.date) -> list[TaskView]:
    """The active tasks a unit leads, most urgent first."""
    tasks = list(
        session.exec(select(Task).where(Task.lead_unit_id == unit_id, col(Task.active).is_(True)))
    )
    return task_views(session, tasks, today)


def plan_tasks(session: Session, plan_id: int, today: dt.date) -> list[TaskView]:
    """Every active task of a plan, most urgent first (for the dashboard)."""
    tasks = list(
        session.exec(select(Task).where(Task.plan_id == plan_id, col(Task.active).is_(True)))
    )
    return task_views(session, tasks, today)


def newest_plans(session: Session, commune_ids: list[int]) -> dict[int, Plan]:
    """Each of these communes' newest plan (as ``commune_plans(...)[0]``), in one query."""
    newest: dict[int, Plan] = {}
    for plan in session.exec(
        select(Plan)
        .where(col(Plan.commune_id).in_(commune_ids))
        .order_by(col(Plan.imported_at).desc())
    ):
        newest.setdefault(plan.commune_id, plan)
    return newest


def tasks_of_plans(
    session: Session, plan_ids: list[int], today: dt.date
) -> dict[int, list[TaskView]]:
    """Every active task of each plan, most urgent first: ``plan_tasks`` for many plans."""
    tasks = list(
        session.exec(
            select(Task).where(col(Task.plan_id).in_(plan_ids), col(Task.active).is_(True))
        )
    )
    by_plan: dict[int, list[TaskView]] = {plan_id: [] for plan_id in plan_ids}
    for view in task_views(session, tasks, today):
        by_plan[view.task.plan_id].append(view)
    return by_plan


def pending_counts(session: Session, commune_ids: list[int]) -> dict[int, int]:
    """How much evidence waits for review in each of these communes (absent: none)."""
    rows = session.exec(
        select(Plan.commune_id, func.count(col(Evidence.id)))
        .join(Task, col(Task.id) == Evidence.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .where(Evidence.status == EvidenceStatus.PENDING, col(Plan.commune_id).in_(commune_ids))
        .group_by(col(Plan.commune_id))
    )
    return {commune_id: count for commune_id, count in rows}


def commune_plans(session: Session, commune_id: int) -> list[Plan]:
    """A commune's plans, newest import first."""
    return list(
        session.exec(
            select(Plan).where(Plan.commune_id == commune_id).order_by(col(Plan.imported_at).desc())
        )
    )


def task_view(session: Session, task_id: int, today: dt.date) -> TaskView:
    """One task with its status; UserError if it is gone."""
    task = session.get(Task, task_id)
    if task is None or not task.active:
        raise UserError(MSG_NO_TASK)
    return task_views(session, [task], today)[0]


def task_for_officer(session: Session, task_id: int, person: Person, today: dt.date) -> TaskView:
    """A task the person's unit leads; UserError for anyone else's task."""
    view = task_view(session, task_id, today)
    if person.unit_id is None or view.task.lead_unit_id != person.unit_id:
        raise UserError(MSG_NOT_YOUR_TASK)
    return view


def period_now(view: TaskView, today: dt.date) -> Period:
    """The period a report sent today belongs to."""
    return current_period(schedule_of(view.task, view.plan), today)


def has_evidence(session: Session, task_id: int, period: str) -> bool:
    """Whether evidence awaiting review or approved exists for a task's period."""
    found = session.exec(
        select(Evidence.id).where(
            Evidence.task_id == task_id,
            Evidence.period == period,
            col(Evidence.status).in_((EvidenceStatus.PENDING, EvidenceStatus.APPROVED)),
        )
    ).first()
    return found is not None


def record_progress(
    session: Session,
    view: TaskView,
    *,
    person_id: int,
    percent: int,
    note: str,
    today: dt.date,
    now: dt.datetime,
) -> TaskProgress:
    """Add a progress report for the current period of a task."""
    row = TaskProgress(
        task_id=view.id,
        period=period_now(view, today).key,
        percent=max(0, min(100, percent)),
        note=note[:2000],
        reported_by=person_id,
        at=now,
    )
    session.add(row)
    session.flush()
    return row


def record_evidence(
    session: Session,
    view: TaskView,
    stored: StoredEvidence,
    *,
    person_id: int,
    today: dt.date,
    now: dt.datetime,
) -> Evidence:
    """Record stored evidence for the current period of a task, awaiting review."""
    row = Evidence(
        task_id=view.id,
        period=period_now(view, today).key,
        kind=stored.kind,
        file_name=stored.file_name,
        mime_type=stored.mime_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_path=stored.storage_path,
        url=stored.url,
        uploaded_by=person_id,
        uploaded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def set_due(session: Session, task: Task, due: dt.date, *, actor: Person, now: dt.datetime) -> None:
    """Set the deadline of a task "on event" once the event happened (audited)."""
    old = task.due.isoformat() if task.due else None
    task.due = due
    session.add(task)
    audit.record(
        session,
        commune_id=actor.commune_id,
        action="task.set_due",
        entity="task",
        entity_id=task.id,
        actor=actor,
        old={"due": old},
        new={"due": due.isoformat()},
        at=now,
    )


def set_lead_unit(
    session: Session, task: Task, unit: Unit, *, actor: Person, now: dt.datetime
) -> None:
    """Give a task another lead unit of its commune (audited); its officers get the reminders."""
    if unit.commune_id != actor.commune_id:
        raise ValueError("a task is led by a unit of its own commune")
    old = task.lead_unit_id
    task.lead_unit_id = unit.id
    session.add(task)
    audit.record(
        session,
        commune_id=actor.commune_id,
        action="task.set_lead",
        entity="task",
        entity_id=task.id,
        actor=actor,
        old={"lead_unit_id": old},
        new={"lead_unit_id": unit.id},
        at=now,
    )


# ------------------------------------------------------------------ review

MIN_REJECT_REASON = 3  # characters: the unit must learn what to fix


@dataclass
class EvidenceView:
    """A piece of evidence with what the reviewer needs to judge it."""

    evidence: Evidence
    task: Task
    unit: str | None
    uploader: str

    @property
    def id(self) -> int:
        assert self.evidence.id is not None
        return self.evidence.id


def pending_evidence(session: Session, commune_id: int | None) -> list[EvidenceView]:
    """Evidence awaiting review in a commune, oldest first."""
    query = (
        select(Evidence, Task, col(Unit.name), col(Person.display_name))
        .join(Task, col(Task.id) == Evidence.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .outerjoin(Unit, col(Unit.id) == Task.lead_unit_id)
        .outerjoin(Person, col(Person.id) == Evidence.uploaded_by)
        .where(Evidence.status == EvidenceStatus.PENDING)
        .order_by(col(Evidence.uploaded_at), col(Evidence.id))
    )
    if commune_id is not None:
        query = query.where(Plan.commune_id == commune_id)
    return [  # one query, however long the queue
        EvidenceView(evidence, task, unit, uploader or "")
        for evidence, task, unit, uploader in session.exec(query)
    ]


def _evidence_view(session: Session, evidence: Evidence, task: Task) -> EvidenceView:
    unit = session.get(Unit, task.lead_unit_id) if task.lead_unit_id else None
    uploader = session.get(Person, evidence.uploaded_by) if evidence.uploaded_by else None
    return EvidenceView(
        evidence, task, unit.name if unit else None, uploader.display_name if uploader else ""
    )


def evidence_for_review(session: Session, evidence_id: int, commune_id: int | None) -> EvidenceView:
    """A pending piece of evidence of this commune; UserError otherwise."""
    evidence = session.get(Evidence, evidence_id)
    task = session.get(Task, evidence.task_id) if evidence else None
    plan = session.get(Plan, task.plan_id) if task else None
    if (
        evidence is None
        or task is None
        or plan is None
        or evidence.status != EvidenceStatus.PENDING
        or (commune_id is not None and plan.commune_id != commune_id)
    ):
        raise UserError(MSG_NO_EVIDENCE)
    return _evidence_view(session, evidence, task)


def unit_officers(session: Session, unit_id: int) -> list[Person]:
    """People linked to a unit with the unit-officer role."""
    query = (
        select(Person)
        .join(PersonRole, col(PersonRole.person_id) == Person.id)
        .where(Person.unit_id == unit_id, PersonRole.role == Role.UNIT)
        .order_by(col(Person.id))
    )
    return list(session.exec(query))


def review_evidence(
    session: Session,
    evidence_id: int,
    *,
    reviewer: Person,
    approve: bool,
    reason: str = "",
    now: dt.datetime,
) -> Evidence:
    """Approve or reject evidence, audit it, and tell the unit's officers through the outbox."""
    view = evidence_for_review(session, evidence_id, reviewer.commune_id)
    evidence, task = view.evidence, view.task
    decision = EvidenceStatus.APPROVED if approve else EvidenceStatus.REJECTED
    evidence.status = decision
    evidence.reviewed_by = reviewer.id
    evidence.reviewed_at = now
    evidence.review_reason = reason[:1000]
    session.add(evidence)
    audit.record(
        session,
        commune_id=reviewer.commune_id,
        action=f"evidence.{'approve' if approve else 'reject'}",
        entity="evidence",
        entity_id=evidence.id,
        actor=reviewer,
        old={"status": EvidenceStatus.PENDING.value},
        new={"status": decision.value, "task_id": task.id, "period": evidence.period},
        reason=reason,
        at=now,
    )
    if task.lead_unit_id is not None:
        for officer in unit_officers(session, task.lead_unit_id):
            assert officer.id is not None and task.id is not None
            t = translator(officer.locale)
            text = shorten(task.text, 120)
            if approve:
                body = t.gettext(MSG_APPROVED_NOTICE, number=task.number, text=text)
            else:
                body = t.gettext(MSG_REJECTED_NOTICE, number=task.number, text=text, reason=reason)
            reply = Reply(
                text=body, choices=[Choice(t.gettext(MSG_OPEN_TASK), TaskChoice(task.id).pack())]
            )
            enqueue(
                session,
                person_id=officer.id,
                kind=f"review_{decision}",
                reply=reply,
                dedupe_key=f"review:{evidence.id}:{decision}:{officer.id}",
                due_at=now,
                task_id=task.id,
            )
    session.flush()
    return evidence


# ------------------------------------------------------------------ indicators


@dataclass
class IndicatorView:
    """An indicator with this year's target and its actual value."""

    indicator: Indicator
    plan: Plan
    status: IndicatorStatus
    source: str  # tally | entered | none

    @property
    def id(self) -> int:
        assert self.indicator.id is not None
        return self.indicator.id

    @property
    def yes_or_no(self) -> bool:
        """A target written as a word with no number ("Liên thông"): entered as achieved
        (1) or not yet (0), and shown that way."""
        target = self.status.target
        return target is not None and target.op == "achieved" and self.source != "tally"


def tally_rates(
    session: Session, commune_id: int, today: dt.date, view: CommuneProgress | None = None
) -> dict[str, float | None]:
    """Commune-wide rate (percent) of every tally code this month, as /tiendo shows it.

    One rule for the chat and the dashboard: each village's latest count carried
    forward, over the denominators of every village (``bot.tallies.progress``). ``view``:
    the commune's progress for this month, when the caller already has it (any trend
    length: older counts carry forward into the month's totals the same way).
    """
    if view is None:
        view = commune_view(session, commune_id, month_start(today), months=0)
    assert view.period == month_start(today)
    return {
        code: None if total.rate is None or total.trend[-1] is None else round(100 * total.rate, 2)
        for code, total in view.totals.items()
    }


def indicator_views(
    session: Session,
    indicators: list[Indicator],
    today: dt.date,
    progress: Mapping[int, CommuneProgress] | None = None,
) -> list[IndicatorView]:
    """Indicators with their targets, actual values and verdicts.

    ``progress``: communes' progress this month (by commune id) the caller already has
    (the overview draws its charts from it), so their tally rates are not computed twice.
    """
    ids = [i.id for i in indicators if i.id is not None]
    plans = {
        p.id: p
        for p in session.exec(select(Plan).where(col(Plan.id).in_({i.plan_id for i in indicators})))
    }
    targets: dict[int, dict[int, tuple[str, TargetSpec]]] = defaultdict(dict)
    for row in session.exec(
        select(IndicatorTarget).where(col(IndicatorTarget.indicator_id).in_(ids))
    ):
        targets[row.indicator_id][row.year] = (row.raw, _target(row))
    texts = {i.id: i.text for i in indicators}
    for indicator_id, years in targets.items():
        for year, (raw, spec) in years.items():
            years[year] = effective_target(raw, spec, texts.get(indicator_id, ""))
    entered: dict[int, float] = {}
    for value in session.exec(
        select(IndicatorValue)
        .where(col(IndicatorValue.indicator_id).in_(ids))
        .order_by(col(IndicatorValue.at))
    ):
        entered[value.indicator_id] = value.value
    rates: dict[int, dict[str, float | None]] = {}
    views = []
    for indicator in indicators:
        assert indicator.id is not None
        plan = plans[indicator.plan_id]
        actual: float | None = None
        source = "none"
        if indicator.tally_code:
            if plan.commune_id not in rates:
                rates[plan.commune_id] = tally_rates(
                    session, plan.commune_id, today, (progress or {}).get(plan.commune_id)
                )
            actual = rates[plan.commune_id].get(indicator.tally_code)
            source = "tally"
        elif indicator.id in entered:
            actual, source = entered[indicator.id], "entered"
        status = indicator_status(targets[indicator.id], actual, today, plan.issued)
        views.append(IndicatorView(indicator, plan, status, source))
    return views


def _target(row: IndicatorTarget) -> TargetSpec:
    return TargetSpec(op=row.op, value=row.value, low=row.low, high=row.high)  # type: ignore[arg-type]


def unit_indicators(session: Session, unit_id: int, today: dt.date) -> list[IndicatorView]:
    """The active indicators a unit leads, in plan order."""
    rows = list(
        session.exec(
            select(Indicator)
            .where(Indicator.lead_unit_id == unit_id, col(Indicator.active).is_(True))
            .order_by(col(Indicator.plan_id), col(Indicator.position))
        )
    )
    return indicator_views(session, rows, today)


def indicator_for_officer(
    session: Session, indicator_id: int, person: Person, today: dt.date
) -> IndicatorView:
    """An indicator the person's unit leads and enters by hand; UserError otherwise."""
    indicator = session.get(Indicator, indicator_id)
    if indicator is None or not indicator.active:
        raise UserError(MSG_NO_INDICATOR)
    if person.unit_id is None or indicator.lead_unit_id != person.unit_id:
        raise UserError(MSG_NOT_YOUR_INDICATOR)
    if indicator.tally_code:
        raise UserError(MSG_TALLY_INDICATOR)
    return indicator_views(session, [indicator], today)[0]


def record_indicator_value(
    session: Session,
    view: IndicatorView,
    value: float,
    stored: StoredEvidence,
    *,
    person: Person,
    note: str = "",
    now: dt.datetime,
) -> IndicatorValue:
    """Record an actual value with its evidence (the evidence is kept in the audit trail)."""
    row = IndicatorValue(
        indicator_id=view.id, value=value, note=note[:1000], entered_by=person.id, at=now
    )
    session.add(row)
    session.flush()
    evidence = {
        "kind": stored.kind,
        "file_name": stored.file_name,
        "mime_type": stored.mime_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "storage_path": stored.storage_path,
        "url": stored.url,
    }
    audit.record(
        session,
        commune_id=person.commune_id,
        action="indicator.value",
        entity="indicator",
        entity_id=view.id,
        actor=person,
        new={"value": value, "indicator_value_id": row.id, "evidence": evidence},
        at=now,
    )
    return row
