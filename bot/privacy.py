"""A person's right to have their data deleted (Decree 13/2023/NĐ-CP)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, delete, or_, select, update

from bot.feedback.privacy import erase_reporter
from db.models import (
    AuditEntry,
    ChatIdentity,
    ConversationState,
    GroupChat,
    InviteCode,
    JoinAttempt,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonRole,
    Tally,
    WebLoginToken,
    WebSession,
)


@dataclass(frozen=True)
class Erasure:
    """What was deleted and what had to be kept (counts only)."""

    identities: int
    kept_reports: int
    kept_audit: int


def erase_person(session: Session, person_id: int) -> Erasure:
    """Delete a person's chats, roles, sessions and pending messages; anonymise the rest.

    Village figures they reported and audit entries of their work are the commune's
    records and stay, without their name.
    """
    identities = session.exec(select(ChatIdentity).where(ChatIdentity.person_id == person_id)).all()
    for identity in identities:
        for state in session.exec(
            select(ConversationState).where(
                ConversationState.channel == identity.channel,
                or_(
                    col(ConversationState.chat_id) == identity.chat_id,
                    # their state in group chats: "<group>|<their chat>" (Incoming.state_chat_id)
                    col(ConversationState.chat_id).endswith(f"|{identity.chat_id}"),
                ),
            )
        ).all():
            session.delete(state)
        session.exec(
            delete(JoinAttempt).where(  # type: ignore[call-overload]
                col(JoinAttempt.channel) == identity.channel,
                col(JoinAttempt.chat_id) == identity.chat_id,
            )
        )
        session.delete(identity)
    session.exec(delete(PersonRole).where(col(PersonRole.person_id) == person_id))  # type: ignore[call-overload]
    session.exec(delete(WebSession).where(col(WebSession.person_id) == person_id))  # type: ignore[call-overload]
    session.exec(delete(WebLoginToken).where(col(WebLoginToken.person_id) == person_id))  # type: ignore[call-overload]
    session.exec(
        delete(OutboxMessage).where(  # type: ignore[call-overload]
            col(OutboxMessage.person_id) == person_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
    )
    session.exec(
        update(InviteCode)  # type: ignore[call-overload]
        .where(col(InviteCode.person_id) == person_id, col(InviteCode.used_at).is_(None))
        .values(person_id=None)
    )
    session.exec(
        update(GroupChat).where(col(GroupChat.linked_by) == person_id).values(linked_by=None)  # type: ignore[call-overload]
    )
    session.exec(
        update(AuditEntry).where(col(AuditEntry.actor_id) == person_id).values(actor_name="")  # type: ignore[call-overload]
    )
    erase_reporter(session, person_id)  # feedback (#17): the reports stay, without the person
    kept_reports = len(session.exec(select(Tally.id).where(Tally.reported_by == person_id)).all())
    kept_audit = len(
        session.exec(select(AuditEntry.id).where(AuditEntry.actor_id == person_id)).all()
    )
    person = session.get(Person, person_id)
    if person is not None:
        person.display_name = ""
        person.opted_in = False
        person.village_id = None
        person.unit_id = None
        session.add(person)
    session.flush()
    return Erasure(identities=len(identities), kept_reports=kept_reports, kept_audit=kept_audit)
