"""Progress views at province scale: one commune's view and the province roll-up.

A synthetic province: 100 communes × 15 villages × 7 codes × 36 months of cumulative
tallies (378,000 rows), each commune with a plan whose indicators carry 2026 targets
for three codes. Measured on SQLite and on PostgreSQL (a throwaway server started by
tests.postgres), each query run in a fresh session:
- one commune's progress view (all villages, all codes, current month, 6-month trend,
  targets, ranking): bar ≤ 100 ms;
- the province roll-up (every commune, then the totals): bar ≤ 1 s.

    .venv/bin/python bench/bench_progress.py --communes 100 --villages 15 --months 36
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import machine, percentile
from sqlalchemy import Engine, insert
from sqlmodel import Session

from bot.dates import add_months
from bot.tallies.codes import CODE_NAMES
from bot.tallies.progress import rollup
from bot.tallies.store import commune_view, province_view
from db.engine import make_engine, upgrade
from db.models import Commune, Indicator, IndicatorTarget, Plan, Tally, Village, VillageDenominator

PERIOD = dt.date(2026, 3, 1)


def build(engine: Engine, communes: int, villages: int, months: int, seed: int = 7) -> int:
    """Fill an empty, migrated database; return the number of tally rows."""
    rng = random.Random(seed)
    first = add_months(PERIOD, -(months - 1))
    rows = 0
    with engine.begin() as conn:
        conn.execute(
            insert(Commune),
            [
                {
                    "slug": f"xa-{c}",
                    "name": f"Xã {c}",
                    "settings": {},
                    "is_sample": False,
                    "created_at": dt.datetime.now(dt.UTC),
                }
                for c in range(communes)
            ],
        )
        conn.execute(
            insert(Village),
            [
                {"commune_id": c + 1, "name": f"Thôn {v + 1}", "kind": "thôn", "position": v}
                for c in range(communes)
                for v in range(villages)
            ],
        )
        denominators = []
        tallies: list[dict[str, Any]] = []
        for village_id in range(1, communes * villages + 1):
            population = rng.randint(400, 2500)
            denominators.append(
                {
                    "village_id": village_id,
                    "valid_from": dt.date(2023, 1, 1),
                    "population": population,
                    "adults": int(population * 0.72),
                    "aged15": int(population * 0.8),
                    "households": population // 4,
                    "businesses": max(3, population // 80),
                }
            )
            for code in CODE_NAMES:
                value = 0
                step = rng.randint(1, 12)
                for m in range(months):
                    value += rng.randint(0, step)
                    tallies.append(
                        {
                            "village_id": village_id,
                            "period": add_months(first, m),
                            "code": code,
                            "value": value,
                            "flagged": False,
                        }
                    )
            if len(tallies) > 50_000:
                conn.execute(insert(Tally), tallies)
                rows += len(tallies)
                tallies = []
        conn.execute(insert(Tally), tallies)
        rows += len(tallies)
        conn.execute(insert(VillageDenominator), denominators)
        conn.execute(
            insert(Plan),
            [
                {
                    "commune_id": c + 1,
                    "slug": "ke-hoach",
                    "title": "Kế hoạch",
                    "monitoring": {},
                    "imported_at": dt.datetime.now(dt.UTC),
                }
                for c in range(communes)
            ],
        )
        conn.execute(
            insert(Indicator),
            [
                {
                    "plan_id": c + 1,
                    "number": str(i + 1),
                    "position": i,
                    "text": code,
                    "unit_of_measure": "%",
                    "coordinating": [],
                    "tally_code": code,
                    "active": True,
                }
                for c in range(communes)
                for i, code in enumerate(("vneid", "cks", "ssk"))
            ],
        )
        conn.execute(
            insert(IndicatorTarget),
            [
                {"indicator_id": i + 1, "year": 2026, "raw": "≥ 70", "op": ">=", "value": 70.0}
                for i in range(communes * 3)
            ],
        )
    return rows


def measure(engine: Engine, communes: int, samples: int, repeats: int) -> dict[str, Any]:
    """Time one commune's view (fresh session each) and the province roll-up."""
    rng = random.Random(1)
    with Session(engine) as session:  # warm the connection pool and statement caches
        commune_view(session, 1, PERIOD)
    commune_times = []
    for commune_id in [rng.randint(1, communes) for _ in range(samples)]:
        started = time.perf_counter()
        with Session(engine) as session:
            view = commune_view(session, commune_id, PERIOD)
        commune_times.append(time.perf_counter() - started)
        assert view.villages and view.totals["vneid"].target == 0.7
    with Session(engine) as session:  # one untimed roll-up: the database pages are read once
        province_view(session, PERIOD)
    province_times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with Session(engine) as session:
            views = province_view(session, PERIOD)
            totals = rollup(list(views.values()), PERIOD)
        province_times.append(time.perf_counter() - started)
        assert len(views) == communes and totals["vneid"].value > 0
    return {
        "commune_p50_ms": percentile(commune_times, 50) * 1000,
        "commune_p95_ms": percentile(commune_times, 95) * 1000,
        "commune_max_ms": max(commune_times) * 1000,
        "province_median_s": statistics.median(province_times),
        "province_p95_s": percentile(province_times, 95),
        "province_max_s": max(province_times),
    }


def run(label: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    rows = build(engine, args.communes, args.villages, args.months)
    load = time.perf_counter() - started
    result = {
        "database": label,
        "rows": rows,
        "load_s": load,
        **measure(engine, args.communes, args.samples, args.repeats),
    }
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--villages", type=int, default=15)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--samples", type=int, default=50, help="commune views timed")
    parser.add_argument("--repeats", type=int, default=5, help="province roll-ups timed")
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="tocns-bench-") as directory:
        if "sqlite" in args.databases:
            results.append(run("SQLite", f"sqlite:///{Path(directory) / 'bench.sqlite3'}", args))
        if "postgres" in args.databases:
            from tests.postgres import postgres_server

            with postgres_server() as url:
                if url is None:
                    print("PostgreSQL not installed: skipped")
                else:
                    results.append(run("PostgreSQL", url, args))
    print(f"Machine: {machine()}")
    print(f"{args.communes} communes × {args.villages} villages × 7 codes × {args.months} months\n")
    print(
        "| database | tally rows | commune view p50 ms | p95 ms | max ms | province roll-up median s | p95 s | max s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['database']} | {r['rows']:,} | {r['commune_p50_ms']:.1f} | {r['commune_p95_ms']:.1f} | "
            f"{r['commune_max_ms']:.1f} | {r['province_median_s']:.2f} | {r['province_p95_s']:.2f} | "
            f"{r['province_max_s']:.2f} |"
        )


if __name__ == "__main__":
    main()
