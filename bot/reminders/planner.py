"""From the database and the injected clock to outbox rows: what is due gets queued once.

One pass (``plan_pass``) per wake-up, for every commune:

* task reminders the policy implies from the last pass up to ``now + lookahead`` are
  queued (``enqueue``, keyed by deterministic dedupe keys); pending ones that are no
  longer implied (deadline, officers or policy changed) are cancelled, and pending ones
  whose time moved are re-timed and re-worded;
* red alerts: a task turning red opens a ``RedEpisode`` and its unit hears why, once;
* the weekly digest and the monthly tally cycle are queued when their time comes;
* catch-up: anything that fell due since the last pass (the process was down) is queued
  to be sent now, unless older than the policy's catch-up window, in which case it is
  recorded with status "missed" — never skipped silently, never queued twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from bot.core.messages import Reply
from bot.core.people import village_groups
from bot.feedback import deadlines
from bot.feedback.queues import is_overdue, next_due
from bot.feedback.status import Status as FeedbackStatus
from bot.i18n import DEFAULT_LOCALE, Translator, translator
from bot.plans.status import (
    REASON_LABELS,
    EvidenceEntry,
    ProgressEntry,
    Status,
    TaskStatus,
    due_within,
    task_status,
)
from bot.plans.store import schedule_of
from bot.reminders import messages
from bot.reminders.outbox import enqueue
from bot.reminders.policy import (
    TASK_KINDS,
    Planned,
    Recipients,
    ReminderPolicy,
    TaskInfo,
    digest_times,
    load_policy,
    planned_reminders,
    tally_steps,
)
from bot.tallies.store import commune_view
from db.engine import AdvisoryLock, insert_unless_exists, rowcount, transaction_lock
from db.models import (
    Commune,
    Evidence,
    FeedbackCategory,
    FeedbackReport,
    JobMark,
    MessageKindCount,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonRole,
    Plan,
    RedEpisode,
    Role,
    Task,
    TaskProgress,
    Unit,
    Village,
)

log = logging.getLogger(__name__)

TALLY_GROUP_KIND = "tally_group"  # the tally reminder in a village's group chat


# ------------------------------------------------------------------ loading plain data


@dataclass
class TaskRecord:
    """A task with everything reminders need: schedule data, status and wording."""

    task: Task
    plan: Plan
    info: TaskInfo
    view: messages.ReminderTask
    status: TaskStatus


@dataclass
class CommuneData:
    """One commune's tasks, officers, people and policy at one moment."""

    commune: Commune
    policy: ReminderPolicy
    tasks: list[TaskRecord]
    recipients: Recipients
    units: dict[int, str]
    people: dict[int, Person] = field(default_factory=dict)
    roles: dict[int, set[str]] = field(default_factory=dict)

    def with_role(self, *roles: str) -> list[int]:
        """Ids of people holding any of these roles, in id order."""
        return sorted(pid for pid, held in self.roles.items() if held & set(roles))


