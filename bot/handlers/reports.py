"""Village reports by chat: /baocao (guided, or one line after it) and one-line reports."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.communes import villages_of
from bot.core.context import Context
from bot.core.flows import Action, Flow, Step
from bot.core.messages import Choice, Reply
from bot.core.picks import REPORT_HINT, ascii_digits, not_in_list
from bot.core.registry import Registry
from bot.dates import add_months, month_start
from bot.errors import ReadableError
from bot.i18n import N_
from bot.tallies.codes import CODE_LABELS, CODE_NAMES, DENOMINATOR_OF, folded_aliases
from bot.tallies.parser import (
    TallyParseError,
    looks_like_tally,
    names_code_only,
    parse_tally_parts,
)
from bot.tallies.reading import VillageNames, looks_like_report, read_report
from bot.tallies.store import Recorded, grace_day, load_facts
from bot.tallies.submission import (
    NeedsConfirmation,
    Refused,
    Saved,
    SubmitOutcome,
    check_report,
    submit_report,
)
from bot.tallies.validation import (
    Issue,
    ReportingWindow,
    month_label,
    period_problem,
    reporting_window,
)
from bot.text import fold
from db.models import Role, Village

REPORTERS = frozenset({Role.TEAM, Role.LEADER})

NO_VILLAGE = N_(
    "Your account is not linked to a village yet, so I cannot record figures. "
    "Ask the commune admin for an invite code for your village."
)
OTHER_VILLAGE = N_(
    "You can only report for your own village ({village}). "
    "Send the figures again without the name of {other}."
)
PICK_PERIOD = N_("Which month are you reporting for?")
NOT_A_REPORTER = N_(
    "Reporting village figures is for members of a village's community digital technology "
    "team. If you are one, ask the commune for an invite code and send /lienket CODE."
)
PERIOD_THIS = N_("Month {month} (this month)")
PERIOD_LAST = N_("Month {month} (last month, open until day {day})")
PICK_CODE = N_("{village}, month {month}. Choose what to report:")
ASK_NUMBER = N_(
    "Type the number of people in {village} who have: {name}, in total up to the end of "
    "month {month}. For example: 45"
)
ASK_NUMBER_BUSINESSES = N_(
    "Type the number of household businesses in {village} that have: {name}, in total up "
    "to the end of month {month}. For example: 4"
)
ASK_NUMBER_CURRENT = N_("Recorded so far this month: {value}.")
NUMBER_NEEDED = N_("Type a number, for example 45. Or type /huy to stop.")
NUMBER_NOT_NEGATIVE = N_("A count cannot be negative. Type a number, for example 45.")
NUMBER_NOT_PERCENT = N_(
    "Type the number of people, not a percentage, for example 45. Or type /huy to stop."
)
PERCENT_MEANS = N_("{name}: {percent} of {denominator} {whom} is {count}.")
PERCENT_UNKNOWN = N_(
    "{name} is counted in people, not as a percentage ({percent}), and the number of {whom} "
    "in {village} is not set yet. Send the number of people, for example: {code} 45"
)
COUNTS_ARE_PEOPLE = N_("Figures are counts (of people, of households), not percentages.")
STEP_CODE = N_("Pick what to report from the list, or type a code and a number, e.g. vneid 45.")
SUMMARY = N_("Please check before I record, {village}, month {month}:")
SUMMARY_HINT = N_("Is this right?")
CONFIRM = N_("✅ Confirm")
EDIT = N_("✏️ Change / add")
CANCEL = N_("❌ Cancel")
CONFIRM_ODD = N_("✅ Yes, it is right")
ODD_INTRO = N_("Please check these numbers:")
ODD_QUESTION = N_(
    "If the numbers are right, choose “Yes, it is right” and they will be recorded and marked "
    "for the office to review. If not, choose “Change”."
)
RECORDED = N_("✅ Recorded for {village}, month {month}:")
CORRECTED = N_("{name}: {new} (changed from {old})")
UNCHANGED = N_("These numbers were already recorded. Nothing changed.")
STILL_MISSING = N_("Still missing this month: {names}.")
ALL_DONE = N_("All figures for this month are in. Thank you!")
CANCELLED = N_("Cancelled. Nothing was recorded.")
NOTHING_PENDING = N_("There is nothing waiting to be recorded. Send /baocao to start a report.")
# Who a code's denominator counts, in the words of a sentence ("20% of 902 adults").
DENOMINATOR_WORDS = {
    "population": N_("residents"),
    "adults": N_("adults"),
    "aged15": N_("people aged 15 and over"),
    "households": N_("households"),
    "businesses": N_("household businesses"),
}
STEP_CODE_AGAIN = N_(
    "Type a number from the list (for example 1 for the first one), or a code and the "
    "count, for example: vneid 45. To stop, type: thôi"
)
SUMMARY_AGAIN = N_(
    "To record these numbers, type: có. To change them, type: không. To stop, type: thôi"
)
CHANGE_WHAT = N_("All right, nothing is recorded yet. Choose what to change:")
YES_WORDS = frozenset(
    {
        "co",
        "đúng",
        "dung roi",
        "đúng rồi",
        "chinh xac",
        "yes",
        "xac nhan",
        "dong y",
        "co a",
        "dung a",
        "đúng ạ",
        "ghi di",
        "ghi",
    }
)
NO_WORDS = frozenset({"khong", "ko", "k", "sai", "chua dung", "no", "khong dung", "sua"})
NO_VALUES = N_("You have not entered any number yet. Choose what to report first.")

_JUST_A_NUMBER = re.compile(r"[\s\d.,\-−–]+")
_BARE_NUMBER = re.compile(r"\s*[-+]?\d{1,9}\s*[.)]?\s*")


class ReportFlow(Flow, name="report"):
    """The guided report: pick the month (in grace days), a code, type its number, confirm."""

    period = Step()
    code = Step()
    number = Step()
    summary = Step()
    odd = Step()  # a drop or a jump waits for "yes, it is right"


class ReportVerb(enum.StrEnum):
    PERIOD = "period"  # value: the month, 2026-03-01
    CODE = "code"  # value: the tally code
    MORE = "more"
    OK = "ok"
    FORCE = "force"  # confirm a drop or a jump
    CANCEL = "cancel"


@dataclass(frozen=True)
class ReportChoice(Action, prefix="rep"):
    """A button of the report flow ("rep:code:vneid", "rep:ok")."""

    verb: ReportVerb
    value: str = ""


def register(registry: Registry) -> None:
    """Register reporting."""

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
        if reporting_window(previous, ctx.today, day) is ReportingWindow.GRACE:
            ctx.begin(ReportFlow.period, values={})
            choices = [
                Choice(
                    ctx._(PERIOD_THIS, month=month_label(current)),
                    ReportChoice(ReportVerb.PERIOD, current.isoformat()).pack(),
                ),
                Choice(
                    ctx._(PERIOD_LAST, month=month_label(previous), day=day),
                    ReportChoice(ReportVerb.PERIOD, previous.isoformat()).pack(),
                ),
            ]
            return [ctx.reply(PICK_PERIOD, choices)]
        ctx.begin(ReportFlow.code, period=current.isoformat(), values={})
        return [_pick_code(ctx, village)]

    @registry.on_choice(ReportChoice)
    def report_choice(ctx: Context, data: ReportChoice) -> list[Reply]:
        """Handle the report flow's buttons."""
        if not ctx.has_role(*REPORTERS):
            return [ctx.reply(NO_VILLAGE)]
        village = ctx.village
        if village is None:
            return [ctx.reply(NO_VILLAGE)]
        if data.verb is ReportVerb.CANCEL:
            ctx.finish()
            return [ctx.reply(CANCELLED)]
        if not ctx.in_flow(ReportFlow):
            return [ctx.reply(NOTHING_PENDING)]
        if data.verb is ReportVerb.PERIOD:
            try:
                period = dt.date.fromisoformat(data.value)
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
            ctx.goto(ReportFlow.code, period=period.isoformat())
            return [_pick_code(ctx, village)]
        if data.verb is ReportVerb.CODE and data.value in CODE_NAMES:
            ctx.goto(ReportFlow.number, code=data.value)
            return [_ask_number(ctx, village, data.value)]
        if data.verb is ReportVerb.MORE:
            ctx.goto(ReportFlow.code)
            return [_pick_code(ctx, village)]
        values = _pending(ctx)
        if not values:
            ctx.goto(ReportFlow.code)
            return [ctx.reply(NO_VALUES), _pick_code(ctx, village)]
        if data.verb is ReportVerb.OK:
            return _submit(ctx, village, _period(ctx), values, confirmed=False)
        if data.verb is ReportVerb.FORCE:
            return _submit(ctx, village, _period(ctx), values, confirmed=True)
        return [ctx.reply(NOTHING_PENDING)]

    @registry.step(ReportFlow.number)
    def number_step(ctx: Context, text: str) -> list[Reply]:
        """Read the number typed for the chosen code (or a whole one-line report)."""
        village = ctx.village
        if village is None:
            ctx.finish()
            return [ctx.reply(NO_VILLAGE)]
        code = str(ctx.data.get("code") or "")
        if code not in CODE_NAMES:
            ctx.goto(ReportFlow.code)
            return [_pick_code(ctx, village)]
        if not _JUST_A_NUMBER.fullmatch(text) and looks_like_tally(text):
            return _one_line(ctx, village, text)
        if not text.strip():
            return [ctx.reply(NUMBER_NEEDED)]
        try:
            parsed = parse_tally_parts(f"{code} {text}")
        except TallyParseError as error:
            # The code is the step's own: only the number can be wrong, so say that.
            if error.kind == "negative":
                return [ctx.reply(NUMBER_NOT_NEGATIVE)]
            return [ctx.reply(NUMBER_NEEDED)]
        if list(parsed.percents) == [code] and not parsed.values:
            return _from_percents(ctx, village, _period(ctx), _pending(ctx), parsed.percents)
        if list(parsed.values) != [code]:
            return [ctx.reply(NUMBER_NEEDED)]
        period = _period(ctx)
        blocking = [
            i for i in check_report(ctx.session, village, period, parsed.values) if i.blocking
        ]
        if blocking:
            return [_reasons_reply(ctx, blocking)]
        values = {**_pending(ctx), code: parsed.values[code]}
        ctx.goto(ReportFlow.summary, values=values)
        return [_summary(ctx, village, period, values, check=True)]

    @registry.step(ReportFlow.summary)
    @registry.step(ReportFlow.code)
    @registry.step(ReportFlow.period)
    @registry.step(ReportFlow.odd)
    def other_steps(ctx: Context, text: str) -> list[Reply]:
        """Typed text while choices are expected: a one-line report, or the step again."""
        village = ctx.village
        if village is None:
            ctx.finish()
            return [ctx.reply(NO_VILLAGE)]
        if looks_like_report(text, ctx.today, _village_names(ctx, village)):
            return _one_line(ctx, village, text)
        folded = " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())
        answer = " ".join(text.lower().split())
        values = _pending(ctx)
        if (ctx.at(ReportFlow.summary) or ctx.at(ReportFlow.odd)) and values:
            if answer in YES_WORDS or (folded in YES_WORDS and folded != "dung"):
                force = ctx.at(ReportFlow.odd) or any(
                    str(c["value"]) == ReportChoice(ReportVerb.FORCE).pack()
                    for c in ctx.state.choices
                )
                return _submit(ctx, village, _period(ctx), values, confirmed=force)
            if folded in NO_WORDS:
                ctx.goto(ReportFlow.code)
                reply = _pick_code(ctx, village)
                reply.text = ctx._(CHANGE_WHAT) + "\n" + reply.text
                return [reply]
        if ctx.at(ReportFlow.code):
            if folded == "dung":  # "dừng" typed without accents: stop
                ctx.finish()
                return [ctx.reply(CANCELLED)]
            code = _named_code(text)
            if code is not None:
                ctx.goto(ReportFlow.number, code=code)
                return [_ask_number(ctx, village, code)]
        number = _BARE_NUMBER.fullmatch(text)
        if number and ctx.state.choices:
            replies = not_in_list(ctx, ascii_digits(number.group(0).strip()))
            if ctx.at(ReportFlow.code):  # "45" before choosing what it counts
                replies[-1].text += "\n" + ctx._(REPORT_HINT)
            return replies
        # "ok", "cảm ơn", a stray word: nothing is lost, the step is asked again.
        reply = _step_again(ctx, village)
        if ctx.at(ReportFlow.code):
            reply.text = ctx._(STEP_CODE_AGAIN) + "\n" + reply.text
        elif ctx.at(ReportFlow.summary) or ctx.at(ReportFlow.odd):
            reply.text += "\n" + ctx._(SUMMARY_AGAIN)
        return [reply]

    @registry.text
    def one_line(ctx: Context, text: str) -> list[Reply] | None:
        """Record a one-line report from a team member; leave everything else to others."""
        if not ctx.has_role(*REPORTERS):
            # Somebody not linked to a village's team sends figures: say how to link.
            return [ctx.reply(NOT_A_REPORTER)] if looks_like_tally(text) else None
        village = ctx.village
        if village is None:
            return [ctx.reply(NO_VILLAGE)] if looks_like_tally(text) else None
        if not looks_like_report(
            text, ctx.today, _village_names(ctx, village)
        ) and not names_code_only(text):
            return None
        return _one_line(ctx, village, text)


