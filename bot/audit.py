"""The audit log, written one way: who changed what, when and why.

Every admin action, correction, review and import calls ``record``; the dashboard's
audit page and ``/xoadulieu`` (which blanks names) read what it wrote.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from db.models import AuditEntry, Person

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
    """Add an audit entry in the caller's transaction (``actor`` None: the command line)."""
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
