"""Province officers: people of no commune who read every commune of one province.

A province officer is a ``Person`` without a commune, with ``province`` set to the name
the province's communes carry (``Commune.province``) and the ``province`` role. They
sign in to the dashboard with a one-time link (``tocns province officer add`` prints the
first one, ``tocns web link`` the next ones) and change nothing there.
``tocns province officer list`` shows them; ``remove`` takes the role away and ends
their sign-ins at once (sessions and unused links).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import Session, col, delete, func, select

from bot import audit
from bot.core.errors import UserError
from bot.core.people import grant
from bot.i18n import N_
from bot.text import clean
from db.enums import Role
from db.models import Commune, Person, PersonRole, WebLoginToken, WebSession

NAME_MAX = 200
MSG_NO_NAME = N_("Give the province officer's name.")
MSG_NO_SUCH_PROVINCE = N_(
    "No commune belongs to the province “{province}”. Provinces known: {known}."
)
MSG_NOT_AN_OFFICER = N_(
    "Number {number} is not a province officer. See: tocns province officer list"
)
MSG_NO_PROVINCE_YET = N_(
    "No commune has a province yet. Run: tocns province setup FILE --province NAME"
)


def provinces(session: Session) -> list[str]:
    """The provinces named by the communes, in alphabetical order."""
    names = session.exec(select(Commune.province).where(col(Commune.province).is_not(None)))
    return sorted({name for name in names if name})


def province_communes(session: Session, province: str) -> list[Commune]:
    """The communes of a province, by name."""
    return list(
        session.exec(
            select(Commune).where(Commune.province == province).order_by(col(Commune.name))
        )
    )


def add_officer(session: Session, name: str, province: str, now: dt.datetime) -> Person:
    """Create a province officer of a province some commune names (the caller commits)."""
    name = clean(name)[:NAME_MAX].strip()
    if not name:
        raise UserError(MSG_NO_NAME)
    known = provinces(session)
    wanted = clean(province).strip()
    if wanted not in known:
        if not known:
            raise UserError(MSG_NO_PROVINCE_YET)
        raise UserError(MSG_NO_SUCH_PROVINCE, province=wanted, known=", ".join(known))
    person = Person(display_name=name, province=wanted, opted_in=True)
    session.add(person)
    session.flush()
    assert person.id is not None
    grant(session, person.id, Role.PROVINCE)
    audit.record(
        session,
        commune_id=None,
        action="person.add",
        entity="person",
        entity_id=person.id,
        new={"name": name, "role": [str(Role.PROVINCE)], "province": wanted},
        at=now,
    )
    session.flush()
    return person


def officers(session: Session, province: str | None = None) -> list[Person]:
    """The province officers (of one province, or all), by province and name."""
    query = (
        select(Person)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(PersonRole.role == Role.PROVINCE, col(Person.province).is_not(None))
        .order_by(col(Person.province), col(Person.display_name), col(Person.id))
    )
    if province is not None:
        query = query.where(Person.province == clean(province).strip())
    return list(session.exec(query))


def last_sign_ins(session: Session, person_ids: list[int]) -> dict[int, dt.datetime]:
    """When each of these people last opened a dashboard session (absent: never)."""
    rows = session.exec(  # type: ignore[call-overload]
        select(WebSession.person_id, func.max(WebSession.created_at))
        .where(col(WebSession.person_id).in_(person_ids))
        .group_by(col(WebSession.person_id))
    ).all()
    return {person_id: at for person_id, at in rows}


def remove_officer(session: Session, person_id: int, now: dt.datetime) -> tuple[Person, int]:
    """Take the province role away and end the officer's sign-ins now (the caller commits).

    Returns the person and how many dashboard sessions were ended.

    Their dashboard sessions are revoked and unused sign-in links spent, so a link
    printed before the removal opens nothing. The person row stays for the audit log.
    """
    person = session.get(Person, person_id)
    held = session.exec(
        select(PersonRole).where(
            PersonRole.person_id == person_id, PersonRole.role == Role.PROVINCE
        )
    ).first()
    if person is None or held is None:
        raise UserError(MSG_NOT_AN_OFFICER, number=person_id)
    session.exec(  # type: ignore[call-overload]
        delete(PersonRole).where(
            col(PersonRole.person_id) == person_id, col(PersonRole.role) == Role.PROVINCE
        )
    )
    revoked = session.exec(  # type: ignore[call-overload]
        update(WebSession)
        .where(col(WebSession.person_id) == person_id, col(WebSession.revoked).is_(False))
        .values(revoked=True)
    ).rowcount
    session.exec(  # type: ignore[call-overload]
        update(WebLoginToken)
        .where(col(WebLoginToken.person_id) == person_id, col(WebLoginToken.used_at).is_(None))
        .values(used_at=now)
    )
    audit.record(
        session,
        commune_id=None,
        action="person.deactivate",
        entity="person",
        entity_id=person_id,
        old={"role": [str(Role.PROVINCE)], "province": person.province},
        new={"role": [], "sessions": revoked},
        at=now,
    )
    session.flush()
    return person, revoked
