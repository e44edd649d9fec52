"""The task list with its filters, and one task's page."""

from __future__ import annotations

from aiohttp import web

from bot.web import views
from bot.web.access import Page, can_see_task
from bot.web.context import PageContext
from bot.web.params import parse_id, query_choice, query_id
from bot.web.render import INLINE_TYPES


def task_list(ctx: PageContext) -> web.StreamResponse:
    """List the tasks the viewer may see, filtered by unit, status and deadline."""
    data = views.tasks_page(
        ctx.session,
        ctx.viewer,
        ctx.today,
        ctx.plan_slug(),
        unit_filter=query_id(ctx.query, "unit"),
        status_filter=query_choice(ctx.query, "status", views.STATUS_FILTERS),
        deadline_filter=query_choice(ctx.query, "deadline", views.DEADLINE_FILTERS),
    )
    return ctx.render("tasks.html", Page.TASKS, data=data)


def task(ctx: PageContext) -> web.StreamResponse:
    """Show one task: status per period, progress history, evidence, decisions."""
    found = views.find_task(ctx.session, parse_id(ctx.match["task_id"], "task_id"))
    if found is None:
        return ctx.not_found()
    task, plan = found
    if not can_see_task(ctx.viewer, plan.commune_id, task.lead_unit_id, task.coordinating):
        return ctx.forbidden()
    data = views.task_page(ctx.session, task, ctx.today, ctx.t)
    return ctx.render("task.html", Page.TASKS, data=data, inline_types=INLINE_TYPES)
