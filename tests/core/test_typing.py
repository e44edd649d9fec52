"""People typing the way people type: lone figures, acknowledgements, cancel words and
unclear answers inside the report flow, driven through the real dispatcher."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from db.models import UnansweredQuestion
from tests.factories import add_person
from tests.helpers import Chat

LONE = ["20", "20%", "hai trăm", "45 người", "45 nguoi", "２０", "٢٠"]
ACKS = [
    "ừ",
    "ừm",
    "dạ",
    "vâng",
    "ok",
    "oke",
    "cảm ơn",
    "cám ơn",
    "cam on",
    "thanks",
    "👍",
    "có",
    "co",
    "không",
]
CANCELS = ["thôi", "thôi không", "hủy", "huỷ", "huy", "dừng", "không báo nữa"]


def _team(services: Services) -> Chat:
    add_person(services, name="Hà Thị Mai", roles=("team",), village="Xóm 1", chat_id="t1")
    return Chat(Dispatcher(services), chat_id="t1", name="Hà Thị Mai")


def _unanswered(services: Services) -> list[UnansweredQuestion]:
    with Session(services.engine) as session:
        return list(session.exec(select(UnansweredQuestion)).all())


@pytest.mark.parametrize("text", LONE)
def test_a_lone_figure_gets_a_hint_for_a_team_member(services: Services, text: str) -> None:
    said = _team(services).say(text)
    assert "vneid 45" in said
    assert "Ý bạn là" not in said and "chưa có hướng dẫn" not in said
    assert _unanswered(services) == []


@pytest.mark.parametrize("text", LONE)
def test_a_lone_figure_gets_a_hint_for_a_resident(
    chat: Chat, services: Services, text: str
) -> None:
    said = chat.say(text)
    assert "/phananh" in said and "câu hỏi" in said
    assert "Ý bạn là" not in said and "chưa có hướng dẫn" not in said
    assert _unanswered(services) == []


@pytest.mark.parametrize("text", ["20%", "hai trăm", "45 người"])
def test_a_figure_after_the_menu_is_not_read_as_a_pick(chat: Chat, text: str) -> None:
    chat.send("/start")  # the menu: 1 to 5
    said = chat.say(text)
    assert "/phananh" in said and "trong danh sách" not in said


@pytest.mark.parametrize("text", ACKS)
def test_an_acknowledgement_gets_a_brief_answer(chat: Chat, services: Services, text: str) -> None:
    replies = chat.send(text)
    assert len(replies) == 1 and not replies[0].choices
    assert "nhắn cho mình" in replies[0].text
    assert _unanswered(services) == []


@pytest.mark.parametrize("text", CANCELS)
def test_cancel_words_leave_the_report(services: Services, text: str) -> None:
    chat = _team(services)
    chat.say("/baocao")
    chat.say("vneid")
    said = chat.say(text)
    assert "Đã hủy" in said and ("Chưa có gì được lưu" in said or "chưa ghi gì" in said)
    assert "Gõ tổng số" not in chat.say("45")  # the flow is gone


def test_the_code_and_the_screen_number_pick_the_indicator(services: Services) -> None:
    chat = _team(services)
    chat.say("/baocao")
    assert "VNeID mức 2" in chat.say("vneid")
    chat.say("thôi")
    chat.say("/baocao")
    assert "Chữ ký số" in chat.say("chu ky so")
    chat.say("thôi")
    chat.say("/baocao")
    assert "Gõ tổng số" in chat.say("2")


def test_an_unclear_answer_says_what_to_type_and_keeps_the_flow(services: Services) -> None:
    chat = _team(services)
    chat.say("/baocao")
    said = chat.say("cai gi vay")
    assert "vneid 45" in said and "thôi" in said
    assert "Gõ tổng số" in chat.say("1")  # still in the flow
    said = chat.say("hai tram")
    assert "• VNeID mức 2: 200" in said
    said = chat.say("cảm ơn")
    assert "gõ: có" in said and "gõ: không" in said
    assert "✅ Đã ghi" in chat.say("có")


def test_no_at_the_summary_goes_back_to_the_list(services: Services) -> None:
    chat = _team(services)
    chat.say("/baocao")
    chat.say("vneid")
    chat.say("45 người")
    said = chat.say("không")
    assert "chưa ghi gì" in said and "Chọn mục" in said


def test_a_percentage_where_a_count_is_expected_is_explained(services: Services) -> None:
    chat = _team(services)
    chat.say("/baocao")
    chat.say("vneid")
    said = chat.say("20%")
    assert "không phải tỉ lệ" in said and "20% của 563 người dân là 113" in said
    assert "✅ Đã ghi" not in said


def test_a_code_alone_asks_for_its_number_and_the_next_number_completes_it(
    services: Services,
) -> None:
    team = _team(services)
    asked = team.say("vneid")
    assert "VNeID" in asked and "Ý bạn là" not in asked
    summary = team.say("45")
    assert "45" in summary and "Mình chưa rõ số 45" not in summary
    assert "Đã ghi" in team.say("có")
    assert _unanswered(services) == []
