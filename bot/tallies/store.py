"""Reading and writing tallies in the caller's transaction (never commits).

Handlers ask this module for the facts a report is validated against, record a
report (with an audit entry for every correction or confirmed oddity), and load
the plain inputs the progress arithmetic works on.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import audit
from bot.dates import add_months
from bot.plans.target import TargetSpec, effective_target
from bot.tallies.codes import CODE_NAMES, DENOMINATOR_OF
from bot.tallies.progress import CodeTarget, CommuneProgress, VillageInput, commune_progress
from bot.tallies.validation import DEFAULT_GRACE_DAY, CodeFacts, rises_of
from db.models import (
    AuditEntry,
    Commune,
    Indicator,
    IndicatorTarget,
    Person,
    Plan,
    ProgressVersion,
    Tally,
    Village,
    VillageDenominator,
)
from db.progress_version import GLOBAL as PROGRESS_GLOBAL
from db.progress_version import pending as progress_pending

HISTORY_MONTHS = 12  # months of history the plausibility band learns from
_DENOMINATOR_KEYS = ("population", "adults", "aged15", "households", "businesses")

# The statements every report runs, built once: building a select costs more than
# running it on SQLite (see bench/bench_updates.py). Parameters are bound per call.
_DENOMINATORS = (
    sa_select(*(col(getattr(VillageDenominator, key)) for key in _DENOMINATOR_KEYS))
    .where(
        col(VillageDenominator.village_id) == bindparam("village_id"),
        col(VillageDenominator.valid_from) <= bindparam("end"),
    )
    .order_by(col(VillageDenominator.valid_from).desc())
    .limit(1)
)
_SERIES = sa_select(col(Tally.code), col(Tally.period), col(Tally.value)).where(
    col(Tally.village_id) == bindparam("village_id"),
    col(Tally.period) >= bindparam("since"),
    col(Tally.period) <= bindparam("until"),
)
_MONTH_ROWS = select(Tally).where(
    col(Tally.village_id) == bindparam("village_id"), col(Tally.period) == bindparam("period")
)
_MONTH_CODES = sa_select(col(Tally.code)).where(
    col(Tally.village_id) == bindparam("village_id"), col(Tally.period) == bindparam("period")
)


@dataclass
class Recorded:
    """What a report changed, and what the village still has to report this month."""

    village: str
    period: dt.date
    recorded: dict[str, int] = field(default_factory=dict)  # new or changed values
    unchanged: dict[str, int] = field(default_factory=dict)  # the same value sent again
    corrected: dict[str, tuple[int, int]] = field(default_factory=dict)  # code: (old, new)
    missing: list[str] = field(default_factory=list)


def grace_day(session: Session, commune_id: int | None) -> int:
    """The day of the month until which last month stays open (commune setting)."""
    if commune_id is None:
        return DEFAULT_GRACE_DAY
    commune = session.get(Commune, commune_id)
    raw = (commune.settings if commune else {}).get("report_grace_day", DEFAULT_GRACE_DAY)
    try:
        return max(0, min(28, int(raw)))
    except (TypeError, ValueError):
        return DEFAULT_GRACE_DAY


def denominators(session: Session, village_id: int, period: dt.date) -> dict[str, int] | None:
    """The village's denominators that apply at the end of a month."""
    end = add_months(period, 1) - dt.timedelta(days=1)
    row = session.execute(_DENOMINATORS, {"village_id": village_id, "end": end}).first()
    if row is None:
        return None
    return {key: int(value) for key, value in zip(_DENOMINATOR_KEYS, row, strict=True)}


def village_series(
    session: Session, village_id: int, since: dt.date, until: dt.date
) -> dict[str, dict[dt.date, int]]:
    """The village's values by code and month in [since, until]."""
    rows = session.execute(_SERIES, {"village_id": village_id, "since": since, "until": until})
    series: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for code, period, value in rows:
        series[code][period] = value
    return dict(series)