def _local_date(moment: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return moment.astimezone(tz).date()


def load_tasks(
    session: Session, commune_id: int, today: dt.date, tz: dt.tzinfo, *, plan: str | None = None
) -> list[TaskRecord]:
    """Active tasks of a commune's plans with their status on ``today``."""
    query = select(Plan).where(Plan.commune_id == commune_id)
    if plan is not None:
        query = query.where(Plan.slug == plan)
    plans = {p.id: p for p in session.exec(query).all()}
    if not plans:
        return []
    tasks = session.exec(
        select(Task)
        .where(col(Task.plan_id).in_(list(plans)), col(Task.active).is_(True))
        .order_by(col(Task.plan_id), col(Task.position), col(Task.id))
    ).all()
    ids = [t.id for t in tasks]
    progress: dict[int, list[ProgressEntry]] = defaultdict(list)
    for row in session.exec(select(TaskProgress).where(col(TaskProgress.task_id).in_(ids))).all():
        progress[row.task_id].append(ProgressEntry(row.period, row.percent, row.at))
    evidence: dict[int, list[EvidenceEntry]] = defaultdict(list)
    for ev in session.exec(select(Evidence).where(col(Evidence.task_id).in_(ids))).all():
        evidence[ev.task_id].append(EvidenceEntry(ev.period, ev.status, ev.uploaded_at))
    units = {
        u.id: u.name for u in session.exec(select(Unit).where(Unit.commune_id == commune_id)).all()
    }
    records = []
    for task in tasks:
        assert task.id is not None
        owner = plans[task.plan_id]
        schedule = schedule_of(task, owner)
        status = task_status(schedule, progress[task.id], evidence[task.id], today)
        done = frozenset(e.period for e in evidence[task.id] if e.status in ("approved", "pending"))
        info = TaskInfo(
            id=task.id,
            kind=task.kind,
            due=task.due,
            repeat=task.repeat,
            start=task.start,
            lead_unit_id=task.lead_unit_id,
            coordinating=tuple(int(u) for u in task.coordinating or ()),
            done_periods=done,
            active=task.active,
        )
        headline = next((p for p in status.periods if p.period == status.period), None)
        reported = any(p.period == status.period.key for p in progress[task.id])
        view = messages.ReminderTask(
            id=task.id,
            number=task.number,
            text=task.text,
            unit=units.get(task.lead_unit_id or -1, ""),
            due=status.due,
            percent=status.percent if reported or status.status == Status.DONE else None,
            expected=headline.expected if headline is not None else None,
            red_reasons=tuple(REASON_LABELS[r] for r in status.reasons) if status.red else (),
            period=status.period.key,
        )
        records.append(TaskRecord(task, owner, info, view, status))
    return records


def load_commune(
    session: Session, commune: Commune, today: dt.date, tz: dt.tzinfo, *, plan: str | None = None
) -> CommuneData:
    """Everything one planning pass needs about one commune."""
    assert commune.id is not None
    people = {
        p.id: p
        for p in session.exec(select(Person).where(Person.commune_id == commune.id)).all()
        if p.id is not None
    }
    roles: dict[int, set[str]] = defaultdict(set)
    if people:
        for row in session.exec(
            select(PersonRole).where(col(PersonRole.person_id).in_(list(people)))
        ).all():
            roles[row.person_id].add(row.role)
    officers: dict[int, list[int]] = defaultdict(list)
    for pid in sorted(people):
        person = people[pid]
        if Role.UNIT in roles.get(pid, set()) and person.unit_id is not None:
            officers[person.unit_id].append(pid)
    units = {
        u.id: u.name
        for u in session.exec(select(Unit).where(Unit.commune_id == commune.id)).all()
        if u.id
    }
    return CommuneData(
        commune=commune,
        policy=load_policy(commune.settings),
        tasks=load_tasks(session, commune.id, today, tz, plan=plan),
        recipients=Recipients({k: tuple(v) for k, v in officers.items()}),
        units=units,
        people=people,
        roles=dict(roles),
    )


def missing_villages(session: Session, commune_id: int, period: dt.date) -> list[Village]:
    """Villages with no tally at all for the month (the tallies feature's completeness)."""
    villages = session.exec(
        select(Village)
        .where(Village.commune_id == commune_id)
        .order_by(col(Village.position), col(Village.id))
    ).all()
    view = commune_view(session, commune_id, period, months=1)
    reported = {v.village_id for v in view.villages if v.reported}
    return [v for v in villages if v.id not in reported]


# ------------------------------------------------------------------ composing


def _translator(person: Person | None) -> Translator:
    return translator(person.locale if person is not None else DEFAULT_LOCALE)


def compose_task_reminder(data: CommuneData, planned: Planned, tz: dt.tzinfo) -> Reply:
    """The message for one planned task reminder, worded for its recipient."""
    record = next(r for r in data.tasks if r.info.id == planned.task_id)
    view = record.view
    if planned.due is not None and planned.due != view.due:
        view = messages.ReminderTask(
            **{**view.__dict__, "due": planned.due, "period": planned.period}
        )
    elif planned.period:
        view = messages.ReminderTask(**{**view.__dict__, "period": planned.period})
    person = data.people.get(planned.person_id or -1)
    return messages.task_reminder(
        _translator(person), planned.kind, view, _local_date(planned.at, tz), lead_unit=view.unit
    )


# ------------------------------------------------------------------ the pass


@dataclass
class PassStats:
    """What one planning pass did."""

    queued: int = 0
    missed: int = 0
    cancelled: int = 0
    retimed: int = 0
    red_alerts: int = 0
    digests: int = 0
    tally: int = 0
    feedback: int = 0  # report deadline reminders and escalations queued

    def add(self, other: PassStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _mark(session: Session, name: str) -> JobMark | None:
    return session.exec(select(JobMark).where(JobMark.name == name)).first()


def advance_mark(session: Session, name: str, now: dt.datetime) -> None:
    """Record that a job ran up to ``now``; never moves a mark back.

    The mark is claimed (inserted unless another worker's pass inserted it first), never
    inserted blindly: workers started together all run their first pass at once.
    """
    created = insert_unless_exists(
        session,
        JobMark.__table__,  # type: ignore[attr-defined]
        {"name": name, "at": now},
        conflict=["name"],
    )
    if not created:
        session.execute(
            update(JobMark)
            .where(col(JobMark.name) == name, col(JobMark.at) < now)
            .values(at=now)
            .execution_options(synchronize_session=False)
        )


def guarded_update(
    session: Session, row: OutboxMessage, expected: OutboxStatus, values: dict[str, Any]
) -> bool:
    """Change an outbox row read earlier only if its status is still ``expected``.

    A pass reads rows at its start and writes much later; meanwhile a sender may have
    claimed or delivered one. ``UPDATE … WHERE status = expected`` makes the write a
    no-op then (a delivered row is never marked cancelled and queued again).
    """
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not rowcount(result):
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)  # in step with the row, without a second write
    return True


class _Queue:
    """Queues rows for one pass: enqueue, re-time, reactivate or record as missed."""

    def __init__(
        self, session: Session, now: dt.datetime, catchup: dt.timedelta, stats: PassStats
    ) -> None:
        self.session = session
        self.now = now
        self.catchup = catchup
        self.stats = stats
        self.existing: dict[str, OutboxMessage] = {}

    def preload(self, keys: Iterable[str]) -> None:
        wanted = [k for k in keys if k not in self.existing]
        for chunk in range(0, len(wanted), 500):
            part = wanted[chunk : chunk + 500]
            for row in self.session.exec(
                select(OutboxMessage).where(col(OutboxMessage.dedupe_key).in_(part))
            ).all():
                self.existing[row.dedupe_key] = row

    def put(
        self,
        *,
        person_id: int,
        kind: str,
        reply: Reply,
        key: str,
        at: dt.datetime,
        task_id: int | None = None,
    ) -> str:
        """Queue one message; returns what happened (queued, missed, retimed, kept, skipped)."""
        self.preload([key])
        row = self.existing.get(key)
        too_old = at < self.now - self.catchup
        if row is not None:
            content = reply.to_dict()
            if row.status == OutboxStatus.CANCELLED and not too_old:
                values = {"status": OutboxStatus.PENDING, "due_at": at, "content": content}
                if guarded_update(self.session, row, OutboxStatus.CANCELLED, values):
                    self.stats.queued += 1
                    return "queued"
                return "kept"
            if row.status == OutboxStatus.PENDING:
                moved = row.due_at != at
                if not moved and row.content == content:
                    return "kept"
                if not guarded_update(
                    self.session, row, OutboxStatus.PENDING, {"due_at": at, "content": content}
                ):
                    return "kept"  # claimed or sent meanwhile by a sender: leave it be
                self.stats.retimed += moved
                return "retimed"
            return "kept"
        created = enqueue(
            self.session,
            person_id=person_id,
            kind=kind,
            reply=reply,
            dedupe_key=key,
            due_at=at,
            task_id=task_id,
        )
        if created is None:
            return "skipped"  # nobody to send to (no chat yet)
        self.existing[key] = created
        if too_old:
            created.status = OutboxStatus.MISSED
            created.last_error = "fell due while tocns was not running"
            self.session.add(created)
            self.stats.missed += 1
            return "missed"
        self.stats.queued += 1
        return "queued"


def plan_commune(
    session: Session,
    commune: Commune,
    now: dt.datetime,
    tz: ZoneInfo,
) -> PassStats:
    """One planning pass for one commune (in the caller's transaction)."""
    assert commune.id is not None
    stats = PassStats()
    today = _local_date(now, tz)
    data = load_commune(session, commune, today, tz)
    policy = data.policy
    mark_name = f"reminders:{commune.id}"
    mark = _mark(session, mark_name)
    since = mark.at if mark is not None else now
    catchup = dt.timedelta(hours=policy.catchup_hours)
    lookahead = dt.timedelta(hours=policy.lookahead_hours)
    queue = _Queue(session, now, catchup, stats)

    # ---- task reminders: queue what is implied, cancel what no longer is
    start = min(since, now - catchup) if mark is not None else now - catchup
    pending = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.commune_id == commune.id,
            OutboxMessage.status == OutboxStatus.PENDING,
            col(OutboxMessage.kind).in_(sorted(TASK_KINDS)),
        )
    ).all()
    # Plan well past the lookahead so a pending row whose time moved (policy change) is
    # re-timed rather than cancelled and queued again.
    end = max([now + lookahead, *(row.due_at for row in pending)]) + dt.timedelta(days=14)
    planned = planned_reminders(
        [r.info for r in data.tasks], data.recipients, policy, start, end, tz=tz
    )
    wanted = {p.dedupe_key for p in planned}
    for row in pending:
        if row.dedupe_key not in wanted and row.due_at >= start:
            stats.cancelled += guarded_update(
                session,
                row,
                OutboxStatus.PENDING,
                {
                    "status": OutboxStatus.CANCELLED,
                    "last_error": "no longer planned (deadline, officers or policy changed)",
                },
            )
    queue.preload(wanted)
    for item in planned:
        if item.person_id is None:
            continue
        if item.at < since and item.dedupe_key not in queue.existing:
            # Implied before the last pass but never queued (e.g. the officer joined later).
            continue
        if item.at >= now + lookahead and item.dedupe_key not in queue.existing:
            continue  # beyond the lookahead: queued on a later pass
        queue.put(
            person_id=item.person_id,
            kind=item.kind,
            reply=compose_task_reminder(data, item, tz),
            key=item.dedupe_key,
            at=item.at,
            task_id=item.task_id,
        )

    # ---- red alerts, once per red episode
    _red_alerts(session, data, queue, now, tz)

    # ---- residents' reports: T−1, on the day, then escalation to the office and leaders
    _feedback_deadlines(session, data, queue, since, start, lookahead, tz)

    # ---- weekly digest
    for at, day in digest_times(policy, since, now + dt.timedelta(seconds=1), tz=tz):
        reply_for = _digest_factory(session, data, _local_date(at, tz), now)
        for pid in data.with_role(Role.OFFICE, Role.COMMUNE_LEADER):
            result = queue.put(
                person_id=pid,
                kind="digest",
                reply=reply_for(data.people[pid]),
                key=f"digest:{commune.id}:{day.isoformat()}:{pid}",
                at=at,
            )
            stats.digests += result == "queued"

    # ---- monthly tally cycle
    for step in tally_steps(policy, since, now + dt.timedelta(seconds=1), tz=tz):
        stats.tally += _tally_step(session, data, queue, step)

    advance_mark(session, mark_name, now)
    return stats


