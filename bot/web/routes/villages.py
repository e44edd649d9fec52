"""The villages page: one tally code across villages, ranking, completeness by month."""

from __future__ import annotations

from aiohttp import web

from bot.i18n import N_
from bot.tallies.codes import CODE_LABELS, CODE_NAMES, code_by_name
from bot.tallies.store import flagged_figures
from bot.tallies.validation import DENOMINATOR_NAMES
from bot.web import charts, views
from bot.web.access import Page, can_open
from bot.web.context import PageContext
from bot.web.params import parse_month, query_choice

CHART_CAPTION = N_("{name}: rate by village, month {month}")
TARGET_CAPTION = N_("Target {year}: {rate}")
HISTORY_CAPTION = N_("Villages that reported, by month")


def villages(ctx: PageContext) -> web.StreamResponse:
    """Show rates, trends and ranking of the villages for one figure."""
    month = parse_month(ctx.query.get("month", ""), ctx.today)
    code = query_choice(ctx.query, "code", CODE_NAMES)
    data = views.villages(ctx.session, ctx.viewer, ctx.today, code, month)
    target = data.totals[data.code].target
    t = ctx.t
    bars = [
        charts.ChartBar(
            row.name,
            row.progress.rate,
            t.percent(row.progress.rate) if row.progress.rate is not None else "–",
            highlight=row.village_id == ctx.viewer.village_id,
            tone="good" if target is not None and (row.progress.rate or 0) >= target else "",
        )
        for row in data.rows
    ]
    name = t.gettext(CODE_LABELS[data.code])
    chart = charts.bar_chart(
        bars,
        t.gettext(CHART_CAPTION, name=name, month=f"{data.month.month}/{data.month.year}"),
        target,
        t.gettext(
            TARGET_CAPTION,
            year=data.totals[data.code].target_year or "",
            rate=t.percent(target),
        )
        if target is not None
        else "",
    )
    history = charts.column_chart(
        [
            (
                f"{month.month}/{month.year % 100:02d}",
                reported / total if total else 0.0,
                f"{reported}/{total}",
            )
            for month, reported, total in data.history
        ],
        t.gettext(HISTORY_CAPTION),
    )
    assert ctx.viewer.commune_id is not None
    flagged = flagged_figures(ctx.session, ctx.viewer.commune_id, data.month)
    return ctx.render(
        "villages.html",
        Page.VILLAGES,
        data=data,
        # Villages whose figure of this month was confirmed despite a drop or a jump; the
        # office (who may clear them) gets the link to its queue.
        flagged={vid for vid, (_name, codes) in flagged.items() if data.code in codes},
        flagged_link=bool(flagged) and can_open(ctx.viewer, Page.FLAGGED),
        chart=chart,
        history=history,
        denominator_of={c: DENOMINATOR_NAMES[code_by_name(c).denominator] for c in CODE_NAMES},
    )
