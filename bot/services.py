"""The long-lived parts one process shares: settings, database engine, clock, content."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.charts.process import ChartRenderer
from bot.content.guides import Guide, load_guides
from bot.content.search import GuideIndex
from bot.core.registry import Registry
from bot.settings import Settings
from db.engine import make_engine
from db.types import utcnow

QUICK_BUSY_MS = 50  # how long an update on the event loop may wait for SQLite's lock


@dataclass
class Services:
    """Built once per process by ``bot.app.build_services`` and passed down explicitly."""

    settings: Settings
    engine: Engine
    registry: Registry
    clock: Callable[[], dt.datetime] = utcnow
    # Set by the running process (bot.app): the address the web server bound, and a
    # callable that wakes the outbox sender now (None when no sender runs, e.g. the CLI).
    web_base_url: str | None = None
    wake_outbox: Callable[[], None] | None = None
    # Set by the reminder runner when the platforms' limits are shared between workers
    # (PostgreSQL): reserves a send slot on a channel and chat for a direct reply and
    # waits for it, so replies and the outbox together keep to the platform's rate.
    pace_reply: Callable[[str, str, bool], Awaitable[None]] | None = None

    @functools.cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def today(self) -> dt.date:
        """Today's date in the commune's time zone, by the injected clock."""
        return self.clock().astimezone(self.tz).date()

    @functools.cached_property
    def quick_engine(self) -> Engine:
        """SQLite: the same database with a busy timeout of a few milliseconds.

        The dispatcher tries each update on the event loop with it first and hands the
        update to a thread that may wait (``engine``) only when the database is locked.
        """
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return self.engine
        return make_engine(
            self.engine.url.render_as_string(hide_password=False), busy_timeout_ms=QUICK_BUSY_MS
        )

    @functools.cached_property
    def charts(self) -> ChartRenderer:
        """Draws chart specs to PNG (in a helper process that exits when idle)."""
        return ChartRenderer(
            helper=self.settings.chart_helper, idle_seconds=self.settings.chart_idle_seconds
        )

    @functools.cached_property
    def guides(self) -> dict[str, Guide]:
        """Every guide by slug, loaded from the content files."""
        return {guide.slug: guide for guide in load_guides()}

    @functools.cached_property
    def guide_index(self) -> GuideIndex:
        """The search index over the guides."""
        return GuideIndex.build(list(self.guides.values()))
