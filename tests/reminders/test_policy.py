"""The reminder policy: pure functions of tasks, officers, policy and a window."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from bot.reminders.policy import (
    Recipients,
    ReminderPolicy,
    TaskInfo,
    digest_times,
    load_policy,
    planned_reminders,
    set_policy_value,
    tally_steps,
)
from tests.reminders.util import TZ, local

OFFICERS = Recipients({10: (100, 101), 11: (110,)})
MARCH = (local(2026, 3, 1, 0), local(2026, 4, 30, 0))


def _local(planned: list) -> list[tuple[str, str, int | None]]:
    return [(p.at.astimezone(TZ).strftime("%a %d/%m %H:%M"), p.kind, p.person_id) for p in planned]


def test_lead_unit_hears_at_t7_t3_t1_and_on_the_day_then_every_three_days() -> None:
    task = TaskInfo(id=1, kind="once", due=dt.date(2026, 3, 27), lead_unit_id=10)  # a Friday
    planned = planned_reminders(
        [task],
        Recipients({10: (100,)}),
        ReminderPolicy(),
        local(2026, 3, 1, 0),
        local(2026, 4, 6, 0),
    )
    assert _local(planned) == [
        ("Fri 20/03 08:00", "deadline", 100),
        ("Tue 24/03 08:00", "deadline", 100),
        ("Thu 26/03 08:00", "deadline", 100),
        ("Fri 27/03 08:00", "deadline", 100),
        ("Mon 30/03 08:00", "overdue", 100),
        ("Thu 02/04 08:00", "overdue", 100),
    ]
    keys = [p.dedupe_key for p in planned]
    assert keys[0] == "task:1:2026-03-27:-7:100" and keys[4] == "task:1:2026-03-27:+3:100"


def test_every_officer_of_the_unit_hears_and_keys_are_deterministic() -> None:
    task = TaskInfo(id=1, kind="once", due=dt.date(2026, 3, 27), lead_unit_id=10)
    first = planned_reminders([task], OFFICERS, ReminderPolicy(), *MARCH)
    again = planned_reminders([task], OFFICERS, ReminderPolicy(), *MARCH)
    assert first == again
    assert {p.person_id for p in first} == {100, 101}
    assert len({p.dedupe_key for p in first}) == len(first)


def test_coordinating_units_hear_at_t7_and_on_the_day_only() -> None:
    task = TaskInfo(
        id=2, kind="once", due=dt.date(2026, 3, 27), lead_unit_id=10, coordinating=(11, 10)
    )
    planned = [
        p for p in planned_reminders([task], OFFICERS, ReminderPolicy(), *MARCH) if p.unit_id == 11
    ]
    assert _local(planned) == [
        ("Fri 20/03 08:00", "coordinating", 110),
        ("Fri 27/03 08:00", "coordinating", 110),
    ]
    assert planned[0].dedupe_key == "coord:2:2026-03-27:-7:110"


def test_sundays_and_holidays_move_to_the_next_allowed_time() -> None:
    # Due Monday 4 May 2026: T-3 is Friday 1 May (holiday), T-1 Sunday 3 May.
    task = TaskInfo(id=3, kind="once", due=dt.date(2026, 5, 4), lead_unit_id=11)
    planned = planned_reminders(
        [task], OFFICERS, ReminderPolicy(overdue_every_days=0), *MARCH[:1], local(2026, 5, 10, 0)
    )
    when = _local(planned)
    assert ("Mon 27/04 07:00", "deadline", 110) not in when  # 27/04 is the Giỗ Tổ holiday in 2026
    assert when == [
        ("Tue 28/04 07:00", "deadline", 110),
        ("Sat 02/05 07:00", "deadline", 110),
        ("Mon 04/05 08:00", "deadline", 110),
    ]
    # T-1 moved onto the due date collides with the on-the-day reminder: only one is kept.


def test_nothing_is_ever_planned_in_quiet_hours_sundays_or_holidays() -> None:
    with pytest.raises(ValidationError):
        ReminderPolicy(send_time=dt.time(22, 0))  # a send time inside quiet hours is refused
    policy = ReminderPolicy(
        quiet_start=dt.time(20, 0), quiet_end=dt.time(7, 30), send_time=dt.time(7, 45)
    )
    tasks = [
        TaskInfo(
            id=i, kind="once", due=dt.date(2026, 1, 1) + dt.timedelta(days=i * 5), lead_unit_id=10
        )
        for i in range(70)
    ]
    planned = planned_reminders(tasks, OFFICERS, policy, local(2026, 1, 1, 0), local(2027, 1, 1, 0))
    assert planned
    for p in planned:
        at = p.at.astimezone(TZ)
        assert policy.allowed(at), at
        assert at.weekday() != 6


def test_a_deadline_change_yields_new_keys() -> None:
    before = TaskInfo(id=4, kind="once", due=dt.date(2026, 3, 27), lead_unit_id=10)
    after = TaskInfo(id=4, kind="once", due=dt.date(2026, 4, 10), lead_unit_id=10)
    old = {p.dedupe_key for p in planned_reminders([before], OFFICERS, ReminderPolicy(), *MARCH)}
    new = {p.dedupe_key for p in planned_reminders([after], OFFICERS, ReminderPolicy(), *MARCH)}
    assert old and new and not old & new


def test_done_tasks_and_on_event_tasks_are_not_reminded() -> None:
    done = TaskInfo(
        id=5, kind="once", due=dt.date(2026, 3, 27), lead_unit_id=10, done_periods=frozenset({""})
    )
    event = TaskInfo(id=6, kind="on_event", lead_unit_id=10)
    assert planned_reminders([done, event], OFFICERS, ReminderPolicy(), *MARCH) == []


def test_overdue_repeats_can_be_capped() -> None:
    task = TaskInfo(id=7, kind="once", due=dt.date(2026, 3, 2), lead_unit_id=11)
    planned = planned_reminders([task], OFFICERS, ReminderPolicy(overdue_max_days=9), *MARCH)
    assert [p.offset for p in planned if p.kind == "overdue"] == [-3, -6, -9]


def test_recurring_and_ongoing_tasks_remind_before_each_reporting_date() -> None:
    quarterly = TaskInfo(id=8, kind="recurring", repeat="quarterly", lead_unit_id=11)
    ongoing = TaskInfo(id=9, kind="ongoing", lead_unit_id=11, done_periods=frozenset({"2026-04"}))
    planned = planned_reminders([quarterly, ongoing], OFFICERS, ReminderPolicy(), *MARCH)
    assert [(p.task_id, p.period, p.at.astimezone(TZ).strftime("%d/%m")) for p in planned] == [
        (8, "2026-Q1", "24/03"),
        (9, "2026-03", "24/03"),
        (8, "2026-Q1", "30/03"),
        (9, "2026-03", "30/03"),
    ]  # April's ongoing period is done; Q2 ends after the window


def test_units_without_officers_appear_only_in_previews() -> None:
    task = TaskInfo(id=10, kind="once", due=dt.date(2026, 3, 27), lead_unit_id=99)
    assert planned_reminders([task], OFFICERS, ReminderPolicy(), *MARCH) == []
    shown = planned_reminders([task], OFFICERS, ReminderPolicy(), *MARCH, include_unstaffed=True)
    assert shown and all(p.person_id is None and p.unit_id == 99 for p in shown)


def test_digest_is_monday_eight_and_tally_cycle_days() -> None:
    policy = ReminderPolicy()
    digests = digest_times(policy, local(2026, 3, 1, 0), local(2026, 3, 31, 0))
    assert [a.astimezone(TZ).strftime("%a %d/%m %H:%M") for a, _ in digests] == [
        "Mon 02/03 08:00",
        "Mon 09/03 08:00",
        "Mon 16/03 08:00",
        "Mon 23/03 08:00",
        "Mon 30/03 08:00",
    ]
    steps = tally_steps(policy, local(2026, 3, 1, 0), local(2026, 4, 1, 0))
    assert [
        (s.stage, s.at.astimezone(TZ).strftime("%d/%m %H:%M"), s.leaders, s.office) for s in steps
    ] == [
        ("20", "20/03 08:00", False, False),
        ("25", "25/03 08:00", True, False),
        ("last", "31/03 08:00", False, True),
    ]


def test_policy_is_stored_validated_and_editable() -> None:
    assert load_policy({}) == ReminderPolicy()
    policy = load_policy({"reminders": {"lead_offsets": [1, 7, 3], "holidays": ["12-24"]}})
    assert policy.lead_offsets == [7, 3, 1]
    assert policy.is_day_off(dt.date(2026, 12, 24))
    changed = set_policy_value(policy, "delivery.zalo_per_second", 5)
    assert changed.delivery.zalo_per_second == 5
    with pytest.raises(ValueError):
        set_policy_value(policy, "nonsense", 1)
    with pytest.raises(ValidationError):
        load_policy({"reminders": {"holidays": ["31-31"]}})
    with pytest.raises(ValidationError):
        load_policy({"reminders": {"days_off": [0, 1, 2, 3, 4, 5, 6]}})
