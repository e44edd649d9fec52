"""The province tier (#18): the communes ranked and the province workbook.

Open to province officers only (``Page.PROVINCE``); every commune named is one of the
officer's province, and nothing here changes anything (all routes are GET). One
commune's read-only page is the overview's (``overview.province_commune``).
"""

from __future__ import annotations

from aiohttp import web

from bot.i18n import N_
from bot.tallies.codes import CODE_LABELS, CODE_NAMES
from bot.web import province
from bot.web.access import Page
from bot.web.context import PageContext
from bot.web.exports import province_xlsx
from bot.web.params import query_choice
from bot.web.render import disposition

PATH = "/province"
EXPORT_PATH = "/province/export.xlsx"

RANKING_LABELS: dict[str, str] = {
    province.PLAN: N_("Plan progress"),
    province.REPORTS: N_("Reports this month"),
    **CODE_LABELS,
}
assert set(RANKING_LABELS) == set(province.RANKINGS)


def province_page(ctx: PageContext) -> web.StreamResponse:
    """Show the province's communes ranked by plan progress, reports or one figure's rate."""
    by = query_choice(ctx.query, "by", province.RANKINGS) or province.PLAN
    data = province.province(ctx.session, ctx.viewer, ctx.today, by)
    return ctx.render_of(
        None,
        "province.html",
        Page.PROVINCE,
        data=data,
        rankings=province.RANKINGS,
        ranking_labels=RANKING_LABELS,
        codes=CODE_NAMES,
    )


def export(ctx: PageContext) -> web.StreamResponse:
    """Send the province workbook: a summary sheet, then one sheet per commune."""
    file = province_xlsx(ctx.session, ctx.viewer, ctx.t, ctx.today)
    return web.Response(
        body=file.data,
        headers={
            "Content-Type": file.mime_type,
            "Content-Disposition": disposition("attachment", file.file_name),
        },
    )
