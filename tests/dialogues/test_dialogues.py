"""Every scripted dialogue of ``cases/`` on the console, Telegram and Zalo.

The dialogues of this module share one stage per database (fake servers, the running
app); each dialogue still gets a fresh database and its own clock (see runner.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from bot.app import build_services
from tests.conftest import DATABASES, REQUIRE_POSTGRES, START, make_settings
from tests.dialogues.runner import (
    Database,
    DialogueMismatch,
    Player,
    PostgresDatabase,
    SqliteDatabase,
    Stage,
    open_stage,
)
from tests.dialogues.script import Dialogue, all_dialogues
from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN, ZALO_TEST_TOKEN, channel_values
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI
from tests.helpers import FakeClock

pytestmark = pytest.mark.asyncio(loop_scope="module")
DIALOGUES = list(all_dialogues())


def _cases() -> Iterator[object]:
    for dialogue in DIALOGUES:
        for channel in dialogue.channels:
            marks = []
            if dialogue.xfail is not None and dialogue.expected_to_fail_on(channel):
                marks.append(
                    pytest.mark.xfail(strict=True, raises=DialogueMismatch, reason=dialogue.xfail)
                )
            yield pytest.param(dialogue, channel, id=f"{dialogue.id}[{channel}]", marks=marks)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def stage(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stage]:
    """The fakes and the running app, shared by this module's dialogues on one database."""
    directory = tmp_path_factory.mktemp("dialogues")
    database: Database
    if request.param == "sqlite":
        template = request.getfixturevalue("_template_dir") / "tocns.sqlite3"
        database = SqliteDatabase(template, directory / "tocns.sqlite3")
    else:
        server = request.getfixturevalue("_postgres")
        if server is None:
            if REQUIRE_POSTGRES:
                pytest.fail("PostgreSQL is required (TOCNS_REQUIRE_POSTGRES=1) but not installed")
            pytest.skip("PostgreSQL not installed")
        database = PostgresDatabase(server, f"dialogues_{os.getpid()}")
    clock = FakeClock(START)
    async with (
        FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as telegram,
        FakeZaloAPI(token=ZALO_TEST_TOKEN) as zalo,
    ):
        settings = make_settings(
            directory / "data",
            database.url,
            chart_helper=False,
            public_base_url="https://tocns.example.vn",
            **channel_values(telegram),
        )
        services = build_services(settings, clock)
        async with open_stage(services, database, clock, telegram, zalo) as opened:
            opened.kind = request.param
            yield opened


@pytest.mark.parametrize(("dialogue", "channel"), list(_cases()))
async def test_dialogue(stage: Stage, dialogue: Dialogue, channel: str) -> None:
    __tracebackhide__ = True
    transcript = await Player(stage, dialogue, channel, stage.kind).play()
    assert any(not line.setup for line in transcript.lines), "a dialogue has turns"
