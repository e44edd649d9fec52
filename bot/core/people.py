"""Finding the person behind a chat, and their roles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.text import clean
from db.models import (
    ChatIdentity,
    Commune,
    ConversationState,
    GroupChat,
    Person,
    PersonRole,
    Role,
    Village,
)
from db.types import utcnow

SEEN_RESOLUTION = dt.timedelta(minutes=10)

# Run for every message, so built once (building a select costs more than running it).
# The village comes along so that handlers find it in the session without a query.
_CHAT = (
    sa_select(ChatIdentity, Person, ConversationState, col(PersonRole.role), Village)
    .join(Person, col(Person.id) == ChatIdentity.person_id)
    .outerjoin(
        ConversationState,
        and_(
            col(ConversationState.channel) == ChatIdentity.channel,
            col(ConversationState.chat_id) == bindparam("state_chat_id"),
        ),
    )
    .outerjoin(PersonRole, col(PersonRole.person_id) == Person.id)
    .outerjoin(Village, col(Village.id) == Person.village_id)
    .where(
        col(ChatIdentity.channel) == bindparam("channel"),
        col(ChatIdentity.chat_id) == bindparam("chat_id"),
    )
)


def default_commune_id(session: Session) -> int | None:
    """The deployment's commune (the first one; several are possible)."""
    return session.exec(select(Commune.id).order_by(Commune.id)).first()  # type: ignore[arg-type]


def find_commune(session: Session, slug: str | None = None) -> Commune | None:
    """The commune with this slug, or the deployment's commune when no slug is given."""
    if slug:
        return session.exec(select(Commune).where(Commune.slug == slug)).first()
    commune_id = default_commune_id(session)
    return session.get(Commune, commune_id) if commune_id is not None else None


def identify(
    session: Session,
    channel: str,
    chat_id: str,
    display_name: str,
    locale: str,
    *,
    private: bool = True,
) -> tuple[Person, ChatIdentity]:
    """Return the person and identity for a chat, registering a new resident if needed."""
    found = load_chat(session, channel, chat_id, display_name, locale, private=private)
    return found.person, found.identity


@dataclass
class ChatContext:
    """Who is behind a chat, what they may do, and where their conversation stands."""

    person: Person
    identity: ChatIdentity
    state: ConversationState | None
    roles: frozenset[str]
    village: Village | None = None


def load_chat(
    session: Session,
    channel: str,
    chat_id: str,
    display_name: str,
    locale: str,
    state_chat_id: str | None = None,
    *,
    private: bool = True,
) -> ChatContext:
    """The person, identity, roles and conversation state of a chat, in one query.

    ``chat_id`` is the person's own chat; ``state_chat_id`` where their conversation
    state is kept when it is not that chat (a group: see ``Incoming.state_chat_id``).
    ``private`` says ``chat_id`` is a private chat with the bot (False: a Zalo user id
    seen only in a group, see ``ChatIdentity.private``); once seen private it stays so.
    A chat seen for the first time becomes a new resident. This runs for every
    message, hence one round trip (one row per role) instead of three queries.
    """
    rows = session.execute(
        _CHAT,
        {"channel": channel, "chat_id": chat_id, "state_chat_id": state_chat_id or chat_id},
    ).all()
    if rows:
        identity, person, state, _role, village = rows[0]
        now = utcnow()
        if identity.last_seen_at is None or now - identity.last_seen_at > SEEN_RESOLUTION:
            identity.last_seen_at = now  # coarse on purpose: not a write on every message
        if identity.blocked:
            identity.blocked = False  # they wrote to us, so they can hear from us again
        if private and not identity.private:
            identity.private = True  # they wrote privately: now we may write to them
        roles = frozenset(row[3] for row in rows if row[3] is not None)
        return ChatContext(person, identity, state, roles, village)
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
        person_id=person.id,
        channel=channel,
        chat_id=chat_id,
        private=private,
        last_seen_at=utcnow(),
    )
    session.add(identity)
    session.flush()
    return ChatContext(person, identity, None, frozenset({Role.RESIDENT.value}))


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


def village_groups(session: Session, village_ids: list[int]) -> list[GroupChat]:
    """The group chats linked to these villages (reminders and announcements go there too)."""
    if not village_ids:
        return []
    return list(
        session.exec(
            select(GroupChat)
            .where(col(GroupChat.village_id).in_(village_ids))
            .order_by(col(GroupChat.id))
        ).all()
    )
