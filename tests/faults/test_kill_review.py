"""The process killed (SIGKILL) while the office reviews evidence: nothing partial, nothing twice."""

from __future__ import annotations

import random
from dataclasses import dataclass

import yaml
from sqlmodel import Session, col, select

from bot.core.people import default_commune_id
from bot.plans import store
from bot.plans.evidence import StoredEvidence
from bot.plans.imports import from_yaml, import_plan
from bot.plans.status import Status
from bot.services import Services
from db.models import AuditEntry, Evidence, OutboxMessage, Plan, ProcessedUpdate, Task, TaskProgress
from tests.faults import killing
from tests.faults.review_worker import (
    REVIEWER_CHAT,
    REVIEWER_NAME,
    approves,
    deciding_key,
    evidence_url,
    reason,
)
from tests.helpers import add_person

SUBMISSIONS = 40
UPDATES = sum(1 if approves(index) else 2 for index in range(SUBMISSIONS))
UNIT = "Công an xã"


@dataclass
class Setup:
    tasks: dict[int, int]  # submission index -> task id
    evidence: dict[int, int]  # submission index -> evidence id
    reviewer: int
    officer: int


def submit_everything(services: Services) -> Setup:
    """A plan with one task per submission; each has 100 % progress and a pending link."""
    plan = {
        "plan": {"slug": "duyet-hang-loat", "title": "Duyệt hàng loạt", "issued": "2026-01-01"},
        "tasks": [
            {
                "number": f"K{index}",
                "text": f"Nhiệm vụ kiểm thử số {index}",
                "lead": UNIT,
                "deadline": "Quý II/2026",
            }
            for index in range(SUBMISSIONS)
        ],
    }
    officer = add_person(services, name="Lê Văn Công", roles=("unit",), unit=UNIT, chat_id="u-1")
    reviewer = add_person(
        services, name=REVIEWER_NAME, roles=("office",), unit=UNIT, chat_id=REVIEWER_CHAT
    )
    now = services.clock()
    today = now.astimezone(services.tz).date()
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        result = import_plan(
            session, from_yaml(yaml.safe_dump(plan)), commune_id=commune_id, today=today, now=now
        )
        assert result.problems == []
        plan_id = session.exec(select(Plan.id).where(Plan.slug == "duyet-hang-loat")).one()
        by_number = {
            task.number: task.id
            for task in session.exec(select(Task).where(Task.plan_id == plan_id))
        }
        tasks: dict[int, int] = {}
        evidence: dict[int, int] = {}
        for index in range(SUBMISSIONS):
            view = store.task_view(session, by_number[f"K{index}"], today)  # type: ignore[arg-type]
            store.record_progress(
                session, view, person_id=officer, percent=100, note="", today=today, now=now
            )
            row = store.record_evidence(
                session,
                view,
                StoredEvidence(kind="link", url=evidence_url(index)),
                person_id=officer,
                today=today,
                now=now,
            )
            assert row.id is not None
            tasks[index], evidence[index] = view.id, row.id
        session.commit()
    return Setup(tasks, evidence, reviewer, officer)


def run_worker(services: Services, kill_after: int | None) -> None:
    settings = services.settings
    args = [
        settings.effective_database_url,
        str(settings.data_dir),
        services.clock().isoformat(),
        str(SUBMISSIONS),
    ]
    returncode = killing.run_worker("tests.faults.review_worker", args, kill_after)
    if kill_after is None:
        assert returncode == 0


@dataclass
class Seen:
    """What the database says about one submission."""

    status: str
    reviewed_by: int | None
    reason: str
    audits: list[str]  # actions of the audit entries about this evidence
    notices: list[str]  # dedupe keys of the outbox messages about this evidence
    progress: list[int]  # the task's progress reports, oldest first
    task_status: Status
    processed: bool  # the deciding delivery is recorded as handled


def seen(services: Services, setup: Setup) -> dict[int, Seen]:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        processed = {row.update_key for row in session.exec(select(ProcessedUpdate))}
        audits: dict[str, list[str]] = {}
        for entry in session.exec(select(AuditEntry).where(AuditEntry.entity == "evidence")):
            audits.setdefault(entry.entity_id, []).append(entry.action)
        notices: dict[str, list[str]] = {}
        for message in session.exec(
            select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith("review:"))
        ):
            notices.setdefault(message.dedupe_key.split(":")[1], []).append(message.dedupe_key)
        progress: dict[int, list[int]] = {}
        for report in session.exec(select(TaskProgress).order_by(col(TaskProgress.id))):
            progress.setdefault(report.task_id, []).append(report.percent)
        result = {}
        for index, evidence_id in setup.evidence.items():
            row = session.get(Evidence, evidence_id)
            assert row is not None
            task_id = setup.tasks[index]
            result[index] = Seen(
                status=row.status,
                reviewed_by=row.reviewed_by,
                reason=row.review_reason,
                audits=audits.get(str(evidence_id), []),
                notices=notices.get(str(evidence_id), []),
                progress=progress.get(task_id, []),
                task_status=store.task_view(session, task_id, today).status.status,
                processed=deciding_key(index) in processed,
            )
    return result


def handled_updates(services: Services) -> int:
    """How many of the reviewer's deliveries are recorded as handled."""
    with Session(services.engine) as session:
        keys = session.exec(select(ProcessedUpdate.update_key)).all()
    return sum(1 for key in keys if key.startswith(("ok", "no", "why")))


def reviewed(setup: Setup, index: int) -> Seen:
    decision = "approved" if approves(index) else "rejected"
    return Seen(
        status=decision,
        reviewed_by=setup.reviewer,
        reason="" if approves(index) else reason(index),
        audits=["evidence.approve" if approves(index) else "evidence.reject"],
        notices=[f"review:{setup.evidence[index]}:{decision}:{setup.officer}"],
        progress=[100],
        task_status=Status.DONE if approves(index) else Status.NEEDS_WORK,
        processed=True,
    )


UNTOUCHED = Seen(
    status="pending",
    reviewed_by=None,
    reason="",
    audits=[],
    notices=[],
    progress=[100],
    task_status=Status.AWAITING_REVIEW,
    processed=False,
)


def test_kill_during_reviews_leaves_no_partial_review_and_resumes(services: Services) -> None:
    setup = submit_everything(services)
    assert all(state == UNTOUCHED for state in seen(services, setup).values())
    kill_after = random.Random().randint(3, UPDATES - 10)
    run_worker(services, kill_after)
    after_kill = seen(services, setup)
    done = [index for index, state in after_kill.items() if state.processed]
    assert done == list(range(len(done))), "reviews happen in order"
    assert kill_after <= handled_updates(services) < UPDATES, "killed midway"
    for index, state in after_kill.items():
        expected = reviewed(setup, index) if state.processed else UNTOUCHED
        assert state == expected, f"submission {index} partly reviewed"
    # The platform delivers again everything it did not see confirmed: all of it, here.
    run_worker(services, None)
    after_redelivery = seen(services, setup)
    for index, state in after_redelivery.items():
        assert state == reviewed(setup, index), f"submission {index} not reviewed exactly once"
    with Session(services.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(
                col(AuditEntry.action).in_(("evidence.approve", "evidence.reject"))
            )
        ).all()
        assert len(entries) == SUBMISSIONS, "no review audited twice"
