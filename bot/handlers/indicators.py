"""Unit officers: the indicators their unit leads, and entering actual values (/chitieu)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.flows import Action, Flow, Step
from bot.core.messages import Choice, Reply
from bot.core.picks import Entry, looks_like_number, offered_choices, pick_entry
from bot.core.registry import Registry
from bot.handlers.tasks import (
    MSG_ASK_EVIDENCE_AGAIN,
    UNIT_ROLES,
    evidence_from_message,
    require_officer,
)
from bot.i18n import N_
from bot.plans import store
from bot.plans.choices import IndicatorValueChoice
from bot.plans.status import VERDICT_LABELS
from bot.text import fold, shorten

_NUMBER = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*%?\s*$")
# Answers to "has it been achieved?" (folded): a word target is 1 when achieved, else 0.
_YES = frozenset({"dat", "da dat", "co", "roi", "da xong", "xong", "hoan thanh", "da hoan thanh"})
_NO = frozenset({"chua", "chua dat", "khong", "khong dat", "chua xong", "chua hoan thanh"})
_YES |= {"yes", "achieved", "done"}
_NO |= {"no", "not yet"}
# Units of measure that are words of a verdict, not units ("Đạt", "Đảm bảo"): not shown.
_WORD_UNITS = frozenset({"dat", "dam bao", "muc do", "hoan thanh"})

MSG_ASK_ACHIEVED = N_("Indicator {number}: {text}\nHas “{target}” been achieved yet?")
CHOICE_ACHIEVED = N_("✅ Achieved")
CHOICE_NOT_YET = N_("⏳ Not yet")
MSG_YES_OR_NO = N_("Please answer: achieved or not yet.")
ACTUAL_ACHIEVED = N_("achieved")
ACTUAL_NOT_YET = N_("not achieved")


@dataclass(frozen=True)
class AchievedChoice(Action, prefix="indyes"):
    """The answer to "has this word target been achieved?" (1 yes, 0 not yet)."""

    achieved: int


class IndicatorValueFlow(Flow, name="indval"):
    """An indicator's actual value, then its evidence."""

    value = Step()
    evidence = Step()


def _parse_number(text: str) -> float | None:
    match = _NUMBER.match(text)
    if not match:
        return None
    return float(
        match.group(1).replace(".", "").replace(",", ".")
        if "," in match.group(1)
        else match.group(1)
    )


def _yes_or_no(view: store.IndicatorView) -> bool:
    """A target written as a word with no number: asked and shown as achieved or not."""
    return view.yes_or_no


def _actual(ctx: Context, view: store.IndicatorView) -> str:
    actual = view.status.actual
    if actual is None:
        return "—"
    if view.yes_or_no:
        return ctx._(ACTUAL_ACHIEVED if actual >= 1 else ACTUAL_NOT_YET)
    return ctx.t.number(actual)


def _unit(view: store.IndicatorView) -> str:
    """The unit the actual value is typed in: "%" for a percentage target."""
    if "%" in (view.status.raw or ""):
        return "%"
    unit = (view.indicator.unit_of_measure or "").strip()
    return "" if fold(unit) in _WORD_UNITS else unit


def indicator_line(ctx: Context, view: store.IndicatorView) -> str:
    """Actual value, target and verdict of an indicator, on one line."""
    status = view.status
    actual = _actual(ctx, view)
    target = f"{status.raw} ({status.year})" if status.raw else "—"
    return ctx._(
        "Actual: {actual} · Target: {target} · {verdict}",
        actual=actual,
        target=target,
        verdict=ctx._(VERDICT_LABELS[status.verdict]),
    )


def indicator_card(ctx: Context, view: store.IndicatorView) -> str:
    """One indicator counted from the villages' reports."""
    return "\n".join(
        [
            ctx._(
                "Indicator {number}: {text}",
                number=view.indicator.number,
                text=shorten(view.indicator.text, 200),
            ),
            indicator_line(ctx, view),
            ctx._("It is counted from the villages' monthly reports: nothing to enter here."),
        ]
    )


