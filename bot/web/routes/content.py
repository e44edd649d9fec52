"""The guides page: questions no guide answered and how residents rated the guides."""

from __future__ import annotations

from aiohttp import web

from bot.web import views
from bot.web.access import Page
from bot.web.context import PageContext


def content(ctx: PageContext) -> web.StreamResponse:
    """Show unanswered questions and guide ratings."""
    titles = {slug: guide.title for slug, guide in ctx.services.guides.items()}
    data = views.content_page(ctx.session, titles)
    return ctx.render("content.html", Page.CONTENT, data=data)
