"""Pytest fixtures for the fake Bot API servers (import them into ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI

TELEGRAM_TEST_TOKEN = "123456789:TEST-telegram-token_abcdefghijklmnopq"
ZALO_TEST_TOKEN = "1459232241454765289:TEST-zalo-token-abcdefghijklmnop"


def channel_values(
    telegram: FakeTelegramAPI | None = None, zalo: FakeZaloAPI | None = None
) -> dict[str, object]:
    """Settings values that point tocns's channels at these fake servers."""
    values: dict[str, object] = {}
    if telegram is not None:
        values.update(
            telegram_token=TELEGRAM_TEST_TOKEN,
            telegram_base_url=telegram.base_url,
            telegram_base_file_url=telegram.base_file_url,
        )
    if zalo is not None:
        values.update(
            zalo_token=ZALO_TEST_TOKEN, zalo_base_url=zalo.base_url, zalo_bot_names=zalo.bot_name
        )
    return values


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    """Run a fake Telegram Bot API that only accepts ``TELEGRAM_TEST_TOKEN``."""
    async with FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake:
        yield fake


@pytest.fixture
async def fake_zalo() -> AsyncIterator[FakeZaloAPI]:
    """Run a fake Zalo Bot API that only accepts ``ZALO_TEST_TOKEN``."""
    async with FakeZaloAPI(token=ZALO_TEST_TOKEN) as fake:
        yield fake