def red_alert_key(episode: RedEpisode, person_id: int) -> str:
    """The alert's dedupe key from domain facts: the task, when it turned red, the officer.

    Never the episode's surrogate id: two workers that each opened an episode for the
    same task (before the open-episode index) would otherwise alert twice.
    """
    started = episode.started_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"red:{episode.task_id}:{started}:{person_id}"


def open_red_episode(session: Session, task_id: int, reason: str, now: dt.datetime) -> RedEpisode:
    """The task's open red episode, opened now unless another pass opened it first.

    ``INSERT … ON CONFLICT DO NOTHING`` on the partial unique index of open episodes: on
    PostgreSQL a concurrent pass's insert waits for the first one's commit, then finds
    the episode it opened.
    """
    insert_unless_exists(
        session,
        RedEpisode.__table__,  # type: ignore[attr-defined]
        {"task_id": task_id, "reason": reason, "started_at": now, "ended_at": None},
        conflict=["task_id"],
        where=col(RedEpisode.ended_at).is_(None),
    )
    episode = session.exec(
        select(RedEpisode)
        .where(RedEpisode.task_id == task_id, col(RedEpisode.ended_at).is_(None))
        .execution_options(populate_existing=True)
    ).one()
    return episode


def _red_alerts(
    session: Session, data: CommuneData, queue: _Queue, now: dt.datetime, tz: ZoneInfo
) -> None:
    policy = data.policy
    task_ids = [r.info.id for r in data.tasks]
    open_episodes = {
        e.task_id: e
        for e in session.exec(
            select(RedEpisode).where(
                col(RedEpisode.task_id).in_(task_ids), col(RedEpisode.ended_at).is_(None)
            )
        ).all()
    }
    wanted: list[tuple[TaskRecord, RedEpisode, int, str]] = []
    for record in data.tasks:
        episode = open_episodes.get(record.info.id)
        if not record.status.red:
            if episode is not None:
                episode.ended_at = now
                session.add(episode)
            continue
        if episode is None:
            reasons = ",".join(r.value for r in record.status.reasons)
            episode = open_red_episode(session, record.info.id, reasons[:500], now)
        if policy.red_alerts:
            for pid in data.recipients.of(record.info.lead_unit_id):
                wanted.append((record, episode, pid, red_alert_key(episode, pid)))
    # Keys written before they were made of domain facts only carried the episode's id.
    legacy = {key: f"red:{episode.task_id}:{episode.id}:{pid}" for _, episode, pid, key in wanted}
    queue.preload([*legacy, *legacy.values()])
    for record, episode, pid, key in wanted:
        if key in queue.existing or legacy[key] in queue.existing:
            continue  # told once per episode; never re-worded or re-timed
        at = policy.next_allowed(max(now, episode.started_at).astimezone(tz)).astimezone(dt.UTC)
        reply = messages.red_alert(
            _translator(data.people.get(pid)), record.view, _local_date(now, tz)
        )
        result = queue.put(
            person_id=pid, kind="red", reply=reply, key=key, at=at, task_id=record.info.id
        )
        queue.stats.red_alerts += result == "queued"


