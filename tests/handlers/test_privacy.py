"""/xoadulieu deletes a person's own data and says what remains."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.services import Services
from db.models import AuditEntry, ChatIdentity, ConversationState, Person, PersonRole, Tally
from tests.factories import add_person, village_id
from tests.helpers import Chat


def test_erase_asks_then_deletes(services: Services, chat: Chat) -> None:
    chat.send("/start")
    assert "Bạn có muốn xóa" in chat.send("/xoadulieu")[0].text
    assert "Chưa xóa" in chat.send("2")[0].text
    chat.send("/xoadulieu")
    [reply] = chat.send("1")
    assert "Đã xóa dữ liệu" in reply.text
    with Session(services.engine) as session:
        assert (
            session.exec(select(ChatIdentity).where(ChatIdentity.chat_id == chat.chat_id)).first()
            is None
        )
        assert (
            session.exec(
                select(ConversationState).where(ConversationState.chat_id == chat.chat_id)
            ).first()
            is None
        )
        names = [p.display_name for p in session.exec(select(Person)).all()]
        assert chat.name not in names


def test_erase_keeps_reports_without_name(services: Services, dispatcher) -> None:
    person_id = add_person(
        services, name="Phạm Thị Dung", roles=("team",), village="Xóm 2", chat_id="3001"
    )
    with Session(services.engine) as session:
        session.add(
            Tally(
                village_id=village_id(services, "Xóm 2"),
                period=dt.date(2026, 3, 1),
                code="vneid",
                value=10,
                reported_by=person_id,
            )
        )
        session.add(
            AuditEntry(
                actor_id=person_id,
                actor_name="Phạm Thị Dung",
                action="tally.correct",
                entity="tally",
            )
        )
        session.commit()
    chat = Chat(dispatcher, chat_id="3001")
    chat.send("/xoadulieu")
    [reply] = chat.send("1")
    assert "1 số liệu của thôn và 1 bản ghi thay đổi" in reply.text
    with Session(services.engine) as session:
        assert session.exec(select(PersonRole).where(PersonRole.person_id == person_id)).all() == []
        assert session.exec(select(Tally).where(Tally.reported_by == person_id)).one().value == 10
        assert (
            session.exec(select(AuditEntry).where(AuditEntry.actor_id == person_id))
            .one()
            .actor_name
            == ""
        )
    assert "Xin chào" in chat.send("/start")[0].text  # a new resident from now on
