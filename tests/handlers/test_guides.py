"""Guides in the chat: free-text questions, deep links, choices, fallback, feedback."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.content.questions import anonymise, record_unanswered
from bot.core.dispatcher import Dispatcher
from bot.core.messages import TEXT_LIMITS, Reply
from bot.services import Services
from db.models import GuideFeedback, UnansweredQuestion
from tests.helpers import Chat, FakeClock


def _to_last_page(chat: Chat, replies: list[Reply]) -> list[Reply]:
    """Choose "Tiếp ›" until the guide's last page (guides are paged for a small phone)."""
    while replies[-1].choices and replies[-1].choices[0].label == "Tiếp ›":
        replies = chat.send("1")
    return replies


def test_question_without_diacritics_gets_the_guide(chat: Chat) -> None:
    replies = chat.send("cach dang ky chu ky so ca nhan")
    assert replies[0].text.startswith("Đăng ký chữ ký số cá nhân")
    replies = _to_last_page(chat, replies)
    assert replies[-1].text.endswith("Hướng dẫn này có giúp được bạn không?")
    assert [c.label for c in replies[-1].choices] == ["👍 Có", "👎 Chưa"]


def test_deep_link_opens_guide(chat: Chat) -> None:
    assert chat.send("/start g_chu-ky-so-dang-ky")[0].text.startswith("Đăng ký chữ ký số cá nhân")


def test_typing_a_title_opens_it(chat: Chat) -> None:
    assert "VssID" in chat.send("vssid")[0].text


def test_ambiguous_question_offers_choices_and_picking_works(chat: Chat) -> None:
    [reply] = chat.send("vneid")
    assert reply.text == "Ý bạn là…?"
    assert reply.choices[-1].label == "Không phải các mục trên"
    picked = chat.send("1")
    assert picked[0].text.startswith(reply.choices[0].label)


def test_nonsense_gets_fallback_and_is_recorded(chat: Chat, services: Services) -> None:
    [reply] = chat.send("giá vàng hôm nay bao nhiêu, gọi 0912345678")
    assert "chưa có hướng dẫn" in reply.text and reply.choices
    with Session(services.engine) as session:
        [row] = session.exec(select(UnansweredQuestion)).all()
        assert "0912345678" not in row.text and "<số>" in row.text


def test_greeting_gets_greeting_not_guide(chat: Chat) -> None:
    [reply] = chat.send("Xin chào")
    assert reply.text.startswith("Chào")


def test_scam_signal_surfaces_warning_first(chat: Chat) -> None:
    replies = chat.send("có người xưng công an gọi bảo cập nhật vneid qua điện thoại và đọc mã otp")
    assert "giả danh" in replies[0].text.lower() or "lừa" in replies[0].text.lower()


def test_feedback_recorded(chat: Chat, services: Services) -> None:
    _to_last_page(chat, chat.send("cach dang ky chu ky so ca nhan"))
    chat.send("2")  # 👎
    with Session(services.engine) as session:
        [feedback] = session.exec(select(GuideFeedback)).all()
        assert feedback.slug == "chu-ky-so-dang-ky" and feedback.helpful is False
        assert feedback.query == "cach dang ky chu ky so ca nhan"


def test_paging_on_telegram_limit(services: Services) -> None:
    chat = Chat(Dispatcher(services), channel="zalo", chat_id="z-9")
    for slug in services.guides:
        for reply in chat.send(f"/start g_{slug}"):
            assert len(reply.numbered_text()) <= TEXT_LIMITS["zalo"]


def test_unanswered_retention(services: Services, clock: FakeClock) -> None:
    with Session(services.engine) as session:
        record_unanswered(session, "câu hỏi cũ", clock.now - dt.timedelta(days=400), 180)
        record_unanswered(session, "câu hỏi mới", clock.now, 180)
        session.commit()
        assert [q.text for q in session.exec(select(UnansweredQuestion)).all()] == ["câu hỏi mới"]


def test_anonymise_strips_identifiers() -> None:
    assert (
        anonymise("Số CCCD 001234567890, mail a@b.vn, xem https://x.vn/a")
        == "số cccd <số>, mail <email> xem <link>"
    )


def _shown_lines(reply: Reply, buttons: bool) -> int:
    text = reply.text if buttons else reply.numbered_text()  # with "Gõ số … để chọn."
    return sum(1 for line in text.splitlines() if line.strip())


def test_every_message_of_every_guide_fits_a_small_phone(services: Services) -> None:
    for channel in ("zalo", "telegram"):
        chat = Chat(Dispatcher(services), channel=channel, chat_id=f"{channel}-12")
        for slug in services.guides:
            replies = chat.send(f"/start g_{slug}")
            pages = 1
            while True:
                for reply in replies:
                    assert _shown_lines(reply, channel == "telegram") <= 12, (channel, slug)
                if not (replies[-1].choices and replies[-1].choices[0].label == "Tiếp ›"):
                    break
                replies, pages = chat.press(replies[-1].choices[0].value), pages + 1
            assert "Hướng dẫn này có giúp được bạn không?" in replies[-1].text
            assert pages > 1 or len(services.guides[slug].pages()) == 1


def test_a_crowded_last_page_asks_in_a_second_message(services: Services) -> None:
    chat = Chat(Dispatcher(services), channel="zalo", chat_id="z-12")
    replies = _to_last_page(chat, chat.send("/start g_bao-cao-lua-dao"))
    assert len(replies) == 2
    assert "Nguồn:" in replies[0].text and not replies[0].choices
    assert replies[1].text.startswith("Xem thêm") and len(replies[1].choices) == 2
