"""Deadlines in working days (Sundays and holidays skipped) and when notifications go out."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.feedback.policy import FeedbackPolicy, due_at, load_feedback_policy, notify_at, reference
from bot.reminders.policy import ReminderPolicy
from bot.workdays import add_working_days, next_working_day, working_days_between

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = ReminderPolicy()  # Sundays off, the default holidays (Tết Bính Ngọ 14–22/02/2026)
DAY_ENDS = dt.time(17, 0)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN)


def test_working_days_skip_sundays_and_holidays() -> None:
    off = CALENDAR.is_day_off
    assert next_working_day(dt.date(2026, 3, 15), off) == dt.date(2026, 3, 16)  # Sunday → Monday
    assert add_working_days(dt.date(2026, 3, 13), 2, off) == dt.date(2026, 3, 16)  # Fri → Mon
    assert add_working_days(dt.date(2026, 2, 12), 2, off) == dt.date(2026, 2, 23)  # over Tết
    assert add_working_days(dt.date(2026, 4, 29), 1, off) == dt.date(2026, 5, 2)  # 30/4, 1/5
    assert working_days_between(dt.date(2026, 3, 13), dt.date(2026, 3, 16), off) == 2


def test_a_deadline_is_the_end_of_the_nth_working_day() -> None:
    # Tuesday 09:00, 2 working days → Thursday 17:00.
    assert due_at(local(2026, 3, 10, 9), 2, CALENDAR, VN, DAY_ENDS) == local(2026, 3, 12, 17)
    # After 17:00 it counts from the next day; 0 days = by the end of that working day.
    assert due_at(local(2026, 3, 10, 18), 0, CALENDAR, VN, DAY_ENDS) == local(2026, 3, 11, 17)
    # Received on a Sunday: Monday is day 0.
    assert due_at(local(2026, 3, 15, 10), 1, CALENDAR, VN, DAY_ENDS) == local(2026, 3, 17, 17)
    # A commune that also rests on Saturdays.
    five_days = ReminderPolicy(days_off=[5, 6])
    assert due_at(local(2026, 3, 13, 9), 1, five_days, VN, DAY_ENDS) == local(2026, 3, 16, 17)


def test_notifications_wait_out_quiet_hours_unless_urgent() -> None:
    night = local(2026, 3, 10, 22, 30).astimezone(dt.UTC)
    assert notify_at(night, CALENDAR, VN, urgent=False) == local(2026, 3, 11, 7)
    assert notify_at(night, CALENDAR, VN, urgent=True) == night
    sunday_noon = local(2026, 3, 15, 12).astimezone(dt.UTC)
    assert notify_at(sunday_noon, CALENDAR, VN, urgent=False) == sunday_noon  # news, not a reminder


def test_the_feedback_policy_lives_in_the_commune_settings() -> None:
    assert load_feedback_policy({}) == FeedbackPolicy()
    policy = load_feedback_policy({"feedback": {"prefix": "KN", "daily_limit": 3}})
    assert (policy.prefix, policy.daily_limit, policy.duplicate_minutes) == ("KN", 3, 60)
    assert reference(policy.prefix, 427) == "KN-0427"
    assert reference("PA", 12345) == "PA-12345"
