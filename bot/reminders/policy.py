"""The reminder policy of a commune and the pure functions that say what is due, when.

Everything here is a function of plain data and explicit times: no database, no clock.
The planner feeds it tasks, officers and a window; the same answers come out every time,
with deterministic dedupe keys, so running it twice never queues a reminder twice and a
changed deadline yields new keys (the old ones are cancelled by the planner).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.dates import add_months, is_month_end, month_end
from bot.plans.status import period_key

DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
Period = Literal["monthly", "quarterly", "half_yearly", "yearly"]
PERIOD_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}

# Vietnamese public holidays: "MM-DD" repeats every year, "YYYY-MM-DD" is one day.
# Lunar ones (Tết Nguyên đán, Giỗ Tổ Hùng Vương) change every year: edit them per year.
DEFAULT_HOLIDAYS = [
    "01-01",  # Tết Dương lịch
    "04-30",  # Ngày Giải phóng miền Nam
    "05-01",  # Quốc tế Lao động
    "09-02",  # Quốc khánh
    "2026-02-14",
    "2026-02-15",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-02-21",
    "2026-02-22",  # Tết Bính Ngọ 2026
    "2026-04-27",  # Giỗ Tổ Hùng Vương 2026 (nghỉ bù)
    "2026-09-01",  # Quốc khánh 2026 (ngày liền kề)
    "2027-02-05",
    "2027-02-06",
    "2027-02-07",
    "2027-02-08",
    "2027-02-09",
    "2027-02-10",  # Tết Đinh Mùi 2027
]

# Outbox kinds the planner owns (and may cancel when they are no longer planned).
TASK_KINDS = frozenset({"deadline", "overdue", "coordinating", "period"})
TALLY_KINDS = frozenset({"tally", "tally_leader", "tally_office"})
# Kinds that lose their point when late: older than the catch-up window they become "missed".
# (A report's deadline reminder, bot.feedback.deadlines.KIND_DUE, too; its escalation stays.)
EXPIRING_KINDS = TASK_KINDS | TALLY_KINDS | {"digest", "red", "feedback_due"}


class DeliveryLimits(BaseModel):
    """How fast the outbox delivery may send on each platform."""

    model_config = ConfigDict(extra="forbid")

    telegram_per_second: float = Field(default=30, gt=0)
    telegram_per_chat_per_second: float = Field(default=1, gt=0)
    zalo_per_second: float = Field(default=10, gt=0)
    zalo_per_chat_per_second: float = Field(default=1, gt=0)
    # Group chats: Telegram allows 20 messages a minute in a group; Zalo does not say.
    telegram_per_group_per_minute: float = Field(default=20, gt=0)
    zalo_per_group_per_minute: float = Field(default=20, gt=0)
    console_per_second: float = Field(default=1000, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=50)
    backoff_seconds: float = Field(default=30, gt=0)
    lease_seconds: int = Field(default=120, ge=10)

    def group_rate(self, channel: str) -> float | None:
        """Messages a minute to one group chat on a channel (None: no group limit)."""
        if channel == "telegram":
            return self.telegram_per_group_per_minute
        if channel == "zalo":
            return self.zalo_per_group_per_minute
        return None

    def rate(self, channel: str) -> tuple[float, float]:
        """(overall per second, per chat per second) for a channel."""
        if channel == "telegram":
            return self.telegram_per_second, self.telegram_per_chat_per_second
        if channel == "zalo":
            return self.zalo_per_second, self.zalo_per_chat_per_second
        return self.console_per_second, self.console_per_second


class ReminderPolicy(BaseModel):
    """A commune's reminder rules (stored in ``Commune.settings["reminders"]``)."""

    model_config = ConfigDict(extra="forbid")

    send_time: dt.time = dt.time(8, 0)
    lead_offsets: list[int] = Field(default_factory=lambda: [7, 3, 1, 0])
    overdue_every_days: int = Field(default=3, ge=0, le=60)  # 0: no repeats once overdue
    overdue_max_days: int | None = Field(default=None, ge=1)  # None: until done
    coordinating_offsets: list[int] = Field(default_factory=lambda: [7, 0])
    period_offsets: list[int] = Field(default_factory=lambda: [7, 1])
    ongoing_period: Period = "monthly"  # as bot.plans.status judges "Thường xuyên"
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(7, 0)
    days_off: list[int] = Field(default_factory=lambda: [6])  # 0 = Monday … 6 = Sunday
    holidays: list[str] = Field(default_factory=lambda: list(DEFAULT_HOLIDAYS))
    digest_weekday: int = Field(default=0, ge=0, le=6)
    digest_time: dt.time = dt.time(8, 0)
    tally_days: list[int] = Field(default_factory=lambda: [20, 25])
    tally_leader_day: int = Field(default=25, ge=1, le=28)
    tally_office_last_day: bool = True
    red_alerts: bool = True
    catchup_hours: float = Field(default=24, ge=0)
    lookahead_hours: float = Field(default=24, ge=0, le=24 * 14)
    delivery: DeliveryLimits = Field(default_factory=DeliveryLimits)

    @field_validator("lead_offsets", "coordinating_offsets", "period_offsets")
    @classmethod
    def _offsets(cls, value: list[int]) -> list[int]:
        if any(offset < 0 or offset > 366 for offset in value):
            raise ValueError("offsets are days before the deadline, from 0 to 366")
        return sorted(set(value), reverse=True)

    @field_validator("days_off")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(day < 0 or day > 6 for day in value) or len(set(value)) >= 7:
            raise ValueError("days off are 0 (Monday) to 6 (Sunday), and not all of them")
        return sorted(set(value))

    @field_validator("tally_days")
    @classmethod
    def _tally_days(cls, value: list[int]) -> list[int]:
        if any(day < 1 or day > 28 for day in value):
            raise ValueError("tally days are days of the month from 1 to 28")
        return sorted(set(value))

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: list[str]) -> list[str]:
        for item in value:
            _parse_holiday(item)
        return value

    @model_validator(mode="after")
    def _quiet(self) -> ReminderPolicy:
        if self.quiet_start == self.quiet_end:
            raise ValueError("quiet hours must start and end at different times")
        if _in_quiet(self.send_time, self.quiet_start, self.quiet_end):
            raise ValueError("the send time falls in quiet hours")
        return self

    # --------------------------------------------------------------- time rules

    def is_day_off(self, day: dt.date) -> bool:
        """Whether no reminder may be sent on this local date (Sunday, holiday)."""
        if day.weekday() in self.days_off:
            return True
        yearly, dated = _holiday_sets(tuple(self.holidays))
        return (day.month, day.day) in yearly or day in dated

    def is_quiet(self, moment: dt.time) -> bool:
        """Whether a local time of day is in quiet hours."""
        return _in_quiet(moment, self.quiet_start, self.quiet_end)

    def allowed(self, local: dt.datetime) -> bool:
        """Whether a reminder may be sent at this local time."""
        return not self.is_day_off(local.date()) and not self.is_quiet(local.time())

    def next_allowed(self, local: dt.datetime) -> dt.datetime:
        """The first allowed local time at or after ``local`` (naive or aware, kept as given)."""
        current = local
        for _ in range(400):
            if self.is_day_off(current.date()):
                current = _at(current.date() + dt.timedelta(days=1), self.quiet_end, current)
                continue
            if self.is_quiet(current.time()):
                if self.quiet_start > self.quiet_end and current.time() >= self.quiet_start:
                    current = _at(current.date() + dt.timedelta(days=1), self.quiet_end, current)
                else:
                    current = _at(current.date(), self.quiet_end, current)
                continue
            return current
        raise ValueError("no allowed time within 400 days: check days off and holidays")


