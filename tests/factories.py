"""Test data, made through the code the bot itself uses wherever it has a write path.

Roles are granted with ``bot.core.people.grant``, plans go through the real import,
invites through ``create_invite`` and figures through the tally store, so a test sees
what a person would see after doing the same thing. (As the full-stack FastAPI
template's ``tests/utils`` do with its ``crud`` functions.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import Session, select

from bot.admin.invites import create_invite
from bot.core.people import default_commune_id, grant
from bot.plans.imports import from_yaml, import_plan
from bot.services import Services
from bot.tallies.store import record_report
from db.models import (
    ChatIdentity,
    Indicator,
    Person,
    Plan,
    Task,
    Unit,
    Village,
    VillageDenominator,
)


def commune_id(services: Services) -> int:
    """The sample commune every test database starts with."""
    with Session(services.engine) as session:
        found = default_commune_id(session)
    assert found is not None
    return found


def village_id(services: Services, name: str = "Xóm 1") -> int:
    with Session(services.engine) as session:
        village = session.exec(select(Village).where(Village.name == name)).one()
        assert village.id is not None
        return village.id


def unit_id(services: Services, name: str) -> int:
    with Session(services.engine) as session:
        unit = session.exec(select(Unit).where(Unit.name == name)).one()
        assert unit.id is not None
        return unit.id


def person_of_chat(services: Services, chat_id: str) -> int:
    """The person a chat belongs to."""
    with Session(services.engine) as session:
        return session.exec(
            select(ChatIdentity.person_id).where(ChatIdentity.chat_id == chat_id)
        ).one()


def add_person(
    services: Services,
    *,
    name: str = "Trần Thị Bình",
    roles: tuple[str, ...] = ("resident",),
    village: str | None = None,
    unit: str | None = None,
    channel: str = "console",
    chat_id: str | None = None,
) -> int:
    """Create a person with roles, linked to a chat; return the person id."""
    with Session(services.engine) as session:
        person = Person(commune_id=default_commune_id(session), display_name=name)
        if village is not None:
            person.village_id = village_id(services, village)
        if unit is not None:
            person.unit_id = unit_id(services, unit)
        session.add(person)
        session.flush()
        assert person.id is not None
        for role in roles:
            grant(session, person.id, role)
        if chat_id is not None:
            session.add(ChatIdentity(person_id=person.id, channel=channel, chat_id=chat_id))
        session.commit()
        return person.id


def add_member_villages(
    services: Services,
    count: int,
    chat_of: Callable[[int], tuple[str, str]],
    name: str = "Thôn thử",
) -> list[int]:
    """Give each index its own village (with denominators) and one team member in it.

    ``chat_of(index)`` names the member's (channel, chat id). Returns the village ids, so a
    test can check each report on its own.
    """
    village_ids = []
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        for index in range(count):
            village = Village(commune_id=commune, name=f"{name} {index:04d}", position=100 + index)
            session.add(village)
            session.flush()
            assert village.id is not None
            session.add(
                VillageDenominator(
                    village_id=village.id,
                    valid_from=dt.date(2025, 1, 1),
                    population=5000,
                    adults=3800,
                    aged15=4000,
                    households=1300,
                    businesses=90,
                )
            )
            person = Person(
                commune_id=commune, display_name=f"Tổ viên {index}", village_id=village.id
            )
            session.add(person)
            session.flush()
            assert person.id is not None
            grant(session, person.id, "team")
            channel, chat_id = chat_of(index)
            session.add(ChatIdentity(person_id=person.id, channel=channel, chat_id=chat_id))
            village_ids.append(village.id)
        session.commit()
    return village_ids


def import_plan_yaml(
    services: Services, text: str, *, today: dt.date | None = None
) -> dict[str, int]:
    """Import a plan written in YAML into the sample commune, as ``tocns plan import`` does.

    Returns the ids of its tasks by number ("T1") and of its indicators as "I" + number.
    """
    now = services.clock()
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        result = import_plan(
            session,
            from_yaml(text),
            commune_id=commune,
            today=today or now.astimezone(services.tz).date(),
            now=now,
        )
        assert result.problems == [], result.problems
        session.commit()
        plan_id = session.exec(select(Plan.id).where(Plan.slug == result.plan)).one()
        ids = {
            t.number: t.id
            for t in session.exec(select(Task).where(Task.plan_id == plan_id))
            if t.id is not None
        }
        ids |= {
            f"I{i.number}": i.id
            for i in session.exec(select(Indicator).where(Indicator.plan_id == plan_id))
            if i.id is not None
        }
        return ids


def make_invite(
    session: Session,
    role: str,
    *,
    now: dt.datetime,
    village: int | None = None,
    unit: int | None = None,
    **extra: object,
) -> str:
    """A one-time invite code for the sample commune, made as /moi makes it."""
    commune = default_commune_id(session)
    assert commune is not None
    return create_invite(
        session,
        commune_id=commune,
        role=role,
        now=now,
        village_id=village,
        unit_id=unit,
        **extra,  # type: ignore[arg-type]
    )


def record_figure(
    services: Services, period: dt.date, code: str, value: int, village: str = "Xóm 3"
) -> None:
    """A figure already recorded for a village and month, through the tally store.

    The reporter is a person without a chat or roles (``SEED_REPORTER``), so nobody in
    the test's conversations meets them.
    """
    with Session(services.engine) as session:
        row = session.get(Village, village_id(services, village))
        assert row is not None
        reporter = session.exec(select(Person).where(Person.display_name == SEED_REPORTER)).first()
        if reporter is None:
            reporter = Person(commune_id=row.commune_id, display_name=SEED_REPORTER)
            session.add(reporter)
            session.flush()
        record_report(
            session,
            village=row,
            period=period,
            values={code: value},
            actor=reporter,
            now=services.clock(),
        )
        session.commit()


SEED_REPORTER = "Số liệu có sẵn"
