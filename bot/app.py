"""Build the application from settings and wire every feature in one place."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.core.registry import Registry
from bot.services import Services
from bot.settings import Settings
from bot.web.server import Webhooks, build_web_app
from db.engine import make_engine, upgrade
from db.models import Commune
from db.types import utcnow

log = logging.getLogger(__name__)

GC_THRESHOLDS = (10_000, 20, 100)  # CPython's defaults are (700, 10, 10)


def build_registry() -> Registry:
    """Register every feature, in order: free-text handlers are tried in this order."""
    from bot.handlers import FEATURES

    registry = Registry()
    for feature in FEATURES:
        feature.register(registry)
    return registry


def build_services(settings: Settings, clock: Callable[[], dt.datetime] = utcnow) -> Services:
    """The process-wide services for these settings."""
    engine = make_engine(
        settings.effective_database_url, busy_timeout_ms=settings.db_busy_timeout_ms
    )
    return Services(settings=settings, engine=engine, registry=build_registry(), clock=clock)


def prepare_database(services: Services, *, sample: bool = True) -> None:
    """Migrate the schema and, on an empty database, load the sample commune and plan."""
    upgrade(services.engine)
    if not sample:
        return
    with Session(services.engine) as session:
        if session.exec(select(Commune.id)).first() is not None:
            return
        from bot.admin.sample import load_sample_history
        from bot.admin.setup import load_sample

        today = services.today()
        load_sample(session, today=today)
        if services.settings.sample_history:
            load_sample_history(session, today)
        session.commit()
    log.info("loaded the sample commune")
    for hook in SAMPLE_HOOKS:
        hook(services)


# Features that add to the sample data (e.g. the sample plan) append here at import time
# of bot.handlers, which happens in build_registry before prepare_database runs.
SAMPLE_HOOKS: list[Callable[[Services], None]] = []


class TocnsApp:
    """Runs the channels, the web server and background jobs for one process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.dispatcher = Dispatcher(services)
        self.telegram: Any = None
        self.zalo_client: Any = None
        self.zalo_sender: Any = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.reminders: Any = None  # bot.reminders.runner.ReminderRunner

    async def start(
        self, *, web_server: bool = True, sample: bool = True, reminders: bool = True
    ) -> None:
        """Migrate, then start every configured channel and the web server."""
        settings = self.services.settings
        await asyncio.to_thread(prepare_database, self.services, sample=sample)
        # Build the guide index now, not on the first question someone asks.
        await asyncio.to_thread(lambda: self.services.guide_index)
        # Everything loaded so far lives as long as the process: keep it out of the
        # collector's full passes, which otherwise stall requests for ~250 ms.
        gc.collect()
        gc.freeze()
        # A bot allocates many short-lived objects per update and keeps few: collect the
        # young generation less often and the full heap rarely (full passes stall replies).
        gc.set_threshold(*GC_THRESHOLDS)
        webhooks = Webhooks()
        if settings.telegram_enabled:
            await self._start_telegram(webhooks)
        if settings.zalo_enabled:
            await self._start_zalo(webhooks)
        if web_server:
            app = build_web_app(self.services, self.dispatcher, webhooks)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, settings.listen_host, settings.listen_port)
            await site.start()
            server = getattr(site, "_server", None)
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1] if sockets else settings.listen_port
            self.services.web_base_url = f"http://{settings.listen_host}:{self.port}"
            log.info("web server on http://%s:%s", settings.listen_host, self.port)
        # --- reminders: scheduler + outbox dispatcher (added by the reminders feature)
        if reminders:
            await self._start_reminders()

    async def _start_reminders(self) -> None:
        from bot.channels.console import ConsoleSender
        from bot.reminders.runner import ReminderRunner

        senders: dict[str, Any] = {}
        if self.telegram is not None:
            from bot.channels.telegram import TelegramSender

            senders["telegram"] = TelegramSender(self.telegram.bot)
        if self.zalo_sender is not None:
            from bot.channels.zalo import ZaloOutboxSender

            senders["zalo"] = ZaloOutboxSender(self.zalo_sender)
        if not senders:
            senders["console"] = ConsoleSender()
        self.reminders = ReminderRunner(self.services, senders)
        job_queue = self.telegram.job_queue if self.telegram is not None else None
        await self.reminders.start(job_queue)

    async def _start_telegram(self, webhooks: Webhooks) -> None:
        from telegram import Update

        from bot.channels.telegram import build_application, publish_commands

        settings = self.services.settings
        application = build_application(
            self.services, self.dispatcher, webhook=settings.webhook_mode
        )
        await application.initialize()
        await publish_commands(application, self.services)
        await application.start()
        self.telegram = application
        if settings.webhook_mode:
            secret = _secret(settings.telegram_webhook_secret)
            url = settings.public_base_url.rstrip("/") + "/webhook/telegram"
            await application.bot.set_webhook(url=url, secret_token=secret)
            webhooks.telegram_secret = secret

            async def enqueue(payload: dict[str, Any]) -> None:
                update = Update.de_json(payload, application.bot)
                if update is not None:
                    await application.update_queue.put(update)

            webhooks.telegram = enqueue
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0.0,
                timeout=settings.telegram_poll_timeout,
                drop_pending_updates=False,
            )

    async def _start_zalo(self, webhooks: Webhooks) -> None:
        from bot.channels.zalo import ZaloSender, handle_update, poll_forever, spawn
        from bot.channels.zalo_client import ZaloClient, parse_update

        settings = self.services.settings
        assert settings.zalo_token is not None
        client = ZaloClient(settings.zalo_token.get_secret_value(), base_url=settings.zalo_base_url)
        await client.__aenter__()
        self.zalo_client = client
        self.zalo_sender = sender = ZaloSender(client, self.services)
        if settings.webhook_mode:
            secret = _secret(settings.zalo_webhook_secret)
            url = settings.public_base_url.rstrip("/") + "/webhook/zalo"
            await client.set_webhook(url, secret)
            webhooks.zalo_secret = secret

            async def enqueue(payload: dict[str, Any]) -> None:
                update = parse_update(payload)
                if update is not None:
                    spawn(handle_update(self.dispatcher, sender, update))

            webhooks.zalo = enqueue
        else:
            with contextlib.suppress(Exception):
                await client.delete_webhook()
            self._tasks.append(
                asyncio.create_task(
                    poll_forever(
                        self.dispatcher, client, sender, timeout=settings.zalo_poll_timeout
                    )
                )
            )

    async def stop(self) -> None:
        """Stop everything started, in reverse order."""
        if self.reminders is not None:  # reminders feature: finish in-flight sends first
            await self.reminders.stop()
            self.reminders = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.telegram is not None:
            if self.telegram.updater is not None and self.telegram.updater.running:
                await self.telegram.updater.stop()
            await self.telegram.stop()
            await self.telegram.shutdown()
            self.telegram = None
        if self.zalo_client is not None:
            await self.zalo_client.__aexit__(None, None, None)
            self.zalo_client = None
        if "charts" in vars(self.services):  # only if a chart was ever drawn
            await self.services.charts.close()


def _secret(configured: Any) -> str:
    """The configured webhook secret, or a fresh random one for this process."""
    if configured is not None and configured.get_secret_value():
        return str(configured.get_secret_value())
    return secrets.token_urlsafe(32)
