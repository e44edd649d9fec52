"""Typed flows and choice data: steps cannot be misspelt, values round-trip or are stale."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.flows import Action, Flow, Step


class Verb(enum.StrEnum):
    PICK = "pick"
    OK = "ok"


class SampleFlow(Flow, name="sample"):
    first = Step()
    second = Step()


@dataclass(frozen=True)
class SampleAction(Action, prefix="smp"):
    verb: Verb
    day: dt.date | None = None
    count: int = 0
    rest: str = ""


def test_steps_know_their_flow_and_name() -> None:
    assert SampleFlow.second.key == ("sample", "second")
    assert SampleFlow.steps() == (SampleFlow.first, SampleFlow.second)
    assert SampleFlow.step_named("first") is SampleFlow.first
    assert SampleFlow.step_named("nope") is None


def test_action_packs_and_unpacks() -> None:
    data = SampleAction(Verb.PICK, dt.date(2026, 3, 1), 7, "a:b")
    assert data.pack() == "smp:pick:2026-03-01:7:a:b"
    assert SampleAction.unpack("pick:2026-03-01:7:a:b") == data
    assert SampleAction.unpack("ok") == SampleAction(Verb.OK)
    assert SampleAction.unpack("ok::3") == SampleAction(Verb.OK, None, 3)


@pytest.mark.parametrize("bad", ["", "nope", "pick:2026-13-01", "pick::x", "pick::٣"])
def test_a_value_that_does_not_fit_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        SampleAction.unpack(bad)


def test_packed_values_fit_a_telegram_button() -> None:
    with pytest.raises(ValueError):
        SampleAction(Verb.OK, rest="x" * 80).pack()


@given(st.sampled_from(Verb), st.integers(-(10**9), 10**9), st.text(max_size=20))
def test_round_trip(verb: Verb, count: int, rest: str) -> None:
    data = SampleAction(verb, None, count, rest)
    try:
        packed = data.pack()
    except ValueError:
        return  # too long for a button
    prefix, _, argument = packed.partition(":")
    assert prefix == "smp"
    assert SampleAction.unpack(argument) == data
