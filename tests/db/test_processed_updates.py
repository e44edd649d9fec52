"""Updates already handled are recognised per bot: a new token is not a flood of duplicates."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, select

from bot.app import build_services
from bot.core.dispatcher import DUPLICATE_RUN, Dispatcher, processed_key
from bot.core.messages import Incoming
from bot.services import Services
from db.models import ProcessedUpdate
from tests.conftest import make_settings
from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN, ZALO_TEST_TOKEN
from tests.helpers import FakeClock

OTHER_TELEGRAM_TOKEN = "987654321:TEST-another-telegram-bot_abcdefghijk"


def _dispatcher(services: Services, clock: FakeClock, **tokens: str) -> Dispatcher:
    settings = make_settings(services.settings.data_dir, services.settings.database_url, **tokens)
    return Dispatcher(build_services(settings, clock))


def _start(channel: str, update: str, chat: str = "555") -> Incoming:
    return Incoming(channel, chat, "Khách", text="/start", update_key=update)


def test_the_key_carries_the_bot_id() -> None:
    assert processed_key("123456789", "42") == "123456789:42"
    assert processed_key("", "42") == "42"  # the console has no bot
    long = processed_key("1459232241454765289", "message.text.received:" + "x" * 200)
    assert long.startswith("1459232241454765289:sha256:") and len(long) <= 120


async def test_a_new_bot_token_does_not_drop_updates_as_duplicates(
    services: Services, clock: FakeClock
) -> None:
    old = _dispatcher(services, clock, telegram_token=TELEGRAM_TEST_TOKEN)
    assert await old.handle_async(_start("telegram", "5"))
    assert await old.handle_async(_start("telegram", "5")) == []  # a real redelivery
    new = _dispatcher(services, clock, telegram_token=OTHER_TELEGRAM_TOKEN)
    assert await new.handle_async(_start("telegram", "5")), "another bot's update 5 is answered"
    zalo = _dispatcher(services, clock, zalo_token=ZALO_TEST_TOKEN)
    assert await zalo.handle_async(_start("zalo", "message.text.received:5"))
    with Session(services.engine) as session:
        keys = set(session.exec(select(ProcessedUpdate.update_key)).all())
    assert {"123456789:5", "987654321:5", "1459232241454765289:message.text.received:5"} <= keys


async def test_a_run_of_duplicates_is_reported_loudly(
    services: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    first = _dispatcher(services, clock, telegram_token=TELEGRAM_TEST_TOKEN)
    for n in range(DUPLICATE_RUN + 2):
        await first.handle_async(_start("telegram", str(n), chat=str(600 + n)))
    restarted = _dispatcher(services, clock, telegram_token=TELEGRAM_TEST_TOKEN)
    with caplog.at_level(logging.WARNING, logger="bot.core.dispatcher"):
        for n in range(DUPLICATE_RUN - 1):  # a short redelivery after a restart: quiet
            assert await restarted.handle_async(_start("telegram", str(n), chat=str(600 + n))) == []
        assert caplog.records == []
        for n in range(DUPLICATE_RUN - 1, DUPLICATE_RUN + 2):
            await restarted.handle_async(_start("telegram", str(n), chat=str(600 + n)))
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1, "once per run, not once per update"
        assert "already processed" in errors[0].getMessage()
        assert "token" in errors[0].getMessage()
        assert await restarted.handle_async(_start("telegram", "new", chat="700"))
        assert "run of 12 duplicate updates ended" in caplog.records[-1].getMessage()
