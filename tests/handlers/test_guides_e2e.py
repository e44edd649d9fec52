"""Guides end to end on the fake Telegram and Zalo servers."""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import GuideFeedback, UnansweredQuestion
from tests.conftest import channel_settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI

USER = 7001


async def _telegram_last_page(fake: FakeTelegramAPI, sent: list) -> list:  # type: ignore[type-arg]
    """Choose "Tiếp ›" until the guide's last page (guides are paged for a small phone)."""
    while sent[-1].button_texts and sent[-1].button_texts[0] == "Tiếp ›":
        fake.push_callback(USER, sent[-1].callback_data[0])
        sent = await fake.wait_sent(count=len(sent) + 1, chat_id=USER, method="sendMessage")
    return sent


async def _zalo_last_page(fake: FakeZaloAPI, chat_id: str, sent: list) -> list:  # type: ignore[type-arg]
    """Type "1" (Tiếp ›) until the guide's last page on Zalo's numbered choices."""
    while "1. Tiếp ›" in sent[-1].text:
        fake.push_text(chat_id, "1")
        sent = await fake.wait_sent(count=len(sent) + 1, chat_id=chat_id, method="sendMessage")
    return sent


async def test_guides_on_telegram(running, settings, fake_telegram: FakeTelegramAPI) -> None:
    async with running(channel_settings(settings, fake_telegram)) as app:
        fake_telegram.push_text(USER, "so suc khoe dien tu")
        sent = await fake_telegram.wait_sent(count=1, chat_id=USER, method="sendMessage")
        assert sent[0].text.startswith("Sổ sức khỏe điện tử trên VNeID")
        sent = await _telegram_last_page(fake_telegram, sent)
        guide = sent[-1]
        assert guide.button_texts == ["👍 Có", "👎 Chưa"]
        fake_telegram.push_callback(USER, guide.callback_data[1])  # 👎
        sent = await fake_telegram.wait_sent(
            count=len(sent) + 1, chat_id=USER, method="sendMessage"
        )

        fake_telegram.push_text(USER, "/start g_vneid-xuat-trinh")
        sent = await fake_telegram.wait_sent(
            count=len(sent) + 1, chat_id=USER, method="sendMessage"
        )
        assert "xuất trình" in sent[-1].text.lower()

        fake_telegram.push_text(USER, "vneid")
        sent = await fake_telegram.wait_sent(
            count=len(sent) + 1, chat_id=USER, method="sendMessage"
        )
        assert sent[-1].text == "Ý bạn là…?"
        fake_telegram.push_callback(USER, sent[-1].callback_data[0])
        sent = await fake_telegram.wait_sent(
            count=len(sent) + 1, chat_id=USER, method="sendMessage"
        )
        assert sent[-1].text.startswith(sent[-2].button_texts[0])

        fake_telegram.push_text(USER, "kết quả bóng đá tối qua")
        sent = await fake_telegram.wait_sent(
            count=len(sent) + 1, chat_id=USER, method="sendMessage"
        )
        assert "chưa có hướng dẫn" in sent[-1].text
        with Session(app.services.engine) as session:
            assert [f.slug for f in session.exec(select(GuideFeedback)).all()] == [
                "so-suc-khoe-dien-tu"
            ]
            assert [q.text for q in session.exec(select(UnansweredQuestion)).all()] == [
                "kết quả bóng đá tối qua"
            ]


async def test_guides_on_zalo_numbered(running, settings, fake_zalo: FakeZaloAPI) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        fake_zalo.push_text("z-7", "lam sao dang ky chu ky so ca nhan")
        sent = await fake_zalo.wait_sent(count=1, chat_id="z-7", method="sendMessage")
        assert sent[0].text.startswith("Đăng ký chữ ký số cá nhân")
        sent = await _zalo_last_page(fake_zalo, "z-7", sent)
        assert all(len(page.text) <= 2000 for page in sent)
        assert "1. 👍 Có" in sent[-1].text and "2. 👎 Chưa" in sent[-1].text
        fake_zalo.push_text("z-7", "1")
        sent = await fake_zalo.wait_sent(count=len(sent) + 1, chat_id="z-7", method="sendMessage")

        fake_zalo.push_text("z-7", "vneid-muc-2")  # the slug printed on a poster
        sent = await fake_zalo.wait_sent(count=len(sent) + 1, chat_id="z-7", method="sendMessage")
        assert sent[-1].text.startswith("Đăng ký tài khoản định danh điện tử mức 2")

        fake_zalo.push_text("z-7", "vneid")
        sent = await fake_zalo.wait_sent(count=len(sent) + 1, chat_id="z-7", method="sendMessage")
        assert "Ý bạn là" in sent[-1].text and "1. " in sent[-1].text
        fake_zalo.push_text("z-7", "2")
        sent = await fake_zalo.wait_sent(count=len(sent) + 1, chat_id="z-7", method="sendMessage")
        second_label = sent[-2].text.split("2. ", 1)[1].split("\n", 1)[0]
        assert sent[-1].text.startswith(second_label)

        fake_zalo.push_text("z-7", "kết quả bóng đá tối qua")
        sent = await fake_zalo.wait_sent(count=len(sent) + 1, chat_id="z-7", method="sendMessage")
        assert "chưa có hướng dẫn" in sent[-1].text
        with Session(app.services.engine) as session:
            [feedback] = session.exec(select(GuideFeedback)).all()
            assert feedback.helpful and feedback.slug == "chu-ky-so-dang-ky"
            assert session.exec(select(UnansweredQuestion)).all()
