"""Wiring: a scheduler that only wakes the planner and the outbox dispatcher.

Every minute (APScheduler, through python-telegram-bot's JobQueue when Telegram runs,
else its own AsyncIOScheduler) the planner computes what is due from the database and
the injected clock, and the dispatcher sends it. Nothing is decided by the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from bot.channels.base import Sender
from bot.reminders.dispatcher import OutboxDispatcher
from bot.reminders.planner import PassStats, plan_pass
from bot.services import Services

log = logging.getLogger(__name__)

WAKE_SECONDS = 60


class ReminderRunner:
    """Plans and dispatches on every wake-up; at start-up, catches up after downtime."""

    def __init__(
        self, services: Services, senders: Mapping[str, Sender], *, concurrency: int = 8
    ) -> None:
        self.services = services
        self.dispatcher = OutboxDispatcher(
            services.engine,
            senders,
            clock=services.clock,
            concurrency=concurrency,
            journal_dir=services.settings.data_dir / "outbox-journal",
        )
        self._scheduler: Any = None
        self._job: Any = None
        self._sending: asyncio.Task[Any] | None = None
        self._planning = asyncio.Lock()
        self._again = False

    async def plan(self) -> PassStats:
        """One planning pass at the injected clock's time."""
        async with self._planning:
            stats = await asyncio.to_thread(
                plan_pass, self.services.engine, self.services.clock(), self.services.tz
            )
        if stats.queued or stats.missed or stats.cancelled:
            log.info(
                "reminders: queued %d, missed %d, cancelled %d",
                stats.queued,
                stats.missed,
                stats.cancelled,
            )
        return stats

    def wake(self) -> None:
        """Start sending what is due now, unless a send loop is already running."""
        if self._sending is not None and not self._sending.done():
            self._again = True
            return
        self._sending = asyncio.get_running_loop().create_task(self._send_loop())

    async def _send_loop(self) -> None:
        while True:
            self._again = False
            try:
                await self.dispatcher.run_until_idle()
            except Exception:  # noqa: BLE001 - keep the process alive; next wake retries
                log.exception("outbox dispatch failed")
            if not self._again or self.dispatcher._stopping:
                return

    async def tick(self) -> None:
        """What the scheduler calls: plan, then wake the sender."""
        try:
            await self.plan()
        except Exception:  # noqa: BLE001
            log.exception("reminder planning failed")
        self.wake()

    async def start(self, job_queue: Any = None) -> None:
        """Recover interrupted sends, catch up, and wake every minute from now on."""
        await self.dispatcher.recover()
        loop = asyncio.get_running_loop()
        def wake_from_any_thread() -> None:
            loop.call_soon_threadsafe(self.wake)

        self.services.wake_outbox = wake_from_any_thread
        await self.tick()
        if job_queue is not None:

            async def callback(_context: Any) -> None:
                await self.tick()

            self._job = job_queue.run_repeating(
                callback, interval=WAKE_SECONDS, first=WAKE_SECONDS, name="reminders"
            )
            return
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._scheduler = AsyncIOScheduler()
        self._scheduler.add_job(
            self.tick, "interval", seconds=WAKE_SECONDS, max_instances=1, coalesce=True
        )
        self._scheduler.start()

    async def stop(self) -> None:
        """Stop waking up; let messages being sent finish and record them."""
        self.services.wake_outbox = None
        if self._job is not None:
            with contextlib.suppress(Exception):
                self._job.schedule_removal()
            self._job = None
        if self._scheduler is not None:
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self.dispatcher.drain()
        if self._sending is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sending, timeout=30)