def _open_reports(
    session: Session, commune_id: int
) -> tuple[dict[int, FeedbackReport], list[deadlines.OpenReport]]:
    """The commune's open reports: the rows by id, and what their reminders need to know."""
    rows = session.exec(
        select(FeedbackReport).where(
            FeedbackReport.commune_id == commune_id,
            FeedbackReport.status != FeedbackStatus.CLOSED,
        )
    ).all()
    reports = {row.id: row for row in rows if row.id is not None}
    open_reports = [
        deadlines.OpenReport(
            id=row_id,
            commune_id=commune_id,
            code=row.code,
            status=FeedbackStatus(row.status),
            urgent=row.urgent,
            unit_id=row.unit_id,
            received=row.created_at,
            answer_due=row.answer_due_at,
            close_due=row.close_due_at,
            answered=row.answered_at is not None,
        )
        for row_id, row in reports.items()
    ]
    return reports, open_reports


def _feedback_deadlines(
    session: Session,
    data: CommuneData,
    queue: _Queue,
    since: dt.datetime,
    start: dt.datetime,
    lookahead: dt.timedelta,
    tz: ZoneInfo,
) -> None:
    """Queue the deadline reminders of open reports; cancel those no longer implied."""
    commune_id = data.commune.id
    assert commune_id is not None
    now = queue.now
    reports, open_reports = _open_reports(session, commune_id)
    pending = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.commune_id == commune_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            col(OutboxMessage.kind).in_(sorted(deadlines.KINDS)),
        )
    ).all()
    end = max([now + lookahead, *(row.due_at for row in pending)]) + dt.timedelta(days=14)
    notices = deadlines.planned_notices(open_reports, data.policy, tz, start, end)
    office = data.with_role(Role.OFFICE)
    leaders = data.with_role(Role.COMMUNE_LEADER)
    officers = data.recipients.officers
    planned = [
        (notice, pid)
        for notice in notices
        for pid in deadlines.recipients(notice, officers, office, leaders)
    ]
    wanted = {notice.key(pid) for notice, pid in planned}
    for row in pending:
        if row.dedupe_key not in wanted and row.due_at >= start:
            queue.stats.cancelled += guarded_update(
                session,
                row,
                OutboxStatus.PENDING,
                {
                    "status": OutboxStatus.CANCELLED,
                    "last_error": "no longer planned (answered, closed or reassigned)",
                },
            )
    queue.preload(wanted)
    categories = {
        c.id: c.name
        for c in session.exec(
            select(FeedbackCategory).where(FeedbackCategory.commune_id == commune_id)
        ).all()
    }
    for notice, pid in planned:
        key = notice.key(pid)
        if notice.at < since and key not in queue.existing:
            continue  # implied before the last pass (e.g. the officer joined later)
        if notice.at >= now + lookahead and key not in queue.existing:
            continue  # queued on a later pass
        source = reports[notice.report.id]
        reply = deadlines.compose(
            _translator(data.people.get(pid)),
            notice,
            tz,
            category=categories.get(source.category_id, ""),
            unit=data.units.get(source.unit_id or -1, ""),
            text=source.text,
        )
        result = queue.put(person_id=pid, kind=notice.kind, reply=reply, key=key, at=notice.at)
        queue.stats.feedback += result == "queued"


