"""Sample reports in every state; the migration matches the models; pure modules stay pure."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from bot.feedback import queues
from bot.feedback.sample import load_sample_feedback
from bot.feedback.status import Status
from bot.services import Services
from db.models import FeedbackEvent, FeedbackReport, OutboxMessage
from tests.conftest import START
from tests.feedback.conftest import VN, commune

BOT = Path(__file__).resolve().parents[2] / "bot"
PURE = ["workdays.py", "feedback/status.py", "feedback/categories.py", "feedback/intent.py",
        "feedback/places.py", "feedback/open311.py", "feedback/policy.py"]  # fmt: skip
FRAMEWORKS = ("telegram", "aiohttp", "sqlmodel", "sqlalchemy", "apscheduler")


def test_the_sample_commune_gets_reports_in_every_state_once(services: Services) -> None:
    with Session(services.engine) as session:
        added = load_sample_feedback(session, START, VN)
        again = load_sample_feedback(session, START, VN)
        session.commit()
    assert (added, again) == (12, 0)
    with Session(services.engine) as session:
        reports = session.exec(select(FeedbackReport)).all()
        statuses = Counter(r.status for r in reports)
        assert set(statuses) == set(Status)
        assert min(statuses.values()) >= 2, statuses  # a few of each, not one
        closed = [r for r in reports if r.status == Status.CLOSED]
        closers = {
            e.actor_role
            for e in session.exec(select(FeedbackEvent).where(FeedbackEvent.to_status == "closed"))
        }
        assert len(closed) == 2 and closers == {"resident", "office"}  # rated, or by the office
        assert session.exec(select(OutboxMessage)).all() == []  # sample people have no chat
        commune_id = commune(session).id or 0
        waiting = queues.office_queue(session, commune_id, START)
        assert {i.report.status for i in waiting} == {"received", "answered", "reopened"}
        assert any(i.overdue for i in waiting)
        assert session.exec(select(FeedbackEvent).where(FeedbackEvent.internal)).all()


def test_the_migration_creates_exactly_the_feedback_models(services: Services) -> None:
    with services.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in differences if "feedback" in repr(d)] == []


def test_the_feedback_rules_import_no_framework() -> None:
    for name in PURE:
        tree = ast.parse((BOT / name).read_text(encoding="utf-8"))
        imported = {
            alias.name if isinstance(node, ast.Import) else node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not {m for m in imported if m.split(".")[0] in FRAMEWORKS}, name
