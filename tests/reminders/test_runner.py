"""``tocns run`` starts the scheduler and the outbox delivery with the channels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from bot.app import prepare_database
from bot.core.messages import Reply
from bot.reminders.outbox import enqueue
from bot.services import Services
from bot.settings import Settings
from tests.conftest import channel_settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.helpers import add_person
from tests.reminders.util import rows


async def test_run_sends_what_was_queued_while_down_through_telegram(
    settings: Settings, fake_telegram: FakeTelegramAPI, running: Callable[..., Any]
) -> None:
    def prepare(services: Services) -> None:
        prepare_database(services)
        person = add_person(services, channel="telegram", chat_id="8801")
        with Session(services.engine) as session:
            enqueue(
                session,
                person_id=person,
                kind="broadcast",
                reply=Reply(text="Chào cả tổ"),
                dedupe_key="while-down",
                due_at=services.clock(),
            )
            session.commit()

    async with running(channel_settings(settings, telegram=fake_telegram), prepare) as app:
        assert app.reminders is not None and app.reminders._job is not None  # PTB's JobQueue
        await fake_telegram.wait_for(lambda: fake_telegram.texts_to(8801), timeout=10)
        services = app.services
    assert fake_telegram.texts_to(8801) == ["Chào cả tổ"]
    assert [r.status for r in rows(services)] == ["sent"]


async def test_run_without_tokens_uses_its_own_scheduler(
    settings: Settings, running: Callable[..., Any]
) -> None:
    async with running(settings, prepare_database) as app:
        assert app.reminders is not None and app.reminders._scheduler is not None
        assert "console" in app.reminders.delivery.senders