def load_facts(
    session: Session, village_id: int, period: dt.date
) -> tuple[dict[str, CodeFacts], dict[str, int]]:
    """Facts to validate a report for a month against, and the values already recorded."""
    counts = denominators(session, village_id, period)
    months = [add_months(period, offset) for offset in range(-HISTORY_MONTHS, 0)]
    series = village_series(session, village_id, months[0], period)
    facts: dict[str, CodeFacts] = {}
    current: dict[str, int] = {}
    for code in CODE_NAMES:
        values = series.get(code, {})
        if period in values:
            current[code] = values[period]
        monthly: list[int] = []
        last: int | None = None
        for month in months:
            if month in values:
                last = values[month]
            if last is not None:
                monthly.append(last)
        facts[code] = CodeFacts(
            denominator=counts.get(DENOMINATOR_OF[code]) if counts else None,
            previous=monthly[-1] if monthly else None,
            rises=rises_of(monthly),
        )
    return facts, current


def missing_codes(session: Session, village_id: int, period: dt.date) -> list[str]:
    """Codes the village has not reported for this month, in the usual order."""
    done = set(
        session.execute(_MONTH_CODES, {"village_id": village_id, "period": period}).scalars()
    )
    return [code for code in CODE_NAMES if code not in done]


def record_report(
    session: Session,
    *,
    village: Village,
    period: dt.date,
    values: Mapping[str, int],
    actor: Person,
    now: dt.datetime,
    flagged: Mapping[str, str] | None = None,
    previous: Mapping[str, int | None] | None = None,
) -> Recorded:
    """Upsert one value per code for a village and month; audit corrections and flags.

    ``flagged`` maps codes the reporter confirmed despite a warning to the reason
    (e.g. "drop"); ``previous`` gives last month's values to show in their audit.
    """
    assert village.id is not None
    flagged = flagged or {}
    result = Recorded(village=village.name, period=period)
    existing = {
        row.code: row
        for row in session.exec(
            _MONTH_ROWS, params={"village_id": village.id, "period": period}
        ).all()
    }
    for code, value in values.items():
        row = existing.get(code)
        reason = flagged.get(code, "")
        if row is not None and row.value == value and not reason:
            result.unchanged[code] = value
            continue
        old = row.value if row is not None else None
        if row is None:
            row = Tally(village_id=village.id, period=period, code=code, value=value)
        row.value = value
        # A new value carries only its own flag: one that needs no confirmation
        # replaces a flagged one and leaves the office's queue (bot.tallies.flags).
        row.flagged = bool(reason)
        row.reported_by = actor.id
        row.updated_at = now
        session.add(row)
        result.recorded[code] = value
        if old is not None and old != value:
            result.corrected[code] = (old, value)
        if old is not None or reason:
            before = old if old is not None else (previous or {}).get(code)
            audit.record(
                session,
                commune_id=village.commune_id,
                action="tally.correct" if old is not None else "tally.flag",
                entity="tally",
                entity_id=f"{village.id}:{period.isoformat()}:{code}",
                actor=actor,
                old=None if before is None else {"value": before},
                new={
                    "value": value,
                    "period": period.isoformat(),
                    "code": code,
                    "village": village.name,
                },
                reason=reason or "correction",
                at=now,
            )
    session.flush()
    result.missing = [code for code in CODE_NAMES if code not in existing and code not in values]
    return result


# ------------------------------------------------------------------ progress inputs


def load_targets(session: Session, commune_id: int, year: int) -> dict[str, CodeTarget]:
    """Rate targets per tally code from the commune's plans: this year's, else the next set."""
    return load_all_targets(session, [commune_id], year).get(commune_id, {})


