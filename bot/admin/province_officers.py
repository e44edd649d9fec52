"""Province officers: people of no commune who read every commune of one province.

A province officer is a ``Person`` without a commune, with ``province`` set to the name
the province's communes carry (``Commune.province``) and the ``province`` role. They
sign in to the dashboard with a one-time link (``tocns province officer add`` prints the
first one, ``tocns web link`` the next ones) and change nothing there.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot import audit
from bot.core.errors import UserError
from bot.core.people import grant
from bot.i18n import N_
from bot.text import clean
from db.enums import Role
from db.models import Commune, Person

NAME_MAX = 200
MSG_NO_NAME = N_("Give the province officer's name.")
MSG_NO_SUCH_PROVINCE = N_(
    "No commune belongs to the province “{province}”. Provinces known: {known}."
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
