"""Report downloads: the indicator appendix, the task list and the village figures
(CSV, and the same as XLSX for Excel on a Vietnamese locale)."""

from __future__ import annotations

from aiohttp import web

from bot.web.access import Page
from bot.web.context import Builder, PageContext
from bot.web.exports import KINDS, ExportFile, export, tallies_xlsx
from bot.web.params import parse_year
from bot.web.render import disposition

EXPORT_PAGES = {
    "indicators": Page.EXPORT_INDICATORS,
    "tasks": Page.EXPORT_TASKS,
    "tallies": Page.EXPORT_TALLIES,
}
assert set(EXPORT_PAGES) == set(KINDS)
TALLIES_XLSX_PATH = "/export/tallies.xlsx"


def export_path(kind: str) -> str:
    """The dashboard path of a report file."""
    return f"/export/{kind}.{'csv' if kind == 'tallies' else 'xlsx'}"


def download(kind: str) -> Builder:
    """A page builder sending one kind of report file (the indicator appendix of the
    ``?year=`` asked for, this year by default)."""

    def build(ctx: PageContext) -> web.StreamResponse:
        year = parse_year(ctx.query.get("year", "")) if kind == "indicators" else None
        file = export(
            kind, ctx.session, ctx.viewer, ctx.t, ctx.today, ctx.base_url, ctx.plan_slug(), year
        )
        return _send(file)

    build.__name__ = f"export_{kind}"
    build.__doc__ = f"Send the {kind} report file."
    return build


def tallies_workbook(ctx: PageContext) -> web.StreamResponse:
    """Send the village figures by month as an Excel workbook."""
    return _send(tallies_xlsx(ctx.session, ctx.viewer, ctx.t, ctx.today))


def _send(file: ExportFile) -> web.Response:
    return web.Response(
        body=file.data,
        headers={
            "Content-Type": file.mime_type,
            "Content-Disposition": disposition("attachment", file.file_name),
        },
    )