def load_all_targets(
    session: Session, commune_ids: Iterable[int] | None, year: int
) -> dict[int, dict[str, CodeTarget]]:
    """Rate targets per commune and tally code, in one query."""
    query = (
        sa_select(  # type: ignore[call-overload]
            Plan.commune_id,
            Indicator.tally_code,
            IndicatorTarget.year,
            IndicatorTarget.op,
            IndicatorTarget.value,
            IndicatorTarget.low,
            IndicatorTarget.raw,
            Indicator.text,
        )
        .join(Plan, Plan.id == Indicator.plan_id)
        .join(IndicatorTarget, IndicatorTarget.indicator_id == Indicator.id)
        .where(Indicator.tally_code.is_not(None), Indicator.active, IndicatorTarget.year >= year)  # type: ignore[union-attr]
        .order_by(IndicatorTarget.year, Indicator.position)
    )
    if commune_ids is not None:
        query = query.where(Plan.commune_id.in_(list(commune_ids)))  # type: ignore[attr-defined]
    best: dict[int, dict[str, CodeTarget]] = defaultdict(dict)
    rows = session.connection().execute(query)
    for commune_id, code, target_year, op, value, low, raw, text in rows:
        if op == "achieved":  # "Đạt": the number the indicator's text names, if any
            _shown, spec = effective_target(raw, TargetSpec(op), text)
            op, value = spec.op, spec.value
        number = low if op == "between" else value
        if (
            code not in DENOMINATOR_OF
            or number is None
            or op not in (">=", ">", "between")
            or not 0 < number <= 100  # "0" asks nothing yet
        ):
            continue
        current = best[commune_id].get(code)
        if current is None or (current.year != year and target_year == year):
            best[commune_id][code] = CodeTarget(rate=float(number) / 100, year=int(target_year))
    return dict(best)


def load_inputs(
    session: Session, commune_ids: Iterable[int] | None, period: dt.date, months: int
) -> dict[int, list[VillageInput]]:
    """Villages with denominators and values from ``months`` before ``period`` to it.

    Plain column queries on the session's connection: this runs over a whole province.
    """
    conn = session.connection()
    start = add_months(period, -months)
    ids = list(commune_ids) if commune_ids is not None else None
    village = Village.__table__.c  # type: ignore[attr-defined]
    tally = Tally.__table__.c  # type: ignore[attr-defined]
    denominator = VillageDenominator.__table__.c  # type: ignore[attr-defined]
    village_query = sa_select(village.id, village.commune_id, village.name).order_by(
        village.commune_id, village.position, village.id
    )
    in_scope = None
    if ids is not None:
        village_query = village_query.where(village.commune_id.in_(ids))
        in_scope = sa_select(village.id).where(village.commune_id.in_(ids)).scalar_subquery()
    villages = conn.execute(village_query).all()

    end = add_months(period, 1) - dt.timedelta(days=1)
    denominator_query = sa_select(
        denominator.village_id, denominator.valid_from, *(denominator[k] for k in _DENOMINATOR_KEYS)
    ).where(denominator.valid_from <= end)
    if in_scope is not None:
        denominator_query = denominator_query.where(denominator.village_id.in_(in_scope))
    chosen: dict[int, tuple[dt.date, dict[str, int]]] = {}
    for village_id, valid_from, *numbers in conn.execute(denominator_query):
        known = chosen.get(village_id)
        if known is None or valid_from > known[0]:
            chosen[village_id] = (valid_from, dict(zip(_DENOMINATOR_KEYS, numbers, strict=True)))

    series: dict[int, dict[str, dict[dt.date, int]]] = defaultdict(lambda: defaultdict(dict))
    window = sa_select(tally.village_id, tally.code, tally.period, tally.value).where(
        tally.period >= start, tally.period <= period
    )
    if in_scope is not None:
        window = window.where(tally.village_id.in_(in_scope))
    for village_id, code, month, value in conn.execute(window):
        series[village_id][code][month] = value
    # Values older than the window still count (cumulative snapshots carry forward), but
    # only villages without a value at the window's start need looking further back.
    gaps = [
        vid
        for vid, *_ in villages
        if any(start not in series[vid].get(code, {}) for code in CODE_NAMES)
    ]
    for chunk_start in range(0, len(gaps), 500):
        chunk = gaps[chunk_start : chunk_start + 500]
        latest = (
            sa_select(tally.village_id, tally.code, func.max(tally.period).label("p"))
            .where(tally.period < start, tally.village_id.in_(chunk))
            .group_by(tally.village_id, tally.code)
            .subquery()
        )
        before = sa_select(tally.village_id, tally.code, tally.period, tally.value).join(
            latest,
            and_(
                tally.village_id == latest.c.village_id,
                tally.code == latest.c.code,
                tally.period == latest.c.p,
            ),
        )
        for village_id, code, month, value in conn.execute(before):
            series[village_id][code][month] = value

    out: dict[int, list[VillageInput]] = defaultdict(list)
    for village_id, commune_id, name in villages:
        counts = chosen.get(village_id)
        out[commune_id].append(
            VillageInput(
                village_id=village_id,
                name=name,
                denominators=counts[1] if counts else None,
                series=dict(series[village_id]) if village_id in series else {},
            )
        )
    return dict(out)


