"""Bad input and a stumbling database never break the conversation."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.dispatcher import Dispatcher
from bot.core.messages import Incoming
from bot.services import Services
from bot.text import fold
from tests.helpers import add_person

NASTY = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=5000),
    st.sampled_from(
        [
            "'; DROP TABLE person; --",
            "<script>alert(1)</script>",
            "\u202eadmin\u202c",
            "\x00\x01\x02",
            "🙂" * 500,
            "/start " + "g_" + "x" * 200,
            "/" + "a" * 100,
            "1" * 50,
            "vneid 99999999999999999999",
            "   ",
            "xin chào \ud800 vneid 12",  # a lone surrogate: JSON can carry one
        ]
    ),
)
APOLOGY_START = "Xin lỗi, mình vừa gặp trục trặc"


def _has_chat(services: Services, chat_id: str) -> bool:
    from sqlmodel import Session, select

    from db.models import ChatIdentity

    with Session(services.engine) as session:
        query = select(ChatIdentity).where(ChatIdentity.chat_id == chat_id)
        return session.exec(query).first() is not None


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=NASTY, role=st.sampled_from(["resident", "team", "unit", "office", "admin"]))
def test_router_always_answers_in_vietnamese(services: Services, text: str, role: str) -> None:
    chat_id = f"h-{role}"
    if role != "resident" and not _has_chat(services, chat_id):
        add_person(
            services,
            roles=(role,),
            village="Xóm 1" if role == "team" else None,
            unit="Công an xã" if role == "unit" else None,
            chat_id=chat_id,
        )
    replies = Dispatcher(services).handle(Incoming("console", chat_id, "Hà", text=text))
    assert replies, "always an answer"
    assert not replies[0].text.startswith(APOLOGY_START), f"handler crashed on {text!r}"
    assert all(reply.text or reply.image or reply.file for reply in replies)


def test_database_briefly_locked_is_retried(services: Services) -> None:
    if services.engine.url.get_backend_name() != "sqlite":
        pytest.skip("SQLite write lock")
    path = services.engine.url.database
    blocker = sqlite3.connect(path, timeout=1, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        time.sleep(0.3)
        blocker.rollback()

    thread = threading.Thread(target=release)
    thread.start()
    replies = Dispatcher(services).handle(
        Incoming("console", "lock-1", "An", text="/start", update_key="L1")
    )
    thread.join()
    blocker.close()
    assert "Xin chào" in replies[0].text


def test_database_locked_for_long_asks_to_wait_and_loses_nothing(
    services: Services, monkeypatch
) -> None:
    if services.engine.url.get_backend_name() != "sqlite":
        pytest.skip("SQLite write lock")
    import bot.core.dispatcher as dispatcher_module

    monkeypatch.setattr(dispatcher_module, "DB_ATTEMPTS", 2)
    from bot.app import build_services

    impatient = build_services(
        services.settings.model_copy(update={"db_busy_timeout_ms": 100}), services.clock
    )
    path = services.engine.url.database
    blocker = sqlite3.connect(path, timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        replies = Dispatcher(impatient).handle(
            Incoming("console", "lock-2", "An", text="/start", update_key="L2")
        )
    finally:
        blocker.rollback()
        blocker.close()
    assert "Hệ thống đang bận" in replies[0].text
    # The same delivery, retried once the database is free, is processed normally.
    replies = Dispatcher(impatient).handle(
        Incoming("console", "lock-2", "An", text="/start", update_key="L2")
    )
    assert "Xin chào" in replies[0].text
    impatient.engine.dispose()


async def test_event_loop_keeps_going_while_another_process_holds_the_database(
    services: Services,
) -> None:
    """A CLI import holding SQLite's lock must not freeze every chat of the bot."""
    if services.engine.url.get_backend_name() != "sqlite":
        pytest.skip("SQLite write lock")
    dispatcher = Dispatcher(services)
    await dispatcher.handle_async(Incoming("console", "warm", "An", text="/start"))
    blocker = sqlite3.connect(services.engine.url.database, timeout=1, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")
    loop = asyncio.get_running_loop()
    ticks: list[float] = []

    async def heartbeat() -> None:
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.02)

    async def release_later() -> None:
        await asyncio.sleep(1.0)
        blocker.rollback()

    beating = asyncio.create_task(heartbeat())
    releasing = asyncio.create_task(release_later())
    try:
        replies = await dispatcher.handle_async(
            Incoming("console", "lock-3", "An", text="/start", update_key="L3")
        )
    finally:
        beating.cancel()
        await releasing
        blocker.close()
    assert "Xin chào" in replies[0].text  # answered once the lock was gone, nothing lost
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
    assert ticks and max(gaps) < 0.3, f"the event loop stalled for {max(gaps):.2f} s"


def test_lone_surrogates_in_text_and_name_get_a_normal_answer(services: Services) -> None:
    replies = Dispatcher(services).handle(
        Incoming("console", "sur-1", "Hà \udfff", text="cach kich hoat vneid \ud800 muc 2")
    )
    assert replies and not replies[0].text.startswith(APOLOGY_START)
    offered = replies[0].text + " ".join(choice.label for choice in replies[0].choices)
    assert "Kích hoạt tài khoản VNeID mức 2" in offered  # the guide, or it offered first


def test_logs_never_contain_message_text(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = "số tài khoản của tôi là 0123456789 mật khẩu abc"

    def crash(ctx: object, argument: str) -> list:
        raise RuntimeError("boom")

    services.registry.command("hong2", description="test only", published=False)(crash)
    dispatcher = Dispatcher(services)
    with caplog.at_level(logging.DEBUG):
        dispatcher.handle(Incoming("console", "priv-1", "An", text=secret_text, update_key="P1"))
        dispatcher.handle(
            Incoming("console", "priv-1", "An", text="/hong2 " + secret_text, update_key="P2")
        )
    logged = "\n".join(
        record.getMessage() + str(record.exc_info or "") for record in caplog.records
    )
    assert "P2" in logged, "errors are logged with the update id"
    assert "0123456789" not in logged and fold("mật khẩu") not in fold(logged)


@pytest.mark.parametrize("waiting", [True, False])
async def test_a_webhook_update_the_locked_database_refuses_is_left_to_be_sent_again(
    services: Services, waiting: bool
) -> None:
    """While its webhook call waits: no reply, deferred; once answered: "busy" as when polling."""
    if services.engine.url.get_backend_name() != "sqlite":
        pytest.skip("SQLite write lock (PostgreSQL: tests/faults/test_database_unreachable.py)")
    from bot.app import build_services
    from bot.core.dispatcher import DELIVERY, Delivery

    impatient = build_services(
        services.settings.model_copy(update={"db_busy_timeout_ms": 50}), services.clock
    )
    dispatcher = Dispatcher(impatient)
    message = Incoming("console", "lock-3", "An", text="/start", update_key="L3")
    delivery = Delivery(waiting=waiting)
    blocker = sqlite3.connect(services.engine.url.database, timeout=1, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")
    token = DELIVERY.set(delivery)
    try:
        replies = await dispatcher.handle_async(message)
    finally:
        DELIVERY.reset(token)
        blocker.rollback()
        blocker.close()
    if waiting:
        assert (replies, delivery.deferred) == ([], True)
    else:
        assert delivery.deferred is False
        assert "Hệ thống đang bận" in replies[0].text
    # The platform's redelivery, once the database is free: answered, then a duplicate.
    assert "Xin chào" in (await dispatcher.handle_async(message))[0].text
    assert await dispatcher.handle_async(message) == []
    impatient.engine.dispose()
