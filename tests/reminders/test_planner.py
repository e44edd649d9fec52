"""The planner: database + injected clock → outbox rows, once; cancellation; catch-up."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.reminders.delivery import OutboxDelivery
from bot.services import Services
from db.models import Evidence, JobMark, Person, Tally, Task
from tests.helpers import FakeClock, add_person, village_id
from tests.reminders.util import (
    TZ,
    RecordingSender,
    local,
    make_task,
    only_test_plan,
    rows,
    run_pass,
    set_policy,
)


def _officer(
    services: Services, chat_id: str = "3001", unit: str = "Công an xã", name: str = "Lê Văn Công"
) -> int:
    return add_person(services, name=name, roles=("unit",), unit=unit, chat_id=chat_id)


def _set_due(services: Services, task_id: int, due: dt.date) -> None:
    with Session(services.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.due = due
        session.add(task)
        session.commit()


def test_reminders_are_queued_once_with_their_local_time(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services)
    officer = _officer(services)
    task = make_task(services, due=dt.date(2026, 3, 20))
    clock.set(local(2026, 3, 12, 9))  # Thursday; T-7 is Friday 13/03 08:00, within the lookahead
    first = run_pass(services)
    second = run_pass(services)
    queued = rows(services, kind="deadline")
    assert first.queued == 1 and second.queued == 0
    assert [(r.person_id, r.task_id, r.dedupe_key, r.status) for r in queued] == [
        (officer, task, f"task:{task}:2026-03-20:-7:{officer}", "pending")
    ]
    assert queued[0].due_at == local(2026, 3, 13, 8)
    text = queued[0].content["text"]
    assert "Thứ Sáu, 20/03/2026" in text and "7 ngày" in text
    values = [c["value"] for c in queued[0].content["choices"]]
    assert values == [f"taskprog:{task}", f"taskev:{task}", f"task:{task}"]


def test_deadline_change_cancels_old_reminders_and_plans_new_ones(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services)
    officer = _officer(services)
    task = make_task(services, due=dt.date(2026, 3, 20))
    clock.set(local(2026, 3, 12, 9))
    run_pass(services)
    _set_due(services, task, dt.date(2026, 4, 3))
    clock.set(local(2026, 3, 12, 9, 1))
    stats = run_pass(services)
    assert stats.cancelled == 1
    assert [r.status for r in rows(services, kind="deadline")] == ["cancelled"]
    clock.set(local(2026, 3, 27, 7, 30))  # T-7 of the new deadline is Friday 27/03 08:00
    run_pass(services)
    pending = rows(services, status="pending")
    assert [r.dedupe_key for r in pending] == [f"task:{task}:2026-04-03:-7:{officer}"]


def test_officer_changes_recompute_future_reminders(services: Services, clock: FakeClock) -> None:
    only_test_plan(services)
    first = _officer(services)
    make_task(services, due=dt.date(2026, 3, 20))
    clock.set(local(2026, 3, 12, 9))
    run_pass(services)
    with Session(services.engine) as session:  # the officer moves to another unit
        person = session.get(Person, first)
        assert person is not None
        person.unit_id = None
        session.add(person)
        session.commit()
    second = _officer(services, chat_id="3002", name="Phạm Thị Dung")
    clock.set(local(2026, 3, 12, 10))
    run_pass(services)
    statuses = {(r.person_id, r.status) for r in rows(services, kind="deadline")}
    assert statuses == {(first, "cancelled"), (second, "pending")}


def test_policy_change_retimes_pending_reminders(services: Services, clock: FakeClock) -> None:
    only_test_plan(services)
    _officer(services)
    make_task(services, due=dt.date(2026, 3, 20))
    clock.set(local(2026, 3, 12, 9))
    run_pass(services)
    set_policy(services, send_time="09:30")
    run_pass(services)
    assert [r.due_at for r in rows(services, kind="deadline")] == [local(2026, 3, 13, 9, 30)]


def test_catch_up_after_downtime_sends_recent_and_records_old_as_missed(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services)
    officer = _officer(services)
    task = make_task(services, due=dt.date(2026, 3, 20))
    set_policy(services, lookahead_hours=0)
    clock.set(local(2026, 3, 12, 9))
    run_pass(services)  # the last pass before the process went down
    assert rows(services) == []
    clock.set(
        local(2026, 3, 17, 10)
    )  # back up: T-7 (13/03) is 4 days old, T-3 (17/03 08:00) 2 hours
    stats = run_pass(services)
    assert (stats.queued, stats.missed) == (1, 1)
    by_key = {r.dedupe_key: r.status for r in rows(services)}
    assert by_key == {
        f"task:{task}:2026-03-20:-7:{officer}": "missed",
        f"task:{task}:2026-03-20:-3:{officer}": "pending",
    }
    assert run_pass(services).queued == 0  # never twice


async def test_rows_queued_before_a_long_downtime_are_missed_not_sent_late(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services)
    _officer(services)
    make_task(services, due=dt.date(2026, 3, 20))
    clock.set(local(2026, 3, 12, 9))
    run_pass(services)  # queues T-7 for 13/03 08:00
    clock.set(local(2026, 3, 16, 9))  # the delivery was down for days
    sender = RecordingSender()
    await OutboxDelivery(services.engine, {"console": sender}, clock=clock).run_until_idle()
    assert sender.delivered == []
    assert {r.status for r in rows(services, kind="deadline")} == {"missed"}


def test_first_pass_does_not_flood_with_the_past(services: Services, clock: FakeClock) -> None:
    only_test_plan(services)
    _officer(services)
    make_task(services, due=dt.date(2026, 3, 20))
    clock.set(local(2026, 3, 17, 10))
    stats = run_pass(services)
    assert (stats.queued, stats.missed) == (0, 0)  # T-3 was at 08:00, before tocns ever ran
    with Session(services.engine) as session:
        assert session.exec(select(JobMark)).first() is not None


def test_red_alert_once_per_red_episode_with_the_reason(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services, red_alerts=True)
    officer = _officer(services)
    task = make_task(services, due=dt.date(2026, 3, 5))
    clock.set(local(2026, 3, 12, 9))
    run_pass(services)
    run_pass(services)
    red = rows(services, kind="red")
    assert len(red) == 1 and red[0].person_id == officer
    assert "đỏ" in red[0].content["text"] and "quá hạn" in red[0].content["text"].lower()
    with Session(services.engine) as session:  # evidence approved: no longer red
        session.add(Evidence(task_id=task, kind="link", url="https://x.vn/a", status="approved"))
        session.commit()
    clock.set(local(2026, 3, 12, 10))
    run_pass(services)
    with Session(services.engine) as session:  # the review is reversed: red again
        evidence = session.exec(select(Evidence)).one()
        evidence.status = "rejected"
        session.add(evidence)
        session.commit()
    clock.set(local(2026, 3, 12, 11))
    run_pass(services)
    assert len(rows(services, kind="red")) == 2


def test_red_alert_in_quiet_hours_waits_for_the_morning(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services, red_alerts=True)
    _officer(services)
    make_task(services, due=dt.date(2026, 3, 5))
    clock.set(local(2026, 3, 12, 22))
    run_pass(services)
    assert [r.due_at for r in rows(services, kind="red")] == [local(2026, 3, 13, 7)]


def test_monday_digest_contents(services: Services, clock: FakeClock) -> None:
    only_test_plan(services)
    office = add_person(services, name="Văn phòng", roles=("office",), chat_id="4001")
    leader = add_person(services, name="Chủ tịch", roles=("commune_leader",), chat_id="4002")
    _officer(services)
    red_task = make_task(services, number="R1", due=dt.date(2026, 3, 1))
    make_task(services, number="S1", due=dt.date(2026, 3, 25), unit="Phòng Văn hóa - Xã hội")
    with Session(services.engine) as session:
        session.add(
            Tally(
                village_id=village_id(services, "Xóm 1"),
                period=dt.date(2026, 3, 1),
                code="vneid",
                value=4,
            )
        )
        session.add(
            Evidence(
                task_id=red_task, kind="link", url="https://x.vn/b", status="pending", period="x"
            )
        )
        session.commit()
    clock.set(local(2026, 3, 16, 7, 59))  # Monday
    run_pass(services)
    assert rows(services, kind="digest") == []
    clock.set(local(2026, 3, 16, 8))
    run_pass(services)
    digests = rows(services, kind="digest")
    assert sorted(r.person_id for r in digests) == sorted([office, leader])
    text = digests[0].content["text"]
    assert "Công an xã: R1" in text
    assert "S1 (Phòng Văn hóa - Xã hội)" in text and "25/03/2026" in text
    assert "(11): Xóm 2" in text and "Xóm 1," not in text
    assert "chờ duyệt: 1" in text
    clock.set(local(2026, 3, 16, 8, 1))
    run_pass(services)
    assert len(rows(services, kind="digest")) == 2


def test_tally_cycle_reaches_only_non_reporters(services: Services, clock: FakeClock) -> None:
    only_test_plan(services)
    reported = add_person(
        services, name="Tổ xóm 1", roles=("team",), village="Xóm 1", chat_id="5001"
    )
    team = add_person(services, name="Tổ xóm 2", roles=("team",), village="Xóm 2", chat_id="5002")
    leader = add_person(
        services, name="Tổ trưởng xóm 2", roles=("team", "leader"), village="Xóm 2", chat_id="5003"
    )
    office = add_person(services, name="Văn phòng", roles=("office",), chat_id="5004")
    with Session(services.engine) as session:
        session.add(
            Tally(
                village_id=village_id(services, "Xóm 1"),
                period=dt.date(2026, 3, 1),
                code="vneid",
                value=4,
            )
        )
        session.commit()
    for day in (19, 20, 25, 31):
        clock.set(local(2026, 3, day, 8))
        run_pass(services)
    tally = {
        (r.dedupe_key.split(":")[2], r.person_id, r.kind)
        for r in rows(services)
        if r.kind.startswith("tally")
    }
    assert tally == {
        ("20", team, "tally"),
        ("20", leader, "tally"),
        ("25", team, "tally"),
        ("25", leader, "tally_leader"),
        ("last", office, "tally_office"),
    }
    assert reported not in {p for _, p, _ in tally}
    office_row = next(r for r in rows(services) if r.kind == "tally_office")
    assert "Xóm 2" in office_row.content["text"] and "Xóm 1," not in office_row.content["text"]


def test_tally_reminder_is_cancelled_when_the_village_reports_before_it_goes(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services)
    add_person(services, name="Tổ xóm 2", roles=("team",), village="Xóm 2", chat_id="5002")
    clock.set(local(2026, 3, 20, 8))
    run_pass(services)
    with Session(services.engine) as session:
        session.add(
            Tally(
                village_id=village_id(services, "Xóm 2"),
                period=dt.date(2026, 3, 1),
                code="vneid",
                value=4,
            )
        )
        session.commit()
    clock.set(local(2026, 3, 20, 8, 1))
    run_pass(services)
    assert [r.status for r in rows(services, kind="tally")] == ["cancelled"]


def test_local_times_are_in_vietnam(services: Services) -> None:
    assert services.tz.key == TZ.key
