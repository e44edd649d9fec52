"""An update is acknowledged to the platform only once it is handled.

Telegram confirms polled updates with the next getUpdates offset, and resends a webhook
update it got no answer for: a process killed while handling loses nothing only if
neither happens before the update is committed and answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

import aiohttp
import pytest
from sqlmodel import Session, select

import bot.core.dispatcher as dispatcher_module
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
from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN
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


class _Held:
    """SQLite's write lock held by another connection (a long import, a backup) until
    released: the core's attempts fail quickly with ``db_busy_timeout_ms=50``."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.released = threading.Event()
        self.holding = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            self.holding.set()
            self.released.wait(timeout=60)
            connection.rollback()

    def __enter__(self) -> _Held:
        self.thread.start()
        assert self.holding.wait(timeout=5)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
        self.engine.dispose()

    def release(self) -> None:
        self.released.set()
        self.thread.join(timeout=10)


KEPT_START = "Hệ thống đang bận một chút. Tin nhắn của bạn đã được giữ lại"
BUSY_START = "Hệ thống đang bận một chút. Bạn đợi khoảng một phút"


def _deferrals(caplog: pytest.LogCaptureFixture) -> int:
    return sum("deferred: the database is unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("note_after", [0.0, 60.0])
async def test_a_polled_update_the_locked_database_refuses_is_kept_and_answered_later(
    running,
    settings,
    fake_telegram: FakeTelegramAPI,
    fake_zalo: FakeZaloAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    note_after: float,
) -> None:
    """Not confirmed while the database is away, handled once it is back: one note at most."""
    if settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite's lock (PostgreSQL: tests/faults/test_database_unreachable.py)")
    monkeypatch.setattr(dispatcher_module, "POLL_NOTE_AFTER", note_after)
    app_settings = channel_settings(settings, fake_telegram, fake_zalo, db_busy_timeout_ms=50)
    async with running(app_settings) as app:
        await fake_telegram.wait_sent(method="setMyCommands")
        with (
            caplog.at_level(logging.WARNING),
            _Held(app.services.settings.effective_database_url) as held,
        ):
            update_id = fake_telegram.push_text(USER, "/start")
            fake_zalo.push_text("z-held", "/start")
            await fake_telegram.wait_for(lambda: _deferrals(caplog) >= 2, timeout=10)
            if note_after == 0.0:  # long enough: each person hears it is kept, once
                [kept] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
                assert (kept.text or "").startswith(KEPT_START)
                await fake_zalo.wait_for(lambda: fake_zalo.texts_to("z-held"))
                assert fake_zalo.texts_to("z-held")[0].startswith(KEPT_START)
            # Still Telegram's to send again: a process killed now loses nothing.
            assert [u["update_id"] for u in fake_telegram.updates] == [update_id]
            held.release()
            await fake_telegram.wait_for(
                lambda: any("Xin chào" in t for t in fake_telegram.texts_to(USER)), timeout=20
            )
            await fake_zalo.wait_for(
                lambda: any("Xin chào" in t for t in fake_zalo.texts_to("z-held")), timeout=20
            )
            await fake_telegram.wait_for(lambda: fake_telegram.updates == [], timeout=5)
        await asyncio.sleep(0.5)  # nothing else follows
        for texts in (fake_telegram.texts_to(USER), fake_zalo.texts_to("z-held")):
            notes = [t for t in texts if t.startswith("Hệ thống đang bận")]
            assert notes == ([texts[0]] if note_after == 0.0 else []), texts
            assert (
                texts[0 if note_after else 1].startswith("Xin chào")
                and len(texts) == len(notes) + 1
            )


def _poison(url: str, key: str) -> None:
    """A write the database refuses for one update only, as a bug would (an OperationalError
    every time), while every other update goes through."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql(
                    "CREATE TRIGGER poison BEFORE INSERT ON processedupdate "
                    f"WHEN NEW.update_key = '{key}' BEGIN SELECT json('{{'); END"
                )
            else:
                connection.exec_driver_sql(
                    "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.update_key = '{key}' THEN "
                    "RAISE EXCEPTION 'poisoned' USING ERRCODE = 'query_canceled'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
                connection.exec_driver_sql(
                    "CREATE TRIGGER poison BEFORE INSERT ON processedupdate "
                    "FOR EACH ROW EXECUTE FUNCTION poison()"
                )
    finally:
        engine.dispose()


async def test_an_update_that_always_fails_is_given_up_and_does_not_hold_the_offset(
    running,
    settings,
    fake_telegram: FakeTelegramAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Retried while it looks like an outage; once others get through, confirmed and logged."""
    monkeypatch.setattr(dispatcher_module, "POLL_RETRY_FIRST", 0.1)
    monkeypatch.setattr(dispatcher_module, "POLL_RETRIES_WHILE_UP", 1)
    monkeypatch.setattr(dispatcher_module, "POLL_NOTE_AFTER", 60.0)
    poisoned = 9001
    secret = "mật khẩu của tôi là 0123456789"
    async with running(channel_settings(settings, fake_telegram)) as app:
        await fake_telegram.wait_sent(method="setMyCommands")
        token_id = TELEGRAM_TEST_TOKEN.partition(":")[0]
        _poison(app.services.settings.effective_database_url, f"{token_id}:{poisoned}")
        with caplog.at_level(logging.INFO):
            fake_telegram.push_update(
                {
                    "update_id": poisoned,
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "chat": {"id": USER, "type": "private"},
                        "from": {"id": USER, "is_bot": False, "first_name": "A"},
                        "text": secret,
                    },
                }
            )
            await fake_telegram.wait_for(lambda: _deferrals(caplog) >= 1, timeout=15)
            other = fake_telegram.push_text(USER + 7, "/start")
            await fake_telegram.wait_sent(chat_id=USER + 7, method="sendMessage", timeout=10)
            # Answered, but not confirmed past the update still in hand.
            assert [u["update_id"] for u in fake_telegram.updates] == [poisoned, other]
            await fake_telegram.wait_for(lambda: fake_telegram.updates == [], timeout=15)
        [busy] = fake_telegram.sent_to(USER, "sendMessage")
        assert (busy.text or "").startswith(BUSY_START), "asked to send it again"
    [given_up] = [r for r in caplog.records if "given up" in r.getMessage()]
    assert f"chat={USER}" in given_up.getMessage()
    assert "other updates got through" in given_up.getMessage()
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "0123456789" not in logged, "never the message text"


async def test_a_worker_waits_out_a_flood_wait_on_set_webhook(
    running, webhook_settings, fake_telegram: FakeTelegramAPI, fake_zalo: FakeZaloAPI
) -> None:
    """Restarted beside workers sending at the bot's full rate, setWebhook may get a 429."""
    fake_telegram.fail_next("setWebhook", status=429, retry_after=1, times=2)
    app_settings = webhook_settings(telegram=fake_telegram, zalo=fake_zalo)
    async with running(app_settings) as app, aiohttp.ClientSession() as http:
        assert fake_telegram.counts["setWebhook"] == 3
        base = f"http://127.0.0.1:{app.port}"
        update = telegram_text_update(51, USER)
        async with http.post(
            f"{base}/webhook/telegram", json=update, headers=TELEGRAM_HEADERS
        ) as answer:
            assert answer.status == 200
        await fake_telegram.wait_sent(count=1, chat_id=USER, method="sendMessage")
