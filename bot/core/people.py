"""Finding the person behind a chat, and their roles."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_
from sqlmodel import Session, col, select

from bot.text import clean
from db.models import ChatIdentity, Commune, ConversationState, Person, PersonRole, Role
from db.types import utcnow

SEEN_RESOLUTION = dt.timedelta(minutes=10)


def default_commune_id(session: Session) -> int | None:
    """The deployment's commune (the first one; several are possible)."""
    return session.exec(select(Commune.id).order_by(Commune.id)).first()  # type: ignore[arg-type]


def identify(
    session: Session, channel: str, chat_id: str, display_name: str, locale: str
) -> tuple[Person, ChatIdentity]:
    """Return the person and identity for a chat, registering a new resident if needed."""
    person, identity, _state = identify_with_state(session, channel, chat_id, display_name, locale)
    return person, identity


def identify_with_state(
    session: Session, channel: str, chat_id: str, display_name: str, locale: str
) -> tuple[Person, ChatIdentity, ConversationState | None]:
    """Like ``identify``, also returning the chat's conversation state, in one query."""
    found = session.exec(
        select(ChatIdentity, Person, ConversationState)
        .join(Person, col(Person.id) == ChatIdentity.person_id)
        .outerjoin(
            ConversationState,
            and_(
                col(ConversationState.channel) == ChatIdentity.channel,
                col(ConversationState.chat_id) == ChatIdentity.chat_id,
            ),
        )
        .where(ChatIdentity.channel == channel, ChatIdentity.chat_id == chat_id)
    ).first()
    if found is not None:
        identity, person, state = found
        now = utcnow()
        if identity.last_seen_at is None or now - identity.last_seen_at > SEEN_RESOLUTION:
            identity.last_seen_at = now  # coarse on purpose: not a write on every message
        if identity.blocked:
            identity.blocked = False  # they wrote to us, so they can hear from us again
        return person, identity, state
    person = Person(
        commune_id=default_commune_id(session),
        display_name=clean(display_name)[:200],
        locale=locale,
    )
    session.add(person)
    session.flush()
    assert person.id is not None
    session.add(PersonRole(person_id=person.id, role=Role.RESIDENT))
    identity = ChatIdentity(
        person_id=person.id, channel=channel, chat_id=chat_id, last_seen_at=utcnow()
    )
    session.add(identity)
    session.flush()
    return person, identity, None


def roles_of(session: Session, person_id: int) -> frozenset[str]:
    """All roles a person holds."""
    rows = session.exec(select(PersonRole.role).where(PersonRole.person_id == person_id)).all()
    return frozenset(rows)


def grant(session: Session, person_id: int, role: str) -> None:
    """Give a person a role (no-op if they have it)."""
    exists = session.exec(
        select(PersonRole).where(PersonRole.person_id == person_id, PersonRole.role == role)
    ).first()
    if exists is None:
        session.add(PersonRole(person_id=person_id, role=role))