def _late_reports(session: Session, data: CommuneData, now: dt.datetime) -> list[str]:
    """Open reports past the deadline that matters now, most overdue first: "PA-0427 (unit)"."""
    rows = session.exec(
        select(FeedbackReport).where(
            FeedbackReport.commune_id == data.commune.id,
            FeedbackReport.status != FeedbackStatus.CLOSED,
        )
    ).all()
    late = sorted((next_due(r), r.code, r.unit_id) for r in rows if is_overdue(r, now))
    return [
        f"{code} ({data.units[unit]})" if unit in data.units else code for _, code, unit in late
    ]


def _digest_factory(session: Session, data: CommuneData, on: dt.date, now: dt.datetime) -> Any:
    assert data.commune.id is not None
    red: dict[str, list[messages.ReminderTask]] = defaultdict(list)
    due_soon = []
    for record in data.tasks:
        if record.status.red:
            red[record.view.unit].append(record.view)
        if due_within(record.status, on):
            due_soon.append(record.view)
    due_soon.sort(key=lambda v: (v.due or dt.date.max, v.number))
    period = on.replace(day=1)
    missing = [v.name for v in missing_villages(session, data.commune.id, period)]
    task_ids = [r.info.id for r in data.tasks]
    pending_evidence = len(
        session.exec(
            select(Evidence.id).where(
                col(Evidence.task_id).in_(task_ids), Evidence.status == "pending"
            )
        ).all()
    )
    unreadable: dict[str, int] = defaultdict(int)
    for row in session.exec(
        select(MessageKindCount).where(col(MessageKindCount.day) > on - dt.timedelta(days=7))
    ).all():
        unreadable[row.kind] += row.count  # the deployment's, as the counts have no commune
    content = messages.Digest(
        on=on,
        red_by_unit=dict(sorted(red.items())),
        due_soon=due_soon,
        villages_missing=missing,
        evidence_pending=pending_evidence,
        unreadable=dict(unreadable),
        feedback_late=_late_reports(session, data, now),
    )

    def reply_for(person: Person | None) -> Reply:
        return messages.digest(_translator(person), content)

    return reply_for


