"""Report downloads: the indicator appendix, the task list and the village figures."""

from __future__ import annotations

from aiohttp import web

from bot.web.access import Page
from bot.web.context import Builder, PageContext
from bot.web.exports import KINDS, export
from bot.web.render import disposition

EXPORT_PAGES = {
    "indicators": Page.EXPORT_INDICATORS,
    "tasks": Page.EXPORT_TASKS,
    "tallies": Page.EXPORT_TALLIES,
}
assert set(EXPORT_PAGES) == set(KINDS)


def export_path(kind: str) -> str:
    """The dashboard path of a report file."""
    return f"/export/{kind}.{'csv' if kind == 'tallies' else 'xlsx'}"


def download(kind: str) -> Builder:
    """A page builder sending one kind of report file."""

    def build(ctx: PageContext) -> web.StreamResponse:
        file = export(
            kind, ctx.session, ctx.viewer, ctx.t, ctx.today, ctx.base_url, ctx.plan_slug()
        )
        return web.Response(
            body=file.data,
            headers={
                "Content-Type": file.mime_type,
                "Content-Disposition": disposition("attachment", file.file_name),
            },
        )

    build.__name__ = f"export_{kind}"
    build.__doc__ = f"Send the {kind} report file."
    return build
