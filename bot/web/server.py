"""The one aiohttp application of a tocns process: webhooks, health check, media, dashboard.

``build_web_app`` is the factory: it fills the typed keys (``bot.web.keys``), then
``setup_routes`` lists every route in one place, ``setup_middlewares`` installs what
every request goes through (``bot.web.middlewares``), and the cleanup contexts own the
background work the server starts (the media sweep), so stopping the server stops it.
Route modules never import each other or this module; they read what they share from
the keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator

from aiohttp import web

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.access import Page
from bot.web.auth import LOGIN_PATH
from bot.web.context import page_route
from bot.web.exports import KINDS
from bot.web.keys import DISPATCHER, SERVICES, TEMPLATES, WEBHOOKS
from bot.web.media import MEDIA_ROUTE, media_dir, sweep_media
from bot.web.middlewares import setup_middlewares
from bot.web.render import STATIC_DIR, make_environment
from bot.web.routes import (
    audit_log,
    content,
    evidence,
    exports,
    feedback,
    health,
    media,
    open311,
    overview,
    signin,
    tasks,
    units,
    villages,
    webhooks,
)
from bot.web.routes.webhooks import MAX_UPDATE_BYTES, Webhooks

__all__ = ["Webhooks", "build_web_app", "setup_routes"]

MEDIA_SWEEP_EVERY = dt.timedelta(hours=1)


def setup_routes(app: web.Application) -> None:
    """Every route of the web server, in one place."""
    router = app.router
    router.add_get("/healthz", health.healthz)
    router.add_post(webhooks.TELEGRAM_WEBHOOK_PATH, webhooks.telegram_webhook)
    router.add_post(webhooks.ZALO_WEBHOOK_PATH, webhooks.zalo_webhook)
    router.add_get(MEDIA_ROUTE + "/{name}", media.media)
    # Open311 (#17): public reads, POST with an API key; no sign-in, no CSRF (NOT_FORMS).
    router.add_get(open311.DISCOVERY_PATH, open311.discovery)
    router.add_get(open311.SERVICES_PATH, open311.service_list)
    router.add_get(open311.SERVICE_PATH, open311.service_definition)
    router.add_get(open311.REQUESTS_PATH, open311.request_list)
    router.add_post(open311.REQUESTS_PATH, open311.post_request)
    router.add_get(open311.REQUEST_PATH, open311.request_one)
    router.add_route("*", open311.ANY_PATH, open311.not_served)
    # The dashboard.
    router.add_get("/", page_route(Page.OVERVIEW, overview.overview))
    router.add_get("/villages", page_route(Page.VILLAGES, villages.villages))
    router.add_get("/tasks", page_route(Page.TASKS, tasks.task_list))
    router.add_get("/tasks/{task_id}", page_route(None, tasks.task))
    router.add_get("/evidence/{evidence_id}", page_route(None, evidence.evidence))
    # Residents' feedback (#17): the queue, its Excel file, one report.
    router.add_get(feedback.QUEUE_PATH, page_route(Page.FEEDBACK, feedback.queue))
    router.add_get(feedback.EXPORT_PATH, page_route(Page.EXPORT_FEEDBACK, feedback.export))
    router.add_get(feedback.REPORT_PATH, page_route(Page.FEEDBACK, feedback.report))
    router.add_get(feedback.PHOTO_PATH, page_route(Page.FEEDBACK, feedback.photo))
    router.add_get("/units", page_route(Page.UNITS, units.units))
    router.add_get("/content", page_route(Page.CONTENT, content.content))
    router.add_get("/audit", page_route(Page.AUDIT, audit_log.audit_log))
    for kind in KINDS:
        router.add_get(
            exports.export_path(kind),
            page_route(exports.EXPORT_PAGES[kind], exports.download(kind)),
        )
    router.add_get(LOGIN_PATH + "/{token}", signin.login_form)
    router.add_post(LOGIN_PATH + "/{token}", signin.login_submit)
    router.add_post("/logout", signin.logout)
    router.add_static("/static", STATIC_DIR, append_version=False)


async def media_sweeper(app: web.Application) -> AsyncIterator[None]:
    """Delete expired shared files at start-up, then every hour until the server stops."""
    services = app[SERVICES]
    directory = media_dir(services.settings)
    await asyncio.to_thread(sweep_media, directory, services.clock())

    async def sweep_forever() -> None:
        while True:
            await asyncio.sleep(MEDIA_SWEEP_EVERY.total_seconds())
            await asyncio.to_thread(sweep_media, directory, services.clock())

    task = asyncio.create_task(sweep_forever(), name="media-sweeper")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_web_app(
    services: Services, dispatcher: Dispatcher, webhooks: Webhooks | None = None
) -> web.Application:
    """The aiohttp application shared by webhooks, health check, media and dashboard."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[SERVICES] = services
    app[DISPATCHER] = dispatcher
    app[WEBHOOKS] = webhooks or Webhooks()
    app[TEMPLATES] = make_environment(services.settings.locale)
    app.cleanup_ctx.append(media_sweeper)
    setup_routes(app)
    setup_middlewares(app)
    return app