# ------------------------------------------------------------------ the flow's data


def _period(ctx: Context) -> dt.date:
    raw = ctx.data.get("period")
    return dt.date.fromisoformat(raw) if raw else month_start(ctx.today)


def _pending(ctx: Context) -> dict[str, int]:
    """The figures entered in the guided flow so far."""
    return {code: int(value) for code, value in (ctx.data.get("values") or {}).items()}


def _village_names(ctx: Context, village: Village) -> VillageNames:
    """The commune's village names, loaded only if the reading needs them."""

    def names() -> Sequence[str]:
        return [v.name for v in villages_of(ctx.session, village.commune_id)]

    return names


def label(ctx: Context, code: str) -> str:
    """A tally code's name in the person's language."""
    return ctx._(CODE_LABELS[code])


# ------------------------------------------------------------------ replies


def _pick_code(ctx: Context, village: Village) -> Reply:
    assert village.id is not None
    period = _period(ctx)
    _facts, current = load_facts(ctx.session, village.id, period)
    pending = ctx.data.get("values") or {}
    choices = []
    for code in CODE_NAMES:
        text = label(ctx, code)
        value = pending.get(code, current.get(code))
        if value is not None:
            text = f"{text} ({ctx.t.number(int(value))})"
        choices.append(Choice(text, ReportChoice(ReportVerb.CODE, code).pack()))
    if pending:
        choices.append(Choice(ctx._(CONFIRM), ReportChoice(ReportVerb.OK).pack()))
    choices.append(Choice(ctx._(CANCEL), ReportChoice(ReportVerb.CANCEL).pack()))
    return ctx.reply(PICK_CODE, choices, village=village.name, month=month_label(period))