def _at(day: dt.date, time: dt.time, like: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=like.tzinfo)


def _in_quiet(moment: dt.time, start: dt.time, end: dt.time) -> bool:
    if start > end:  # wraps midnight: 21:00–07:00
        return moment >= start or moment < end
    return start <= moment < end


def _parse_holiday(item: str) -> tuple[int | None, int, int]:
    parts = item.strip().split("-")
    try:
        if len(parts) == 2:
            month, day = int(parts[0]), int(parts[1])
            dt.date(2024, month, day)  # a leap year accepts 02-29
            return None, month, day
        if len(parts) == 3:
            value = dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            return value.year, value.month, value.day
    except ValueError:
        pass
    raise ValueError(f"holiday {item!r} is not YYYY-MM-DD or MM-DD")


@functools.lru_cache(maxsize=32)
def _holiday_sets(items: tuple[str, ...]) -> tuple[frozenset[tuple[int, int]], frozenset[dt.date]]:
    yearly: set[tuple[int, int]] = set()
    dated: set[dt.date] = set()
    for item in items:
        year, month, mday = _parse_holiday(item)
        if year is None:
            yearly.add((month, mday))
        else:
            dated.add(dt.date(year, month, mday))
    return frozenset(yearly), frozenset(dated)


def load_policy(settings: Mapping[str, Any] | None) -> ReminderPolicy:
    """The policy stored in a commune's settings (defaults for anything missing)."""
    raw = (settings or {}).get("reminders") or {}
    return ReminderPolicy.model_validate(raw)


