"""Progress against targets, per village and per commune: pure arithmetic over plain data.

Counts are cumulative snapshots: a village that did not report this month keeps its
last value. The pace is the average monthly rise over the recent window, and the
projection says in which month the target is reached if that pace holds.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.dates import add_months
from bot.tallies.codes import DENOMINATOR_OF

TREND_MONTHS = 6  # the trend shows this many months before the current one, plus it


@dataclass(frozen=True)
class VillageInput:
    """One village: its denominators and, per code, its values by month (first day)."""

    village_id: int
    name: str
    denominators: Mapping[str, int] | None
    series: Mapping[str, Mapping[dt.date, int]]


@dataclass(frozen=True)
class CodeProgress:
    """Where one code stands: value, rate, target, gap, trend and projection."""

    code: str
    value: int
    denominator: int | None
    rate: float | None  # 0..1
    target: float | None  # 0..1, this year's target (or the next one set)
    target_year: int | None
    gap: int | None  # people still needed to reach the target
    trend: tuple[int | None, ...]  # values of the last months, oldest first
    pace: float | None  # average rise per month over the trend
    projected: dt.date | None  # month the target is reached at this pace

    @property
    def reached(self) -> bool:
        return self.gap == 0


@dataclass(frozen=True)
class VillageProgress:
    village_id: int
    name: str
    reported: bool  # sent at least one figure for this month
    codes: dict[str, CodeProgress]


@dataclass(frozen=True)
class CommuneProgress:
    period: dt.date
    totals: dict[str, CodeProgress]
    villages: list[VillageProgress]
    ranking: dict[str, list[int]] = field(default_factory=dict)  # village ids, best rate first

    @property
    def reported(self) -> list[VillageProgress]:
        return [v for v in self.villages if v.reported]

    @property
    def missing(self) -> list[VillageProgress]:
        return [v for v in self.villages if not v.reported]


@dataclass(frozen=True)
class CodeTarget:
    """A rate target for one code (0..1) and the year it is for."""

    rate: float
    year: int


def trend_of(
    series: Mapping[dt.date, int], period: dt.date, months: int = TREND_MONTHS
) -> tuple[int | None, ...]:
    """The value at the end of each of the last ``months`` + 1 months, carrying values forward."""
    if not series:
        return (None,) * (months + 1)
    keys = sorted(series)
    out: list[int | None] = []
    for offset in range(-months, 1):
        month = add_months(period, offset)
        index = bisect.bisect_right(keys, month) - 1
        out.append(series[keys[index]] if index >= 0 else None)
    return tuple(out)


def pace_of(trend: Sequence[int | None]) -> float | None:
    """Average monthly rise from the first known value of the trend to the last."""
    known = [(i, v) for i, v in enumerate(trend) if v is not None]
    if len(known) < 2 or known[-1][0] == known[0][0]:
        return None
    (first_index, first), (last_index, last) = known[0], known[-1]
    return (last - first) / (last_index - first_index)


def code_progress(
    code: str,
    trend: Sequence[int | None],
    denominator: int | None,
    target: CodeTarget | None,
    period: dt.date,
) -> CodeProgress:
    """Combine a trend, a denominator and a target into one code's progress."""
    value = trend[-1] or 0
    rate = value / denominator if denominator else None
    gap = projected = None
    if target is not None and denominator:
        gap = max(0, math.ceil(target.rate * denominator - 1e-9) - value)
    pace = pace_of(trend)
    if gap and pace and pace > 0:
        projected = add_months(period, math.ceil(gap / pace))
    return CodeProgress(
        code=code,
        value=value,
        denominator=denominator,
        rate=rate,
        target=target.rate if target else None,
        target_year=target.year if target else None,
        gap=gap,
        trend=tuple(trend),
        pace=pace,
        projected=projected,
    )


def village_progress(
    village: VillageInput,
    period: dt.date,
    targets: Mapping[str, CodeTarget],
    months: int = TREND_MONTHS,
) -> VillageProgress:
    """One village's progress on every code for a month."""
    codes = {}
    for code in DENOMINATOR_OF:
        trend = trend_of(village.series.get(code, {}), period, months)
        denominator = (
            village.denominators.get(DENOMINATOR_OF[code]) if village.denominators else None
        )
        codes[code] = code_progress(code, trend, denominator, targets.get(code), period)
    reported = any(period in values for values in village.series.values())
    return VillageProgress(village.village_id, village.name, reported, codes)


def commune_progress(
    villages: Sequence[VillageInput],
    period: dt.date,
    targets: Mapping[str, CodeTarget],
    months: int = TREND_MONTHS,
) -> CommuneProgress:
    """Every village's progress, the commune totals and the ranking of villages."""
    rows = [village_progress(v, period, targets, months) for v in villages]
    totals = {
        code: _total(code, [r.codes[code] for r in rows], targets.get(code), period)
        for code in DENOMINATOR_OF
    }
    ranking = {
        code: [
            r.village_id
            for r in sorted(rows, key=lambda r, c=code: (-(r.codes[c].rate or -1.0), r.name))  # type: ignore[misc]
        ]
        for code in DENOMINATOR_OF
    }
    return CommuneProgress(period, totals, rows, ranking)


def rollup(
    communes: Sequence[CommuneProgress],
    period: dt.date,
    targets: Mapping[str, CodeTarget] | None = None,
) -> dict[str, CodeProgress]:
    """Province (or district) totals over many communes."""
    return {
        code: _total(code, [c.totals[code] for c in communes], (targets or {}).get(code), period)
        for code in DENOMINATOR_OF
    }


def _total(
    code: str, parts: Sequence[CodeProgress], target: CodeTarget | None, period: dt.date
) -> CodeProgress:
    width = max((len(p.trend) for p in parts), default=1)
    trend: list[int | None] = []
    for index in range(width):
        known = [
            p.trend[index] for p in parts if index < len(p.trend) and p.trend[index] is not None
        ]
        trend.append(sum(v for v in known if v is not None) if known else None)
    denominators = [p.denominator for p in parts if p.denominator]
    denominator = sum(d for d in denominators if d) or None
    return code_progress(code, trend, denominator, target, period)