def _ask_number(ctx: Context, village: Village, code: str) -> Reply:
    assert village.id is not None
    period = _period(ctx)
    _facts, current = load_facts(ctx.session, village.id, period)
    ask = ASK_NUMBER_BUSINESSES if DENOMINATOR_OF[code] == "businesses" else ASK_NUMBER
    text = ctx._(ask, village=village.name, name=label(ctx, code), month=month_label(period))
    if code in current:
        text += "\n" + ctx._(ASK_NUMBER_CURRENT, value=ctx.t.number(current[code]))
    return Reply(text=text)


def _summary(
    ctx: Context,
    village: Village,
    period: dt.date,
    values: dict[str, int],
    *,
    check: bool = False,
    notes: Sequence[str] = (),
) -> Reply:
    """The draft as it will be recorded; with ``check``, its drops and jumps are said now,
    so one "yes" records it (never two questions in a row)."""
    lines = [ctx._(SUMMARY, village=village.name, month=month_label(period))]
    lines += [f"• {label(ctx, code)}: {ctx.t.number(value)}" for code, value in values.items()]
    lines += notes
    warnings = (
        [i for i in check_report(ctx.session, village, period, values) if not i.blocking]
        if check
        else []
    )
    if warnings:
        lines.append(ctx._(ODD_INTRO))
        lines += [issue.render(ctx.t) for issue in warnings]
    lines.append(ctx._(SUMMARY_HINT))
    confirm = (
        Choice(ctx._(CONFIRM_ODD), ReportChoice(ReportVerb.FORCE).pack())
        if warnings
        else Choice(ctx._(CONFIRM), ReportChoice(ReportVerb.OK).pack())
    )
    choices = [
        confirm,
        Choice(ctx._(EDIT), ReportChoice(ReportVerb.MORE).pack()),
        Choice(ctx._(CANCEL), ReportChoice(ReportVerb.CANCEL).pack()),
    ]
    return Reply(text="\n".join(lines), choices=choices)


