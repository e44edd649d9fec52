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
from bot.plans.evidence import MAX_BYTES as MAX_EVIDENCE_BYTES
from bot.services import Services
from bot.web import uploads
from bot.web.access import Page
from bot.web.auth import LOGIN_PATH
from bot.web.context import page_route
from bot.web.exports import KINDS
from bot.web.keys import DISPATCHER, SERVICES, TEMPLATES, WEBHOOKS
from bot.web.media import MEDIA_ROUTE, media_dir, sweep_media
from bot.web.middlewares import setup_middlewares
from bot.web.render import STATIC_DIR, make_environment
from bot.web.routes import (
    announcements,
    audit_log,
    content,
    evidence,
    exports,
    feedback,
    feedback_categories,
    firstrun,
    flagged,
    health,
    media,
    open311,
    overview,
    people,
    plan,
    province,
    review,
    setup,
    signin,
    tasks,
    units,
    villages,
    webhooks,
)
from bot.web.routes.webhooks import Webhooks

__all__ = ["Webhooks", "build_web_app", "setup_routes"]

MEDIA_SWEEP_EVERY = dt.timedelta(hours=1)
# A dashboard form may upload one evidence file or plan; webhooks keep their own limit.
MAX_FORM_BYTES = MAX_EVIDENCE_BYTES + 1024 * 1024


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
    router.add_get(feedback.STATS_PATH, page_route(Page.FEEDBACK, feedback.monthly))
    # The commune's report categories: lead unit, deadlines, urgency (before the report
    # routes, whose "/feedback/{report_id}" would take the path).
    router.add_get(
        feedback_categories.PATH, page_route(Page.FEEDBACK, feedback_categories.categories)
    )
    router.add_post(
        feedback_categories.ADD_PATH, page_route(Page.FEEDBACK, feedback_categories.add)
    )
    router.add_post(
        feedback_categories.SAVE_PATH, page_route(Page.FEEDBACK, feedback_categories.save)
    )
    router.add_get(
        feedback.STATS_EXPORT_PATH, page_route(Page.EXPORT_FEEDBACK, feedback.monthly_export)
    )
    router.add_get(feedback.REPORT_PATH, page_route(Page.FEEDBACK, feedback.report))
    router.add_get(feedback.PHOTO_PATH, page_route(Page.FEEDBACK, feedback.photo))
    router.add_post(feedback.ACTION_PATH, page_route(Page.FEEDBACK, feedback.act))
    router.add_get("/units", page_route(Page.UNITS, units.units))
    router.add_get("/content", page_route(Page.CONTENT, content.content))
    router.add_get("/audit", page_route(Page.AUDIT, audit_log.audit_log))
    # The officer's workplace: every change is a POST form, answered by a redirect.
    router.add_get("/review", page_route(Page.REVIEW, review.review_queue))
    router.add_post("/review/{evidence_id}/approve", page_route(Page.REVIEW, review.approve))
    router.add_post("/review/{evidence_id}/return", page_route(Page.REVIEW, review.send_back))
    router.add_get(flagged.PATH, page_route(Page.FLAGGED, flagged.flagged_queue))
    router.add_post(flagged.ACCEPT_PATH, page_route(Page.FLAGGED, flagged.accept))
    router.add_post(flagged.ASK_PATH, page_route(Page.FLAGGED, flagged.ask))
    router.add_get("/plan", page_route(Page.PLAN, plan.plan_page))
    router.add_get("/plan/template.xlsx", page_route(Page.PLAN, plan.plan_template))
    router.add_post("/plan/check", page_route(Page.PLAN, plan.check_plan))
    router.add_post("/plan/import", page_route(Page.PLAN, plan.import_checked))
    router.add_post("/plan/deadlines", page_route(Page.PLAN, plan.set_deadlines))
    router.add_post("/tasks/{task_id}/edit", page_route(Page.PLAN, tasks.edit_task))
    router.add_post("/tasks/{task_id}/progress", page_route(None, tasks.report_progress))
    announce = Page.ANNOUNCEMENTS
    router.add_get("/announcements", page_route(announce, announcements.announcements))
    router.add_post("/announcements/preview", page_route(announce, announcements.preview))
    router.add_post("/announcements", page_route(announce, announcements.send))
    router.add_post(
        "/announcements/{broadcast_id}/cancel", page_route(announce, announcements.cancel)
    )
    router.add_get("/setup", page_route(Page.SETUP, setup.setup_page))
    router.add_get("/setup/template.xlsx", page_route(Page.SETUP, setup.setup_template))
    router.add_post("/setup/check", page_route(Page.SETUP, setup.check_setup))
    router.add_post("/setup/apply", page_route(Page.SETUP, setup.apply_checked))
    router.add_post("/setup/village", page_route(Page.SETUP, setup.save_village))
    router.add_post("/setup/unit", page_route(Page.SETUP, setup.save_unit))
    router.add_get("/people", page_route(Page.PEOPLE, people.people))
    router.add_post("/people", page_route(Page.PEOPLE, people.add))
    router.add_post("/people/invites", page_route(Page.PEOPLE, people.print_invites))
    router.add_get("/people/{person_id}", page_route(Page.PEOPLE, people.edit_form))
    router.add_post("/people/{person_id}", page_route(Page.PEOPLE, people.update))
    router.add_post("/people/{person_id}/deactivate", page_route(Page.PEOPLE, people.deactivate))
    router.add_post("/people/{person_id}/invite", page_route(Page.PEOPLE, people.invite_person))
    for kind in KINDS:
        router.add_get(
            exports.export_path(kind),
            page_route(exports.EXPORT_PAGES[kind], exports.download(kind)),
        )
    router.add_get(
        exports.TALLIES_XLSX_PATH, page_route(Page.EXPORT_TALLIES, exports.tallies_workbook)
    )
    # The province tier (#18): province officers only, read-only.
    router.add_get(province.PATH, page_route(Page.PROVINCE, province.province_page))
    router.add_get(province.EXPORT_PATH, page_route(Page.EXPORT_PROVINCE, province.export))
    router.add_get(overview.COMMUNE_PATH, page_route(Page.PROVINCE, overview.province_commune))
    router.add_get(firstrun.PATH, page_route(None, firstrun.first_run_form))
    router.add_post(firstrun.PATH, page_route(None, firstrun.create_commune))
    router.add_get(LOGIN_PATH + "/{token}", signin.login_form)
    router.add_post(LOGIN_PATH + "/{token}", signin.login_submit)
    router.add_post("/logout", signin.logout)
    router.add_static("/static", STATIC_DIR, append_version=False)


async def media_sweeper(app: web.Application) -> AsyncIterator[None]:
    """Delete expired shared files and staged uploads at start-up, then every hour until the server stops."""
    services = app[SERVICES]
    directory = media_dir(services.settings)
    data_dir = services.settings.data_dir

    def sweep() -> None:
        sweep_media(directory, services.clock())
        uploads.sweep(data_dir, services.clock())

    await asyncio.to_thread(sweep)

    async def sweep_forever() -> None:
        while True:
            await asyncio.sleep(MEDIA_SWEEP_EVERY.total_seconds())
            await asyncio.to_thread(sweep)

    task = asyncio.create_task(sweep_forever(), name="media-sweeper")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_web_app(
    services: Services, dispatcher: Dispatcher, webhooks: Webhooks | None = None
) -> web.Application:
    """The aiohttp application shared by webhooks, health check, media and dashboard."""
    app = web.Application(client_max_size=MAX_FORM_BYTES)
    app[SERVICES] = services
    app[DISPATCHER] = dispatcher
    app[WEBHOOKS] = webhooks or Webhooks()
    app[TEMPLATES] = make_environment(services.settings.locale)
    app.cleanup_ctx.append(media_sweeper)
    setup_routes(app)
    setup_middlewares(app)
    return app
