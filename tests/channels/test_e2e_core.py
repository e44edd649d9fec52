"""End to end on Telegram, Zalo and the console: the same conversation core."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import Session, select

from bot.channels.console import run_console
from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.settings import Settings
from db.models import Tally
from tests.conftest import TELEGRAM_HEADERS, ZALO_HEADERS, channel_settings, telegram_text_update
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI

USER = 5550001


async def test_telegram_start_menu_and_button(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    async with running(channel_settings(settings, fake_telegram)):
        await fake_telegram.wait_sent(method="setMyCommands")
        commands = [c for c in fake_telegram.sent if c.method == "setMyCommands"]
        assert "trogiup" in str(commands[0].params)
        fake_telegram.push_text(USER, "/start")
        [welcome] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
        assert "Xin chào" in (welcome.text or "")
        assert any("Trợ giúp" in label for label in welcome.button_texts)
        fake_telegram.push_callback(USER, "cmd:trogiup")
        sent = await fake_telegram.wait_sent(count=2, chat_id=USER, method="sendMessage")
        assert "/huy" in (sent[-1].text or "")


async def test_zalo_numbered_reply(running, settings, fake_zalo: FakeZaloAPI) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)):
        fake_zalo.push_text("z-1", "/ngonngu", display_name="Lê Văn Cường")
        [menu] = await fake_zalo.wait_sent(chat_id="z-1", method="sendMessage")
        assert "1. Tiếng Việt" in (menu.text or "") and "2. English" in (menu.text or "")
        fake_zalo.push_text("z-1", "2")
        sent = await fake_zalo.wait_sent(count=2, chat_id="z-1", method="sendMessage")
        assert "Language changed" in (sent[-1].text or "")


async def test_console_numbered_reply(services: Services) -> None:
    out = io.StringIO()
    await run_console(
        Dispatcher(services), name="Hoa", stdin=io.StringIO("/ngonngu\n1\n"), stdout=out
    )
    text = out.getvalue()
    assert "1. Tiếng Việt" in text and "Đã đổi ngôn ngữ" in text


async def test_flow_resumes_after_restart(running, settings, fake_zalo: FakeZaloAPI) -> None:
    from tests.helpers import add_person

    app_settings = channel_settings(settings, zalo=fake_zalo)
    async with running(app_settings) as app:
        add_person(app.services, roles=("team",), village="Xóm 3", channel="zalo", chat_id="z-2")
        fake_zalo.push_text("z-2", "/baocao")
        [codes] = await fake_zalo.wait_sent(chat_id="z-2", method="sendMessage")
        assert "1. " in (codes.text or "")
        fake_zalo.push_text("z-2", "1")  # step 1: the code
        await fake_zalo.wait_sent(count=2, chat_id="z-2", method="sendMessage")
    # A new process on the same database: the flow's state lives there, not in memory.
    async with running(app_settings) as app:
        fake_zalo.push_text("z-2", "45")  # step 2: the number
        sent = await fake_zalo.wait_sent(count=3, chat_id="z-2", method="sendMessage")
        assert "45" in (sent[-1].text or "")
        fake_zalo.push_text("z-2", "1")  # confirm the summary
        sent = await fake_zalo.wait_sent(count=4, chat_id="z-2", method="sendMessage")
        assert "Đã ghi" in (sent[-1].text or "")
        with Session(app.services.engine) as session:
            assert [t.value for t in session.exec(select(Tally)).all()] == [45]


async def test_duplicate_telegram_update_handled_once(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    update_id = fake_telegram.push_text(USER, "/trogiup")
    [raw] = [u for u in fake_telegram.updates if u["update_id"] == update_id]
    fake_telegram.push_update(dict(raw))  # the same update delivered twice
    async with running(channel_settings(settings, fake_telegram)):
        await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
        fake_telegram.push_text(USER, "/menu")
        sent = await fake_telegram.wait_sent(count=2, chat_id=USER, method="sendMessage")
        assert "/huy" in (sent[0].text or "") and "Bạn muốn làm gì" in (sent[1].text or "")


async def test_handler_failure_apologises_and_keeps_serving(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    def install_crash(services: Services) -> None:
        def crash(ctx: object, argument: str) -> list:
            raise RuntimeError("simulated bug")

        services.registry.command("hong", description="test only", published=False)(crash)

    async with running(channel_settings(settings, fake_telegram), install_crash):
        fake_telegram.push_text(USER, "/hong")
        [apology] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
        assert "Xin lỗi" in (apology.text or "")
        fake_telegram.push_text(USER, "/start")
        sent = await fake_telegram.wait_sent(count=2, chat_id=USER, method="sendMessage")
        assert "Xin chào" in (sent[-1].text or "")


@pytest.mark.parametrize("header", [None, "wrong-secret"])
async def test_webhook_refuses_missing_or_wrong_secret(
    running, webhook_settings, fake_telegram, fake_zalo, header
) -> None:
    app_settings = webhook_settings(telegram=fake_telegram, zalo=fake_zalo)
    async with running(app_settings) as app:
        base = f"http://127.0.0.1:{app.port}"
        headers = (
            {}
            if header is None
            else {"X-Telegram-Bot-Api-Secret-Token": header, "X-Bot-Api-Secret-Token": header}
        )
        update = telegram_text_update(1, USER)
        async with aiohttp.ClientSession() as http:
            async with http.post(
                base + "/webhook/telegram", json=update, headers=headers
            ) as response:
                assert response.status in (401, 403)
            async with http.post(
                base + "/webhook/zalo",
                json={"event_name": "message.text.received"},
                headers=headers,
            ) as response:
                assert response.status in (401, 403)
            async with http.post(
                base + "/webhook/telegram", json=update, headers=TELEGRAM_HEADERS
            ) as response:
                assert response.status == 200
        [reply] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
        assert "Xin chào" in (reply.text or "")
        assert len(fake_telegram.sent_to(USER, "sendMessage")) == 1, (
            "refused requests were not processed"
        )


async def test_healthz_reports_database(running, settings) -> None:
    async with running(settings) as app, aiohttp.ClientSession() as http:
        response = await http.get(f"http://127.0.0.1:{app.port}/healthz")
        assert response.status == 200
        assert (await response.json())["database"] == "ok"


def test_settings_refuse_production_webhook_without_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        Settings(
            _env_file=None,
            mode="production",
            webhook_mode=True,
            telegram_token="1:abc",
            data_dir=tmp_path,
        )  # type: ignore[call-arg]


async def test_long_text_split_within_telegram_limit(fake_telegram: FakeTelegramAPI) -> None:
    from telegram import Bot

    from bot.channels.telegram import send_reply
    from bot.core.messages import Choice, Reply
    from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN

    text = "\n".join(f"Dòng {i}: hướng dẫn rất dài cho người dân trong xóm." for i in range(400))
    async with Bot(TELEGRAM_TEST_TOKEN, base_url=fake_telegram.base_url) as bot:
        await send_reply(bot, USER, Reply(text=text, choices=[Choice("Tiếp", "x:1")]))
    sent = fake_telegram.sent_to(USER, "sendMessage")
    assert len(sent) > 1 and all(len(call.text or "") <= 4096 for call in sent)
    assert "".join(call.text or "" for call in sent).replace("\n", "") == text.replace("\n", "")
    assert sent[-1].button_texts == ["Tiếp"] and not sent[0].button_texts


async def test_zalo_webhook_with_secret_is_processed(
    running, webhook_settings, fake_zalo: FakeZaloAPI
) -> None:
    from tests.fakes.zalo_api import text_event

    app_settings = webhook_settings(zalo=fake_zalo)
    async with running(app_settings) as app, aiohttp.ClientSession() as http:
        event = text_event("z-w", "/start")
        url = f"http://127.0.0.1:{app.port}/webhook/zalo"
        for _ in range(2):  # the platform may deliver the same event twice
            async with http.post(url, json=event, headers=ZALO_HEADERS) as response:
                assert response.status == 200
        [welcome] = await fake_zalo.wait_sent(chat_id="z-w", method="sendMessage")
        assert "Xin chào" in (welcome.text or "")
        await asyncio.sleep(0.3)
        assert len(fake_zalo.sent_to("z-w", "sendMessage")) == 1


@pytest.mark.parametrize("failure", [{"status": 429, "retry_after": 1}, {"status": 502}])
async def test_telegram_reply_retried_after_429_or_5xx(
    running, settings, fake_telegram: FakeTelegramAPI, failure
) -> None:
    async with running(channel_settings(settings, fake_telegram)):
        await fake_telegram.wait_sent(method="setMyCommands")
        fake_telegram.fail_next("sendMessage", **failure)
        fake_telegram.push_text(USER, "/start")
        [welcome] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage", timeout=10)
        assert "Xin chào" in (welcome.text or "")
        assert len(fake_telegram.failed) == 1


async def test_telegram_polling_survives_5xx_and_malformed(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    async with running(channel_settings(settings, fake_telegram)):
        fake_telegram.fail_next("getUpdates", status=500, times=2)
        fake_telegram.malformed_next("getUpdates")
        fake_telegram.push_text(USER, "/trogiup")
        [reply] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage", timeout=20)
        assert "/huy" in (reply.text or "")


async def test_zalo_polling_survives_5xx_and_malformed(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)):
        fake_zalo.fail_next("getUpdates", status=503, times=2)
        fake_zalo.malformed_next("getUpdates")
        fake_zalo.push_text("z-f", "/trogiup")
        [reply] = await fake_zalo.wait_sent(chat_id="z-f", method="sendMessage", timeout=20)
        assert "/huy" in (reply.text or "")


async def test_telegram_send_timing_out_is_logged_not_repeated(
    running, settings, fake_telegram: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram may have delivered a send it answered too late: it is not sent again."""
    slow = channel_settings(settings, fake_telegram, telegram_read_timeout=0.5)
    async with running(slow):
        await fake_telegram.wait_sent(method="setMyCommands")
        fake_telegram.stall_next("sendMessage", 1.5)
        fake_telegram.push_text(USER, "/start")
        [late] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage", timeout=10)
        assert "Xin chào" in (late.text or "")
        fake_telegram.push_text(USER, "/trogiup")  # the bot carries on
        await fake_telegram.wait_sent(count=2, chat_id=USER, method="sendMessage", timeout=10)
        await asyncio.sleep(0.5)
        assert len(fake_telegram.sent_to(USER, "sendMessage")) == 2
    assert "TimedOut" in caplog.text


async def test_telegram_polling_survives_a_stalled_get_updates(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    slow = channel_settings(settings, fake_telegram, telegram_read_timeout=0.5)
    async with running(slow):
        await fake_telegram.wait_sent(method="setMyCommands")
        polls = len([c for c in fake_telegram.calls if c.method == "getUpdates"])
        fake_telegram.stall_next("getUpdates", 4.0)  # longer than the 1 s poll + 0.5 s read
        # The poll in flight ends (1 s), the next one stalls and the client gives up on it.
        await asyncio.sleep(1.5)
        fake_telegram.push_text(USER, "/trogiup")
        [reply] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage", timeout=20)
        assert "/huy" in (reply.text or "")
        stalled = [c for c in fake_telegram.calls if c.method == "getUpdates"][polls:]
        assert stalled, "the stalled poll was answered"
        await asyncio.sleep(0.5)
        assert len(fake_telegram.sent_to(USER, "sendMessage")) == 1
