"""/tiendo: progress of the village figures against the plan's targets, with a chart."""

from __future__ import annotations

import re

from bot.charts.spec import Bar, ChartSpec
from bot.core.context import Context
from bot.core.messages import Reply
from bot.core.registry import Registry
from bot.dates import month_start
from bot.handlers.reports import REPORTERS, label, missing_line
from bot.i18n import N_
from bot.tallies.codes import CODE_LABELS, CODE_NAMES, resolve_label
from bot.tallies.progress import CodeProgress, CommuneProgress
from bot.tallies.store import MonthMarks, commune_view_and_marks
from bot.tallies.validation import month_label
from bot.text import fold
from db.models import Commune, Role

OFFICERS = (Role.UNIT, Role.OFFICE, Role.COMMUNE_LEADER, Role.ADMIN)

PROGRESS_VILLAGE = N_("📊 Progress of {village}, month {month}:")
PROGRESS_COMMUNE = N_("📊 Progress of {commune}, month {month}:")
LINE_RATE = N_("• {name}: {value}/{denominator} ({rate})")
LINE_NO_DENOMINATOR = N_("• {name}: {value}")
TARGET_GAP = N_("target {year}: {target}, {gap} more people needed")
TARGET_REACHED = N_("target {year}: {target}, reached ✅")
PROJECTED = N_("at this pace: {month}")
NOT_AT_THIS_PACE = N_("not reached at this pace")
RANK = N_("rank {rank}/{total} in the commune")
COMPLETE = N_("Reported this month: {done}/{total} villages.")
NOT_REPORTED = N_("Not reported yet: {names}.")
NO_DATA = N_("No figures have been reported yet.")
FLAGGED = N_("⚠️ to be checked")
FLAGGED_VILLAGES = N_("⚠️ Figures to be checked (a drop or a jump confirmed by the team): {items}.")
CHART_TITLE = N_("{name}: rate by village, month {month}")
CHART_TARGET = N_("Target {year}: {rate}")
CHART_AXIS = N_("Rate (%)")
CHART_CAPTION = N_("Chart: {name}. To see another figure, type for example: /tiendo cks")


def register(registry: Registry) -> None:
    """Register progress."""

    @registry.command("tiendo", "progress", description=N_("Progress of the village figures"))
    def progress(ctx: Context, argument: str) -> list[Reply]:
        """Show progress against targets: the own village for team members, else the commune."""
        ctx.finish()
        village = ctx.village
        commune_id = village.commune_id if village is not None else ctx.person.commune_id
        if commune_id is None:
            return [ctx.reply(NO_DATA)]
        period = month_start(ctx.today)
        view, marks = commune_view_and_marks(ctx.session, commune_id, period)
        named, rest = _named_village(view, argument)  # "/tiendo xóm 3 cks"
        wanted = resolve_label(rest) if rest else None
        officer = ctx.has_role(*OFFICERS) or village is None or not ctx.has_role(*REPORTERS)
        own = village.id if village is not None and not officer else None
        shown = named if named is not None else own
        if shown is not None:
            text = _village_text(ctx, view, marks, shown)
        else:
            text = _commune_text(ctx, view, marks, commune_id, complete=ctx.has_role(*OFFICERS))
        code = wanted.code if wanted else _chart_code(view)
        chart = _chart(ctx, view, code, shown)
        caption = ctx._(CHART_CAPTION, name=ctx._(CODE_LABELS[code]))
        return [Reply(text=f"{text}\n\n{caption}", chart=chart, image_name="tiendo.png")]


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())


def _named_village(view: CommuneProgress, argument: str) -> tuple[int | None, str]:
    """The village an argument names ("xom 3", the longest name wins) and what is left."""
    typed = f" {_plain(argument)} "
    best: tuple[int, str] | None = None
    for row in view.villages:
        name = _plain(row.name)
        if name and f" {name} " in typed and (best is None or len(name) > len(best[1])):
            best = (row.village_id, name)
    if best is None:
        return None, typed.strip()
    return best[0], typed.replace(f" {best[1]} ", " ", 1).strip()


def _rate(ctx: Context, value: float | None) -> str:
    return ctx.t.percent(value or 0.0)


