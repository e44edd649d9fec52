"""Password-less sign-in for the dashboard: one-time links and server-side sessions.

A sign-in link carries a random token valid 15 minutes, bound to one person and stored
only as its SHA-256 hash; it is used once. Opening the link shows a confirmation page
and only the POST from that page spends the token, so a chat app fetching the link for
a preview cannot use it up. A session is another random token in an HttpOnly,
SameSite=Lax cookie (Secure over HTTPS), stored hashed; it ends after 12 hours without
use, 7 days after sign-in at the latest, or at sign-out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, select, update

from bot import audit
from db.models import Commune, Person, PersonRole, WebLoginToken, WebSession

LOGIN_TTL = dt.timedelta(minutes=15)
SESSION_IDLE = dt.timedelta(hours=12)
SESSION_MAX = dt.timedelta(days=7)
# Extending a session's idle deadline is a write; do it at most this often per session.
TOUCH_EVERY = dt.timedelta(minutes=5)
COOKIE_NAME = "tocns_session"
LOGIN_PATH = "/login"
FIRST_RUN_PATH = "/first-run"  # where the first admin names the commune
PROVINCE_PATH = "/province"  # where a province officer lands
Via = Literal["chat", "cli"]  # where a sign-in link was asked for


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def create_login_token(
    session: Session, person_id: int, now: dt.datetime, *, via: Via = "chat"
) -> str:
    """Store a one-time sign-in token for a person and return it (only its hash is kept).

    Audited: asked in the chat, the person asked for it; on the command line, "CLI".
    """
    person = session.get(Person, person_id)
    if person is None:
        raise ValueError(f"no person {person_id}")
    token = new_token()
    session.add(
        WebLoginToken(token_hash=_hash(token), person_id=person_id, expires_at=now + LOGIN_TTL)
    )
    audit.record(
        session,
        commune_id=person.commune_id,
        action="web.link",
        entity="web",
        entity_id=person_id,
        actor=person if via == "chat" else None,
        new={"person_id": person_id, "via": via},
        at=now,
    )
    session.flush()
    return token


def login_url(base_url: str, token: str) -> str:
    """The address of a sign-in link."""
    return f"{base_url.rstrip('/')}{LOGIN_PATH}/{token}"


def create_login_link(
    session: Session, person_id: int, now: dt.datetime, base_url: str, *, via: Via = "chat"
) -> str:
    """A one-time sign-in link for a person, valid 15 minutes (the caller commits)."""
    return login_url(base_url, create_login_token(session, person_id, now, via=via))


def peek_login_token(session: Session, token: str, now: dt.datetime) -> WebLoginToken | None:
    """The unused, unexpired login token with this value, without spending it."""
    if not token or len(token) > 200:
        return None
    row = session.exec(
        select(WebLoginToken).where(WebLoginToken.token_hash == _hash(token))
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def redeem_login_token(session: Session, token: str, now: dt.datetime) -> int | None:
    """Spend a sign-in token; return its person id, or None if unknown, used or expired.

    One conditional UPDATE spends it, so of two requests racing with the same token only
    one changes the row (the other waits for the row lock, then finds it used).
    """
    if not token or len(token) > 200:
        return None
    digest = _hash(token)
    spent = session.exec(
        update(WebLoginToken)  # type: ignore[call-overload]
        .where(
            col(WebLoginToken.token_hash) == digest,
            col(WebLoginToken.used_at).is_(None),
            col(WebLoginToken.expires_at) > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        return None
    return session.exec(
        select(WebLoginToken.person_id).where(WebLoginToken.token_hash == digest)
    ).one()


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie value to send and when it ends at the latest."""

    token: str
    person_id: int
    expires_at: dt.datetime


def open_session(session: Session, person_id: int, now: dt.datetime) -> NewSession:
    """Open a dashboard session for a person: a sign-in, audited (the caller commits)."""
    token = new_token()
    expires = session_expiry(now, now)
    session.add(
        WebSession(token_hash=_hash(token), person_id=person_id, created_at=now, expires_at=expires)
    )
    person = session.get(Person, person_id)
    audit.record(
        session,
        commune_id=person.commune_id if person is not None else None,
        action="web.sign_in",
        entity="web",
        entity_id=person_id,
        actor=person,
        at=now,
    )
    session.flush()
    return NewSession(token, person_id, expires)


def session_expiry(created_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When a session used at ``now`` ends: 12 h idle, capped at 7 days after sign-in."""
    return min(now + SESSION_IDLE, created_at + SESSION_MAX)


def check_session(session: Session, token: str | None, now: dt.datetime) -> int | None:
    """The person id of a live session cookie, sliding its idle deadline; None otherwise."""
    if not token or len(token) > 200:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    if row is None or row.revoked or row.expires_at <= now:
        return None
    extended = session_expiry(row.created_at, now)
    if extended - row.expires_at >= TOUCH_EVERY:
        row.expires_at = extended
        session.add(row)
        session.flush()
    return row.person_id


def close_session(session: Session, token: str | None) -> None:
    """Sign out: revoke the session of this cookie (unknown cookies are ignored)."""
    if not token or len(token) > 200:
        return
    row = session.exec(select(WebSession).where(WebSession.token_hash == _hash(token))).first()
    if row is not None and not row.revoked:
        row.revoked = True
        session.add(row)
        session.flush()


def cookie_options(public_base_url: str) -> dict[str, object]:
    """Flags of the session cookie: HttpOnly, SameSite=Lax, Secure when served over HTTPS."""
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": public_base_url.lower().startswith("https://"),
        "path": "/",
        "max_age": int(SESSION_MAX.total_seconds()),
    }


def dashboard_base_url(public_base_url: str, bound: str | None, host: str, port: int) -> str:
    """Where the dashboard is reached: the public URL, else the bound address of this process."""
    if public_base_url:
        return public_base_url.rstrip("/")
    if bound:
        return bound.rstrip("/")
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{shown}:{port}"


FIRST_ADMIN_NAME = "Quản trị"


def first_admin_link(session: Session, now: dt.datetime, base_url: str) -> str | None:
    """On a database with no admin, a one-time link for the first admin (the caller commits).

    The first admin is a person of no commune yet, with the admin role: the link signs them
    in like any sign-in link (15 minutes, once) and the dashboard then asks for the commune.
    None when a commune exists already.
    """
    if session.exec(select(Commune.id)).first() is not None:
        return None  # not the first run
    admins = session.exec(select(PersonRole.person_id).where(PersonRole.role == "admin")).all()
    waiting = [p for p in (session.get(Person, pid) for pid in admins) if p is not None]
    if waiting:
        person = waiting[0]
    else:
        person = Person(display_name=FIRST_ADMIN_NAME, opted_in=True)
        session.add(person)
        session.flush()
        assert person.id is not None
        session.add(PersonRole(person_id=person.id, role="admin"))
        session.flush()
    assert person.id is not None
    return create_login_link(session, person.id, now, base_url, via="cli")
