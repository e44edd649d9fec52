"""The units page: units ranked by on-time completion of the tasks they lead."""

from __future__ import annotations

from aiohttp import web

from bot.web import views
from bot.web.access import Page
from bot.web.context import PageContext


def units(ctx: PageContext) -> web.StreamResponse:
    """Rank the units of the chosen plan."""
    data = views.units_page(ctx.session, ctx.viewer, ctx.today, ctx.tz, ctx.plan_slug())
    return ctx.render("units.html", Page.UNITS, data=data)
