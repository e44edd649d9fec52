"""Shared pieces of the benchmarks: machine description, percentiles, a tocns on fakes."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")


def machine() -> str:
    """One line naming the machine a figure was measured on."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of a list of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary_ms(latencies: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of latencies given in seconds, in milliseconds."""
    return {
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "mean": (statistics.fmean(latencies) * 1000) if latencies else float("nan"),
    }


@contextlib.asynccontextmanager
async def tocns_on_fakes(
    telegram: Any = None, zalo: Any = None, database_url: str | None = None, **overrides: Any
) -> AsyncIterator[Any]:
    """Run a whole tocns process in this event loop against fake Bot API servers."""
    from bot.app import TocnsApp, build_services
    from bot.settings import Settings
    from tests.fakes.fixtures import channel_values

    with tempfile.TemporaryDirectory(prefix="tocns-bench-") as directory:
        values: dict[str, Any] = {
            "data_dir": Path(directory),
            "database_url": database_url or f"sqlite:///{directory}/tocns.sqlite3",
            "listen_port": 0,
            "telegram_poll_timeout": 1,
            "zalo_poll_timeout": 1,
            "log_level": "WARNING",
            "sample_history": False,
        }
        values.update(channel_values(telegram, zalo))
        values.update(overrides)
        services = build_services(Settings(_env_file=None, **values))  # type: ignore[call-arg]
        app = TocnsApp(services)
        await app.start(web_server=False)
        try:
            yield app
        finally:
            await app.stop()
            services.engine.dispose()


def register_team(app: Any, users: list[int]) -> None:
    """Make each Telegram user id a team member of one of the sample villages, in turn."""
    from sqlmodel import Session, col, select

    from bot.core.people import default_commune_id, grant
    from db.models import ChatIdentity, Person, Village

    with Session(app.services.engine) as session:
        villages = session.exec(select(Village).order_by(col(Village.id))).all()
        commune = default_commune_id(session)
        for index, user in enumerate(users):
            village = villages[index % len(villages)]
            person = Person(
                commune_id=commune, display_name=f"Thành viên {index}", village_id=village.id
            )
            session.add(person)
            session.flush()
            assert person.id is not None
            grant(session, person.id, "team")
            session.add(ChatIdentity(person_id=person.id, channel="telegram", chat_id=str(user)))
        session.commit()


@contextlib.asynccontextmanager
async def echo_bot(fake: Any, *, aiohttp: bool = False) -> AsyncIterator[None]:
    """A minimal python-telegram-bot echo bot polling the fake server: the harness floor.

    ``aiohttp`` gives it tocns's transport (``bot.channels.http``) instead of PTB's httpx,
    so the cost of tocns's own handling can be told apart from the transport's.
    """
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    builder = (
        Application.builder()
        .token(TELEGRAM_TEST_TOKEN)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .concurrent_updates(64)
    )
    if aiohttp:
        from bot.channels.http import AiohttpRequest

        builder = builder.request(AiohttpRequest(connection_pool_size=64)).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
