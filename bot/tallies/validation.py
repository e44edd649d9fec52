"""Tally validation rules: denominators, drops, plausible jumps and open periods.

Pure functions over plain data: the store loads the facts, the handler explains
the issues. Counts are cumulative monthly snapshots, so a value lower than last
month's is suspicious, and so is a rise far beyond what the village usually does.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from bot.dates import add_months, month_start
from bot.i18n import N_, Translator
from bot.tallies.codes import CODE_LABELS, DENOMINATOR_OF

DEFAULT_GRACE_DAY = 5  # the previous month stays open until this day of the month
HISTORY_MIN_STEPS = 3  # monthly rises needed before the village's own band is used
NO_HISTORY_CAP = 200  # largest monthly rise accepted without asking, for a new village
MIN_BAND = 20  # a learned band is never narrower than this many people

MSG_OVER_DENOMINATOR = N_(
    "{name}: {value} is more than the {denominator_name} of {village} ({denominator}). "
    "Check the number and send it again."
)
MSG_DROP = N_(
    "{name}: {value} is lower than last month ({previous}). "
    "These counts add up over time, so they should not go down."
)
MSG_JUMP = N_(
    "{name}: {value} is a rise of {rise} since last month ({previous}), "
    "much more than usual (up to about {limit} a month)."
)
MSG_PERIOD_LOCKED = N_(
    "Month {month} is closed for reports. Only an admin can change it. "
    "Send this month's figures instead."
)
MSG_PERIOD_FUTURE = N_("Month {month} has not started yet. Send this month's figures.")

DENOMINATOR_NAMES: dict[str, str] = {
    "population": N_("population"),
    "adults": N_("adult population"),
    "aged15": N_("population aged 15 and over"),
    "households": N_("number of households"),
    "businesses": N_("number of household businesses"),
}

IssueKind = Literal["over_denominator", "drop", "jump"]
_NUMBER_PARAMS = ("value", "previous", "rise", "limit", "denominator")


class ReportingWindow(StrEnum):
    """Whether figures for a month can be sent today."""

    OPEN = "open"  # the current month
    GRACE = "grace"  # last month, until the commune's grace day
    LOCKED = "locked"  # an older month: only an admin may change it
    FUTURE = "future"


@dataclass(frozen=True)
class Issue:
    """A problem with one reported value; blocking issues cannot be confirmed away."""

    code: str
    kind: IssueKind
    message_id: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.kind == "over_denominator"

    def render(self, t: Translator) -> str:
        """The issue in the translator's language: the code's name, numbers as written there."""
        params = dict(self.params)
        if self.code in CODE_LABELS:
            params["name"] = t.gettext(CODE_LABELS[self.code])
        for key in _NUMBER_PARAMS:
            if isinstance(params.get(key), int):
                params[key] = t.number(params[key])
        key = str(params.pop("denominator_key", ""))
        params["denominator_name"] = t.gettext(DENOMINATOR_NAMES.get(key, "population"))
        return t.gettext(self.message_id, **params)


@dataclass(frozen=True)
class CodeFacts:
    """What is known about one code of one village before this report."""

    denominator: int | None = None  # None: the village has no denominator set
    previous: int | None = None  # the latest value before the reported period
    rises: tuple[int, ...] = ()  # recent month-to-month rises, oldest first


def month_label(period: dt.date) -> str:
    """Vietnamese-style month label, e.g. 3/2026."""
    return f"{period.month}/{period.year}"


def reporting_window(
    period: dt.date, today: dt.date, grace_day: int = DEFAULT_GRACE_DAY
) -> ReportingWindow:
    """Whether a month can be reported today: open, in grace, locked or in the future."""
    current = month_start(today)
    if period > current:
        return ReportingWindow.FUTURE
    if period == current:
        return ReportingWindow.OPEN
    if period == add_months(current, -1) and today.day <= grace_day:
        return ReportingWindow.GRACE
    return ReportingWindow.LOCKED


def period_problem(
    period: dt.date, today: dt.date, *, grace_day: int = DEFAULT_GRACE_DAY, is_admin: bool = False
) -> tuple[str, dict[str, Any]] | None:
    """The message (id, params) refusing a report for this month, or None if allowed."""
    window = reporting_window(period, today, grace_day)
    if window is ReportingWindow.FUTURE:
        return MSG_PERIOD_FUTURE, {"month": month_label(period)}
    if window is ReportingWindow.LOCKED and not is_admin:
        return MSG_PERIOD_LOCKED, {"month": month_label(period)}
    return None


def plausible_rise(rises: Sequence[int]) -> int:
    """The largest monthly rise accepted without asking, learned from the village's history."""
    positive = [r for r in rises if r >= 0]
    if len(positive) < HISTORY_MIN_STEPS:
        return NO_HISTORY_CAP
    spread = statistics.pstdev(positive)
    learned = max(2 * max(positive), statistics.fmean(positive) + 4 * spread)
    return max(MIN_BAND, math.ceil(learned))


def check_values(
    values: Mapping[str, int],
    facts: Mapping[str, CodeFacts],
    *,
    village: str,
    names: Mapping[str, str] | None = None,
    denominator_of: Mapping[str, str] | None = None,
) -> list[Issue]:
    """Every issue with a report, in the order the codes were given.

    ``names`` (by code) fill the messages' ``{name}`` for a caller that renders them
    itself; ``Issue.render`` names the known codes in the reader's language anyway.
    ``denominator_of`` defaults to each code's own denominator.
    """
    names = names or {}
    denominator_of = denominator_of or DENOMINATOR_OF
    issues: list[Issue] = []
    for code, value in values.items():
        fact = facts.get(code, CodeFacts())
        name = names.get(code, code)
        if fact.denominator is not None and value > fact.denominator:
            issues.append(
                Issue(
                    code,
                    "over_denominator",
                    MSG_OVER_DENOMINATOR,
                    {
                        "name": name,
                        "value": value,
                        "village": village,
                        "denominator": fact.denominator,
                        "denominator_key": denominator_of.get(code, "population"),
                    },
                )
            )
            continue
        if fact.previous is None:
            continue
        if value < fact.previous:
            issues.append(
                Issue(
                    code,
                    "drop",
                    MSG_DROP,
                    {"name": name, "value": value, "previous": fact.previous},
                )
            )
            continue
        limit = plausible_rise(fact.rises)
        rise = value - fact.previous
        if rise > limit:
            issues.append(
                Issue(
                    code,
                    "jump",
                    MSG_JUMP,
                    {
                        "name": name,
                        "value": value,
                        "previous": fact.previous,
                        "rise": rise,
                        "limit": limit,
                    },
                )
            )
    return issues


def rises_of(series: Sequence[int]) -> tuple[int, ...]:
    """Month-to-month differences of a chronological series of values."""
    return tuple(b - a for a, b in zip(series, series[1:], strict=False))
