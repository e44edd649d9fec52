"""The province tier (#18): the communes of a province ranked, for a province officer.

Each commune's figures come from the same places as its own dashboard: the tally rates
and this month's completeness from ``bot.tallies.store.province_view`` (one roll-up of
the province's communes), plan progress from the commune's newest plan (red tasks,
overdue tasks, evidence waiting for review). A province officer reads; nothing here
changes anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from bot.admin.province_officers import province_communes
from bot.dates import month_start
from bot.plans.store import newest_plans, pending_counts, tasks_of_plans
from bot.tallies.codes import CODE_NAMES
from bot.tallies.store import province_view
from bot.text import fold
from bot.web.access import EVERYTHING, Viewer
from bot.web.views import Completeness, completeness, filter_tasks
from db.models import Commune

PLAN = "plan"  # ranked by plan progress: fewest red, then overdue, then evidence waiting
REPORTS = "reports"  # ranked by this month's report completeness
RANKINGS = (PLAN, REPORTS, *CODE_NAMES)


@dataclass(frozen=True)
class CommuneRow:
    """One commune on the province page and in the summary sheet."""

    commune_id: int
    name: str
    plan_title: str
    tasks: int
    red: int
    overdue: int
    pending: int  # evidence waiting for review
    completeness: Completeness  # villages that reported this month / all villages
    rates: dict[str, float | None]  # the commune's rate of each tally code (0..1)
    targets: dict[str, float | None]


@dataclass(frozen=True)
class ProvinceData:
    """The province page: its communes ranked one way, each with its rank."""

    province: str
    month: dt.date
    by: str
    rows: list[CommuneRow]  # best first
    ranks: list[int | None]  # rank of each row ("–" for a rate not known)


def commune_in_province(session: Session, viewer: Viewer, commune_id: int) -> Commune | None:
    """The commune if it is one of the officer's province, else None."""
    commune = session.get(Commune, commune_id)
    if commune is None or not viewer.reads_province or commune.province != viewer.province:
        return None
    return commune


def commune_rows(session: Session, province: str, today: dt.date) -> list[CommuneRow]:
    """Every commune of a province with its plan progress and this month's figures, by name."""
    communes = [c for c in province_communes(session, province) if c.id is not None]
    month = month_start(today)
    ids = [c.id for c in communes if c.id is not None]
    progress = province_view(session, month, months=1, commune_ids=ids)
    # A few queries for the whole province, not a few per commune.
    plans = newest_plans(session, ids)
    tasks_by_plan = tasks_of_plans(session, [p.id for p in plans.values() if p.id], today)
    pending = pending_counts(session, ids)
    rows = []
    for commune in communes:
        assert commune.id is not None
        plan = plans.get(commune.id)
        tasks = tasks_by_plan.get(plan.id or 0, []) if plan is not None else []
        figures = progress.get(commune.id)
        rows.append(
            CommuneRow(
                commune_id=commune.id,
                name=commune.name,
                plan_title=plan.title if plan is not None else "",
                tasks=len(tasks),
                red=sum(1 for v in tasks if v.status.red),
                overdue=len(filter_tasks(tasks, today, deadline="overdue")),
                pending=pending.get(commune.id, 0),
                completeness=completeness(figures, EVERYTHING)
                if figures is not None
                else Completeness(0, 0, []),
                rates={code: figures.totals[code].rate if figures else None for code in CODE_NAMES},
                targets={
                    code: figures.totals[code].target if figures else None for code in CODE_NAMES
                },
            )
        )
    return sorted(rows, key=lambda r: (fold(r.name), r.commune_id))


def ranked(rows: list[CommuneRow], by: str) -> tuple[list[CommuneRow], list[int | None]]:
    """The communes best first by one ranking, and each one's rank (None: no figure)."""
    if by == PLAN:
        order = sorted(rows, key=lambda r: (r.red, r.overdue, r.pending, fold(r.name)))
        return order, list(range(1, len(order) + 1))
    if by == REPORTS:
        order = sorted(
            rows,
            key=lambda r: (r.completeness.total == 0, -r.completeness.share, fold(r.name)),
        )
        return order, [i + 1 if r.completeness.total else None for i, r in enumerate(order)]
    if by not in CODE_NAMES:
        raise ValueError(f"unknown ranking {by!r}")
    order = sorted(rows, key=lambda r: (r.rates[by] is None, -(r.rates[by] or 0), fold(r.name)))
    return order, [i + 1 if r.rates[by] is not None else None for i, r in enumerate(order)]


def province(session: Session, viewer: Viewer, today: dt.date, by: str = PLAN) -> ProvinceData:
    """The officer's province: its communes ranked by plan progress, reports or a rate."""
    assert viewer.reads_province and viewer.province is not None
    rows, ranks = ranked(commune_rows(session, viewer.province, today), by or PLAN)
    return ProvinceData(viewer.province, month_start(today), by or PLAN, rows, ranks)
