"""An update is acknowledged to the platform only once it is handled.

Telegram confirms polled updates with the next getUpdates offset, and resends a webhook
update it got no answer for: a process killed while handling loses nothing only if
neither happens before the update is committed and answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp
from sqlmodel import Session, select

from bot.app import prepare_database
from bot.core import inbox
from bot.services import Services
from db.engine import make_engine
from db.models import InboxUpdate
from tests.conftest import (
    TELEGRAM_HEADERS,
    ZALO_HEADERS,
    channel_settings,
    telegram_text_update,
)
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI, text_event

USER = 5550101


def _hold_database(url: str, seconds: float) -> None:
    """Keep the tables the core writes locked for a while, as a long import would."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.exec_driver_sql("LOCK TABLE processedupdate IN EXCLUSIVE MODE")
            time.sleep(seconds)
            connection.rollback()
    finally:
        engine.dispose()


async def test_polling_confirms_a_batch_only_once_it_is_committed(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    async with running(channel_settings(settings, fake_telegram)) as app:
        await fake_telegram.wait_sent(method="setMyCommands")
        url = app.services.settings.effective_database_url
        holding = asyncio.create_task(asyncio.to_thread(_hold_database, url, 2.0))
        await asyncio.sleep(0.3)
        update_id = fake_telegram.push_text(USER, "/start")
        await asyncio.sleep(1.0)
        # The core cannot commit yet: the update is still Telegram's to send again.
        assert [u["update_id"] for u in fake_telegram.updates] == [update_id]
        assert fake_telegram.sent_to(USER, "sendMessage") == []
        await holding
        [reply] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
        assert "Xin chào" in (reply.text or "")
        await fake_telegram.wait_for(lambda: fake_telegram.updates == [])


async def test_slow_replies_do_not_hold_the_next_batch_back(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    async with running(channel_settings(settings, fake_telegram)):
        await fake_telegram.wait_sent(method="setMyCommands")
        fake_telegram.stall_next("sendMessage", 2.0)
        fake_telegram.push_text(USER, "/start")
        await fake_telegram.wait_for(lambda: fake_telegram.updates == [])  # committed: confirmed
        fake_telegram.push_text(USER + 1, "/start")
        await fake_telegram.wait_sent(chat_id=USER + 1, method="sendMessage", timeout=1.5)
        await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")


async def test_a_slow_update_neither_holds_newer_ones_back_nor_is_confirmed_early(
    fake_telegram: FakeTelegramAPI,
) -> None:
    """The poller keeps fetching while an update is in hand, and confirms only up to it."""
    from telegram.ext import Application, MessageHandler, filters

    from bot.channels.telegram import COMMITTED, Committed, poll_forever
    from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN

    slow_user, release = USER, asyncio.Event()
    handled: list[int] = []
    committed = Committed()

    async def handle(update: Any, context: Any) -> None:
        if update.effective_user.id == slow_user:
            await release.wait()
        handled.append(update.effective_user.id)
        committed.done(update.update_id)

    application = (
        Application.builder()
        .token(TELEGRAM_TEST_TOKEN)
        .base_url(fake_telegram.base_url)
        .concurrent_updates(8)
        .updater(None)
        .build()
    )
    application.add_handler(MessageHandler(filters.ALL, handle))
    application.bot_data[COMMITTED] = committed
    async with application:
        poller = asyncio.create_task(
            poll_forever(application, spawn=asyncio.create_task, timeout=5, read_timeout=5)
        )
        try:
            slow = fake_telegram.push_text(slow_user, "chậm")
            await asyncio.sleep(0.3)
            for n in range(1, 4):
                fake_telegram.push_text(USER + n, "nhanh")
            # Newer updates are handled while the slow one is in hand...
            await fake_telegram.wait_for(lambda: len(handled) == 3, timeout=5)
            assert slow_user not in handled
            # ...and none of them is confirmed past it: a kill now loses nothing.
            await asyncio.sleep(0.5)
            assert [u["update_id"] for u in fake_telegram.updates][0] == slow
            release.set()
            await fake_telegram.wait_for(lambda: fake_telegram.updates == [], timeout=5)
            assert sorted(handled) == [USER, USER + 1, USER + 2, USER + 3]
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller


async def test_webhooks_answer_once_the_update_is_handled(
    running, webhook_settings, fake_telegram: FakeTelegramAPI, fake_zalo: FakeZaloAPI
) -> None:
    app_settings = webhook_settings(telegram=fake_telegram, zalo=fake_zalo)
    update = telegram_text_update(41, USER)
    async with running(app_settings) as app, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{app.port}"
        fake_telegram.stall_next("sendMessage", 0.5)
        async with http.post(
            f"{base}/webhook/telegram", json=update, headers=TELEGRAM_HEADERS
        ) as answer:
            assert answer.status == 200
            assert "Xin chào" in (fake_telegram.sent_to(USER, "sendMessage")[0].text or "")
        fake_zalo.stall_next("sendMessage", 0.5)
        event = text_event("z-ack", "/start")
        async with http.post(f"{base}/webhook/zalo", json=event, headers=ZALO_HEADERS) as answer:
            assert answer.status == 200
            assert any("Xin chào" in text for text in fake_zalo.texts_to("z-ack"))


def _inbox(services: Services) -> list[InboxUpdate]:
    with Session(services.engine) as session:
        return list(session.exec(select(InboxUpdate)).all())


async def test_a_zalo_update_fetched_by_a_killed_process_is_handled_on_restart(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    def fetched_then_killed(services: Services) -> None:
        # What a process killed between Zalo's getUpdates and its commit leaves behind.
        prepare_database(services)
        inbox.keep(services.engine, "zalo", {"ok": True, "result": text_event("z-kept", "/start")})

    async with running(channel_settings(settings, zalo=fake_zalo), fetched_then_killed) as app:
        await fake_zalo.wait_for(lambda: fake_zalo.texts_to("z-kept"))
        assert "Xin chào" in fake_zalo.texts_to("z-kept")[0]
        await fake_zalo.wait_for(lambda: _inbox(app.services) == [])
        fake_zalo.push_text("z-new", "/start")  # polled now: kept, handled, cleared
        await fake_zalo.wait_for(lambda: fake_zalo.texts_to("z-new"))
        await fake_zalo.wait_for(lambda: _inbox(app.services) == [])
    assert len(fake_zalo.texts_to("z-kept")) == 1


async def test_a_webhook_update_the_database_cannot_take_is_refused_and_answered_once_later(
    running, webhook_settings, fake_telegram: FakeTelegramAPI, fake_zalo: FakeZaloAPI
) -> None:
    """No "busy" reply and no 200 while the database is away: the platform sends again."""
    app_settings = webhook_settings(
        telegram=fake_telegram,
        zalo=fake_zalo,
        db_busy_timeout_ms=50,  # SQLite: the core gives up within about two seconds
    )
    update = telegram_text_update(42, USER)
    event = text_event("z-outage", "/start")
    telegram = ("/webhook/telegram", update, TELEGRAM_HEADERS)
    zalo = ("/webhook/zalo", event, ZALO_HEADERS)
    async with running(app_settings) as app, aiohttp.ClientSession() as http:
        if app.services.engine.dialect.name != "sqlite":
            # PostgreSQL waits for a lock instead of failing: its outage is a cut
            # connection (tests/faults/test_database_unreachable.py).
            return
        base = f"http://127.0.0.1:{app.port}"

        async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> int:
            async with http.post(base + path, json=body, headers=headers) as answer:
                return answer.status

        url = app.services.settings.effective_database_url
        holding = asyncio.create_task(asyncio.to_thread(_hold_database, url, 6.0))
        await asyncio.sleep(0.3)
        assert await asyncio.gather(post(*telegram), post(*zalo)) == [503, 503]
        assert fake_telegram.sent_to(USER, "sendMessage") == [], "no 'busy' reply"
        assert fake_zalo.texts_to("z-outage") == []
        await holding
        # The platforms send the updates again: answered now, and once only.
        for _ in range(2):
            assert await asyncio.gather(post(*telegram), post(*zalo)) == [200, 200]
        [reply] = fake_telegram.sent_to(USER, "sendMessage")
        assert "Xin chào" in (reply.text or "")
        [text] = fake_zalo.texts_to("z-outage")
        assert "Xin chào" in text