def _tally_step(session: Session, data: CommuneData, queue: _Queue, step: Any) -> int:
    assert data.commune.id is not None
    missing = missing_villages(session, data.commune.id, step.period)
    month = f"{step.period.year}-{step.period.month:02d}"
    count = 0
    if step.office:
        if missing:
            names = [v.name for v in missing]
            for pid in data.with_role(Role.OFFICE):
                reply = messages.tally_office(_translator(data.people[pid]), names, step.period)
                key = f"tally:{month}:{step.stage}:{pid}"
                count += (
                    queue.put(person_id=pid, kind="tally_office", reply=reply, key=key, at=step.at)
                    == "queued"
                )
        return count
    by_village = {v.id: v for v in missing}
    for pid, person in sorted(data.people.items()):
        village = by_village.get(person.village_id or -1)
        if village is None:
            continue
        held = data.roles.get(pid, set())
        leader = step.leaders and Role.LEADER in held
        if not leader and Role.TEAM not in held:
            continue
        reply = messages.tally_reminder(_translator(person), village.name, step.period, leader)
        key = f"tally:{month}:{step.stage}:{pid}"
        kind = "tally_leader" if leader else "tally"
        count += queue.put(person_id=pid, kind=kind, reply=reply, key=key, at=step.at) == "queued"
    if not step.leaders:  # the first reminder of the cycle also goes to the village's group
        count += _tally_groups(session, data, queue, step, by_village)
    return count


