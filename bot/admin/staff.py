"""The commune's people as an admin manages them: add, change roles and place, deactivate.

One rule with the invites and the people import: team members and leaders belong to a
village, unit officers to a unit (``bot.admin.invites.VILLAGE_ROLES``). Every change is
audited; deactivating takes every role but "resident" away and revokes the person's
dashboard sessions, so they lose access on their next click. Callers commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import update
from sqlmodel import Session, col, delete, select

from bot import audit
from bot.admin.invites import INVITABLE_ROLES, VILLAGE_ROLES
from bot.core.people import grant, roles_of
from bot.errors import ReadableError
from bot.i18n import N_
from db.models import Person, PersonRole, Role, WebSession

MANAGED_ROLES = (*INVITABLE_ROLES, Role.RESIDENT)
NAME_MAX = 200

MSG_NEEDS_VILLAGE = N_("Team members and leaders belong to a village: choose one.")
MSG_NEEDS_UNIT = N_("Unit officers belong to a unit: choose one.")
MSG_NO_ROLE = N_("Choose at least one role.")
MSG_NOT_SELF = N_("You cannot deactivate your own account. Ask another admin.")
MSG_LAST_ADMIN = N_("This is the commune's last admin. Make someone else admin first.")


class StaffError(ReadableError):
    """A change to a person that breaks a rule; ``field`` names the form field at fault."""

    def __init__(self, field: str, message_id: str) -> None:
        super().__init__(message_id)
        self.field = field


def check_place(roles: Collection[str], village_id: int | None, unit_id: int | None) -> None:
    """Raise StaffError unless the roles have the village or unit they need."""
    if not roles:
        raise StaffError("roles", MSG_NO_ROLE)
    if set(roles) & set(VILLAGE_ROLES) and village_id is None:
        raise StaffError("village", MSG_NEEDS_VILLAGE)
    if Role.UNIT in roles and unit_id is None:
        raise StaffError("unit", MSG_NEEDS_UNIT)


def _admins(session: Session, commune_id: int | None) -> set[int]:
    rows = session.exec(
        select(Person.id)
        .join(PersonRole, col(PersonRole.person_id) == Person.id)
        .where(Person.commune_id == commune_id, PersonRole.role == Role.ADMIN)
    ).all()
    return {row for row in rows if row is not None}


def add_person(
    session: Session,
    *,
    actor: Person,
    name: str,
    roles: Collection[str],
    village_id: int | None,
    unit_id: int | None,
    now: dt.datetime,
) -> Person:
    """Create a person of the actor's commune with these roles (their chat links later)."""
    check_place(roles, village_id, unit_id)
    person = Person(
        commune_id=actor.commune_id,
        display_name=name[:NAME_MAX],
        village_id=village_id,
        unit_id=unit_id if Role.UNIT in roles else None,
        created_at=now,
    )
    session.add(person)
    session.flush()
    assert person.id is not None
    for role in sorted(roles):
        grant(session, person.id, role)
    audit.record(
        session,
        commune_id=actor.commune_id,
        action="person.add",
        entity="person",
        entity_id=person.id,
        actor=actor,
        new={
            "name": person.display_name,
            "role": sorted(roles),
            "village_id": village_id,
            "unit_id": person.unit_id,
        },
        at=now,
    )
    session.flush()
    return person


def update_person(
    session: Session,
    person: Person,
    *,
    actor: Person,
    roles: Collection[str],
    village_id: int | None,
    unit_id: int | None,
    now: dt.datetime,
) -> bool:
    """Set a person's roles, village and unit; return whether anything changed."""
    assert person.id is not None
    check_place(roles, village_id, unit_id)
    before = roles_of(session, person.id)
    after = frozenset(roles)
    if (
        Role.ADMIN in before
        and Role.ADMIN not in after
        and _admins(session, person.commune_id) == {person.id}
    ):
        raise StaffError("roles", MSG_LAST_ADMIN)
    unit_id = unit_id if Role.UNIT in after else None
    old = {"role": sorted(before), "village_id": person.village_id, "unit_id": person.unit_id}
    new = {"role": sorted(after), "village_id": village_id, "unit_id": unit_id}
    if old == new:
        return False
    for role in before - after:
        session.exec(  # type: ignore[call-overload]
            delete(PersonRole).where(
                col(PersonRole.person_id) == person.id, col(PersonRole.role) == role
            )
        )
    for role in sorted(after - before):
        grant(session, person.id, role)
    person.village_id, person.unit_id = village_id, unit_id
    session.add(person)
    audit.record(
        session,
        commune_id=actor.commune_id,
        action="person.update",
        entity="person",
        entity_id=person.id,
        actor=actor,
        old=old,
        new=new,
        at=now,
    )
    session.flush()
    return True


def deactivate(session: Session, person: Person, *, actor: Person, now: dt.datetime) -> None:
    """Take away every role but resident and end the person's dashboard sessions now."""
    assert person.id is not None
    if person.id == actor.id:
        raise StaffError("form", MSG_NOT_SELF)
    before = roles_of(session, person.id)
    if Role.ADMIN in before and _admins(session, person.commune_id) == {person.id}:
        raise StaffError("form", MSG_LAST_ADMIN)
    session.exec(  # type: ignore[call-overload]
        delete(PersonRole).where(
            col(PersonRole.person_id) == person.id, col(PersonRole.role) != Role.RESIDENT
        )
    )
    grant(session, person.id, Role.RESIDENT)
    revoked = session.exec(  # type: ignore[call-overload]
        update(WebSession)
        .where(col(WebSession.person_id) == person.id, col(WebSession.revoked).is_(False))
        .values(revoked=True)
    ).rowcount
    old_unit = person.unit_id
    person.unit_id = None
    session.add(person)
    audit.record(
        session,
        commune_id=actor.commune_id,
        action="person.deactivate",
        entity="person",
        entity_id=person.id,
        actor=actor,
        old={"role": sorted(before), "unit_id": old_unit},
        new={"role": [Role.RESIDENT.value], "sessions": revoked},
        at=now,
    )
    session.flush()
