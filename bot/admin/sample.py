"""Sample data for trying tocns: past tallies and a demo person for the console chat.

Only ever applied to a commune marked as sample (``Commune.is_sample``), whose name says
"dữ liệu mẫu"; real communes are never touched.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlmodel import Session, col, select

from bot.communes import villages_of
from bot.core.people import grant
from bot.dates import add_months, month_start
from bot.tallies.codes import CODES
from db.models import (
    ChatIdentity,
    Commune,
    Person,
    PersonRole,
    Role,
    Tally,
    Unit,
    Village,
    VillageDenominator,
)

HISTORY_MONTHS = 4
# Starting share of each code's denominator four months ago (invented, plausible).
BASE_RATES = {
    "vneid": 0.55,
    "cks": 0.25,
    "ssk": 0.35,
    "tknh": 0.6,
    "dvc": 0.3,
    "kns": 0.2,
    "ttktm": 0.4,
}
DEMO_UNIT = "Phòng Văn hóa - Xã hội"
DEMO_VILLAGE = "Xóm 1"
# What ``tocns chat --role`` makes the console user (every role without --role).
DEMO_ROLES: dict[str, tuple[str, ...]] = {
    "resident": (Role.RESIDENT,),
    "team": (Role.RESIDENT, Role.TEAM),
    "officer": (Role.RESIDENT, Role.UNIT),
    "office": (Role.RESIDENT, Role.OFFICE),
    "admin": (Role.RESIDENT, Role.ADMIN),
}
ALL_DEMO_ROLES = (Role.RESIDENT, Role.TEAM, Role.UNIT, Role.OFFICE, Role.ADMIN)
# Invented people, so that /thongbao has audiences to try: residents who signed up for
# announcements and a team in two villages. Their only chat (``load_sample_chats``) is on
# the console channel,
# so on `tocns run` without tokens the console prints what they would receive; on
# Telegram or Zalo nothing reaches them. (The demo village and Xóm 3, where dialogues
# and the console user join, stay empty.)
SAMPLE_RESIDENTS = (
    ("Người dân mẫu A", "Xóm 2"),
    ("Người dân mẫu B", "Xóm 4"),
    ("Người dân mẫu C", "Xóm 5"),
)
SAMPLE_TEAM = (
    ("Hoàng Thị Nga (mẫu)", "Xóm 2"),
    ("Lò Văn Tâm (mẫu)", "Xóm 2"),
    ("Vi Văn Đức (mẫu)", "Xóm 5"),
)


def sample_commune(session: Session) -> Commune | None:
    """The sample commune, if this deployment has one."""
    return session.exec(select(Commune).where(col(Commune.is_sample).is_(True))).first()


def load_sample_history(session: Session, today: dt.date) -> int:
    """Give each sample village rising monthly tallies for the months before this one."""
    commune = sample_commune(session)
    if commune is None:
        return 0
    rng = random.Random(57)
    rows = 0
    current = month_start(today)
    villages = villages_of(session, commune.id)
    for village in villages:
        denominator = session.exec(
            select(VillageDenominator)
            .where(VillageDenominator.village_id == village.id)
            .order_by(col(VillageDenominator.valid_from).desc())
        ).first()
        if denominator is None or village.id is None:
            continue
        skip_last = rng.random() < 0.3  # some villages have not reported last month either
        # The demo village starts reporting this month, so the README's example report
        # ("vneid 45 cks 12") is recorded without a warning; the other villages' invented
        # figures stay the same (the random numbers are drawn all the same).
        keep = village.name != DEMO_VILLAGE
        for code in CODES:
            total = getattr(denominator, code.denominator)
            rate = BASE_RATES[code.code] * rng.uniform(0.7, 1.2)
            for back in range(HISTORY_MONTHS, 0, -1):
                if back == 1 and skip_last:
                    continue
                rate = min(0.98, rate + rng.uniform(0.01, 0.05))
                period = add_months(current, -back)
                if not keep:
                    continue
                session.add(
                    Tally(
                        village_id=village.id,
                        period=period,
                        code=code.code,
                        value=int(total * rate),
                    )
                )
                rows += 1
    session.flush()
    return rows


def sample_person(
    session: Session, commune_id: int, name: str, *roles: str, **fields: object
) -> Person:
    """The sample commune's invented person of this name (made once), with these roles."""
    person = session.exec(
        select(Person).where(Person.commune_id == commune_id, Person.display_name == name)
    ).first()
    if person is None:
        person = Person(commune_id=commune_id, display_name=name)
    for key, value in fields.items():
        setattr(person, key, value)
    session.add(person)
    session.flush()
    assert person.id is not None
    for role in roles:
        grant(session, person.id, role)
    session.flush()
    return person