def _tally_groups(
    session: Session, data: CommuneData, queue: _Queue, step: Any, missing: dict[Any, Village]
) -> int:
    """Queue the reminder to the group chats of villages that have not reported."""
    month = f"{step.period.year}-{step.period.month:02d}"
    t = translator(DEFAULT_LOCALE)
    count = 0
    for group in village_groups(session, [vid for vid in missing if vid is not None]):
        key = f"tally:{month}:{step.stage}:v{group.village_id}:g{group.id}"
        queue.preload([key])
        if key in queue.existing or step.at < queue.now - queue.catchup:
            continue  # queued already, or too late to remind a whole group
        row = OutboxMessage(
            commune_id=data.commune.id,
            channel=group.channel,
            chat_id=group.chat_id,
            kind=TALLY_GROUP_KIND,
            content=messages.tally_group(t, missing[group.village_id].name, step.period).to_dict(),
            dedupe_key=key,
            due_at=step.at,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # queued concurrently by another process
        queue.existing[key] = row
        queue.stats.queued += 1
        count += 1
    return count


def cancel_stale_tally(session: Session, now: dt.datetime) -> int:
    """Cancel queued tally reminders to villages that reported since they were queued."""
    rows = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING,
            col(OutboxMessage.kind).in_(["tally", "tally_leader", TALLY_GROUP_KIND]),
        )
    ).all()
    cancelled = 0
    missing: dict[tuple[int, dt.date], set[int | None]] = {}
    for row in rows:
        where = _tally_village(session, row)
        if where is None:
            continue
        commune_id, village = where
        month = row.dedupe_key.split(":")[1]
        period = dt.date(int(month[:4]), int(month[5:7]), 1)
        key = (commune_id, period)
        if key not in missing:
            missing[key] = {v.id for v in missing_villages(session, commune_id, period)}
        if village not in missing[key]:
            cancelled += guarded_update(
                session,
                row,
                OutboxStatus.PENDING,
                {"status": OutboxStatus.CANCELLED, "last_error": "the village reported"},
            )
    return cancelled


def _tally_village(session: Session, row: OutboxMessage) -> tuple[int, int] | None:
    """The (commune, village) a queued tally reminder is about."""
    if row.kind == TALLY_GROUP_KIND:  # tally:<month>:<stage>:v<village>:g<group>
        part = row.dedupe_key.split(":")[3]
        if row.commune_id is None or not part[1:].isdigit():
            return None
        return row.commune_id, int(part[1:])
    person = session.get(Person, row.person_id) if row.person_id else None
    if person is None or person.village_id is None or person.commune_id is None:
        return None
    return person.commune_id, person.village_id


def plan_pass(engine: Any, now: dt.datetime, tz: ZoneInfo) -> PassStats:
    """One planning pass over every commune, in one transaction."""
    total = PassStats()
    with Session(engine) as session:
        # Workers' passes take turns: each then sees what the previous one queued. (The
        # dedupe keys and the open-episode index make overlapping passes safe anyway;
        # the lock saves their wasted work and lock waits.)
        transaction_lock(session, AdvisoryLock.PLANNER)
        for commune in session.exec(select(Commune).order_by(col(Commune.id))).all():
            total.add(plan_commune(session, commune, now, tz))
        total.cancelled += cancel_stale_tally(session, now)
        session.commit()
    return total


