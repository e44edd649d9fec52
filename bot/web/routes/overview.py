"""The overview page: indicators, red tasks, tasks due soon, figures, evidence to review.

The same page, read-only, is a province officer's page of one commune of their province
(``province_commune``): no link to a page they cannot open, no form, no download.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from markupsafe import Markup

from bot.i18n import N_, Translator
from bot.tallies.codes import CODE_LABELS
from bot.web import charts, province, views
from bot.web.access import Page, reading_commune
from bot.web.context import PageContext
from bot.web.params import parse_id, query_text

MONTH_TICK = N_("M{month}")
RATE_TITLE = N_("{name}: rate by month in {year}")
RATE_TITLE_VILLAGE = N_("{name}: your village's rate by month in {year}")
RATE_DESC = N_("Month {month}: {rate}.")
RATE_DESC_NONE = N_("No figure yet this year.")
TARGET_DESC = N_("Target {year}: {rate}.")
NO_TARGET_DESC = N_("No target set.")
TARGET_SHORT = N_("Target {year}: {rate}")
RANKING_TITLE = N_("{name}: villages ranked, month {month}")
RANKING_DESC = N_("{n} villages, best rate first; the table below gives every figure.")
COMMUNE_PATH = "/province/communes/{commune_id}"


@dataclass(frozen=True)
class DrawnChart:
    """One code's charts, drawn, with the figures for the table next to them."""

    chart: views.CodeChart
    name: str
    rate_svg: Markup
    ranking_svg: Markup
    target_text: str


def draw(t: Translator, chart: views.CodeChart, month_label: str) -> DrawnChart:
    """The SVG line of a code's rate by month and its ranking of villages."""
    name = t.gettext(CODE_LABELS[chart.code])
    year = chart.months[0][0].year
    known = [(m, r) for m, r in chart.months if r is not None]
    target_text = (
        t.gettext(TARGET_SHORT, year=chart.target_year or year, rate=t.percent(chart.target))
        if chart.target is not None
        else ""
    )
    desc = " ".join(
        [
            t.gettext(RATE_DESC, month=f"{known[-1][0].month}/{year}", rate=t.percent(known[-1][1]))
            if known and known[-1][1] is not None
            else t.gettext(RATE_DESC_NONE),
            t.gettext(TARGET_DESC, year=chart.target_year or year, rate=t.percent(chart.target))
            if chart.target is not None
            else t.gettext(NO_TARGET_DESC),
        ]
    )
    rate_svg = charts.rate_line_svg(
        f"rate-{chart.code}",
        [(t.gettext(MONTH_TICK, month=m.month), r) for m, r in chart.months],
        title=t.gettext(
            RATE_TITLE if chart.whole_commune else RATE_TITLE_VILLAGE, name=name, year=year
        ),
        desc=desc,
        percent=t.percent,
        target=chart.target,
        target_label=target_text,
    )
    ranking_svg = (
        charts.ranking_svg(
            f"rank-{chart.code}",
            chart.ranking,
            title=t.gettext(RANKING_TITLE, name=name, month=month_label),
            desc=t.gettext(RANKING_DESC, n=len(chart.ranking)),
            percent=t.percent,
            target=chart.target,
        )
        if chart.ranking
        else Markup("")
    )
    return DrawnChart(chart, name, rate_svg, ranking_svg, target_text)


def overview(ctx: PageContext) -> web.StreamResponse:
    """Show the commune's plan at a glance."""
    data = views.overview(ctx.session, ctx.viewer, ctx.today, ctx.plan_slug())
    month_label = f"{data.month.month}/{data.month.year}"
    drawn = [draw(ctx.t, chart, month_label) for chart in data.charts]
    return ctx.render(
        "overview.html", Page.OVERVIEW, data=data, drawn=drawn, read_only=False, base_path="/"
    )


def province_commune(ctx: PageContext) -> web.StreamResponse:
    """Show one commune of the officer's province at a glance, read-only."""
    commune_id = parse_id(ctx.match["commune_id"], "commune_id")
    if province.commune_in_province(ctx.session, ctx.viewer, commune_id) is None:
        return ctx.not_found()  # another province's commune, or none
    slug = query_text(ctx.query, "plan") or None
    if slug is not None and not views.plan_known(ctx.session, commune_id, slug):
        return ctx.not_found()
    reader = reading_commune(ctx.viewer, commune_id)
    data = views.overview(ctx.session, reader, ctx.today, slug)
    month_label = f"{data.month.month}/{data.month.year}"
    drawn = [draw(ctx.t, chart, month_label) for chart in data.charts]
    return ctx.render_of(
        commune_id,
        "overview.html",
        Page.PROVINCE,
        data=data,
        drawn=drawn,
        read_only=True,
        base_path=COMMUNE_PATH.format(commune_id=commune_id),
    )