VIEW_CACHE_SIZE = 256
_VERSION = sa_select(col(ProgressVersion.commune_id), col(ProgressVersion.token)).where(
    col(ProgressVersion.commune_id).in_([bindparam("commune_id"), PROGRESS_GLOBAL])
)


@dataclass(frozen=True)
class MonthMarks:
    """Which codes each village of a commune reported for a month, and which of its
    figures wait for a check (recorded despite a drop or a jump warning)."""

    reported: Mapping[int, frozenset[str]]  # village id: codes with a value this month
    flagged: Mapping[int, tuple[str, tuple[str, ...]]]  # village id: (name, codes)

    def missing(self, village_id: int) -> list[str]:
        """Codes the village has not reported for the month, in the usual order."""
        done = self.reported.get(village_id, frozenset())
        return [code for code in CODE_NAMES if code not in done]


# One query for a commune's month: every tally row's village, code and flag, with the
# village's name; ordered as ``flagged_figures`` lists them.
_MONTH_MARKS = (
    sa_select(col(Village.id), col(Village.name), col(Tally.code), col(Tally.flagged))
    .join(Tally, col(Tally.village_id) == col(Village.id))
    .where(
        col(Village.commune_id) == bindparam("commune_id"), col(Tally.period) == bindparam("period")
    )
    .order_by(col(Village.name), col(Tally.code))
)


def load_marks(session: Session, commune_id: int, period: dt.date) -> MonthMarks:
    """A commune's marks for a month, from the database (see ``month_marks``)."""
    reported: dict[int, set[str]] = defaultdict(set)
    flagged: dict[int, tuple[str, list[str]]] = {}
    rows = session.execute(_MONTH_MARKS, {"commune_id": commune_id, "period": period})
    for village_id, name, code, is_flagged in rows:
        reported[village_id].add(code)
        if is_flagged:
            flagged.setdefault(village_id, (name, []))[1].append(code)
    return MonthMarks(
        reported={vid: frozenset(codes) for vid, codes in reported.items()},
        flagged={vid: (name, tuple(codes)) for vid, (name, codes) in flagged.items()},
    )


