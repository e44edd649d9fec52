"""The audit log page: who changed what, in Vietnamese, newest first."""

from __future__ import annotations

from aiohttp import web

from bot.web import views
from bot.web.access import Page
from bot.web.context import PageContext


def audit_log(ctx: PageContext) -> web.StreamResponse:
    """Show one page of the commune's audit log, optionally one kind of entry."""
    raw = ctx.query.get("page", "1")
    data = views.audit_page(
        ctx.session,
        ctx.viewer,
        ctx.t,
        int(raw) if raw.isdigit() else 1,
        ctx.query.get("kind", ""),
    )
    return ctx.render("audit.html", Page.AUDIT, data=data)
