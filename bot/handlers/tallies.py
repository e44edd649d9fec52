"""Village tallies by chat: /baocao (guided or one line), and /tiendo with its chart."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from bot.charts.spec import Bar, ChartSpec
from bot.core.context import Context
from bot.core.messages import Choice, Reply
from bot.core.registry import Registry
from bot.dates import add_months, month_start
from bot.i18n import N_
from bot.tallies.codes import CODE_LABELS, CODE_NAMES, CODES, resolve_label
from bot.tallies.parser import TallyParseError, looks_like_tally, parse_tally
from bot.tallies.progress import CodeProgress, CommuneProgress
from bot.tallies.store import (
    Recorded,
    commune_view,
    grace_day,
    load_facts,
    missing_codes,
    record_report,
)
from bot.tallies.validation import (
    DENOMINATOR_NAMES,
    Issue,
    check_values,
    month_label,
    period_problem,
    reporting_window,
    split_period,
)
from bot.text import fold
from db.models import Commune, Role, Village

log = logging.getLogger(__name__)

REPORTERS = frozenset({Role.TEAM, Role.LEADER})
OFFICERS = (Role.UNIT, Role.OFFICE, Role.COMMUNE_LEADER, Role.ADMIN)
FLOW = "report"


NO_VILLAGE = N_(
    "Your account is not linked to a village yet, so I cannot record figures. "
    "Ask the commune admin for an invite code for your village."
)
OTHER_VILLAGE = N_(
    "You can only report for your own village ({village}). "
    "Send the figures again without the name of {other}."
)
PICK_PERIOD = N_("Which month are you reporting for?")
PERIOD_THIS = N_("Month {month} (this month)")
PERIOD_LAST = N_("Month {month} (last month, open until day {day})")
PICK_CODE = N_("{village}, month {month}. Choose what to report:")
ASK_NUMBER = N_(
    "Type the number of people in {village} who have: {name}, in total up to the end of "
    "month {month}. For example: 45"
)
ASK_NUMBER_CURRENT = N_("Recorded so far this month: {value}.")
SUMMARY = N_("Please check before I record, {village}, month {month}:")
SUMMARY_HINT = N_("Is this right?")
CONFIRM = N_("✅ Confirm")
EDIT = N_("✏️ Change / add")
CANCEL = N_("❌ Cancel")
CONFIRM_ODD = N_("✅ Yes, it is right")
ODD_INTRO = N_("Please check these numbers:")
ODD_QUESTION = N_(
    "If the numbers are right, press “Yes, it is right” and they will be recorded and marked "
    "for the office to review. If not, press “Change”."
)
RECORDED = N_("✅ Recorded for {village}, month {month}:")
CORRECTED = N_("{name}: {new} (changed from {old})")
UNCHANGED = N_("These numbers were already recorded. Nothing changed.")
STILL_MISSING = N_("Still missing this month: {names}.")
ALL_DONE = N_("All figures for this month are in. Thank you!")
CANCELLED = N_("Cancelled. Nothing was recorded.")
NOTHING_PENDING = N_("There is nothing waiting to be recorded. Send /baocao to start a report.")
NUMBER_ONLY = N_("Type only the number, for example: 45. Or type /huy to stop.")
NO_VALUES = N_("You have not entered any number yet. Choose what to report first.")

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
CHART_TITLE = N_("{name}: rate by village, month {month}")
CHART_TARGET = N_("Target {year}: {rate}")
CHART_AXIS = N_("Rate (%)")
CHART_CAPTION = N_("Chart: {name}. To see another figure, type for example: /tiendo cks")


@dataclass
class Prepared:
    """A one-line report split into its parts: month, named village, and the figures."""

    period: dt.date | None
    other_village: str | None
    text: str


def register(registry: Registry) -> None:
    """Register reporting and progress."""

    @registry.command("baocao", "report", description=N_("Report village figures"), roles=REPORTERS)
    def report(ctx: Context, argument: str) -> list[Reply]:
        """Start the guided report, or record a one-line report given after the command."""
        village = ctx.village
        if village is None:
            return [ctx.reply(NO_VILLAGE)]
        if argument.strip():
            return _one_line(ctx, village, argument)
        current = month_start(ctx.today)
        previous = add_months(current, -1)
        day = grace_day(ctx.session, village.commune_id)
        if reporting_window(previous, ctx.today, day) == "grace":
            ctx.begin(FLOW, "period", values={})
            choices = [
                Choice(
                    ctx._(PERIOD_THIS, month=month_label(current)),
                    f"rep:period:{current.isoformat()}",
                ),
                Choice(
                    ctx._(PERIOD_LAST, month=month_label(previous), day=day),
                    f"rep:period:{previous.isoformat()}",
                ),
            ]
            return [ctx.reply(PICK_PERIOD, choices)]
        ctx.begin(FLOW, "code", period=current.isoformat(), values={})
        return [_pick_code(ctx, village)]

    @registry.action("rep")
    def report_action(ctx: Context, argument: str) -> list[Reply]:
        """Handle the report flow's buttons."""
        if not ctx.has_role(*REPORTERS):
            return [ctx.reply(NO_VILLAGE)]
        village = ctx.village
        if village is None:
            return [ctx.reply(NO_VILLAGE)]
        verb, _, rest = argument.partition(":")
        if verb == "cancel":
            ctx.finish()
            return [ctx.reply(CANCELLED)]
        if ctx.state.flow != FLOW:
            return [ctx.reply(NOTHING_PENDING)]
        if verb == "period":
            try:
                period = dt.date.fromisoformat(rest)
            except ValueError:
                return [ctx.reply(NOTHING_PENDING)]
            problem = period_problem(
                period,
                ctx.today,
                grace_day=grace_day(ctx.session, village.commune_id),
                is_admin=ctx.has_role(Role.ADMIN),
            )
            if problem is not None:
                return [ctx.reply(problem[0], **problem[1])]
            ctx.goto("code", period=period.isoformat())
            return [_pick_code(ctx, village)]
        if verb == "code" and rest in CODE_NAMES:
            ctx.goto("number", code=rest)
            return [_ask_number(ctx, village, rest)]
        if verb == "more":
            ctx.goto("code")
            return [_pick_code(ctx, village)]
        values = {k: int(v) for k, v in (ctx.data.get("values") or {}).items()}
        if not values:
            ctx.goto("code")
            return [ctx.reply(NO_VALUES), _pick_code(ctx, village)]
        if verb == "ok":
            return _submit(ctx, village, _period(ctx), values, confirmed=False)
        if verb == "force":
            return _submit(ctx, village, _period(ctx), values, confirmed=True)
        return [ctx.reply(NOTHING_PENDING)]

    @registry.step(FLOW, "number")
    def number_step(ctx: Context, text: str) -> list[Reply]:
        """Read the number typed for the chosen code (or a whole one-line report)."""
        village = ctx.village
        if village is None:
            ctx.finish()
            return [ctx.reply(NO_VILLAGE)]
        code = str(ctx.data.get("code") or "")
        if code not in CODE_NAMES:
            ctx.goto("code")
            return [_pick_code(ctx, village)]
        if not re.fullmatch(r"[\s\d.,\-−–]+", text) and looks_like_tally(text):
            return _one_line(ctx, village, text)
        if not text.strip():
            return [ctx.reply(NUMBER_ONLY)]
        try:
            parsed = parse_tally(f"{code} {text}")
        except TallyParseError as error:
            return [ctx.reply(error.message_id, **error.params)]
        if list(parsed) != [code]:
            return [ctx.reply(NUMBER_ONLY)]
        period = _period(ctx)
        facts, _current = load_facts(ctx.session, _id(village), period)
        blocking = [i for i in _check(ctx, village, parsed, facts) if i.blocking]
        if blocking:
            return [_issues_reply(ctx, blocking)]
        values = {**(ctx.data.get("values") or {}), code: parsed[code]}
        ctx.goto("summary", values=values)
        return [_summary(ctx, village, period, values)]

    @registry.step(FLOW, "summary")
    @registry.step(FLOW, "code")
    @registry.step(FLOW, "period")
    @registry.step(FLOW, "odd")
    def other_steps(ctx: Context, text: str) -> list[Reply]:
        """Typed text while buttons are expected: a one-line report, or the buttons again."""
        village = ctx.village
        if village is None:
            ctx.finish()
            return [ctx.reply(NO_VILLAGE)]
        prepared = _prepare(ctx, village, text)
        if looks_like_tally(text) or looks_like_tally(prepared.text):
            return _one_line(ctx, village, text)
        offered = [Choice(str(c["label"]), str(c["value"])) for c in ctx.state.choices]
        return (
            [Reply(text=ctx._(NUMBER_ONLY) if ctx.state.step == "number" else "", choices=offered)]
            if offered
            else [_pick_code(ctx, village)]
        )

    @registry.text
    def one_line(ctx: Context, text: str) -> list[Reply] | None:
        """Record a one-line report from a team member; leave everything else to others."""
        if not ctx.has_role(*REPORTERS):
            return None
        village = ctx.village
        if village is None:
            return [ctx.reply(NO_VILLAGE)] if looks_like_tally(text) else None
        if not looks_like_tally(text) and not looks_like_tally(_prepare(ctx, village, text).text):
            return None
        return _one_line(ctx, village, text)

    @registry.command("tiendo", "progress", description=N_("Progress of the village figures"))
    def progress(ctx: Context, argument: str) -> list[Reply]:
        """Show progress against targets: the own village for team members, else the commune."""
        ctx.finish()
        village = ctx.village
        commune_id = village.commune_id if village is not None else ctx.person.commune_id
        if commune_id is None:
            return [ctx.reply(NO_DATA)]
        period = month_start(ctx.today)
        view = commune_view(ctx.session, commune_id, period)
        wanted = resolve_label(argument) if argument.strip() else None
        officer = ctx.has_role(*OFFICERS) or village is None or not ctx.has_role(*REPORTERS)
        if officer:
            text = _commune_text(ctx, view, commune_id, complete=ctx.has_role(*OFFICERS))
        else:
            assert village is not None
            text = _village_text(ctx, view, _id(village))
        code = wanted.code if wanted else _chart_code(view)
        chart = _chart(ctx, view, code, None if officer or village is None else village.id)
        caption = ctx._(CHART_CAPTION, name=ctx._(CODE_LABELS[code]))
        return [Reply(text=f"{text}\n\n{caption}", chart=chart, image_name="tiendo.png")]


