"""One-time invite codes that link a chat to a role (team member of a village, officer…).

Codes are random, short enough to type on a phone, stored only as a SHA-256 hash,
single-use and expiring. Wrong guesses are counted per chat and rate-limited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from bot import audit
from bot.core.people import grant
from bot.errors import ReadableError
from bot.i18n import N_
from db.models import ChatIdentity, InviteCode, JoinAttempt, Person, PersonRole, Role

log = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read aloud
CODE_LENGTH = 8
DEFAULT_TTL = dt.timedelta(days=7)
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
INVITABLE_ROLES = (Role.TEAM, Role.LEADER, Role.UNIT, Role.OFFICE, Role.COMMUNE_LEADER, Role.ADMIN)
VILLAGE_ROLES = (Role.TEAM, Role.LEADER)

MSG_UNKNOWN = N_(
    "This invite code is not right. Check it and send it again, for example: /lienket K7QM3XPA"
)
MSG_USED = N_("This invite code has already been used. Ask the commune admin for a new one.")
MSG_EXPIRED = N_("This invite code has expired. Ask the commune admin for a new one.")
MSG_RATE_LIMITED = N_(
    "Too many wrong codes. Please wait {minutes} minutes and try again, "
    "or ask the commune admin for help."
)
MSG_OTHER_COMMUNE = N_(
    "This invite code is for another commune, and you already work for your commune. "
    "Ask the admin of your commune."
)
MSG_BAD_DURATION = N_("I cannot read the duration “{text}”. Write for example 7d, 12h or 30m.")


class InviteError(ReadableError):
    """An invite that cannot be redeemed, with a message a person can read.

    ``kind`` (unknown, used, expired, other_commune, rate_limited, duration) says what
    went wrong.
    """

    def __init__(self, kind: str, message_id: str, **params: Any) -> None:
        super().__init__(message_id, **params)
        self.kind = kind


@dataclass(frozen=True)
class Redeemed:
    """The outcome of a redeemed code: who the chat now belongs to and what they became."""

    person: Person
    role: str
    village_id: int | None
    unit_id: int | None


def normalise(code: str) -> str:
    """Upper-case a typed code and drop spaces, dashes and the deep-link prefix."""
    code = code.strip()
    if code.lower().startswith("j_"):
        code = code[2:]
    return re.sub(r"[\s\-_.]", "", code).upper()


def hash_code(code: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def parse_duration(text: str) -> dt.timedelta:
    """Read "7d", "12h", "30m" or "2w" into a duration."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*([wdhm]?)\s*", text.lower())
    if match is None or int(match.group(1)) == 0:
        raise InviteError("duration", MSG_BAD_DURATION, text=text[:20])
    number, unit = int(match.group(1)), match.group(2) or "d"
    return {
        "w": dt.timedelta(weeks=number),
        "d": dt.timedelta(days=number),
        "h": dt.timedelta(hours=number),
        "m": dt.timedelta(minutes=number),
    }[unit]


def deep_link(bot_username: str, code: str) -> str:
    """The Telegram link that redeems a code when opened."""
    return f"https://t.me/{bot_username.lstrip('@')}?start=j_{normalise(code)}"