def preview(
    session: Session,
    commune: Commune,
    start: dt.datetime,
    end: dt.datetime,
    tz: ZoneInfo,
    *,
    plan: str | None = None,
) -> list[dict[str, Any]]:
    """What would be sent in a window, to whom (units without officers shown by name).

    Besides the plan's reminders, digests and figure reminders: the deadline reminders
    and escalations of residents' open reports (not when previewing one plan).
    """
    assert commune.id is not None
    data = load_commune(session, commune, _local_date(start, tz), tz, plan=plan)
    policy = data.policy
    numbers = {r.info.id: r.task.number for r in data.tasks}
    items: list[dict[str, Any]] = []

    def name_of(pid: int | None, unit_id: int | None) -> str:
        if pid is not None and pid in data.people:
            return data.people[pid].display_name or f"#{pid}"
        return data.units.get(unit_id or -1, "?")

    for p in planned_reminders(
        [r.info for r in data.tasks],
        data.recipients,
        policy,
        start,
        end,
        tz=tz,
        include_unstaffed=True,
    ):
        items.append(
            {
                "at": p.at.astimezone(tz).isoformat(),
                "recipient": name_of(p.person_id, p.unit_id),
                "recipient_id": p.person_id,
                "unit": data.units.get(p.unit_id or -1),
                "staffed": p.person_id is not None,
                "task": numbers.get(p.task_id or -1),
                "task_id": p.task_id,
                "report": None,
                "kind": p.kind,
                "due": p.due.isoformat() if p.due else None,
                "dedupe_key": p.dedupe_key,
            }
        )
    for at, day in digest_times(policy, start, end, tz=tz):
        for pid in data.with_role(Role.OFFICE, Role.COMMUNE_LEADER):
            items.append(
                _other(
                    at, tz, name_of(pid, None), pid, "digest", f"digest:{commune.id}:{day}:{pid}"
                )
            )
        if not data.with_role(Role.OFFICE, Role.COMMUNE_LEADER):
            items.append(_other(at, tz, "Văn phòng thường trực", None, "digest", ""))
    for step in tally_steps(policy, start, end, tz=tz):
        kind = "tally_office" if step.office else ("tally_leader" if step.leaders else "tally")
        label = "Văn phòng thường trực" if step.office else "Tổ CNS các xóm chưa báo cáo"
        items.append(_other(step.at, tz, label, None, kind, ""))
    if plan is None:  # residents' reports belong to no plan
        items.extend(_feedback_preview(session, data, start, end, tz, name_of))
    items.sort(key=lambda i: (i["at"], i["kind"], str(i["task"]), i["recipient"]))
    return items


def _feedback_preview(
    session: Session,
    data: CommuneData,
    start: dt.datetime,
    end: dt.datetime,
    tz: ZoneInfo,
    name_of: Callable[[int | None, int | None], str],
) -> list[dict[str, Any]]:
    """The deadline reminders and escalations of open reports due in a window, to whom.

    A notice nobody would receive (a unit without an officer, no standing office yet) is
    shown once, named by the unit or the office, as a plan task's unstaffed reminder is.
    """
    assert data.commune.id is not None
    _reports, open_reports = _open_reports(session, data.commune.id)
    office = data.with_role(Role.OFFICE)
    leaders = data.with_role(Role.COMMUNE_LEADER)
    items: list[dict[str, Any]] = []
    for notice in deadlines.planned_notices(open_reports, data.policy, tz, start, end):
        report = notice.report
        held = report.unit_id if deadlines.holder_is_unit(report) else None
        unit = data.units.get(held or -1)
        due = notice.due.astimezone(tz).date().isoformat()
        people = deadlines.recipients(notice, data.recipients.officers, office, leaders)
        if not people:
            recipient = unit if unit and notice.audience == deadlines.HOLDER else None
            recipient = recipient or "Văn phòng thường trực"
            items.append(_feedback_item(notice, tz, recipient, None, unit, due, ""))
        for pid in people:
            key = notice.key(pid)
            items.append(_feedback_item(notice, tz, name_of(pid, None), pid, unit, due, key))
    return items


def _feedback_item(
    notice: deadlines.DueNotice,
    tz: ZoneInfo,
    recipient: str,
    pid: int | None,
    unit: str | None,
    due: str,
    key: str,
) -> dict[str, Any]:
    return {
        "at": notice.at.astimezone(tz).isoformat(),
        "recipient": recipient,
        "recipient_id": pid,
        "unit": unit,
        "staffed": pid is not None,
        "task": None,
        "task_id": None,
        "report": notice.report.code,
        "deadline": notice.deadline,
        "stage": notice.stage,
        "kind": notice.kind,
        "due": due,
        "dedupe_key": key,
    }


def _other(
    at: dt.datetime, tz: ZoneInfo, recipient: str, pid: int | None, kind: str, key: str
) -> dict[str, Any]:
    return {
        "at": at.astimezone(tz).isoformat(),
        "recipient": recipient,
        "recipient_id": pid,
        "unit": None,
        "staffed": pid is not None,
        "task": None,
        "task_id": None,
        "report": None,
        "kind": kind,
        "due": None,
        "dedupe_key": key,
    }
