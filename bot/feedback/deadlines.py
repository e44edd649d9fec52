"""Deadline reminders and escalation for reports, as plain data (queued by the planner).

A report has two deadlines, in working days from its category (``bot.feedback.policy``):
the first answer (``answer_due_at``, while nobody has answered) and closing
(``close_due_at``, while it is open). For each, like a plan task:

* **T−1**: on the working day before the deadline's day, at the commune's send time, the
  report's holder is reminded — the unit's officers while the unit has it, otherwise the
  standing office;
* **on the day**: the same, on the deadline's day;
* **late**: when the deadline passes, the standing office and the commune leaders hear
  that the report is late (once per deadline).

Times respect the commune's quiet hours and days off, except for urgent categories (an
ninh, cháy nổ…), whose reminders go at the planned moment. A reminder that would fall
before the report was received is not planned. Dedupe keys are domain facts only — the
commune, the report's code, which deadline and when it falls, the stage and the
recipient — so a reopened report (new deadlines) is reminded again and nothing twice.
Pure: no database, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.messages import Choice, Reply
from bot.feedback.choices import ReportChoice, Verb
from bot.feedback.status import WITH_UNIT, Status
from bot.i18n import N_, Translator
from bot.reminders.policy import ReminderPolicy
from bot.text import shorten

KIND_DUE = "feedback_due"  # T−1 and on the day, to the report's holder
KIND_LATE = "feedback_late"  # the deadline passed: to the office and the commune leaders
KINDS = frozenset({KIND_DUE, KIND_LATE})
ANSWER, CLOSE = "answer", "close"
BEFORE, TODAY, LATE = "before", "today", "late"
HOLDER, OVERSEERS = "holder", "overseers"
QUOTE = 120

M_BEFORE_ANSWER = N_(
    "⏰ Report {code} ({category}) needs its first answer by {due} (the next working day)."
)
M_TODAY_ANSWER = N_("⏰ Report {code} ({category}) needs its first answer today, by {due}.")
M_BEFORE_CLOSE = N_(
    "⏰ Report {code} ({category}) should be settled by {due} (the next working day)."
)
M_TODAY_CLOSE = N_("⏰ Report {code} ({category}) should be settled today, by {due}.")
M_LATE_ANSWER = N_(
    "🔴 Report {code} ({category}, {unit}) was not answered by its deadline {due}. "
    "Please follow it up."
)
M_LATE_CLOSE = N_(
    "🔴 Report {code} ({category}, {unit}) was not settled by its deadline {due}. "
    "Please follow it up."
)
M_NO_UNIT = N_("no unit yet")
M_URGENT = N_("🚨 URGENT")
ACTION_OPEN = N_("📄 Open report {code}")
MESSAGES = {
    (ANSWER, BEFORE): M_BEFORE_ANSWER,
    (ANSWER, TODAY): M_TODAY_ANSWER,
    (ANSWER, LATE): M_LATE_ANSWER,
    (CLOSE, BEFORE): M_BEFORE_CLOSE,
    (CLOSE, TODAY): M_TODAY_CLOSE,
    (CLOSE, LATE): M_LATE_CLOSE,
}


@dataclass(frozen=True)
class OpenReport:
    """What the reminders need to know about one open report."""

    id: int
    commune_id: int
    code: str
    status: Status
    urgent: bool
    unit_id: int | None
    received: dt.datetime  # aware
    answer_due: dt.datetime  # aware
    close_due: dt.datetime  # aware
    answered: bool


@dataclass(frozen=True)
class DueNotice:
    """One reminder or escalation: when, about which deadline, to whom (an audience)."""

    at: dt.datetime  # aware UTC
    report: OpenReport
    deadline: str  # ANSWER | CLOSE
    stage: str  # BEFORE | TODAY | LATE
    due: dt.datetime  # aware UTC
    audience: str  # HOLDER | OVERSEERS

    @property
    def kind(self) -> str:
        return KIND_LATE if self.stage == LATE else KIND_DUE

    def key(self, person_id: int) -> str:
        """The dedupe key: commune, report code, deadline and its moment, stage, recipient."""
        due = self.due.astimezone(dt.UTC).strftime("%Y%m%dT%H%M")
        report = self.report
        return f"fbdue:{report.commune_id}:{report.code}:{self.deadline}:{due}:{self.stage}:{person_id}"


def _previous_working_day(day: dt.date, calendar: ReminderPolicy) -> dt.date:
    current = day - dt.timedelta(days=1)
    for _ in range(400):
        if not calendar.is_day_off(current):
            return current
        current -= dt.timedelta(days=1)
    return current


def _when(local: dt.datetime, calendar: ReminderPolicy, urgent: bool) -> dt.datetime:
    """The moment a notice goes out: as planned when urgent, else out of quiet hours."""
    if urgent:
        return local.astimezone(dt.UTC)
    return calendar.next_allowed(local).astimezone(dt.UTC)


def notices_for(report: OpenReport, calendar: ReminderPolicy, tz: dt.tzinfo) -> list[DueNotice]:
    """Every reminder and escalation a report's open deadlines imply, whenever they fall."""
    if report.status is Status.CLOSED:
        return []
    deadlines = [(CLOSE, report.close_due)]
    if not report.answered:
        deadlines.insert(0, (ANSWER, report.answer_due))
    result: list[DueNotice] = []
    for deadline, due in deadlines:
        due_day = due.astimezone(tz).date()
        stages = (
            (BEFORE, _previous_working_day(due_day, calendar)),
            (TODAY, due_day),
        )
        reminders: dict[dt.datetime, DueNotice] = {}
        for stage, day in stages:
            local = dt.datetime.combine(day, calendar.send_time, tzinfo=tz)
            at = _when(local, calendar, report.urgent)
            if at < report.received or at >= due:
                continue  # not before the report came in, nor after its deadline
            # T−1 moved onto the day of the deadline: keep only "today".
            reminders[at] = DueNotice(at, report, deadline, stage, due, HOLDER)
        result.extend(reminders.values())
        late_at = _when(due.astimezone(tz), calendar, report.urgent)
        result.append(DueNotice(late_at, report, deadline, LATE, due, OVERSEERS))
    return result