def create_invite(
    session: Session,
    *,
    commune_id: int,
    role: str,
    now: dt.datetime,
    village_id: int | None = None,
    unit_id: int | None = None,
    person_id: int | None = None,
    created_by: int | None = None,
    ttl: dt.timedelta = DEFAULT_TTL,
) -> str:
    """Create a one-time code and return it in clear (only its hash is stored)."""
    if role not in INVITABLE_ROLES:
        raise ValueError(f"role {role!r} cannot be invited")
    if role in VILLAGE_ROLES and village_id is None:
        raise ValueError("team members and leaders belong to a village")
    if role == Role.UNIT and unit_id is None:
        raise ValueError("unit officers belong to a unit")
    code = new_code()
    session.add(
        InviteCode(
            code_hash=hash_code(code),
            commune_id=commune_id,
            role=role,
            village_id=village_id,
            unit_id=unit_id,
            person_id=person_id,
            created_by=created_by,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    actor = session.get(Person, created_by) if created_by is not None else None
    audit.record(
        session,
        commune_id=commune_id,
        action="invite.create",
        entity="invite",
        actor=actor,
        new={"role": role, "village_id": village_id, "unit_id": unit_id, "person_id": person_id},
        at=now,
    )
    session.flush()
    log.info(
        "invite created role=%s village=%s unit=%s by=%s", role, village_id, unit_id, created_by
    )
    return code


def failures(session: Session, channel: str, chat_id: str, now: dt.datetime) -> int:
    """Wrong guesses from this chat in the current window."""
    count = session.exec(
        select(func.count())
        .select_from(JoinAttempt)
        .where(
            JoinAttempt.channel == channel,
            JoinAttempt.chat_id == chat_id,
            JoinAttempt.at > now - FAILURE_WINDOW,
        )
    ).one()
    return int(count)


def check_rate_limit(session: Session, channel: str, chat_id: str, now: dt.datetime) -> None:
    """Refuse further guesses from a chat that failed too often recently."""
    if failures(session, channel, chat_id, now) >= MAX_FAILURES:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise InviteError("rate_limited", MSG_RATE_LIMITED, minutes=minutes)


def record_failure(session: Session, channel: str, chat_id: str, now: dt.datetime) -> None:
    """Count one wrong guess (the caller's transaction must still commit)."""
    session.add(JoinAttempt(channel=channel, chat_id=chat_id, at=now))
    session.flush()


def redeem(
    session: Session,
    code: str,
    person: Person,
    now: dt.datetime,
    identity: ChatIdentity | None = None,
) -> Redeemed:
    """Use a code: give its role (and village or unit) to the person, exactly once.

    A code made for a pre-registered person moves this chat to that person. Raises
    ``InviteError`` for unknown, used or expired codes; the caller records failures.
    """
    digest = hash_code(code)
    invite = session.exec(select(InviteCode).where(InviteCode.code_hash == digest)).first()
    if invite is None:
        log.info("invite redeem failed: unknown code person=%s", person.id)
        raise InviteError("unknown", MSG_UNKNOWN)
    if invite.used_at is not None:
        log.info("invite redeem failed: used invite=%s person=%s", invite.id, person.id)
        raise InviteError("used", MSG_USED)
    if invite.expires_at <= now:
        log.info("invite redeem failed: expired invite=%s person=%s", invite.id, person.id)
        raise InviteError("expired", MSG_EXPIRED)
    target = person
    if invite.person_id is not None and invite.person_id != person.id:
        registered = session.get(Person, invite.person_id)
        if registered is not None:
            target = registered
            if identity is not None:
                identity.person_id = registered.id  # type: ignore[assignment]
                session.add(identity)
    if target.commune_id != invite.commune_id:
        # The invite decides the commune: a newcomer (placed in the first commune on their
        # first message) or a resident moves there; staff of another commune are refused,
        # as one person works for one commune.
        staff = session.exec(
            select(PersonRole.role).where(
                PersonRole.person_id == target.id, PersonRole.role != Role.RESIDENT
            )
        ).first()
        if staff is not None and target.commune_id is not None:
            log.info(
                "invite redeem refused: other commune invite=%s person=%s", invite.id, target.id
            )
            raise InviteError("other_commune", MSG_OTHER_COMMUNE)
        target.commune_id = invite.commune_id
        target.village_id = None  # a village of the other commune
        target.unit_id = None
    # Claim the code atomically so two chats cannot both use it.
    claimed = session.exec(
        update(InviteCode)
        .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))  # type: ignore[arg-type, union-attr]
        .values(used_at=now, used_by=target.id)
    )
    if claimed.rowcount != 1:
        raise InviteError("used", MSG_USED)
    assert target.id is not None
    grant(session, target.id, invite.role)
    if invite.village_id is not None:
        target.village_id = invite.village_id
    if invite.unit_id is not None:
        target.unit_id = invite.unit_id
    session.add(target)
    session.flush()
    log.info("invite redeemed invite=%s role=%s person=%s", invite.id, invite.role, target.id)
    return Redeemed(target, invite.role, invite.village_id, invite.unit_id)
