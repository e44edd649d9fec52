"""The outbox: everything tocns sends on its own initiative is first a row here.

Writing to the outbox happens in the same transaction as the change that causes it
(a rejected piece of evidence, a broadcast), so nothing is sent for work that was
rolled back and nothing is lost if the process dies before sending.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.messages import Reply
from db.models import ChatIdentity, OutboxMessage, Person


def preferred_identity(session: Session, person_id: int) -> ChatIdentity | None:
    """The private chat a person used most recently and has not blocked.

    An id seen only as a sender in a Zalo group is left out (``ChatIdentity.private``).
    """
    return session.exec(
        select(ChatIdentity)
        .where(
            ChatIdentity.person_id == person_id,
            col(ChatIdentity.blocked).is_(False),
            col(ChatIdentity.private).is_(True),
        )
        .order_by(col(ChatIdentity.last_seen_at).desc().nulls_last(), col(ChatIdentity.id).desc())
    ).first()


def enqueue(
    session: Session,
    *,
    person_id: int,
    kind: str,
    reply: Reply,
    dedupe_key: str,
    due_at: dt.datetime,
    task_id: int | None = None,
) -> OutboxMessage | None:
    """Queue a message for a person once per dedupe key; None if unreachable or already queued."""
    identity = preferred_identity(session, person_id)
    if identity is None:
        return None
    existing = session.exec(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ).first()
    if existing is not None:
        return None
    person = session.get(Person, person_id)
    row = OutboxMessage(
        commune_id=person.commune_id if person else None,
        person_id=person_id,
        channel=identity.channel,
        chat_id=identity.chat_id,
        kind=kind,
        task_id=task_id,
        content=reply.to_dict(),
        dedupe_key=dedupe_key,
        due_at=due_at,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # queued concurrently by another process: the key is already taken
    return row
