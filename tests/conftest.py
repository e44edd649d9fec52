"""Shared fixtures: a fresh database per test (SQLite and PostgreSQL), clock, fakes."""

from __future__ import annotations

import datetime as dt
import os

# python-telegram-bot 22 warns (an error here) unless durations are timedeltas.
os.environ.setdefault("PTB_TIMEDELTA", "true")
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.app import TocnsApp, build_services, prepare_database
from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.settings import Settings
from tests.fakes.fixtures import (  # noqa: F401 - fixtures
    channel_values,
    fake_telegram,
    fake_zalo,
)
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI
from tests.helpers import Chat, FakeClock
from tests.postgres import postgres_server

DATABASES = [d for d in os.environ.get("TOCNS_TEST_DATABASES", "sqlite,postgres").split(",") if d]
REQUIRE_POSTGRES = os.environ.get("TOCNS_REQUIRE_POSTGRES") == "1"
# Tuesday 10 March 2026, 09:00 in Vietnam.
START = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    """Test settings: no .env, no tokens unless given, fast polling, any free port."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "telegram_poll_timeout": 1,
        "zalo_poll_timeout": 1,
        "listen_port": 0,
        "telegram_token": None,
        "zalo_token": None,
        "sample_history": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]


@pytest.fixture(scope="session")
def _template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the sample commune, copied for each test."""
    directory = tmp_path_factory.mktemp("template")
    settings = make_settings(directory, f"sqlite:///{directory / 'tocns.sqlite3'}")
    services = build_services(settings, FakeClock(START))
    prepare_database(services)
    services.engine.dispose()
    return directory


@pytest.fixture(scope="session")
def _postgres() -> Iterator[str | None]:
    with postgres_server() as url:
        if url is not None:
            template_url = url.rsplit("/", 1)[0] + "/tocns_template"
            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS tocns_template"))
                conn.execute(text("CREATE DATABASE tocns_template"))
            admin.dispose()
            settings = make_settings(Path("/tmp"), template_url)
            services = build_services(settings, FakeClock(START))
            prepare_database(services)
            services.engine.dispose()
        yield url


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the sample commune, on each configured engine."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_template_dir")
        shutil.copy(template / "tocns.sqlite3", tmp_path / "tocns.sqlite3")
        yield f"sqlite:///{tmp_path / 'tocns.sqlite3'}"
        return
    server = request.getfixturevalue("_postgres")
    if server is None:
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required (TOCNS_REQUIRE_POSTGRES=1) but not installed")
        pytest.skip("PostgreSQL not installed")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE tocns_template"))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url)


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    services = build_services(settings, clock)
    prepare_database(services)
    yield services
    services.engine.dispose()


@pytest.fixture
def dispatcher(services: Services) -> Dispatcher:
    return Dispatcher(services)


@pytest.fixture
def chat(dispatcher: Dispatcher) -> Chat:
    return Chat(dispatcher)


def channel_settings(
    settings: Settings,
    telegram: FakeTelegramAPI | None = None,
    zalo: FakeZaloAPI | None = None,
    **extra: object,
) -> Settings:
    values = {**channel_values(telegram, zalo), **extra}
    return make_settings(settings.data_dir, settings.database_url, **values)


PUBLIC_URL = "https://tocns.example.vn"
TELEGRAM_SECRET = "telegram-secret-123"
ZALO_SECRET = "zalo-secret-123"
TELEGRAM_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
ZALO_HEADERS = {"X-Bot-Api-Secret-Token": ZALO_SECRET}


def telegram_text_update(update_id: int, user_id: int, text: str = "/start") -> dict[str, object]:
    """A Telegram update with a private text message, as Telegram posts it to the webhook."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


WebhookSettings = Callable[..., Settings]


@pytest.fixture
def webhook_settings(settings: Settings) -> WebhookSettings:
    """Build webhook-mode settings behind ``PUBLIC_URL``, with each given channel's test secret.

    Call it with the fakes the test uses (``telegram=``, ``zalo=``), any other setting as a
    keyword, and ``base=`` for settings other than the test's own.
    """

    def make(
        *,
        telegram: FakeTelegramAPI | None = None,
        zalo: FakeZaloAPI | None = None,
        base: Settings | None = None,
        **extra: object,
    ) -> Settings:
        secrets: dict[str, object] = {}
        if telegram is not None:
            secrets["telegram_webhook_secret"] = TELEGRAM_SECRET
        if zalo is not None:
            secrets["zalo_webhook_secret"] = ZALO_SECRET
        return channel_settings(
            base or settings,
            telegram,
            zalo,
            webhook_mode=True,
            public_base_url=PUBLIC_URL,
            **{**secrets, **extra},
        )

    return make


@pytest.fixture
def running(clock: FakeClock) -> Callable[..., contextlib.AbstractAsyncContextManager[TocnsApp]]:
    """Start the whole app with some settings; stop it at the end of the ``async with``."""

    @contextlib.asynccontextmanager
    async def start(
        app_settings: Settings, prepare: Callable[[Services], None] | None = None
    ) -> AsyncIterator[TocnsApp]:
        services = build_services(app_settings, clock)
        if prepare is not None:
            prepare(services)
        app = TocnsApp(services)
        await app.start()
        try:
            yield app
        finally:
            await app.stop()
            services.engine.dispose()

    return start
