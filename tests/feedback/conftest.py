"""People of the sample commune who take part in the feedback tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.core.dispatcher import Dispatcher
from bot.core.people import default_commune_id
from bot.services import Services
from db.models import Commune, FeedbackCategory, OutboxMessage, Person
from tests.helpers import Chat, add_person

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T = TypeVar("T")


@dataclass
class Cast:
    """Who is who: person ids and their chats (console)."""

    resident: int
    neighbour: int
    economy: int  # officer of Phòng Kinh tế (roads, power, water, waste, floods)
    police: int  # officer of Công an xã
    office: int  # the standing office
    dispatcher: Dispatcher

    def chat(self, who: str) -> Chat:
        chat_ids = {
            "resident": "2001",
            "neighbour": "2002",
            "economy": "2003",
            "police": "2004",
            "office": "2005",
        }
        return Chat(self.dispatcher, chat_id=chat_ids[who], name=who)


@pytest.fixture
def cast(services: Services, dispatcher: Dispatcher) -> Cast:
    return Cast(
        resident=add_person(services, name="Nguyễn Thị Hoa", village="Xóm 3", chat_id="2001"),
        neighbour=add_person(services, name="Trần Văn Nam", village="Xóm 5", chat_id="2002"),
        economy=add_person(
            services, name="Lê Kinh Tế", roles=("unit",), unit="Phòng Kinh tế", chat_id="2003"
        ),
        police=add_person(
            services, name="Phạm Công An", roles=("unit",), unit="Công an xã", chat_id="2004"
        ),
        office=add_person(services, name="Đỗ Văn Phòng", roles=("office",), chat_id="2005"),
        dispatcher=dispatcher,
    )


def in_session(services: Services, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction and commit, as one update would."""
    with Session(services.engine, expire_on_commit=False) as session:
        result = work(session)
        session.commit()
        return result


def commune(session: Session) -> Commune:
    found = session.get(Commune, default_commune_id(session))
    assert found is not None
    return found


def category(session: Session, code: str) -> FeedbackCategory:
    from bot.feedback.store import ensure_categories

    found = {c.code: c for c in ensure_categories(session, commune(session).id or 0)}
    return found[code]


def person(session: Session, person_id: int) -> Person:
    found = session.get(Person, person_id)
    assert found is not None
    return found


def outbox(services: Services, *, person_id: int | None = None) -> list[OutboxMessage]:
    with Session(services.engine) as session:
        query = select(OutboxMessage).where(col(OutboxMessage.kind).like("feedback%"))
        if person_id is not None:
            query = query.where(OutboxMessage.person_id == person_id)
        return list(session.exec(query.order_by(col(OutboxMessage.id))).all())


def texts(rows: list[OutboxMessage]) -> list[str]:
    return [str(row.content["text"]) for row in rows]


def values(rows: list[Any]) -> list[str]:
    return [c["value"] for row in rows for c in row.content["choices"]]


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN)
