"""The conversation core, driven directly (no channel)."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.context import Context
from bot.core.dispatcher import STALE_CHOICE, Dispatcher
from bot.core.messages import Reply
from bot.errors import ReadableError
from bot.i18n import translator
from bot.services import Services
from db.models import ChatIdentity, ConversationState, Person, ProcessedUpdate
from tests.helpers import Chat


def test_start_greets_in_vietnamese_with_menu(chat: Chat) -> None:
    replies = chat.send("/start")
    assert "Xin chào" in replies[0].text
    assert replies[0].choices, "the menu is offered"


def test_english_alias_and_language_switch(chat: Chat) -> None:
    assert chat.send("/help")[0].text == chat.send("/trogiup")[0].text
    chat.send("/ngonngu")
    chat.send("2")  # English, by number
    assert "Hello" in chat.send("/start")[0].text


def test_duplicate_update_handled_once(chat: Chat, services: Services) -> None:
    first = chat.send("/start", key="tg:77")
    second = chat.send("/start", key="tg:77")
    assert first and second == []
    with Session(services.engine) as session:
        assert len(session.exec(select(ProcessedUpdate)).all()) == 1


def test_unknown_command_is_explained(chat: Chat) -> None:
    assert "/khongco" in chat.send("/khongco")[0].text


def test_first_message_registers_a_resident(chat: Chat, services: Services) -> None:
    chat.send("/start")
    with Session(services.engine) as session:
        identity = session.exec(
            select(ChatIdentity).where(ChatIdentity.chat_id == chat.chat_id)
        ).one()
        person = session.get(Person, identity.person_id)
        assert person is not None and person.display_name == chat.name


def test_handler_crash_gives_apology_then_serves(services: Services) -> None:
    def boom(ctx: object, argument: str) -> list:
        raise RuntimeError("bug")

    services.registry.command("hong", description="test only", published=False)(boom)
    chat = Chat(Dispatcher(services))
    assert "Xin lỗi" in chat.send("/hong", key="k1")[0].text
    assert "Xin chào" in chat.send("/start", key="k2")[0].text


def test_readable_error_is_answered_in_the_persons_language(services: Services) -> None:
    def refuse(ctx: Context, argument: str) -> list[Reply]:
        ctx.state.data = {"half": "done"}  # rolled back with the rest
        raise ReadableError(STALE_CHOICE)

    services.registry.command("tuchoi", description="test only", published=False)(refuse)
    chat = Chat(Dispatcher(services))
    assert chat.send("/tuchoi")[0].text == translator("vi").gettext(STALE_CHOICE)
    chat.send("/ngonngu")
    chat.send("2")  # English
    assert chat.send("/tuchoi")[0].text == STALE_CHOICE
    with Session(services.engine) as session:
        states = session.exec(select(ConversationState)).all()
        assert [state.data for state in states if state.chat_id == chat.chat_id] == [{}]
