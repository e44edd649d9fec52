"""Direct replies reserve the send slots the workers share on PostgreSQL (issue #18): the
bot's rate covers what it answers as well as what the outbox sends."""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session

from bot.app import TocnsApp, build_services
from bot.reminders.policy import DeliveryLimits
from bot.reminders.sendslots import SharedRateLimiter
from bot.settings import Settings
from tests.conftest import channel_settings
from tests.fakes.telegram_api import FakeTelegramAPI

USER = 4242


async def test_replies_wait_for_the_shared_slots(
    settings: Settings, fake_telegram: FakeTelegramAPI
) -> None:
    """A pause another worker set (its 429) holds this worker's replies too, and replies
    to one chat are spaced by the per-chat slot, not sent as fast as they are ready."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("shared send slots are PostgreSQL's (SQLite runs one worker)")
    fake_telegram.rate_limit(per_second=30, per_chat_per_second=1)
    services = build_services(channel_settings(settings, fake_telegram))  # the real clock
    app = TocnsApp(services)
    await app.start(web_server=False)
    try:
        assert services.pace_reply is not None, "the runner shares the limits with replies"
        other_worker = SharedRateLimiter(
            services.engine, "telegram", *DeliveryLimits().rate("telegram"), run=_run
        )
        await other_worker.pause_all(2.0)  # Telegram told another worker to wait 2 s
        pushed = time.monotonic()
        for word in ("giúp", "hướng dẫn", "cảm ơn"):
            fake_telegram.push_text(USER, word)
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent_to(USER)) >= 3, timeout=20)
        first = min(call.at for call in fake_telegram.sent_to(USER))
        times = sorted(call.at for call in fake_telegram.sent_to(USER))
        with Session(services.engine) as session:
            rows = session.execute(
                text("SELECT count(*) FROM sendslot WHERE key = :key"),
                {"key": f"telegram:chat:{USER}"},
            ).scalar_one()
    finally:
        await app.stop()
        services.engine.dispose()
    assert first - pushed >= 1.9, "no reply went out during the other worker's pause"
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.95, f"replies to one chat spaced by its slot: {gaps}"
    assert fake_telegram.rate_limited == 0
    assert rows == 1, "the chat's slot is in the shared table"


async def _run(function, *args):  # type: ignore[no-untyped-def]
    return function(*args)