def set_policy_value(policy: ReminderPolicy, key: str, value: Any) -> ReminderPolicy:
    """A copy of the policy with one (dotted) key changed, validated."""
    data = policy.model_dump(mode="json")
    target = data
    parts = key.split(".")
    for part in parts[:-1]:
        if not isinstance(target.get(part), dict):
            raise ValueError(f"unknown setting {key!r}")
        target = target[part]
    if parts[-1] not in target:
        raise ValueError(f"unknown setting {key!r}")
    target[parts[-1]] = value
    return ReminderPolicy.model_validate(data)


# ------------------------------------------------------------------ plain data in and out


@dataclass(frozen=True)
class TaskInfo:
    """What the policy needs to know about a task."""

    id: int
    kind: str  # once | recurring | ongoing | on_event
    due: dt.date | None = None
    repeat: str | None = None
    start: dt.date | None = None
    lead_unit_id: int | None = None
    coordinating: tuple[int, ...] = ()
    done_periods: frozenset[str] = frozenset()  # "" for a once task that is complete
    active: bool = True


@dataclass(frozen=True)
class Recipients:
    """Who hears for a unit: its officers (people with the unit role and that unit)."""

    officers: Mapping[int, Sequence[int]] = field(default_factory=dict)

    def of(self, unit_id: int | None) -> Sequence[int]:
        return () if unit_id is None else self.officers.get(unit_id, ())


@dataclass(frozen=True)
class Planned:
    """One message the policy implies: when, to whom, about what, under which key."""

    at: dt.datetime  # aware UTC
    person_id: int | None  # None: the unit has no officer yet (previews only)
    task_id: int | None
    kind: str
    dedupe_key: str
    unit_id: int | None = None
    due: dt.date | None = None
    offset: int = 0  # days before (positive) or after (negative) the due date
    period: str = ""


def reporting_dates(
    task: TaskInfo, policy: ReminderPolicy, first: dt.date, last: dt.date
) -> list[dt.date]:
    """The reporting dates of a recurring or ongoing task between two dates (inclusive)."""
    repeat = task.repeat if task.kind == "recurring" else policy.ongoing_period
    months = PERIOD_MONTHS.get(repeat or "yearly", 12)
    if task.kind == "recurring" and task.due is not None:
        anchor = task.due
        at_month_end = is_month_end(anchor)
    else:  # calendar period ends: 31/03, 30/06…
        anchor = add_months(dt.date(first.year - 1, 1, 1), months - 1, keep_month_end=True)
        at_month_end = True
    # Step back to before ``first``, then forward through ``last``.
    steps = ((anchor.year - first.year) * 12 + anchor.month - first.month) // months + 1
    current = add_months(anchor, -steps * months, keep_month_end=at_month_end)
    dates = []
    guard = 0
    while current <= last and guard < 2000:
        if current >= first and (task.start is None or current >= task.start):
            dates.append(current)
        current = add_months(current, months, keep_month_end=at_month_end)
        guard += 1
    return dates


def _moment(day: dt.date, policy: ReminderPolicy, tz: dt.tzinfo) -> dt.datetime:
    local = dt.datetime.combine(day, policy.send_time, tzinfo=tz)
    return policy.next_allowed(local).astimezone(dt.UTC)


