"""Unit officers: the indicators their unit leads, and entering actual values (/chitieu)."""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.core.flows import Flow, Step
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
from bot.text import shorten

_NUMBER = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*%?\s*$")


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


def indicator_line(ctx: Context, view: store.IndicatorView) -> str:
    """Actual value, target and verdict of an indicator, on one line."""
    status = view.status
    actual = ctx.t.number(status.actual) if status.actual is not None else "—"
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
            status = view.status
            actual = ctx.t.number(status.actual) if status.actual is not None else "—"
            target = f"{status.raw} ({status.year})" if status.raw else "—"
            lines.append(
                f"{view.indicator.number}. {shorten(view.indicator.text, 90)}\n   "
                + ctx._(
                    "Actual: {actual} · Target: {target} · {verdict}",
                    actual=actual,
                    target=target,
                    verdict=ctx._(VERDICT_LABELS[status.verdict]),
                )
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
        unit = view.indicator.unit_of_measure or ""
        return [
            ctx.reply(
                N_("Indicator {number}: {text}\nType the actual value now ({unit})."),
                number=view.indicator.number,
                text=shorten(view.indicator.text, 200),
                unit=unit,
            )
        ]

    @registry.step(IndicatorValueFlow.value)
    def indicator_value(ctx: Context, text: str) -> list[Reply]:
        """Read the value, then ask for evidence."""
        require_officer(ctx)
        value = _parse_number(text)
        if value is None:
            return [ctx.reply(N_("Please type a number, for example 75 or 12,5."))]
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
        return [
            ctx.reply(
                N_("Saved: indicator {number} is now {value}."),
                number=view.indicator.number,
                value=ctx.t.number(value),
            )
        ]
