"""The audit log, written one way and read one way: who changed what, when and why.

Every admin action, correction, review, import and dashboard sign-in calls ``record``;
``/xoadulieu`` blanks the names it wrote. Whatever shows the log to a person (the
dashboard's audit page, a task's history) goes through ``describe``: one table of
Vietnamese labels for actions and detail fields, ids turned into names, so nobody reads
``invite.create`` or ``village_id: None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot.feedback.status import STATUS_LABELS as FEEDBACK_STATUS_LABELS
from bot.feedback.status import Status
from bot.i18n import N_, Translator
from bot.tallies.codes import CODE_LABELS
from db.models import AuditEntry, Person, Role, Task, Unit, Village

CLI_ACTOR = "CLI"  # the name shown for actions taken on the command line


def record(
    session: Session,
    *,
    commune_id: int | None,
    action: str,
    entity: str,
    entity_id: object = "",
    actor: Person | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str = "",
    at: dt.datetime | None = None,
) -> None:
    """Add an audit entry in the caller's transaction (``actor`` None: the command line).

    ``action`` and the keys of ``old`` / ``new`` need a label in ``ACTION_LABELS`` and
    ``FIELD_LABELS`` below (a test checks every call in the code base).
    """
    entry = AuditEntry(
        commune_id=commune_id,
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.display_name if actor is not None else CLI_ACTOR,
        action=action,
        entity=entity,
        entity_id=str(entity_id if entity_id is not None else "")[:60],
        old=old,
        new=new,
        reason=reason[:500],
    )
    if at is not None:
        entry.at = at
    session.add(entry)


# ------------------------------------------------------------------ labels

ACTION_LABELS: dict[str, str] = {
    "tally.correct": N_("Corrected a village figure"),
    "tally.flag": N_("Confirmed an unusual figure"),
    "tally.accept": N_("Accepted a flagged figure"),
    "tally.ask_fix": N_("Asked a village to correct a figure"),
    "evidence.approve": N_("Approved evidence"),
    "evidence.reject": N_("Rejected evidence"),
    "task.set_due": N_("Set a task deadline"),
    "task.set_lead": N_("Changed a task's lead unit"),
    "indicator.value": N_("Entered an indicator value"),
    "plan.import": N_("Imported a plan"),
    "invite.create": N_("Created an invite code"),
    "person.add": N_("Added a person"),
    "person.update": N_("Changed a person's roles"),
    "person.deactivate": N_("Deactivated a person"),
    "commune.setup": N_("Set up the commune"),
    "commune.create": N_("Created the commune"),
    "people.import": N_("Imported the list of people"),
    "web.link": N_("Got a dashboard sign-in link"),
    "web.sign_in": N_("Signed in to the dashboard"),
    "feedback.category": N_("Changed a feedback category"),
    "feedback.category_add": N_("Added a feedback category"),
    "feedback.assign": N_("Sent a resident's report to a unit"),
    "feedback.answer": N_("Answered a resident's report"),
    "feedback.return": N_("Sent a report's answer back to the unit"),
    "feedback.hand_back": N_("Handed a report back to the standing office"),
    "feedback.close": N_("Closed a resident's report"),
    "feedback.note": N_("Added an internal note to a report"),
    "feedback.fix_photo": N_("Attached a photo of the fix to a report"),
    "broadcast.send": N_("Sent an announcement"),
    "broadcast.schedule": N_("Scheduled an announcement"),
    "broadcast.cancel": N_("Cancelled a scheduled announcement"),
}
# What an entry is about; the audit page filters by these (anything else is "admin").
ENTITY_LABELS: dict[str, str] = {
    "tally": N_("Village figures"),
    "evidence": N_("Evidence review"),
    "task": N_("Tasks"),
    "indicator": N_("Indicators"),
    "plan": N_("Plans"),
    "web": N_("Dashboard sign-ins"),
    "feedbackcategory": N_("Feedback categories"),
    "feedback": N_("Residents' reports"),
    "person": N_("Officers and members"),
    "broadcast": N_("Announcements"),
    "admin": N_("Administration"),
}
FIELD_LABELS: dict[str, str] = {
    "value": N_("Value"),
    "period": N_("Period"),
    "code": N_("Figure"),
    "village": N_("Village"),
    "village_id": N_("Village"),
    "unit_id": N_("Unit"),
    "person_id": N_("Person"),
    "role": N_("Role"),
    "status": N_("Status"),
    "task_id": N_("Task"),
    "due": N_("Deadline"),
    "slug": N_("Plan code"),
    "indicators": N_("Indicators"),
    "tasks": N_("Tasks"),
    "deactivated_indicators": N_("Indicators removed"),
    "deactivated_tasks": N_("Tasks removed"),
    "villages": N_("Villages"),
    "units": N_("Units"),
    "created": N_("Added"),
    "updated": N_("Updated"),
    "evidence": N_("Evidence"),
    "via": N_("Through"),
    "name": N_("Name"),
    "lead_unit_id": N_("Lead unit"),
    "urgent": N_("Urgent"),
    "answer_days": N_("Days to answer"),
    "close_days": N_("Days to close"),
    "category_code": N_("Category code"),
    "active": N_("In use"),
    "sessions": N_("Dashboard sessions ended"),
    "commune_code": N_("Commune code"),
    "province": N_("Province"),
    "audience": N_("Sent to"),
    "recipients": N_("Messages queued"),
    "send_at": N_("Scheduled for"),
    "text": N_("Text"),
    "cancelled": N_("Messages cancelled"),
    "report_status": N_("Report status"),
}
# Details kept for the record but meaningless to a reader (internal ids, file paths).
HIDDEN_FIELDS = frozenset({"indicator_value_id", "sha256", "storage_path"})
ROLE_LABELS: dict[str, str] = {
    Role.RESIDENT: N_("resident"),
    Role.TEAM: N_("team member"),
    Role.LEADER: N_("team leader"),
    Role.UNIT: N_("unit officer"),
    Role.OFFICE: N_("standing office"),
    Role.COMMUNE_LEADER: N_("commune leader"),
    Role.ADMIN: N_("admin"),
    Role.PROVINCE: N_("province officer"),
}
EVIDENCE_STATUS_LABELS: dict[str, str] = {
    "pending": N_("Awaiting review"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
VIA_LABELS: dict[str, str] = {
    "chat": N_("the chat"),
    "cli": N_("the command line"),
}
# Reasons written as a code rather than by a person.
REASON_LABELS: dict[str, str] = {"correction": N_("Correction")}
OTHER_ACTION = N_("Other change: {entity}")
OTHER_FIELD = N_("Other")
YES = N_("yes")
NO = N_("no")
GONE = N_("(deleted)")
CLI_LABEL = N_("command line")


def action_label(action: str, entity: str) -> str:
    """The message id naming an action (never the raw action id)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return OTHER_ACTION


