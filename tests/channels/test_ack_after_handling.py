"""An update is acknowledged to the platform only once it is handled.

Telegram confirms polled updates with the next getUpdates offset, and resends a webhook
update it got no answer for: a process killed while handling loses nothing only if
neither happens before the update is committed and answered.
"""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import channel_settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI, text_event

USER = 5550101


async def test_polling_confirms_an_update_only_after_answering_it(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    async with running(channel_settings(settings, fake_telegram)):
        await fake_telegram.wait_sent(method="setMyCommands")
        fake_telegram.stall_next("sendMessage", 2.0)  # the answer is on its way...
        update_id = fake_telegram.push_text(USER, "/start")
        await asyncio.sleep(1.0)
        # ...and meanwhile the update is still Telegram's to resend.
        assert [u["update_id"] for u in fake_telegram.updates] == [update_id]
        [reply] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
        assert "Xin chào" in (reply.text or "")
        await fake_telegram.wait_for(lambda: fake_telegram.updates == [])


async def test_webhooks_answer_once_the_update_is_handled(
    running, settings, fake_telegram: FakeTelegramAPI, fake_zalo: FakeZaloAPI
) -> None:
    app_settings = channel_settings(
        settings,
        fake_telegram,
        fake_zalo,
        webhook_mode=True,
        public_base_url="https://tocns.example.vn",
        telegram_webhook_secret="telegram-secret-123",
        zalo_webhook_secret="zalo-secret-123",
    )
    update = {
        "update_id": 41,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": USER, "type": "private"},
            "from": {"id": USER, "is_bot": False, "first_name": "A"},
            "text": "/start",
        },
    }
    async with running(app_settings) as app, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{app.port}"
        fake_telegram.stall_next("sendMessage", 0.5)
        headers = {"X-Telegram-Bot-Api-Secret-Token": "telegram-secret-123"}
        async with http.post(f"{base}/webhook/telegram", json=update, headers=headers) as answer:
            assert answer.status == 200
            assert "Xin chào" in (fake_telegram.sent_to(USER, "sendMessage")[0].text or "")
        fake_zalo.stall_next("sendMessage", 0.5)
        headers = {"X-Bot-Api-Secret-Token": "zalo-secret-123"}
        event = text_event("z-ack", "/start")
        async with http.post(f"{base}/webhook/zalo", json=event, headers=headers) as answer:
            assert answer.status == 200
            assert any("Xin chào" in text for text in fake_zalo.texts_to("z-ack"))