def _reasons_reply(ctx: Context, reasons: Sequence[Issue | ReadableError]) -> Reply:
    return Reply(text="\n".join(reason.render(ctx.t) for reason in reasons))


# ------------------------------------------------------------------ submitting


def _one_line(ctx: Context, village: Village, text: str) -> list[Reply]:
    """Read, validate and record (or ask to confirm) a one-line report."""
    report = read_report(text, ctx.today, _village_names(ctx, village))
    other = _other_village(village, report.villages)
    if other is not None:
        return [ctx.reply(OTHER_VILLAGE, village=village.name, other=other)]
    in_flow = ctx.in_flow(ReportFlow)
    if report.error is not None:
        code = report.error.params.get("code")
        if code in CODE_NAMES and names_code_only(text):
            # "vneid" alone: ask for its number, so "45" sent next completes it.
            period = _period(ctx) if in_flow else month_start(ctx.today)
            values = _pending(ctx) if in_flow else {}
            ctx.begin(ReportFlow.number, period=period.isoformat(), code=code, values=values)
            return [_ask_number(ctx, village, code)]
        return [Reply(text=report.error.render(ctx.t))]
    period = report.period or (_period(ctx) if in_flow else month_start(ctx.today))
    # A correction typed during a report edits its draft: the other figures are kept.
    draft = _pending(ctx) if in_flow and period == _period(ctx) else {}
    if set(draft) <= set(report.values) | set(report.percents):
        draft = {}  # the new figures replace the whole draft: nothing to keep
    if report.percents:
        return _from_percents(ctx, village, period, {**draft, **report.values}, report.percents)
    if draft:
        values = {**draft, **report.values}
        ctx.begin(ReportFlow.summary, period=period.isoformat(), values=values)
        return [_summary(ctx, village, period, values)]
    return _submit(ctx, village, period, report.values, confirmed=False)


