"""Build the application from settings and wire every feature in one place."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import SecretStr
from sqlmodel import Session, col, select

from bot.admin.sample import (
    load_sample_chats,
    load_sample_history,
    load_sample_people,
    sample_commune,
)
from bot.admin.setup import load_sample
from bot.channels.base import Sender
from bot.channels.console import ConsoleSender
from bot.core.dispatcher import DELIVERY, Delivery, Dispatcher
from bot.core.registry import Registry
from bot.feedback.sample import load_sample_feedback
from bot.handlers import FEATURES
from bot.i18n import translator
from bot.logs import remember_secret
from bot.plans.sample import load_sample_plan
from bot.reminders.runner import ReminderRunner
from bot.services import Services
from bot.settings import Settings
from bot.web.routes.webhooks import TELEGRAM_WEBHOOK_PATH, ZALO_WEBHOOK_PATH
from bot.web.server import Webhooks, build_web_app
from db.engine import make_engine, setup_lock, upgrade
from db.models import Commune, Plan
from db.types import utcnow

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramApplication
    from bot.channels.zalo import ZaloSender
    from bot.channels.zalo_client import ZaloClient

log = logging.getLogger(__name__)

GC_THRESHOLDS = (10_000, 20, 100)  # CPython's defaults are (700, 10, 10)


def build_registry() -> Registry:
    """Register every feature, in order: free-text handlers are tried in this order."""
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


def _sample_people(session: Session, services: Services) -> int:
    return load_sample_people(session)


def _sample_chats(session: Session, services: Services) -> int:
    return load_sample_chats(session)


def _sample_tallies(session: Session, services: Services) -> int:
    return load_sample_history(session, services.today())


def _sample_feedback(session: Session, services: Services) -> int:
    return load_sample_feedback(session, services.clock(), services.tz)


# The sample commune's invented activity (``Settings.sample_history``), loaded in this order.
SAMPLE_HISTORY: tuple[Callable[[Session, Services], int], ...] = (
    _sample_people,  # residents signed up for announcements and a team, without chats (#13)
    _sample_tallies,
    _sample_feedback,  # a few residents' reports in each state (#17)
    _sample_chats,  # last: the invented people's console chats, reachable from now on
)


def prepare_database(services: Services, *, sample: bool = True) -> None:
    """Migrate the schema and, on an empty database, load the sample commune and its plan.

    A sample commune left without a plan (by a version that loaded the plan only when
    the chat handlers had been imported) gets it now.
    """
    # Several workers may start together on an empty database: one sets it up at a time.
    with setup_lock(services.engine):
        _prepare(services, sample=sample)


def _prepare(services: Services, *, sample: bool) -> None:
    upgrade(services.engine)
    if not sample:
        return
    with Session(services.engine) as session:
        if session.exec(select(Commune.id)).first() is None:
            today = services.today()
            load_sample(session, today=today)
            if services.settings.sample_history:
                for load in SAMPLE_HISTORY:
                    load(session, services)
            session.commit()
            log.info("loaded the sample commune")
        commune = sample_commune(session)
        needs_plan = (
            commune is not None
            and session.exec(select(Plan.id).where(col(Plan.commune_id) == commune.id)).first()
            is None
        )
    if needs_plan:
        load_sample_plan(services)


class BackgroundTasks:
    """Tasks the app started and owns: on stop each one ends, or is cancelled.

    ``aclose`` gives work in flight (a reply being sent) ``grace`` seconds to finish,
    then cancels what is left; loops that never end by themselves (polling) are spawned
    with ``linger=False`` and cancelled at once.
    """

    def __init__(self, grace: float = 5.0) -> None:
        self.grace = grace
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks) + len(self._loops)

    def spawn(
        self, coroutine: Coroutine[Any, Any, None], *, linger: bool = True
    ) -> asyncio.Task[None]:
        """Run a coroutine in the background until it ends or the app stops."""
        task = asyncio.get_running_loop().create_task(coroutine)
        (self._tasks if linger else self._loops).add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._loops.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def aclose(self) -> None:
        """Cancel the loops, let the rest finish within the grace period, cancel stragglers."""
        loops = list(self._loops)
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.grace)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class TocnsApp:
    """Runs the channels, the web server and background jobs for one process.

    Everything ``start`` opens is pushed on one ``AsyncExitStack``; ``stop`` closes it
    in reverse order. If ``start`` fails half-way, what it had started is stopped again.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self.dispatcher = Dispatcher(services)
        self.telegram: TelegramApplication | None = None
        self.zalo_client: ZaloClient | None = None
        self.zalo_sender: ZaloSender | None = None
        self.reminders: ReminderRunner | None = None
        self.background = BackgroundTasks()
        self.webhooks = Webhooks()
        self.port: int | None = None
        self._stack: contextlib.AsyncExitStack | None = None

    async def start(
        self, *, web_server: bool = True, sample: bool = True, reminders: bool = True
    ) -> None:
        """Migrate, then start every configured channel, the web server and the reminders."""
        if self._stack is not None:
            raise RuntimeError("the app is already running")
        stack = contextlib.AsyncExitStack()
        try:
            await self._start(stack, web_server=web_server, sample=sample, reminders=reminders)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack

    async def stop(self) -> None:
        """Stop everything started, in reverse order (reminders first, charts last)."""
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    async def _start(
        self,
        stack: contextlib.AsyncExitStack,
        *,
        web_server: bool,
        sample: bool,
        reminders: bool,
    ) -> None:
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
        stack.push_async_callback(self._close_charts)
        # Last of all: the "replies sent" marks of everything the channels finished.
        stack.push_async_callback(self.dispatcher.flush_answered)
        if settings.telegram_enabled:
            await self._start_telegram(stack)
        if settings.zalo_enabled:
            await self._start_zalo(stack)
        # Closed before the channels' clients: no task outlives the client it uses.
        stack.push_async_callback(self.background.aclose)
        if settings.zalo_enabled and not settings.webhook_mode:
            await self._poll_zalo()
        if web_server:
            await self._start_web(stack)
        if settings.webhook_mode:
            await self._register_webhooks()
        if reminders:
            await self._start_reminders(stack)

    async def _close_charts(self) -> None:
        if "charts" in vars(self.services):  # only if a chart was ever drawn
            await self.services.charts.close()

    async def _start_web(self, stack: contextlib.AsyncExitStack) -> None:
        settings = self.services.settings
        app = build_web_app(self.services, self.dispatcher, self.webhooks)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, settings.listen_host, settings.listen_port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else settings.listen_port
        self.services.web_base_url = f"http://{settings.listen_host}:{self.port}"
        stack.callback(setattr, self.services, "web_base_url", None)
        log.info("web server on http://%s:%s", settings.listen_host, self.port)

    async def _start_reminders(self, stack: contextlib.AsyncExitStack) -> None:
        # Imported here, as in _start_telegram and _start_zalo: see tests/test_architecture.py.
        senders: dict[str, Sender] = {}
        if self.telegram is not None:
            from bot.channels.telegram import TelegramSender

            senders["telegram"] = TelegramSender(self.telegram.bot)
        if self.zalo_sender is not None:
            from bot.channels.zalo import ZaloOutboxSender

            senders["zalo"] = ZaloOutboxSender(self.zalo_sender)
        if not senders:
            senders["console"] = ConsoleSender(translator(self.services.settings.locale))
        runner = ReminderRunner(self.services, senders)
        job_queue = self.telegram.job_queue if self.telegram is not None else None
        self.reminders = runner
        stack.push_async_callback(self._stop_reminders)  # also if start fails half-way
        await runner.start(job_queue)

    async def _stop_reminders(self) -> None:
        """Finish in-flight sends before anything they use is closed."""
        runner, self.reminders = self.reminders, None
        if runner is not None:
            await runner.stop()

    async def _start_telegram(self, stack: contextlib.AsyncExitStack) -> None:
        from telegram import Update

        from bot.channels.telegram import build_application, poll_forever, publish_commands

        settings = self.services.settings
        application = build_application(
            self.services, self.dispatcher, webhook=settings.webhook_mode
        )
        await application.initialize()
        stack.push_async_callback(application.shutdown)
        await publish_commands(application, self.services)
        await application.start()
        stack.push_async_callback(application.stop)
        self.telegram = application
        stack.callback(setattr, self, "telegram", None)
        if settings.webhook_mode:

            async def handle(payload: dict[str, Any]) -> bool:
                update = Update.de_json(payload, application.bot)
                if update is None:
                    return True
                return await self._handled_within(application.process_update(update))

            # The secret the server checks is set before the webhook is registered.
            self.webhooks.telegram_secret = _secret(settings.telegram_webhook_secret)
            self.webhooks.telegram = handle
            return
        self.background.spawn(
            poll_forever(
                application,
                spawn=self.background.spawn,
                timeout=settings.telegram_poll_timeout,
                read_timeout=settings.telegram_read_timeout,
            ),
            linger=False,
        )

    async def _handled_within(self, work: Coroutine[Any, Any, None]) -> bool:
        """Wait for a webhook update to be handled before the platform gets its answer.

        The platform sends again an update it got no answer for, so a process killed
        while handling loses nothing (the core drops what was already committed). Work
        slower than ``webhook_answer_within`` goes on after the answer, owned by the app,
        so the platform does not time out and resend it meanwhile. False: the core gave
        the update up because the database stayed unavailable, and sent no reply; the
        call must answer an error so the platform sends the update again.
        """
        within = self.services.settings.webhook_answer_within
        delivery = Delivery()
        token = DELIVERY.set(delivery)  # the task gets a copy of the context
        try:
            task = self.background.spawn(work)
        finally:
            DELIVERY.reset(token)
        await asyncio.wait({task}, timeout=within)
        if not task.done():
            # Answered now: if the core still gives up, it replies "busy" as when polling.
            delivery.waiting = False
            log.warning("webhook update still being handled after %.1fs", within)
        return not delivery.deferred

    async def _start_zalo(self, stack: contextlib.AsyncExitStack) -> None:
        from bot.channels.zalo import ZaloSender, handle_update, learn_bot_names
        from bot.channels.zalo_client import ZaloClient, parse_update

        settings = self.services.settings
        assert settings.zalo_token is not None
        client = await stack.enter_async_context(
            ZaloClient(settings.zalo_token.get_secret_value(), base_url=settings.zalo_base_url)
        )
        self.zalo_client = client
        self.zalo_sender = sender = ZaloSender(client, self.services)
        stack.callback(self._forget_zalo)
        if settings.group_chats:
            await learn_bot_names(client, settings.zalo_bot_names)
        if settings.webhook_mode:

            async def handle(payload: dict[str, Any]) -> bool:
                update = parse_update(payload, client.bot_names)
                if update is None:
                    return True
                return await self._handled_within(handle_update(self.dispatcher, sender, update))

            self.webhooks.zalo_secret = _secret(settings.zalo_webhook_secret)
            self.webhooks.zalo = handle

    def _forget_zalo(self) -> None:
        self.zalo_client = self.zalo_sender = None

    async def _poll_zalo(self) -> None:
        from bot.channels.zalo import poll_forever

        client, sender = self.zalo_client, self.zalo_sender
        assert client is not None and sender is not None
        try:
            await client.delete_webhook()
        except Exception:  # noqa: BLE001 - polling works once Zalo forgets the webhook
            log.warning("zalo deleteWebhook failed before polling", exc_info=True)
        self.background.spawn(
            poll_forever(
                self.dispatcher,
                client,
                sender,
                spawn=self.background.spawn,
                timeout=self.services.settings.zalo_poll_timeout,
            ),
            linger=False,
        )

    async def _register_webhooks(self) -> None:
        """Tell the platforms where to deliver updates, once the server answers there.

        Zalo checks the address when a webhook is saved, so the web server listens (and
        knows the secret) before this runs.
        """
        base = self.services.settings.public_base_url.rstrip("/")
        if self.telegram is not None:
            url = base + TELEGRAM_WEBHOOK_PATH
            from bot.channels.telegram import register_webhook

            done = await register_webhook(self.telegram.bot, url, self.webhooks.telegram_secret)
            log.info("telegram webhook %s: %s", url, "registered" if done else "refused")
        if self.zalo_client is not None:
            url = base + ZALO_WEBHOOK_PATH
            outcome = await self.zalo_client.set_webhook(url, self.webhooks.zalo_secret)
            log.info("zalo webhook %s registered: %s", url, outcome)


def _secret(configured: SecretStr | None) -> str:
    """The configured webhook secret, or a fresh random one for this process (never logged)."""
    if configured is not None and configured.get_secret_value():
        value = configured.get_secret_value()
    else:
        value = secrets.token_urlsafe(32)
    remember_secret(value)
    return value
