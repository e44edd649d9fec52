"""Reminder texts: short Vietnamese messages for a small phone screen.

Pure composition from plain data and a ``Translator``; English msgids, Vietnamese in
``bot/locales/vi/LC_MESSAGES/reminders.po``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.messages import Choice, Reply
from bot.i18n import N_, Translator

TEXT_PREVIEW = 180  # characters of a task's text shown in a reminder

# Button actions registered by the tasks feature (bot/handlers/tasks.py).
ACTION_PROGRESS = "taskprog"
ACTION_EVIDENCE = "taskev"
ACTION_VIEW = "task"

LABEL_PROGRESS = N_("📈 Update progress")
LABEL_EVIDENCE = N_("📎 Send evidence")
LABEL_VIEW = N_("📋 View task")

HEAD_DEADLINE = N_("⏰ Reminder: task {number} of {unit}")
HEAD_OVERDUE = N_("⚠️ Overdue: task {number} of {unit}")
HEAD_COORDINATING = N_("🤝 Your unit coordinates task {number} (lead: {unit})")
HEAD_PERIOD = N_("🗓 Report due for {period}: task {number} of {unit}")
HEAD_RED = N_("🔴 Task {number} of {unit} has turned red")
LINE_DEADLINE = N_("Deadline: {date}")
LINE_DAYS_LEFT = N_("{days} days left.")
LINE_ONE_DAY_LEFT = N_("Due tomorrow.")
LINE_DUE_TODAY = N_("Due today.")
LINE_OVERDUE = N_("{days} days overdue.")
LINE_PROGRESS = N_("Progress: {percent} (by now it should be about {expected}).")
LINE_PROGRESS_ONLY = N_("Progress: {percent}.")
LINE_NO_PROGRESS = N_("No progress reported yet.")
LINE_RED = N_("Why it is red: {reasons}.")
LINE_ASK = N_("Please update the progress or send the evidence.")

DIGEST_HEAD = N_("📊 Weekly summary, {date}")
DIGEST_RED = N_("🔴 Red tasks ({count}):")
DIGEST_NO_RED = N_("🔴 No red tasks.")
DIGEST_DUE = N_("📅 Due in the next 14 days ({count}):")
DIGEST_NO_DUE = N_("📅 Nothing due in the next 14 days.")
DIGEST_VILLAGES = N_("📝 Villages without figures this month ({count}): {names}")
DIGEST_ALL_VILLAGES = N_("📝 Every village has reported this month.")
DIGEST_EVIDENCE = N_("📎 Evidence awaiting review: {count}.")
DIGEST_FEEDBACK_LATE = N_("📣 Residents' reports past their deadline: {count}.")
DIGEST_UNREADABLE = N_(
    "🎤 Last 7 days, messages I could not read: {voice} voice notes, "
    "{protected} from protected accounts (children, people who cannot read)."
)
DIGEST_MORE = N_("… and {count} more.")
NO_UNIT = N_("(no unit)")

TALLY_TEAM = N_(
    "📝 {village} has not sent this month's figures yet ({month}). "
    "Please send them, for example: vneid 45 cks 12"
)
TALLY_LEADER = N_(
    "📝 Team leader: {village} has not sent this month's figures yet ({month}). "
    "Please remind your team."
)
TALLY_GROUP = N_(
    "📝 {village} has not sent this month's figures yet ({month}). "
    "Team members can send them right here: mention me, then the figures, "
    "for example: vneid 45 cks 12"
)
TALLY_OFFICE = N_("📝 Last day of {month}: villages still without figures ({count}): {names}")
BROADCAST_HEAD = N_("📢 Announcement from {sender}:")


@dataclass(frozen=True)
class ReminderTask:
    """What a reminder says about a task."""

    id: int
    number: str
    text: str
    unit: str  # the lead unit's name
    due: dt.date | None = None
    percent: int | None = None
    expected: float | None = None  # share of the time elapsed, 0..1
    red_reasons: tuple[str, ...] = ()  # msgids (bot.plans.status.REASON_LABELS)
    period: str = ""


def short(text: str, limit: int = TEXT_PREVIEW) -> str:
    """The text cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def task_choices(t: Translator, task_id: int) -> list[Choice]:
    """The actions offered under a task reminder."""
    return [
        Choice(t.gettext(LABEL_PROGRESS), f"{ACTION_PROGRESS}:{task_id}"),
        Choice(t.gettext(LABEL_EVIDENCE), f"{ACTION_EVIDENCE}:{task_id}"),
        Choice(t.gettext(LABEL_VIEW), f"{ACTION_VIEW}:{task_id}"),
    ]


def _days_line(t: Translator, due: dt.date, on: dt.date) -> str:
    days = (due - on).days
    if days > 1:
        return t.gettext(LINE_DAYS_LEFT, days=days)
    if days == 1:
        return t.gettext(LINE_ONE_DAY_LEFT)
    if days == 0:
        return t.gettext(LINE_DUE_TODAY)
    return t.gettext(LINE_OVERDUE, days=-days)


def _progress_line(t: Translator, task: ReminderTask) -> str:
    if task.percent is None:
        return t.gettext(LINE_NO_PROGRESS)
    percent = t.percent(task.percent / 100, 0)
    if task.expected is not None and task.expected > 0:
        return t.gettext(LINE_PROGRESS, percent=percent, expected=t.percent(task.expected, 0))
    return t.gettext(LINE_PROGRESS_ONLY, percent=percent)


def _reasons(t: Translator, task: ReminderTask) -> str:
    return "; ".join(t.gettext(reason) for reason in task.red_reasons)


