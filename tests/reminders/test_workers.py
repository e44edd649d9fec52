"""Several workers planning at once: one red episode per task, one alert per officer."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.reminders.planner import guarded_update, plan_commune, plan_pass, red_alert_key
from bot.services import Services
from db.engine import make_engine
from db.models import Commune, JobMark, OutboxMessage, OutboxStatus, RedEpisode
from tests.helpers import FakeClock, add_person
from tests.reminders.util import TZ, local, make_task, only_test_plan, rows, run_pass


def _postgres_only(services: Services) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's; SQLite serialises them")


def _red_setup(services: Services, clock: FakeClock, tasks: int = 4) -> list[int]:
    only_test_plan(services, red_alerts=True)
    for n, chat in enumerate(("3001", "3002")):
        add_person(services, name=f"Cán bộ {n}", roles=("unit",), unit="Công an xã", chat_id=chat)
    ids = [make_task(services, number=f"R{n}", due=dt.date(2026, 3, 5)) for n in range(tasks)]
    clock.set(local(2026, 3, 12, 9))
    return ids


def test_a_second_open_episode_for_a_task_is_refused(services: Services) -> None:
    task = make_task(services)
    with Session(services.engine) as session:
        session.add(RedEpisode(task_id=task, started_at=local(2026, 3, 1)))
        session.add(RedEpisode(task_id=task, started_at=local(2026, 3, 2)))
        with pytest.raises(IntegrityError):
            session.commit()
    with Session(services.engine) as session:  # closed ones may be many
        session.add(
            RedEpisode(task_id=task, started_at=local(2026, 3, 1), ended_at=local(2026, 3, 2))
        )
        session.add(RedEpisode(task_id=task, started_at=local(2026, 3, 3)))
        session.commit()


def test_the_alert_key_is_made_of_domain_facts() -> None:
    episode = RedEpisode(
        id=987, task_id=12, started_at=dt.datetime(2026, 3, 12, 2, 0, 5, tzinfo=dt.UTC)
    )
    assert red_alert_key(episode, 34) == "red:12:20260312T020005:34"


def test_overlapping_passes_share_the_episode_and_alert_once(
    services: Services, clock: FakeClock
) -> None:
    """Pass A has opened episodes and queued alerts but not committed when pass B starts.

    B reads no episode and no alert (READ COMMITTED), so it tries to open and queue them
    too; its inserts wait for A's commit and then find A's rows.
    """
    _postgres_only(services)
    tasks = _red_setup(services, clock)
    other = make_engine(services.settings.effective_database_url)
    try:
        with Session(services.engine) as first:
            commune = first.exec(select(Commune).order_by(col(Commune.id))).first()
            assert commune is not None
            stats = plan_commune(first, commune, clock(), TZ)  # uncommitted
            assert stats.red_alerts == 2 * len(tasks)
            later = clock() + dt.timedelta(seconds=7)  # another worker's own clock
            result: list[object] = []
            second = threading.Thread(target=lambda: result.append(plan_pass(other, later, TZ)))
            second.start()
            second.join(timeout=1.0)
            assert second.is_alive()  # B waits on A's uncommitted rows
            first.commit()
        second.join(timeout=30)
        assert not second.is_alive() and result, "the second pass did not finish"
    finally:
        other.dispose()
    red = rows(services, kind="red")
    assert Counter((r.person_id, r.task_id) for r in red) == Counter(
        {(p, t): 1 for p in {r.person_id for r in red} for t in tasks}
    )
    assert len(red) == 2 * len(tasks)
    with Session(services.engine) as session:
        open_episodes = session.exec(
            select(RedEpisode.task_id).where(col(RedEpisode.ended_at).is_(None))
        ).all()
    assert sorted(open_episodes) == sorted(tasks)


def test_three_workers_planning_together_alert_each_officer_once(
    services: Services, clock: FakeClock
) -> None:
    _postgres_only(services)
    tasks = _red_setup(services, clock)
    engines = [make_engine(services.settings.effective_database_url) for _ in range(3)]
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def worker(n: int) -> None:
        try:
            start.wait()
            plan_pass(engines[n], clock() + dt.timedelta(seconds=n), TZ)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    red = rows(services, kind="red")
    pairs = Counter((r.person_id, r.task_id) for r in red)
    assert len(pairs) == 2 * len(tasks) and set(pairs.values()) == {1}
    with Session(services.engine) as session:
        assert len(session.exec(select(JobMark)).all()) == 1


def test_a_delivered_row_is_never_cancelled_by_a_pass_that_read_it_pending(
    services: Services, clock: FakeClock
) -> None:
    """A pass reads pending rows first and writes much later: its writes are guarded."""
    only_test_plan(services)
    for n, chat in enumerate(("3001", "3002")):
        add_person(services, name=f"Cán bộ {n}", roles=("unit",), unit="Công an xã", chat_id=chat)
    task = make_task(services, due=dt.date(2026, 3, 20))
    clock.set(local(2026, 3, 12, 9))  # T-7 (13/03) is within the lookahead
    run_pass(services)
    first, second = rows(services, task_id=task, status=OutboxStatus.PENDING)[:2]
    with Session(services.engine, expire_on_commit=False) as planner:
        read = [planner.get(OutboxMessage, first.id), planner.get(OutboxMessage, second.id)]
        planner.commit()  # the pass's read, as of its start
        with Session(services.engine) as sender:  # meanwhile a sender delivers the first
            sent = sender.get(OutboxMessage, first.id)
            assert sent is not None
            sent.status = OutboxStatus.SENT
            sender.add(sent)
            sender.commit()
        cancel = {"status": OutboxStatus.CANCELLED, "last_error": "no longer planned"}
        outcomes = [
            guarded_update(planner, row, OutboxStatus.PENDING, cancel) for row in read if row
        ]
        retimed = (
            guarded_update(planner, read[0], OutboxStatus.PENDING, {"due_at": local(2026, 3, 19)})
            if read[0]
            else None
        )
        planner.commit()
    assert outcomes == [False, True] and retimed is False
    statuses = {r.id: (r.status, r.due_at) for r in rows(services, task_id=task)}
    assert statuses[first.id] == (OutboxStatus.SENT, first.due_at)
    assert statuses[second.id][0] == OutboxStatus.CANCELLED
    run_pass(services)  # a later pass does not queue the delivered reminder again
    assert [r.status for r in rows(services, dedupe_key=first.dedupe_key)] == [OutboxStatus.SENT]