def _from_percents(
    ctx: Context,
    village: Village,
    period: dt.date,
    values: dict[str, int],
    percents: dict[str, float],
) -> list[Reply]:
    """Figures typed as percentages: offer the counts they mean, from the village's
    denominators, in a draft to confirm; without a denominator, ask for the count."""
    assert village.id is not None
    facts, _current = load_facts(ctx.session, village.id, period)
    notes = []
    counts = dict(values)
    for code, share in percents.items():
        whom = ctx._(DENOMINATOR_WORDS[DENOMINATOR_OF[code]])
        percent = ctx.t.percent(share / 100, digits=0 if share == int(share) else 1)
        denominator = facts[code].denominator
        if denominator is None or not 0 < share <= 100:
            reply = ctx.reply(
                PERCENT_UNKNOWN,
                name=label(ctx, code),
                percent=percent,
                whom=whom,
                village=village.name,
                code=code,
            )
            return [reply]
        count = int(denominator * share / 100 + 0.5)
        counts[code] = count
        notes.append(
            ctx._(
                PERCENT_MEANS,
                name=label(ctx, code),
                percent=percent,
                denominator=ctx.t.number(denominator),
                whom=whom,
                count=ctx.t.number(count),
            )
        )
    notes.append(ctx._(COUNTS_ARE_PEOPLE))
    ctx.begin(ReportFlow.summary, period=period.isoformat(), values=counts)
    return [_summary(ctx, village, period, counts, notes=notes)]


