"""Factories and small drivers shared by the tests."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.core.messages import Attachment, Incoming, Reply
from bot.core.people import grant
from bot.services import Services
from db.models import ChatIdentity, Person, Unit, Village, VillageDenominator

VN = dt.timezone(dt.timedelta(hours=7))
_update_ids = itertools.count(1)


class FakeClock:
    """An injected clock the tests move by hand (never the real time, never sleep)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, value: dt.datetime) -> None:
        self.now = value

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Chat:
    """Drives the conversation core directly, as a channel adapter would."""

    dispatcher: Dispatcher
    chat_id: str = "1001"
    channel: str = "console"
    name: str = "Nguyễn Văn An"
    history: list[Reply] = field(default_factory=list)

    def send(self, text: str, *, key: str | None = None) -> list[Reply]:
        """Send a text message and return the replies."""
        return self._deliver(
            Incoming(self.channel, self.chat_id, self.name, text=text, update_key=key)
        )

    def press(self, value: str) -> list[Reply]:
        """Press a button (choose an option by its value)."""
        return self._deliver(
            Incoming(
                self.channel,
                self.chat_id,
                self.name,
                choice=value,
                update_key=f"u{next(_update_ids)}",
            )
        )

    def attach(self, attachment: Attachment, caption: str | None = None) -> list[Reply]:
        """Send a photo, document or link."""
        return self._deliver(
            Incoming(
                self.channel,
                self.chat_id,
                self.name,
                text=caption,
                attachment=attachment,
                update_key=f"u{next(_update_ids)}",
            )
        )

    def say(self, text: str) -> str:
        """Send text and return all reply texts joined (choices numbered)."""
        return "\n".join(reply.numbered_text() for reply in self.send(text))

    def _deliver(self, message: Incoming) -> list[Reply]:
        replies = self.dispatcher.handle(message)
        self.history.extend(replies)
        return replies


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
        from bot.core.people import default_commune_id

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
    from bot.core.people import default_commune_id

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