def register(registry: Registry) -> None:
    """Register /chitieu and the indicator value flow."""

    @registry.command(
        "chitieu",
        "indicators",
        description=N_("My unit's indicators: enter actual values"),
        roles=UNIT_ROLES,
    )
    def indicators_command(ctx: Context, argument: str) -> list[Reply]:
        """List the unit's indicators with actual value, target and verdict."""
        ctx.finish()
        require_officer(ctx)
        assert ctx.person.unit_id is not None
        views = store.unit_indicators(ctx.session, ctx.person.unit_id, ctx.today)
        if not views:
            return [ctx.reply(N_("Your unit leads no plan indicator."))]
        lines = [ctx._("Indicators your unit leads:")]
        choices = []
        for view in views[:20]:
            lines.append(
                f"{view.indicator.number}. {shorten(view.indicator.text, 90)}\n   "
                + indicator_line(ctx, view)
            )
            if not view.indicator.tally_code:
                # The indicator's own number is in the text above; a choice shows its position.
                choices.append(
                    Choice(shorten(view.indicator.text, 40), IndicatorValueChoice(view.id).pack())
                )
        if choices:
            lines.append(
                ctx._(
                    "Pick an indicator, or type its number, to enter its actual value (with evidence)."
                )
            )
        return [Reply(text="\n".join(lines), choices=choices)]

    @registry.picker(IndicatorValueChoice)
    def pick_indicator(ctx: Context, text: str) -> str | list[Reply] | None:
        """An indicator of the unit named by its own number or text, typed after the list."""
        if not ctx.has_role(*UNIT_ROLES) or ctx.person.unit_id is None:
            return None
        views = store.unit_indicators(ctx.session, ctx.person.unit_id, ctx.today)
        entries = [Entry(v.indicator.number, v.indicator.text, str(v.id)) for v in views]
        picked = pick_entry(text, entries)
        if picked is None:
            if not looks_like_number(text) or not views:
                return None
            return [
                ctx.reply(
                    N_(
                        "Your unit has no indicator {number}. Its indicators are numbered: {numbers}."
                    ),
                    offered_choices(ctx),
                    number=shorten(text.strip(), 20),
                    numbers=", ".join(v.indicator.number for v in views),
                )
            ]
        view = next(v for v in views if str(v.id) == picked)
        if not view.indicator.tally_code:
            return IndicatorValueChoice(view.id).pack()
        # Counted from the villages' reports: nothing to type, so show where it stands.
        return [Reply(text=indicator_card(ctx, view))]

    @registry.on_choice(IndicatorValueChoice)
    def start_indicator_value(ctx: Context, data: IndicatorValueChoice) -> list[Reply]:
        """Ask for an indicator's actual value."""
        require_officer(ctx)
        view = store.indicator_for_officer(ctx.session, data.indicator_id, ctx.person, ctx.today)
        ctx.begin(IndicatorValueFlow.value, indicator_id=view.id)
        number, text = view.indicator.number, shorten(view.indicator.text, 200)
        if _yes_or_no(view):
            choices = [
                Choice(ctx._(CHOICE_ACHIEVED), AchievedChoice(1).pack()),
                Choice(ctx._(CHOICE_NOT_YET), AchievedChoice(0).pack()),
            ]
            target = view.status.raw or ""
            return [ctx.reply(MSG_ASK_ACHIEVED, choices, number=number, text=text, target=target)]
        unit = _unit(view)
        if not unit:
            return [
                ctx.reply(
                    N_("Indicator {number}: {text}\nType the actual value now."),
                    number=number,
                    text=text,
                )
            ]
        return [
            ctx.reply(
                N_("Indicator {number}: {text}\nType the actual value now ({unit})."),
                number=number,
                text=text,
                unit=unit,
            )
        ]

    @registry.step(IndicatorValueFlow.value)
    def indicator_value(ctx: Context, text: str) -> list[Reply]:
        """Read the value, then ask for evidence."""
        require_officer(ctx)
        view = store.indicator_for_officer(
            ctx.session, int(ctx.data["indicator_id"]), ctx.person, ctx.today
        )
        if _yes_or_no(view):
            answer = fold(text).strip(" .!")
            if answer in _YES or answer in _NO:
                return _ask_evidence(ctx, 1.0 if answer in _YES else 0.0)
            return [ctx.reply(MSG_YES_OR_NO, offered_choices(ctx))]
        value = _parse_number(text)
        if value is None:
            return [ctx.reply(N_("Please type a number, for example 75 or 12,5."))]
        return _ask_evidence(ctx, value)

    @registry.on_choice(AchievedChoice)
    def achieved(ctx: Context, data: AchievedChoice) -> list[Reply]:
        """Achieved or not yet, picked: ask for the evidence."""
        require_officer(ctx)
        if not ctx.at(IndicatorValueFlow.value):
            return [ctx.reply(N_("Type /chitieu to enter an indicator's actual value."))]
        return _ask_evidence(ctx, 1.0 if data.achieved else 0.0)

    def _ask_evidence(ctx: Context, value: float) -> list[Reply]:
        ctx.goto(IndicatorValueFlow.evidence, value=value)
        return [
            ctx.reply(N_("Now send the evidence for this value: a photo, a document or a link."))
        ]

    @registry.step(IndicatorValueFlow.evidence)
    def indicator_evidence(ctx: Context, text: str) -> list[Reply]:
        """Store the evidence and the value."""
        require_officer(ctx)
        view = store.indicator_for_officer(
            ctx.session, int(ctx.data["indicator_id"]), ctx.person, ctx.today
        )
        stored = evidence_from_message(ctx, text)
        if stored is None:
            return [ctx.reply(MSG_ASK_EVIDENCE_AGAIN)]
        value = float(ctx.data["value"])
        store.record_indicator_value(
            ctx.session, view, value, stored, person=ctx.person, now=ctx.now
        )
        ctx.finish()
        if _yes_or_no(view):
            saved = N_("Saved: indicator {number} is achieved.")
            if value < 1:
                saved = N_("Saved: indicator {number} is not achieved yet.")
            return [ctx.reply(saved, number=view.indicator.number)]
        return [
            ctx.reply(
                N_("Saved: indicator {number} is now {value}."),
                number=view.indicator.number,
                value=ctx.t.number(value),
            )
        ]