def load_sample_people(session: Session) -> int:
    """Give the sample commune a few residents signed up for announcements and a team."""
    commune = sample_commune(session)
    if commune is None or commune.id is None:
        return 0
    villages = {v.name: v.id for v in villages_of(session, commune.id)}
    people = 0
    for name, village in SAMPLE_RESIDENTS:
        sample_person(
            session,
            commune.id,
            name,
            Role.RESIDENT,
            village_id=villages.get(village),
            opted_in=True,
        )
        people += 1
    for name, village in SAMPLE_TEAM:
        if villages.get(village) is None:
            continue
        sample_person(session, commune.id, name, Role.TEAM, village_id=villages[village])
        people += 1
    return people


def load_sample_chats(session: Session) -> int:
    """Give the invented people a console chat, so announcements to them can be tried.

    Loaded after the sample's history, whose notifications must not print at start-up.
    """
    commune = sample_commune(session)
    if commune is None:
        return 0
    names = [name for name, _village in (*SAMPLE_RESIDENTS, *SAMPLE_TEAM)]
    people = session.exec(
        select(Person).where(Person.commune_id == commune.id, col(Person.display_name).in_(names))
    ).all()
    for person in people:
        _console_chat(session, person)
    return len(people)


def _console_chat(session: Session, person: Person) -> None:
    chat_id = f"mau-{person.id}"
    found = session.exec(
        select(ChatIdentity).where(
            ChatIdentity.channel == "console", ChatIdentity.chat_id == chat_id
        )
    ).first()
    if found is None and person.id is not None:
        session.add(ChatIdentity(person_id=person.id, channel="console", chat_id=chat_id))
        session.flush()


def ensure_demo_person(
    session: Session, channel: str, chat_id: str, name: str, role: str | None = None
) -> Person | None:
    """Make the console user of a sample deployment a team member, unit officer, office and
    admin, or only one of them (``role``, a key of ``DEMO_ROLES``) to try each separately."""
    wanted = DEMO_ROLES[role] if role else ALL_DEMO_ROLES
    commune = sample_commune(session)
    if commune is None or commune.id is None:
        return None
    identity = session.exec(
        select(ChatIdentity).where(ChatIdentity.channel == channel, ChatIdentity.chat_id == chat_id)
    ).first()
    person = session.get(Person, identity.person_id) if identity is not None else None
    if person is None:
        person = Person(commune_id=commune.id, display_name=name)
        session.add(person)
        session.flush()
        assert person.id is not None
        session.add(ChatIdentity(person_id=person.id, channel=channel, chat_id=chat_id))
    village = session.exec(
        select(Village).where(Village.commune_id == commune.id, Village.name == DEMO_VILLAGE)
    ).first()
    unit = session.exec(
        select(Unit).where(Unit.commune_id == commune.id, Unit.name == DEMO_UNIT)
    ).first()
    person.village_id = village.id if village and Role.TEAM in wanted else None
    person.unit_id = unit.id if unit and Role.UNIT in wanted else None
    session.add(person)
    session.flush()
    assert person.id is not None
    for held in session.exec(select(PersonRole).where(PersonRole.person_id == person.id)):
        if held.role not in wanted:
            session.delete(held)  # the same name tried earlier with another --role
    session.flush()
    for granted in wanted:
        grant(session, person.id, granted)
    return person