class ViewCache:
    """The last computed progress views, per (database, commune, month, months), and the
    last month marks per (database, commune, month), each kept with the commune's
    version tokens (db.progress_version) it was computed under.

    A hit costs one primary-key query: the tokens change in every transaction that
    writes an input (a village, a tally or its flag, ...), in any worker, so equal
    tokens mean the entry is still right. The tokens are read before the inputs: a
    write landing in between makes the stored tokens old (a later miss), never a stale
    entry under new tokens. Inside a transaction that wrote an input the tokens are not
    new yet (they are written at commit): the entry is computed from the session and
    not kept.
    """

    def __init__(self, size: int = VIEW_CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fetch(
        self, session: Session, commune_id: int, wanted: list[tuple[Any, Callable[[], Any]]]
    ) -> list[Any]:
        """Each wanted (key, compute): the cached value while the tokens are the same."""
        tokens = tuple(sorted(session.execute(_VERSION, {"commune_id": commune_id}).all()))
        trusted = any(row[0] == PROGRESS_GLOBAL for row in tokens)  # seeded by the migration
        # This transaction wrote an input (flushed by the query above): its tokens are
        # written at commit, so these are old ones; the value is computed, never kept.
        trusted = trusted and not progress_pending(session)
        url = str(session.get_bind().engine.url)
        found: list[Any] = []
        for tail, compute in wanted:
            key = (url, commune_id, *tail)
            with self._lock:
                known = self._entries.get(key)
                if trusted and known is not None and known[0] == tokens:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    found.append(known[1])
                    continue
                self.misses += 1
            value = compute()
            if trusted:
                with self._lock:
                    self._entries[key] = (tokens, value)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.size:
                        self._entries.popitem(last=False)
            found.append(value)
        return found

    def _view_wanted(
        self, session: Session, commune_id: int, period: dt.date, months: int
    ) -> tuple[Any, Callable[[], CommuneProgress]]:
        def compute() -> CommuneProgress:
            inputs = load_inputs(session, [commune_id], period, months).get(commune_id, [])
            return commune_progress(
                inputs, period, load_targets(session, commune_id, period.year), months
            )

        return ("view", period, months), compute

    def view(
        self, session: Session, commune_id: int, period: dt.date, months: int
    ) -> CommuneProgress:
        [view] = self._fetch(
            session, commune_id, [self._view_wanted(session, commune_id, period, months)]
        )
        return view  # type: ignore[no-any-return]

    def marks(self, session: Session, commune_id: int, period: dt.date) -> MonthMarks:
        [marks] = self._fetch(
            session, commune_id, [self._marks_wanted(session, commune_id, period)]
        )
        return marks  # type: ignore[no-any-return]

    def view_and_marks(
        self, session: Session, commune_id: int, period: dt.date, months: int
    ) -> tuple[CommuneProgress, MonthMarks]:
        view, marks = self._fetch(
            session,
            commune_id,
            [
                self._view_wanted(session, commune_id, period, months),
                self._marks_wanted(session, commune_id, period),
            ],
        )
        return view, marks

    @staticmethod
    def _marks_wanted(
        session: Session, commune_id: int, period: dt.date
    ) -> tuple[Any, Callable[[], MonthMarks]]:
        return ("marks", period), lambda: load_marks(session, commune_id, period)


VIEWS = ViewCache()


def commune_view(
    session: Session, commune_id: int, period: dt.date, months: int = 6
) -> CommuneProgress:
    """One commune's progress for a month: every village, every code, trend and targets.

    Served from ``VIEWS`` while none of its inputs changed; treat it as read-only."""
    return VIEWS.view(session, commune_id, period, months)


def month_marks(session: Session, commune_id: int, period: dt.date) -> MonthMarks:
    """Which codes each village of the commune reported for the month, and its flagged
    figures; served from ``VIEWS`` while no village or tally of the commune changed."""
    return VIEWS.marks(session, commune_id, period)


def commune_view_and_marks(
    session: Session, commune_id: int, period: dt.date, months: int = 6
) -> tuple[CommuneProgress, MonthMarks]:
    """``commune_view`` and ``month_marks`` under one read of the version tokens."""
    return VIEWS.view_and_marks(session, commune_id, period, months)


def province_view(
    session: Session, period: dt.date, months: int = 6, commune_ids: Iterable[int] | None = None
) -> dict[int, CommuneProgress]:
    """Every commune's progress for a month, or these communes' (one province's); roll
    them up with ``progress.rollup``. Communes without a village are left out."""
    ids = list(commune_ids) if commune_ids is not None else None
    inputs = load_inputs(session, ids, period, months)
    targets = load_all_targets(session, ids, period.year)
    return {
        commune_id: commune_progress(villages, period, targets.get(commune_id, {}), months)
        for commune_id, villages in inputs.items()
    }


def audit_trail(session: Session, village_id: int) -> list[AuditEntry]:
    """Every tally audit entry of a village, oldest first."""
    prefix = f"{village_id}:"
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.entity == "tally", AuditEntry.entity_id.startswith(prefix))
            .order_by(AuditEntry.at, AuditEntry.id)  # type: ignore[arg-type]
        ).all()
    )


def describe(values: Mapping[str, Any]) -> str:
    """A compact "vneid=45 cks=12" rendering for logs."""
    return " ".join(f"{k}={v}" for k, v in values.items())


def flagged_figures(
    session: Session, commune_id: int, period: dt.date
) -> dict[int, tuple[str, list[str]]]:
    """The figures of a month recorded despite a drop or a jump warning, by village:
    {village id: (village name, [codes])}. They stay marked until the office clears them."""
    rows = session.exec(
        select(Village.id, Village.name, Tally.code)
        .join(Tally, col(Tally.village_id) == col(Village.id))
        .where(
            Village.commune_id == commune_id,
            Tally.period == period,
            col(Tally.flagged).is_(True),
        )
        .order_by(col(Village.name), col(Tally.code))
    ).all()
    flagged: dict[int, tuple[str, list[str]]] = {}
    for village_id, name, code in rows:
        assert village_id is not None
        flagged.setdefault(village_id, (name, []))[1].append(code)
    return flagged
