"""The overview page: indicators, red tasks, tasks due soon, figures, evidence to review."""

from __future__ import annotations

from aiohttp import web

from bot.web import views
from bot.web.access import Page
from bot.web.context import PageContext


def overview(ctx: PageContext) -> web.StreamResponse:
    """Show the commune's plan at a glance."""
    data = views.overview(ctx.session, ctx.viewer, ctx.today, ctx.plan_slug())
    return ctx.render("overview.html", Page.OVERVIEW, data=data)
