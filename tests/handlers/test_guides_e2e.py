"""Guides end to end on the fake Telegram and Zalo servers."""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import GuideFeedback, UnansweredQuestion
from tests.conftest import channel_settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI

USER = 7001


async def test_guides_on_telegram(running, settings, fake_telegram: FakeTelegramAPI) -> None:
    async with running(channel_settings(settings, fake_telegram)) as app:
        fake_telegram.push_text(USER, "cach kich hoat vneid muc 2")
        [guide] = await fake_telegram.wait_sent(count=1, chat_id=USER, method="sendMessage")
        assert guide.text.startswith("Kích hoạt tài khoản VNeID mức 2")
        assert guide.button_texts == ["👍 Có", "👎 Chưa"]
        fake_telegram.push_callback(USER, guide.callback_data[1])  # 👎
        await fake_telegram.wait_sent(count=2, chat_id=USER, method="sendMessage")

        fake_telegram.push_text(USER, "/start g_vneid-xuat-trinh")
        sent = await fake_telegram.wait_sent(count=3, chat_id=USER, method="sendMessage")
        assert "xuất trình" in sent[2].text.lower()

        fake_telegram.push_text(USER, "cks")
        sent = await fake_telegram.wait_sent(count=4, chat_id=USER, method="sendMessage")
        assert sent[-1].text == "Ý bạn là…?"
        fake_telegram.push_callback(USER, sent[-1].callback_data[0])
        sent = await fake_telegram.wait_sent(count=5, chat_id=USER, method="sendMessage")
        assert sent[4].text.startswith(sent[3].button_texts[0])

        fake_telegram.push_text(USER, "kết quả bóng đá tối qua")
        sent = await fake_telegram.wait_sent(count=6, chat_id=USER, method="sendMessage")
        assert "chưa có hướng dẫn" in sent[-1].text
        with Session(app.services.engine) as session:
            assert [f.slug for f in session.exec(select(GuideFeedback)).all()] == [
                "vneid-kich-hoat"
            ]
            assert [q.text for q in session.exec(select(UnansweredQuestion)).all()] == [
                "kết quả bóng đá tối qua"
            ]


async def test_guides_on_zalo_numbered(running, settings, fake_zalo: FakeZaloAPI) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        fake_zalo.push_text("z-7", "lam sao dang ky chu ky so ca nhan")
        [guide] = await fake_zalo.wait_sent(count=1, chat_id="z-7", method="sendMessage")
        assert guide.text.startswith("Đăng ký chữ ký số cá nhân") and len(guide.text) <= 2000
        assert "1. 👍 Có" in guide.text and "2. 👎 Chưa" in guide.text
        fake_zalo.push_text("z-7", "1")
        await fake_zalo.wait_sent(count=2, chat_id="z-7", method="sendMessage")

        fake_zalo.push_text("z-7", "vneid-muc-2")  # the slug printed on a poster
        sent = await fake_zalo.wait_sent(count=3, chat_id="z-7", method="sendMessage")
        assert sent[2].text.startswith("Đăng ký tài khoản định danh điện tử mức 2")

        fake_zalo.push_text("z-7", "vneid")
        sent = await fake_zalo.wait_sent(count=4, chat_id="z-7", method="sendMessage")
        assert "Ý bạn là" in sent[-1].text and "1. " in sent[-1].text
        fake_zalo.push_text("z-7", "2")
        sent = await fake_zalo.wait_sent(count=5, chat_id="z-7", method="sendMessage")
        second_label = sent[3].text.split("2. ", 1)[1].split("\n", 1)[0]
        assert sent[4].text.startswith(second_label)

        fake_zalo.push_text("z-7", "kết quả bóng đá tối qua")
        sent = await fake_zalo.wait_sent(count=6, chat_id="z-7", method="sendMessage")
        assert "chưa có hướng dẫn" in sent[-1].text
        with Session(app.services.engine) as session:
            [feedback] = session.exec(select(GuideFeedback)).all()
            assert feedback.helpful and feedback.slug == "chu-ky-so-dang-ky"
            assert session.exec(select(UnansweredQuestion)).all()