def _step_again(ctx: Context, village: Village) -> Reply:
    """The current step's question again, with the draft kept."""
    period = _period(ctx)
    values = _pending(ctx)
    if ctx.at(ReportFlow.summary) and values:
        return _summary(ctx, village, period, values, check=True)
    if ctx.at(ReportFlow.odd) and values:
        return _summary(ctx, village, period, values, check=True)
    if ctx.at(ReportFlow.period):
        offered = [Choice(str(c["label"]), str(c["value"])) for c in ctx.state.choices]
        return ctx.reply(PICK_PERIOD, offered)
    ctx.goto(ReportFlow.code)
    return _pick_code(ctx, village)


def _named_code(text: str) -> str | None:
    """The tally code a text names alone ("vneid", "chữ ký số"), if exactly one."""
    folded = " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())
    code = folded_aliases().get(folded)
    if code is not None:
        return code
    return next((c for c in CODE_NAMES if c == folded), None)


def _other_village(village: Village, named: Sequence[str]) -> str | None:
    """The first village named that is not the reporter's own."""
    return next((name for name in named if fold(name) != fold(village.name)), None)


def _submit(
    ctx: Context, village: Village, period: dt.date, values: dict[str, int], *, confirmed: bool
) -> list[Reply]:
    """Submit the figures and say what happened."""
    outcome = submit_report(
        ctx.session,
        village=village,
        period=period,
        values=values,
        actor=ctx.person,
        now=ctx.now,
        today=ctx.today,
        is_admin=ctx.has_role(Role.ADMIN),
        confirmed=confirmed,
    )
    return _render(ctx, outcome)


def _render(ctx: Context, outcome: SubmitOutcome) -> list[Reply]:
    """What a submission's outcome means for the flow, and the reply that says it."""
    if isinstance(outcome, Refused):
        if outcome.period_closed:
            ctx.finish()
        elif ctx.in_flow(ReportFlow):
            ctx.goto(ReportFlow.code, values=outcome.kept)
        return [_reasons_reply(ctx, outcome.reasons)]
    if isinstance(outcome, NeedsConfirmation):
        ctx.begin(ReportFlow.odd, period=outcome.period.isoformat(), values=outcome.values)
        lines = [
            ctx._(ODD_INTRO),
            *(issue.render(ctx.t) for issue in outcome.warnings),
            ctx._(ODD_QUESTION),
        ]
        choices = [
            Choice(ctx._(CONFIRM_ODD), ReportChoice(ReportVerb.FORCE).pack()),
            Choice(ctx._(EDIT), ReportChoice(ReportVerb.MORE).pack()),
            Choice(ctx._(CANCEL), ReportChoice(ReportVerb.CANCEL).pack()),
        ]
        return [Reply(text="\n".join(lines), choices=choices)]
    assert isinstance(outcome, Saved)
    ctx.finish()
    return [_saved_reply(ctx, outcome.recorded)]


def _saved_reply(ctx: Context, recorded: Recorded) -> Reply:
    if not recorded.recorded:
        lines = [ctx._(UNCHANGED)]
    else:
        lines = [ctx._(RECORDED, village=recorded.village, month=month_label(recorded.period))]
        for code, value in recorded.recorded.items():
            if code in recorded.corrected:
                old, new = recorded.corrected[code]
                corrected = ctx._(
                    CORRECTED,
                    name=label(ctx, code),
                    new=ctx.t.number(new),
                    old=ctx.t.number(old),
                )
                lines.append(f"• {corrected}")
            else:
                lines.append(f"• {label(ctx, code)}: {ctx.t.number(value)}")
    lines.append(missing_line(ctx, recorded.missing) if recorded.missing else ctx._(ALL_DONE))
    return Reply(text="\n".join(lines))


def missing_line(ctx: Context, missing: Sequence[str]) -> str:
    """ "Still missing this month: …" with the codes' names."""
    return ctx._(STILL_MISSING, names=", ".join(label(ctx, code) for code in missing))