# ------------------------------------------------------------------ reporting


def _id(village: Village) -> int:
    assert village.id is not None
    return village.id


def _period(ctx: Context) -> dt.date:
    raw = ctx.data.get("period")
    return dt.date.fromisoformat(raw) if raw else month_start(ctx.today)


def _label(ctx: Context, code: str) -> str:
    return ctx._(CODE_LABELS[code])


def _pick_code(ctx: Context, village: Village) -> Reply:
    period = _period(ctx)
    _facts, current = load_facts(ctx.session, _id(village), period)
    pending = ctx.data.get("values") or {}
    choices = []
    for code in CODE_NAMES:
        label = _label(ctx, code)
        value = pending.get(code, current.get(code))
        if value is not None:
            label = f"{label} ({ctx.t.number(int(value))})"
        choices.append(Choice(label, f"rep:code:{code}"))
    if pending:
        choices.append(Choice(ctx._(CONFIRM), "rep:ok"))
    choices.append(Choice(ctx._(CANCEL), "rep:cancel"))
    return ctx.reply(PICK_CODE, choices, village=village.name, month=month_label(period))


def _ask_number(ctx: Context, village: Village, code: str) -> Reply:
    period = _period(ctx)
    _facts, current = load_facts(ctx.session, _id(village), period)
    text = ctx._(
        ASK_NUMBER, village=village.name, name=_label(ctx, code), month=month_label(period)
    )
    if code in current:
        text += "\n" + ctx._(ASK_NUMBER_CURRENT, value=ctx.t.number(current[code]))
    return Reply(text=text)


