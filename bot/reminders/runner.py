"""Wiring: a scheduler that only wakes the planner and the outbox delivery.

Every minute (APScheduler, through python-telegram-bot's JobQueue when Telegram runs,
else its own AsyncIOScheduler) the planner computes what is due from the database and
the injected clock, and the outbox delivery sends it. Nothing is decided by the scheduler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.channels.base import Sender
from bot.core.unanswered import send_unanswered
from bot.feedback.photos import photo_dir
from bot.feedback.privacy import retention_sweep
from bot.reminders.delivery import OutboxDelivery
from bot.reminders.planner import PassStats, plan_pass
from bot.services import Services
from db.types import utcnow

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from telegram.ext import Job, JobQueue

log = logging.getLogger(__name__)

WAKE_SECONDS = 60
STOP_TIMEOUT = 30  # seconds in-flight sends get to finish on stop


class ReminderRunner:
    """Plans and delivers on every wake-up; at start-up, catches up after downtime."""

    def __init__(
        self, services: Services, senders: Mapping[str, Sender], *, concurrency: int = 8
    ) -> None:
        self.services = services
        self.delivery = OutboxDelivery(
            services.engine,
            senders,
            clock=services.clock,
            concurrency=concurrency,
            journal_dir=services.settings.data_dir / "outbox-journal",
        )
        self._scheduler: AsyncIOScheduler | None = None
        self._job: Job[Any] | None = None
        self._sending: asyncio.Task[Any] | None = None
        self._planning = asyncio.Lock()
        self._again = False
        self._swept: dt.date | None = None  # the day retention last ran

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
                await self.delivery.run_until_idle()
            except Exception:  # noqa: BLE001 - keep the process alive; next wake retries
                log.exception("outbox delivery failed")
            if not self._again or self.delivery.stopping:
                return

    async def tick(self) -> None:
        """What the scheduler calls: plan, wake the sender, resend replies a dead process left
        unsent; once a day, retention."""
        # What is already due goes out meanwhile: a long pass (a month's catch-up after
        # downtime, many communes) does not hold back a queued broadcast.
        self.wake()
        try:
            await self.plan()
        except Exception:  # noqa: BLE001
            log.exception("reminder planning failed")
        self.wake()
        try:
            await send_unanswered(
                self.services.engine,
                self.delivery.senders,
                now=utcnow(),
                grace=dt.timedelta(seconds=self.services.settings.unsent_reply_grace),
            )
        except Exception:  # noqa: BLE001 - the next tick retries
            log.exception("resending unsent replies failed")
        try:
            await self.sweep()
        except Exception:  # noqa: BLE001 - the next day retries
            log.exception("feedback retention sweep failed")

    async def sweep(self) -> int:
        """Closed reports past retention forget their residents; at most once a local day."""
        now = self.services.clock()
        today = now.astimezone(self.services.tz).date()
        if self._swept == today:
            return 0
        settings = self.services.settings
        result = await asyncio.to_thread(
            retention_sweep,
            self.services.engine,
            now=now,
            retention_days=settings.feedback_retention_days,
            directory=photo_dir(settings.data_dir),
        )
        self._swept = today  # only once it worked: a sweep the database missed runs again
        if result.reports:
            log.info("feedback retention: %d closed reports anonymised", result.reports)
        return result.reports

    async def start(self, job_queue: JobQueue[Any] | None = None) -> None:
        """Recover interrupted sends, catch up, and wake every minute from now on."""
        await self.delivery.recover()
        loop = asyncio.get_running_loop()

        def wake_from_any_thread() -> None:
            loop.call_soon_threadsafe(self.wake)

        self.services.wake_outbox = wake_from_any_thread
        if self.delivery.shares_limits:
            self.services.pace_reply = self.delivery.pace_reply
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
        self.services.pace_reply = None
        job, self._job = self._job, None
        if job is not None:
            job.schedule_removal()
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        await self.delivery.drain()
        sending, self._sending = self._sending, None
        if sending is not None:
            try:
                await asyncio.wait_for(sending, timeout=STOP_TIMEOUT)
            except TimeoutError:
                log.warning("outbox sends still running after %ss: cancelled", STOP_TIMEOUT)
            except Exception:  # noqa: BLE001 - already logged by the send loop; stopping anyway
                log.warning("outbox send loop ended with an error", exc_info=True)