def planned_reminders(
    tasks: Iterable[TaskInfo],
    recipients: Recipients,
    policy: ReminderPolicy,
    start: dt.datetime,
    end: dt.datetime,
    *,
    tz: dt.tzinfo = DEFAULT_TZ,
    include_unstaffed: bool = False,
) -> list[Planned]:
    """Every task reminder the policy implies with ``start <= at < end``, sorted by time."""
    result: list[Planned] = []
    first_day = start.astimezone(tz).date()
    last_day = end.astimezone(tz).date()
    horizon = max([*policy.lead_offsets, *policy.coordinating_offsets, *policy.period_offsets, 0])
    for task in tasks:
        if not task.active or task.kind == "on_event":
            continue
        candidates: list[
            tuple[int | None, int, str, dt.date, str]
        ] = []  # unit, offset, kind, due, period
        coordinating = [u for u in dict.fromkeys(task.coordinating) if u != task.lead_unit_id]
        if task.kind == "once" and task.due is not None:
            if "" in task.done_periods:
                continue
            due = task.due
            for offset in policy.lead_offsets:
                candidates.append((task.lead_unit_id, offset, "deadline", due, ""))
            if policy.overdue_every_days:
                step = policy.overdue_every_days
                limit = (last_day - due).days + 1
                if policy.overdue_max_days is not None:
                    limit = min(limit, policy.overdue_max_days)
                begin = max(step, ((first_day - due).days - 21) // step * step)
                for late in range(begin, limit + 1, step):
                    candidates.append((task.lead_unit_id, -late, "overdue", due, ""))
            for offset in policy.coordinating_offsets:
                for coordinator in coordinating:
                    candidates.append((coordinator, offset, "coordinating", due, ""))
        elif task.kind in ("recurring", "ongoing"):
            window_last = last_day + dt.timedelta(days=horizon + 7)
            for due in reporting_dates(task, policy, first_day - dt.timedelta(days=7), window_last):
                repeat = task.repeat if task.kind == "recurring" else policy.ongoing_period
                period = period_key(repeat or "yearly", due)
                if period in task.done_periods:
                    continue
                for offset in policy.period_offsets:
                    candidates.append((task.lead_unit_id, offset, "period", due, period))
        else:
            continue
        chosen: dict[tuple[str, dt.date, dt.date], Planned] = {}
        for unit, offset, kind, due, period in candidates:
            at = _moment(due - dt.timedelta(days=offset), policy, tz)
            people: Sequence[int | None] = list(recipients.of(unit))
            if not people and include_unstaffed and unit is not None:
                people = [None]
            prefix = "coord" if kind == "coordinating" else "task"
            for person in people:
                who = person if person is not None else f"u{unit}"
                key = f"{prefix}:{task.id}:{due.isoformat()}:{-offset:+d}:{who}"
                item = Planned(at, person, task.id, kind, key, unit, due, offset, period)
                # Two reminders on the same local day about the same deadline (a T−1 moved
                # past a Sunday onto the due date): keep the one closer to the deadline.
                slot = (str(who), due, at.astimezone(tz).date())
                previous = chosen.get(slot)
                if previous is None or abs(item.offset) < abs(previous.offset):
                    chosen[slot] = item
        result.extend(p for p in chosen.values() if start <= p.at < end)
    result.sort(key=lambda p: (p.at, p.task_id or 0, p.dedupe_key))
    return result


def digest_times(
    policy: ReminderPolicy, start: dt.datetime, end: dt.datetime, *, tz: dt.tzinfo = DEFAULT_TZ
) -> list[tuple[dt.datetime, dt.date]]:
    """(send time, week's nominal date) of each weekly digest in the window."""
    result = []
    day = start.astimezone(tz).date() - dt.timedelta(days=14)
    day += dt.timedelta(days=(policy.digest_weekday - day.weekday()) % 7)
    while day <= end.astimezone(tz).date():
        local = dt.datetime.combine(day, policy.digest_time, tzinfo=tz)
        at = policy.next_allowed(local).astimezone(dt.UTC)
        if start <= at < end:
            result.append((at, day))
        day += dt.timedelta(days=7)
    return result


@dataclass(frozen=True)
class TallyStep:
    """One step of the monthly tally cycle."""

    at: dt.datetime  # aware UTC
    period: dt.date  # first day of the month being reported
    stage: str  # "20", "25"… (a tally day) or "last"
    leaders: bool  # team leaders hear too
    office: bool  # the standing office gets the list of villages still missing


def tally_steps(
    policy: ReminderPolicy, start: dt.datetime, end: dt.datetime, *, tz: dt.tzinfo = DEFAULT_TZ
) -> list[TallyStep]:
    """The tally-cycle steps falling in the window."""
    result = []
    first = start.astimezone(tz).date().replace(day=1)
    month = add_months(first, -1, keep_month_end=False)
    while month <= end.astimezone(tz).date():
        days: list[tuple[dt.date, str, bool, bool]] = [
            (month.replace(day=d), str(d), d >= policy.tally_leader_day, False)
            for d in policy.tally_days
        ]
        if policy.tally_office_last_day:
            last = month_end(month)
            days.append((last, "last", False, True))
        for day, stage, leaders, office in days:
            local = dt.datetime.combine(day, policy.send_time, tzinfo=tz)
            at = policy.next_allowed(local).astimezone(dt.UTC)
            if start <= at < end:
                result.append(TallyStep(at, month, stage, leaders, office))
        month = add_months(month, 1, keep_month_end=False)
    result.sort(key=lambda s: s.at)
    return result