def _summary(ctx: Context, village: Village, period: dt.date, values: dict[str, Any]) -> Reply:
    lines = [ctx._(SUMMARY, village=village.name, month=month_label(period))]
    lines += [
        f"• {_label(ctx, code)}: {ctx.t.number(int(value))}" for code, value in values.items()
    ]
    lines.append(ctx._(SUMMARY_HINT))
    choices = [
        Choice(ctx._(CONFIRM), "rep:ok"),
        Choice(ctx._(EDIT), "rep:more"),
        Choice(ctx._(CANCEL), "rep:cancel"),
    ]
    return Reply(text="\n".join(lines), choices=choices)


def _prepare(ctx: Context, village: Village, text: str) -> Prepared:
    """Strip "bc", a month ("tháng 2") and a village name from the start of a report."""
    period: dt.date | None = None
    other: str | None = None
    names: list[str] | None = None
    for _ in range(3):
        words = text.split()
        if words and fold(words[0]).strip(":,;.-") in ("bc", "baocao"):
            text = " ".join(words[1:])
            continue
        if len(words) > 1 and " ".join(fold(" ".join(words[:2])).split()) == "bao cao":
            text = " ".join(words[2:])
            continue
        if words and resolve_label(words[0].strip(":,;=.-")) is None and not words[0][:1].isdigit():
            if names is None:  # only when the text does not start with a code
                names = _village_names(ctx, village.commune_id)
            found, text = _strip_village(text, names)
        else:
            found = None
        if found is not None:
            if fold(found) != fold(village.name):
                other = found
            continue
        month, rest = split_period(text, ctx.today)
        if month is not None:
            period, text = month, rest
            continue
        break
    return Prepared(period, other, text)


