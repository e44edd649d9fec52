"""Helpers for the reminder tests: tasks, a recording sender, local times."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.core.messages import Reply
from bot.core.people import default_commune_id
from bot.reminders.planner import PassStats, plan_pass
from bot.services import Services
from db.models import Commune, OutboxMessage, Plan, Task
from tests.helpers import FakeClock, unit_id

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    """A Vietnam local time as aware UTC."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


def make_task(
    services: Services,
    *,
    number: str = "T1",
    due: dt.date | None = dt.date(2026, 3, 20),
    unit: str = "Công an xã",
    coordinating: tuple[str, ...] = (),
    kind: str = "once",
    repeat: str | None = None,
) -> int:
    """A task in a test plan of the sample commune; returns its id."""
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        plan = session.exec(select(Plan).where(Plan.slug == "test-plan")).first()
        if plan is None:
            plan = Plan(
                commune_id=commune_id,
                slug="test-plan",
                title="Kế hoạch thử",
                issued=dt.date(2026, 1, 1),
                imported_at=local(2026, 1, 1),
            )
            session.add(plan)
            session.flush()
        assert plan.id is not None
        task = Task(
            plan_id=plan.id,
            number=number,
            text=f"Nhiệm vụ thử {number}",
            kind=kind,
            due=due,
            repeat=repeat,
            lead_unit_id=unit_id(services, unit),
            coordinating=[unit_id(services, name) for name in coordinating],
        )
        session.add(task)
        session.commit()
        assert task.id is not None
        return task.id


def only_test_plan(services: Services, *, red_alerts: bool = False) -> None:
    """Deactivate the sample plan's tasks so only the test's tasks remind (no red alerts
    unless asked: a task with no progress is soon "behind", hence red)."""
    set_policy(services, red_alerts=red_alerts)
    with Session(services.engine) as session:
        for task in session.exec(select(Task)).all():
            plan = session.get(Plan, task.plan_id)
            if plan is not None and plan.slug != "test-plan":
                task.active = False
                session.add(task)
        session.commit()


def set_policy(services: Services, **values: Any) -> None:
    """Change the sample commune's reminder policy."""
    with Session(services.engine) as session:
        commune = session.exec(select(Commune)).first()
        assert commune is not None
        current = dict(commune.settings.get("reminders") or {})
        current.update(values)
        commune.settings = {**commune.settings, "reminders": current}
        session.add(commune)
        session.commit()


def run_pass(services: Services) -> PassStats:
    """One planning pass at the fake clock's time."""
    return plan_pass(services.engine, services.clock(), services.tz)


def rows(services: Services, **where: Any) -> list[OutboxMessage]:
    """Outbox rows, optionally filtered by column values, in id order."""
    with Session(services.engine) as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.exec(query).all())


class RecordingSender:
    """A sender that records every delivery; can hang on one send (a crash mid-request)."""

    def __init__(
        self, channel: str = "console", *, hang_on: int | None = None, delay: float = 0.0
    ) -> None:
        self.channel = channel
        self.delivered: list[tuple[str, str]] = []  # (chat_id, text)
        self.started = 0
        self.hang_on = hang_on
        self.delay = delay
        self.hanging = asyncio.Event()

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.started += 1
        if self.hang_on is not None and self.started == self.hang_on:
            self.hanging.set()
            await asyncio.Event().wait()  # never returns: the process "dies" here
        if self.delay:
            await asyncio.sleep(self.delay)
        self.delivered.append((chat_id, reply.text))


def advance_to(clock: FakeClock, moment: dt.datetime) -> None:
    clock.set(moment)


class FakeTime:
    """A monotonic clock shared by the fake server's flood control and the delivery."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)