def _code_line(
    ctx: Context,
    item: CodeProgress,
    rank: tuple[int, int] | None = None,
    *,
    flagged: bool = False,
) -> str:
    name = label(ctx, item.code)
    if item.denominator:
        line = ctx._(
            LINE_RATE,
            name=name,
            value=ctx.t.number(item.value),
            denominator=ctx.t.number(item.denominator),
            rate=_rate(ctx, item.rate),
        )
    else:
        line = ctx._(LINE_NO_DENOMINATOR, name=name, value=ctx.t.number(item.value))
    notes = []
    if item.target is not None and item.gap is not None:
        target = _rate(ctx, item.target)
        if item.gap == 0:
            notes.append(ctx._(TARGET_REACHED, year=item.target_year, target=target))
        else:
            notes.append(
                ctx._(TARGET_GAP, year=item.target_year, target=target, gap=ctx.t.number(item.gap))
            )
            if item.projected is not None:
                notes.append(ctx._(PROJECTED, month=month_label(item.projected)))
            else:
                notes.append(ctx._(NOT_AT_THIS_PACE))
    if rank is not None:
        notes.append(ctx._(RANK, rank=rank[0], total=rank[1]))
    if flagged:
        line = f"{line} {ctx._(FLAGGED)}"
    return f"{line}; {'; '.join(notes)}" if notes else line


def _village_text(ctx: Context, view: CommuneProgress, marks: MonthMarks, village_id: int) -> str:
    row = next((v for v in view.villages if v.village_id == village_id), None)
    if row is None:
        return ctx._(NO_DATA)
    lines = [ctx._(PROGRESS_VILLAGE, village=row.name, month=month_label(view.period))]
    total = len(view.villages)
    flagged = marks.flagged.get(village_id, ("", ()))[1]
    for code in CODE_NAMES:
        item = row.codes[code]
        rank = view.ranking[code].index(village_id) + 1 if item.value else None
        lines.append(
            _code_line(ctx, item, (rank, total) if rank else None, flagged=code in flagged)
        )
    missing = marks.missing(village_id)
    if missing:
        lines.append(missing_line(ctx, missing))
    return "\n".join(lines)


def _commune_text(
    ctx: Context, view: CommuneProgress, marks: MonthMarks, commune_id: int, *, complete: bool
) -> str:
    commune = ctx.session.get(Commune, commune_id)
    lines = [
        ctx._(
            PROGRESS_COMMUNE,
            commune=commune.name if commune else "",
            month=month_label(view.period),
        )
    ]
    if not any(item.value for item in view.totals.values()):
        lines.append(ctx._(NO_DATA))
    else:
        lines += [
            _code_line(ctx, view.totals[code]) for code in CODE_NAMES if view.totals[code].value
        ]
    if complete:
        flagged = marks.flagged
        if flagged:
            items = "; ".join(
                f"{name} ({', '.join(label(ctx, code) for code in codes)})"
                for name, codes in flagged.values()
            )
            lines.append(ctx._(FLAGGED_VILLAGES, items=items))
        lines.append(ctx._(COMPLETE, done=len(view.reported), total=len(view.villages)))
        if view.missing:
            names = [v.name for v in view.missing]
            shown = ", ".join(names[:15]) + (" …" if len(names) > 15 else "")
            lines.append(ctx._(NOT_REPORTED, names=shown))
    return "\n".join(lines)


def _chart_code(view: CommuneProgress) -> str:
    for code in CODE_NAMES:
        if view.totals[code].target is not None and view.totals[code].value:
            return code
    for code in CODE_NAMES:
        if view.totals[code].value:
            return code
    return CODE_NAMES[0]


def _chart(ctx: Context, view: CommuneProgress, code: str, highlight: int | None) -> ChartSpec:
    bars = tuple(Bar(v.name, v.codes[code].rate, v.village_id == highlight) for v in view.villages)
    total = view.totals[code]
    name = label(ctx, code)
    target_label = (
        ctx._(CHART_TARGET, year=total.target_year, rate=_rate(ctx, total.target))
        if total.target is not None
        else ""
    )
    return ChartSpec(
        ctx._(CHART_TITLE, name=name, month=month_label(view.period)),
        bars,
        total.target,
        target_label,
        ctx._(CHART_AXIS),
    )