def _village_names(ctx: Context, commune_id: int) -> list[str]:
    names = ctx.session.exec(select(Village.name).where(Village.commune_id == commune_id)).all()
    return sorted(names, key=len, reverse=True)


def _strip_village(text: str, names: list[str]) -> tuple[str | None, str]:
    words = text.split()
    for name in names:
        size = len(name.split())
        if len(words) < size:
            continue
        head = " ".join(words[:size])
        if " ".join(fold(head).strip(":,;.-").split()) == fold(name):
            return name, " ".join(words[size:]).lstrip(":,;.- ")
    return None, text


def _check(ctx: Context, village: Village, values: dict[str, int], facts: Any) -> list[Issue]:
    return check_values(
        values,
        facts,
        names={code: _label(ctx, code) for code in CODE_NAMES},
        denominator_of={c.code: c.denominator for c in CODES},
        village=village.name,
    )


def _issue_text(ctx: Context, issue: Issue) -> str:
    params = dict(issue.params)
    for key in ("value", "previous", "rise", "limit", "denominator"):
        if isinstance(params.get(key), int):
            params[key] = ctx.t.number(params[key])
    params["denominator_name"] = ctx._(
        DENOMINATOR_NAMES.get(str(params.pop("denominator_key", "")), "population")
    )
    return ctx._(issue.message_id, **params)


def _issues_reply(ctx: Context, issues: list[Issue]) -> Reply:
    return Reply(text="\n".join(_issue_text(ctx, issue) for issue in issues))


def _one_line(ctx: Context, village: Village, text: str) -> list[Reply]:
    """Parse, validate and record (or ask to confirm) a one-line report."""
    prepared = _prepare(ctx, village, text)
    if prepared.other_village is not None:
        return [ctx.reply(OTHER_VILLAGE, village=village.name, other=prepared.other_village)]
    try:
        values = parse_tally(prepared.text)
    except TallyParseError as error:
        return [ctx.reply(error.message_id, **error.params)]
    period = prepared.period or (_period(ctx) if ctx.state.flow == FLOW else month_start(ctx.today))
    return _submit(ctx, village, period, values, confirmed=False)