def task_reminder(
    t: Translator, kind: str, task: ReminderTask, on: dt.date, lead_unit: str | None = None
) -> Reply:
    """A deadline, overdue, coordinating or period reminder about one task."""
    head = {
        "deadline": HEAD_DEADLINE,
        "overdue": HEAD_OVERDUE,
        "coordinating": HEAD_COORDINATING,
        "period": HEAD_PERIOD,
    }.get(kind, HEAD_DEADLINE)
    lines = [t.gettext(head, number=task.number, unit=lead_unit or task.unit, period=task.period)]
    lines.append(short(task.text))
    if task.due is not None:
        lines.append(_deadline_line(t, task.due, on))
    lines.append(_progress_line(t, task))
    if task.red_reasons:
        lines.append(t.gettext(LINE_RED, reasons=_reasons(t, task)))
    if kind != "coordinating":
        lines.append(t.gettext(LINE_ASK))
    return Reply(text="\n".join(lines), choices=task_choices(t, task.id))


def _deadline_line(t: Translator, due: dt.date, on: dt.date) -> str:
    """The deadline with its weekday, and how many days are left (or overdue)."""
    return t.gettext(LINE_DEADLINE, date=t.date(due, weekday=True)) + " " + _days_line(t, due, on)


def red_alert(t: Translator, task: ReminderTask, on: dt.date) -> Reply:
    """The alert a unit gets when one of its tasks turns red, with the reason."""
    lines = [t.gettext(HEAD_RED, number=task.number, unit=task.unit), short(task.text)]
    lines.append(t.gettext(LINE_RED, reasons=_reasons(t, task)))
    if task.due is not None:
        lines.append(_deadline_line(t, task.due, on))
    lines.append(_progress_line(t, task))
    lines.append(t.gettext(LINE_ASK))
    return Reply(text="\n".join(lines), choices=task_choices(t, task.id))


@dataclass(frozen=True)
class Digest:
    """What the weekly digest reports."""

    on: dt.date
    red_by_unit: Mapping[str, Sequence[ReminderTask]] = field(default_factory=dict)
    due_soon: Sequence[ReminderTask] = ()
    villages_missing: Sequence[str] = ()
    evidence_pending: int = 0
    # Messages of the last 7 days the bot could not read: {"voice": 3, "protected": 1}.
    unreadable: Mapping[str, int] = field(default_factory=dict)
    # Open residents' reports past their deadline: "PA-0427 (Phòng Kinh tế)".
    feedback_late: Sequence[str] = ()


def _listing(t: Translator, items: Sequence[str], limit: int) -> list[str]:
    lines = list(items[:limit])
    if len(items) > limit:
        lines.append(t.gettext(DIGEST_MORE, count=len(items) - limit))
    return lines


def digest(t: Translator, data: Digest, limit: int = 10) -> Reply:
    """The Monday digest for the standing office and the commune leaders."""
    lines = [t.gettext(DIGEST_HEAD, date=t.date(data.on, weekday=True)), ""]
    red_count = sum(len(tasks) for tasks in data.red_by_unit.values())
    if red_count:
        lines.append(t.gettext(DIGEST_RED, count=red_count))
        for unit, tasks in data.red_by_unit.items():
            numbers = ", ".join(task.number for task in tasks)
            lines.append(f"• {unit or t.gettext(NO_UNIT)}: {numbers}")
    else:
        lines.append(t.gettext(DIGEST_NO_RED))
    lines.append("")
    if data.due_soon:
        lines.append(t.gettext(DIGEST_DUE, count=len(data.due_soon)))
        items = [
            f"• {t.date(task.due)} – {task.number} ({task.unit}): {short(task.text, 60)}"
            for task in data.due_soon
            if task.due is not None
        ]
        lines.extend(_listing(t, items, limit))
    else:
        lines.append(t.gettext(DIGEST_NO_DUE))
    lines.append("")
    if data.villages_missing:
        lines.append(
            t.gettext(
                DIGEST_VILLAGES,
                count=len(data.villages_missing),
                names=", ".join(data.villages_missing),
            )
        )
    else:
        lines.append(t.gettext(DIGEST_ALL_VILLAGES))
    lines.append(t.gettext(DIGEST_EVIDENCE, count=data.evidence_pending))
    if data.feedback_late:
        lines.append(t.gettext(DIGEST_FEEDBACK_LATE, count=len(data.feedback_late)))
        lines.extend(_listing(t, [f"• {item}" for item in data.feedback_late], limit))
    if any(data.unreadable.values()):
        lines.append(
            t.gettext(
                DIGEST_UNREADABLE,
                voice=data.unreadable.get("voice", 0),
                protected=data.unreadable.get("protected", 0),
            )
        )
    return Reply(text="\n".join(lines))


def month_label(period: dt.date) -> str:
    """A month as 03/2026."""
    return f"{period.month:02d}/{period.year}"


def tally_reminder(t: Translator, village: str, period: dt.date, leader: bool) -> Reply:
    """The tally-cycle reminder for a village that has not reported."""
    message = TALLY_LEADER if leader else TALLY_TEAM
    return Reply(text=t.gettext(message, village=village, month=month_label(period)))


def tally_group(t: Translator, village: str, period: dt.date) -> Reply:
    """The tally-cycle reminder in a village's group chat (no names, only the village)."""
    return Reply(text=t.gettext(TALLY_GROUP, village=village, month=month_label(period)))


def tally_office(t: Translator, villages: Sequence[str], period: dt.date) -> Reply:
    """The last-day list of villages still missing, for the standing office."""
    return Reply(
        text=t.gettext(
            TALLY_OFFICE, month=month_label(period), count=len(villages), names=", ".join(villages)
        )
    )


def broadcast(t: Translator, sender: str, text: str) -> Reply:
    """An announcement as its recipients see it."""
    return Reply(text=t.gettext(BROADCAST_HEAD, sender=sender) + "\n\n" + text)