def entity_kind(entity: str) -> str:
    """The audit page's filter an entity falls under."""
    return entity if entity in ENTITY_LABELS else "admin"


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as a person reads it, in their language."""

    entry: AuditEntry
    actor: str
    action: str
    before: str
    after: str
    reason: str
    task_id: int | None  # the task the entry is about, for a link
    task_number: str = ""

    @property
    def at(self) -> dt.datetime:
        return self.entry.at


@dataclass
class _Names:
    villages: dict[int, str]
    units: dict[int, str]
    people: dict[int, str]
    tasks: dict[int, str]


_ID_FIELDS = {
    "village_id": "villages",
    "unit_id": "units",
    "lead_unit_id": "units",
    "person_id": "people",
}


def _ids(entries: Iterable[AuditEntry], field: str) -> set[int]:
    found: set[int] = set()
    for entry in entries:
        for values in (entry.old, entry.new):
            value = (values or {}).get(field)
            if isinstance(value, int) and not isinstance(value, bool):
                found.add(value)
    return found


def _lookup(session: Session, entries: Sequence[AuditEntry]) -> _Names:
    villages = _ids(entries, "village_id")
    units = _ids(entries, "unit_id") | _ids(entries, "lead_unit_id")
    people = _ids(entries, "person_id")
    tasks = _ids(entries, "task_id") | {
        int(e.entity_id)
        for e in entries
        if e.entity == "task" and e.entity_id.isascii() and e.entity_id.isdigit()
    }

    def names(model: Any, ids: set[int], attribute: str) -> dict[int, str]:
        if not ids:
            return {}
        rows = session.exec(select(model).where(col(model.id).in_(ids)))
        return {row.id: getattr(row, attribute) for row in rows}

    return _Names(
        villages=names(Village, villages, "name"),
        units=names(Unit, units, "name"),
        people=names(Person, people, "display_name"),
        tasks=names(Task, tasks, "number"),
    )


def _value(t: Translator, names: _Names, field: str, value: Any) -> str:
    if isinstance(value, list | tuple):  # e.g. the roles a person holds
        return ", ".join(_value(t, names, field, item) for item in value)
    if field in _ID_FIELDS and isinstance(value, int):
        table: dict[int, str] = getattr(names, _ID_FIELDS[field])
        return table.get(value) or t.gettext(GONE)
    if field == "task_id" and isinstance(value, int):
        return names.tasks.get(value) or t.gettext(GONE)
    if field == "role" and value in ROLE_LABELS:
        return t.gettext(ROLE_LABELS[value])
    if field == "code" and value in CODE_LABELS:
        return t.gettext(CODE_LABELS[value])
    if field == "status" and value in EVIDENCE_STATUS_LABELS:
        return t.gettext(EVIDENCE_STATUS_LABELS[value])
    if field == "report_status" and value in FEEDBACK_STATUS_LABELS:
        return t.gettext(FEEDBACK_STATUS_LABELS[Status(value)])
    if field == "via" and value in VIA_LABELS:
        return t.gettext(VIA_LABELS[value])
    if isinstance(value, bool):
        return t.gettext(YES if value else NO)
    if isinstance(value, int | float):
        return t.number(value)
    if isinstance(value, str) and field in ("due", "period"):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return f"{day.month}/{day.year}" if field == "period" else t.date(day)
    if isinstance(value, str) and field == "send_at":  # local time with its UTC offset
        try:
            return t.datetime(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _details(t: Translator, names: _Names, values: Mapping[str, Any] | None) -> str:
    parts = []
    for field, value in (values or {}).items():
        if value is None or value == "" or field in HIDDEN_FIELDS or isinstance(value, dict):
            continue
        label = t.gettext(FIELD_LABELS.get(field, OTHER_FIELD))
        parts.append(f"{label}: {_value(t, names, field, value)}")
    return ", ".join(parts)


def describe(session: Session, entries: Sequence[AuditEntry], t: Translator) -> list[AuditLine]:
    """Audit entries as a person reads them: labelled, with names instead of ids."""
    names = _lookup(session, entries)
    lines = []
    for entry in entries:
        task_id: int | None = None
        if entry.entity == "task" and entry.entity_id.isascii() and entry.entity_id.isdigit():
            task_id = int(entry.entity_id)
        elif isinstance((entry.new or {}).get("task_id"), int):
            task_id = (entry.new or {})["task_id"]
        entity = t.gettext(ENTITY_LABELS.get(entity_kind(entry.entity), ENTITY_LABELS["admin"]))
        reason = entry.reason
        by_cli = entry.actor_id is None and entry.actor_name == CLI_ACTOR
        known = task_id is not None and task_id in names.tasks
        lines.append(
            AuditLine(
                entry=entry,
                actor=t.gettext(CLI_LABEL) if by_cli else entry.actor_name,
                action=t.gettext(action_label(entry.action, entry.entity), entity=entity),
                before=_details(t, names, entry.old),
                after=_details(t, names, entry.new),
                reason=t.gettext(REASON_LABELS[reason]) if reason in REASON_LABELS else reason,
                task_id=task_id if known else None,
                task_number=names.tasks[task_id] if known and task_id is not None else "",
            )
        )
    return lines
