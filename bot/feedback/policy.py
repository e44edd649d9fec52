"""A commune's feedback rules and the times they imply (deadlines, when to notify).

The rules live in ``Commune.settings["feedback"]`` (defaults for anything missing), next to
the reminder policy in ``Commune.settings["reminders"]``, whose days off, holidays and quiet
hours are the commune's single calendar: deadlines count working days with
``ReminderPolicy.is_day_off`` and notifications wait out ``ReminderPolicy`` quiet hours.
Pure: plain data and explicit times, no database, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.reminders.policy import ReminderPolicy
from bot.workdays import add_working_days, next_working_day, working_days_between


class FeedbackPolicy(BaseModel):
    """How a commune takes reports (stored in ``Commune.settings["feedback"]``)."""

    model_config = ConfigDict(extra="forbid")

    prefix: str = Field(default="PA", pattern=r"^[A-Z]{1,5}$")  # reference codes: PA-0427
    duplicate_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    daily_limit: int = Field(default=5, ge=1, le=200)  # reports per person per local day
    max_photos: int = Field(default=5, ge=0, le=20)  # per report, and per addition
    day_ends: dt.time = dt.time(17, 0)  # a deadline falls at this local time
    jurisdiction_id: str = Field(default="", max_length=200)  # Open311; "" = the commune's slug
    # SHA-256 of the API keys Open311 clients POST with (bot.feedback.apikeys); never a key.
    open311_keys: list[str] = Field(default_factory=list, max_length=20)


def load_feedback_policy(settings: Mapping[str, Any] | None) -> FeedbackPolicy:
    """The feedback rules stored in a commune's settings (defaults for anything missing)."""
    raw = (settings or {}).get("feedback") or {}
    return FeedbackPolicy.model_validate(raw)


def reference(prefix: str, number: int) -> str:
    """The short code residents quote: PA-0427 (more digits when the commune needs them)."""
    return f"{prefix}-{number:04d}"


def due_at(
    received: dt.datetime,
    working_days: int,
    calendar: ReminderPolicy,
    tz: dt.tzinfo,
    day_ends: dt.time,
) -> dt.datetime:
    """The end of the ``working_days``-th working day after a report was received (aware UTC).

    A report received after the end of the working day, or on a day off, counts from the
    next working day; 0 days means by the end of the day it counts from.
    """
    local = received.astimezone(tz)
    start = local.date()
    if local.time() >= day_ends:
        start += dt.timedelta(days=1)
    day = add_working_days(start, working_days, calendar.is_day_off)
    return dt.datetime.combine(day, day_ends, tzinfo=tz).astimezone(dt.UTC)


def working_days_taken(
    received: dt.datetime,
    answered: dt.datetime,
    calendar: ReminderPolicy,
    tz: dt.tzinfo,
    day_ends: dt.time,
) -> int:
    """How many working days an answer took, counted as ``due_at`` counts deadlines.

    The count starts from the working day a report counts from (the next one when it came
    in after the end of the day or on a day off); an answer after the end of a working day,
    or on a day off, counts on the next working day. So an answer is on time exactly when
    it took no more working days than the category allows: 0 is the same working day.
    """
    local = received.astimezone(tz)
    start = local.date() + dt.timedelta(days=int(local.time() >= day_ends))
    start = next_working_day(start, calendar.is_day_off)
    done = answered.astimezone(tz)
    end = done.date() + dt.timedelta(days=int(done.time() > day_ends))
    end = next_working_day(end, calendar.is_day_off)
    return working_days_between(start, end, calendar.is_day_off)


def notify_at(
    now: dt.datetime, calendar: ReminderPolicy, tz: dt.tzinfo, *, urgent: bool
) -> dt.datetime:
    """When a notification about a report may go out: now, or after the quiet hours.

    Urgent categories (an ninh, cháy nổ, sạt lở…) are told at once, night or day. Others
    wait for the end of quiet hours only: a new report is news, not a reminder, so days off
    do not hold it back.
    """
    if urgent:
        return now
    quiet_hours_only = calendar.model_copy(update={"days_off": [], "holidays": []})
    return quiet_hours_only.next_allowed(now.astimezone(tz)).astimezone(dt.UTC)
