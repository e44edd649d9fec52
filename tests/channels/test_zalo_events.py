"""Every event a person can send on Zalo, and how replies go out (captions, markdown)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from sqlmodel import Session, select

from bot.channels.zalo import ZaloSender, zalo_markdown
from bot.channels.zalo_client import ZaloClient
from bot.core.messages import Choice, Reply
from bot.handlers.nontext import message_counts
from bot.services import Services
from db.models import GuideFeedback
from tests.conftest import channel_settings
from tests.factories import add_person
from tests.fakes.fixtures import ZALO_TEST_TOKEN
from tests.fakes.zalo_api import FakeZaloAPI

USER = "zu-events"


async def test_voice_note_gets_a_warm_answer_the_menu_and_is_counted(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        fake_zalo.push_voice(USER)
        [answer] = await fake_zalo.wait_sent(chat_id=USER, method="sendMessage")
        text = answer.text or ""
        assert "tin nhắn thoại" in text and "chỉ đọc được chữ" in text
        assert "1. " in text and "2. " in text  # the menu, as numbers
        fake_zalo.push_voice(USER)
        await fake_zalo.wait_sent(count=2, chat_id=USER, method="sendMessage")
        with Session(app.services.engine) as session:
            counts = message_counts(session, dt.date(2000, 1, 1))
        assert counts == {("zalo", "voice"): 2}


async def test_protected_person_is_answered_kindly_with_the_village_team(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        fake_zalo.push_unsupported(USER, display_name="Cháu Nam")
        [answer] = await fake_zalo.wait_sent(chat_id=USER, method="sendMessage")
        text = answer.text or ""
        assert "tổ công nghệ số cộng đồng" in text and "1. " in text
        assert "chỉ đọc được tin nhắn chữ" not in text
        add_person(app.services, village="Xóm 3", channel="zalo", chat_id="zu-known")
        fake_zalo.push_unsupported("zu-known")
        [known] = await fake_zalo.wait_sent(chat_id="zu-known", method="sendMessage")
        assert "tổ công nghệ số cộng đồng Xóm 3" in (known.text or "")


@pytest.mark.parametrize("thanks", ["sticker", "👍"])
async def test_sticker_or_thumbs_up_after_a_guide_counts_as_thanks(
    running, settings, fake_zalo: FakeZaloAPI, thanks: str
) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        fake_zalo.push_text(USER, "vneid-muc-2")  # a guide by its slug
        for page in range(2, 20):  # page through it to the feedback question
            texts = await fake_zalo.wait_sent(count=page - 1, chat_id=USER, method="sendMessage")
            if "giúp được bạn" in (texts[-1].text or ""):
                break
            fake_zalo.push_text(USER, "1")
        sent = len(fake_zalo.sent_to(USER, "sendMessage"))
        if thanks == "sticker":
            fake_zalo.push_sticker(USER)
        else:
            fake_zalo.push_text(USER, thanks)
        calls = await fake_zalo.wait_sent(count=sent + 1, chat_id=USER, method="sendMessage")
        assert "Rất vui" in (calls[-1].text or "")
        with Session(app.services.engine) as session:
            [feedback] = session.exec(select(GuideFeedback)).all()
        assert (feedback.slug, feedback.helpful) == ("vneid-muc-2", True)


async def test_sticker_out_of_the_blue_is_a_smile_and_the_menu(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)):
        fake_zalo.push_sticker(USER)
        [answer] = await fake_zalo.wait_sent(chat_id=USER, method="sendMessage")
        assert "Cảm ơn" in (answer.text or "") and "1. " in (answer.text or "")


# -- sending -------------------------------------------------------------------------------


@pytest.fixture
async def sender(fake_zalo: FakeZaloAPI, services: Services):
    async with ZaloClient(ZALO_TEST_TOKEN, base_url=fake_zalo.base_url, sleep=_no_sleep) as c:
        yield ZaloSender(c, services)


async def _no_sleep(seconds: float) -> None:
    return None


async def test_chart_text_goes_in_the_photo_caption(
    fake_zalo: FakeZaloAPI, sender: ZaloSender
) -> None:
    reply = Reply(text="Tiến độ tháng 11: 62%", image_url="https://media.example.vn/c.png")
    await sender.send(USER, reply)
    assert [call.method for call in fake_zalo.sent_to(USER)] == ["sendPhoto"]
    [photo] = fake_zalo.sent_to(USER)
    assert photo.params["caption"] == "Tiến độ tháng 11: 62%"
    assert photo.params["photo"] == "https://media.example.vn/c.png"


async def test_a_caption_too_long_goes_first_as_text(
    fake_zalo: FakeZaloAPI, sender: ZaloSender
) -> None:
    text = "Xóm 3 🇻🇳 tiến độ. " * 150  # over 2,000 UTF-16 units with the flags
    await sender.send(USER, Reply(text=text, image_url="https://media.example.vn/c.png"))
    methods = [call.method for call in fake_zalo.sent_to(USER)]
    assert methods[-1] == "sendPhoto" and set(methods[:-1]) == {"sendMessage"}
    assert "caption" not in fake_zalo.sent_to(USER)[-1].params


async def test_guide_headings_are_bold_in_markdown(
    fake_zalo: FakeZaloAPI, sender: ZaloSender
) -> None:
    text = "Cách làm\n\nCác bước:\n1. Mở ứng dụng VNeID\n2. Chọn Đăng nhập"
    await sender.send(USER, Reply(text=text, choices=[Choice("👍 Có", "gfb:x:1")]))
    [call] = fake_zalo.sent_to(USER, "sendMessage")
    assert call.params["parse_mode"] == "markdown"
    assert "**Các bước:**\n1. Mở ứng dụng VNeID" in call.params["text"]


async def test_markdown_refused_falls_back_to_plain_text(
    fake_zalo: FakeZaloAPI, sender: ZaloSender
) -> None:
    fake_zalo.reject_markup = True
    await sender.send(USER, Reply(text="Cần chuẩn bị:\n- Căn cước\n- Điện thoại"))
    delivered = fake_zalo.sent_to(USER, "sendMessage")
    assert [c.params.get("parse_mode") for c in delivered] == [None]
    assert delivered[0].params["text"] == "Cần chuẩn bị:\n- Căn cước\n- Điện thoại"


def test_markdown_only_where_it_cannot_eat_a_character() -> None:
    assert zalo_markdown("Vào Cài đặt → *Bảo mật*:\n1. Bấm Đổi") is None  # has a star
    assert zalo_markdown("Chỉ một câu trả lời.") is None  # no list heading
    assert zalo_markdown("Lưu ý:\n• Không đưa mã OTP") == "**Lưu ý:**\n• Không đưa mã OTP"


# -- webhook set-up against the fake's verification call --------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_setup_passes_zalos_verification_call(
    running, webhook_settings, fake_zalo: FakeZaloAPI
) -> None:
    """Zalo calls the URL with an empty body when the webhook is saved: tocns answers 200."""
    port = _free_port()
    fake_zalo.route_webhooks(f"http://127.0.0.1:{port}")
    app_settings = webhook_settings(zalo=fake_zalo, listen_port=port)
    async with running(app_settings):
        await fake_zalo.wait_for(lambda: fake_zalo.webhook_calls)
        [check] = fake_zalo.webhook_calls
        assert (check.body, check.status_code, check.success) == (b"", 200, True)
        assert check.headers["User-Agent"].startswith("Java/")
        call = await fake_zalo.deliver(
            {
                "event_name": "message.text.received",
                "message": {
                    "from": {"id": USER, "display_name": "Hoa"},
                    "chat": {"id": USER, "chat_type": "PRIVATE"},
                    "message_id": "wh-1",
                    "date": 1764662400000,
                    "text": "/start",
                },
            },
            wrapped=False,
        )
        assert call.status_code == 200
        [welcome] = await fake_zalo.wait_sent(chat_id=USER, method="sendMessage")
        assert "Xin chào" in (welcome.text or "")


@pytest.mark.parametrize("secret", ["short", "x" * 257, "has spaces in it"])
def test_settings_refuse_a_zalo_secret_zalo_would_refuse(tmp_path, secret: str) -> None:
    from bot.settings import Settings

    with pytest.raises(ValueError, match="ZALO_WEBHOOK_SECRET"):
        Settings(_env_file=None, data_dir=tmp_path, zalo_webhook_secret=secret)  # type: ignore[call-arg]


async def test_telegram_voice_and_sticker_get_the_same_answers(
    running, settings, fake_telegram
) -> None:
    async with running(channel_settings(settings, fake_telegram)) as app:
        fake_telegram.push_message(
            7100, voice={"file_id": "v1", "file_unique_id": "v1", "duration": 3}
        )
        [voice] = await fake_telegram.wait_sent(chat_id=7100, method="sendMessage")
        assert "tin nhắn thoại" in (voice.text or "") and voice.button_texts
        sticker = {
            "file_id": "s1", "file_unique_id": "s1", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
        }  # fmt: skip
        fake_telegram.push_message(7100, sticker=sticker)
        sent = await fake_telegram.wait_sent(count=2, chat_id=7100, method="sendMessage")
        assert "Cảm ơn" in (sent[-1].text or "")
        with Session(app.services.engine) as session:
            assert message_counts(session, dt.date(2000, 1, 1)) == {("telegram", "voice"): 1}