def planned_notices(
    reports: Iterable[OpenReport],
    calendar: ReminderPolicy,
    tz: dt.tzinfo,
    start: dt.datetime,
    end: dt.datetime,
) -> list[DueNotice]:
    """The notices of all these reports with ``start <= at < end``, in time order."""
    found = [
        notice
        for report in reports
        for notice in notices_for(report, calendar, tz)
        if start <= notice.at < end
    ]
    found.sort(key=lambda n: (n.at, n.report.id, n.deadline, n.stage))
    return found


def holder_is_unit(report: OpenReport) -> bool:
    """Whether the unit holds the report now (else the standing office must act)."""
    return report.status in WITH_UNIT and report.unit_id is not None


def recipients(
    notice: DueNotice,
    officers: Mapping[int, Sequence[int]],
    office: Sequence[int],
    leaders: Sequence[int],
) -> list[int]:
    """Who reads a notice: the holder's people, or the office and the commune leaders."""
    if notice.audience == OVERSEERS:
        return list(dict.fromkeys([*office, *leaders]))
    report = notice.report
    if holder_is_unit(report):
        return list(officers.get(report.unit_id or -1, ()))
    return list(office)


def compose(
    t: Translator,
    notice: DueNotice,
    tz: dt.tzinfo,
    *,
    category: str,
    unit: str,
    text: str,
) -> Reply:
    """The message of one notice, in the recipient's language."""
    report = notice.report
    line = t.gettext(
        MESSAGES[(notice.deadline, notice.stage)],
        code=report.code,
        category=category,
        unit=unit or t.gettext(M_NO_UNIT),
        due=t.datetime(notice.due.astimezone(tz)),
    )
    if report.urgent:
        line = f"{t.gettext(M_URGENT)} {line}"
    choice = Choice(
        t.gettext(ACTION_OPEN, code=report.code), ReportChoice(Verb.OPEN, report.id).pack()
    )
    return Reply(text=f"{line}\n“{shorten(text, QUOTE)}”", choices=[choice])
