"""The audit log page: who changed what, in Vietnamese, newest first."""

from __future__ import annotations

from aiohttp import web

from bot.web import views
from bot.web.access import Page
from bot.web.context import PageContext
from bot.web.params import parse_page, query_choice


def audit_log(ctx: PageContext) -> web.StreamResponse:
    """Show one page of the commune's audit log, optionally one kind of entry."""
    data = views.audit_page(
        ctx.session,
        ctx.viewer,
        ctx.t,
        parse_page(ctx.query.get("page", "")),
        query_choice(ctx.query, "kind", views.AUDIT_KINDS),
    )
    return ctx.render("audit.html", Page.AUDIT, data=data)