def _submit(
    ctx: Context, village: Village, period: dt.date, values: dict[str, int], *, confirmed: bool
) -> list[Reply]:
    """Validate and record, asking for a confirmation of drops and jumps first."""
    problem = None
    if period != month_start(ctx.today):  # the current month is always open
        problem = period_problem(
            period,
            ctx.today,
            grace_day=grace_day(ctx.session, village.commune_id),
            is_admin=ctx.has_role(Role.ADMIN),
        )
    if problem is not None:
        ctx.finish()
        return [ctx.reply(problem[0], **problem[1])]
    facts, _current = load_facts(ctx.session, _id(village), period)
    issues = _check(ctx, village, values, facts)
    blocking = [i for i in issues if i.blocking]
    if blocking:
        if ctx.state.flow == FLOW:
            for issue in blocking:
                values.pop(issue.code, None)
            ctx.goto("code", values=values)
        return [_issues_reply(ctx, blocking)]
    warnings = [i for i in issues if not i.blocking]
    if warnings and not confirmed:
        ctx.begin(FLOW, "odd", period=period.isoformat(), values=values)
        lines = [ctx._(ODD_INTRO), *(_issue_text(ctx, i) for i in warnings), ctx._(ODD_QUESTION)]
        choices = [
            Choice(ctx._(CONFIRM_ODD), "rep:force"),
            Choice(ctx._(EDIT), "rep:more"),
            Choice(ctx._(CANCEL), "rep:cancel"),
        ]
        return [Reply(text="\n".join(lines), choices=choices)]
    flagged = {i.code: f"{i.kind} confirmed by the reporter" for i in warnings}
    recorded = record_report(
        ctx.session,
        village=village,
        period=period,
        values=values,
        actor=ctx.person,
        now=ctx.now,
        flagged=flagged,
        previous={code: facts[code].previous for code in values if code in facts},
    )
    ctx.finish()
    log.info(
        "tally recorded village=%s period=%s person=%s codes=%s flagged=%s",
        village.id,
        period,
        ctx.person_id,
        ",".join(recorded.recorded),
        ",".join(flagged),
    )
    return [_recorded_reply(ctx, recorded)]


def _recorded_reply(ctx: Context, recorded: Recorded) -> Reply:
    if not recorded.recorded:
        lines = [ctx._(UNCHANGED)]
    else:
        lines = [ctx._(RECORDED, village=recorded.village, month=month_label(recorded.period))]
        for code, value in recorded.recorded.items():
            if code in recorded.corrected:
                old, new = recorded.corrected[code]
                lines.append(
                    "• "
                    + ctx._(
                        CORRECTED,
                        name=_label(ctx, code),
                        new=ctx.t.number(new),
                        old=ctx.t.number(old),
                    )
                )
            else:
                lines.append(f"• {_label(ctx, code)}: {ctx.t.number(value)}")
    if recorded.missing:
        lines.append(
            ctx._(STILL_MISSING, names=", ".join(_label(ctx, c) for c in recorded.missing))
        )
    else:
        lines.append(ctx._(ALL_DONE))
    return Reply(text="\n".join(lines))


# ------------------------------------------------------------------ progress


def _rate(ctx: Context, value: float | None) -> str:
    return ctx.t.percent(value or 0.0)


def _code_line(ctx: Context, item: CodeProgress, rank: tuple[int, int] | None = None) -> str:
    name = _label(ctx, item.code)
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
    return f"{line}; {'; '.join(notes)}" if notes else line


def _village_text(ctx: Context, view: CommuneProgress, village_id: int) -> str:
    row = next((v for v in view.villages if v.village_id == village_id), None)
    if row is None:
        return ctx._(NO_DATA)
    lines = [ctx._(PROGRESS_VILLAGE, village=row.name, month=month_label(view.period))]
    total = len(view.villages)
    for code in CODE_NAMES:
        item = row.codes[code]
        rank = view.ranking[code].index(village_id) + 1 if item.value else None
        lines.append(_code_line(ctx, item, (rank, total) if rank else None))
    missing = missing_codes(ctx.session, village_id, view.period)
    if missing:
        lines.append(ctx._(STILL_MISSING, names=", ".join(_label(ctx, c) for c in missing)))
    return "\n".join(lines)


def _commune_text(ctx: Context, view: CommuneProgress, commune_id: int, *, complete: bool) -> str:
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
    name = _label(ctx, code)
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
