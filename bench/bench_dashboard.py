"""Dashboard overview page: server time for one commune of a province-scale database.

The dataset: 100 communes × 15 villages × 7 tally codes × 36 months of cumulative
figures (378,000 tally rows), denominators per village, and the Trung Hội plan
(26 indicators, 44 tasks) imported into every commune with progress, evidence and audit
entries. Then a signed-in officer of one commune requests the overview page (and the
other pages, for reference) through the real aiohttp application; the time is measured
from request to complete response, in process (no network). The overview is measured
with its SVG charts (``bot.web.charts``: each tally code's rate by month and its villages
ranked): the bench checks they are in the page and counts them. Then a province
officer requests the province page (every commune ranked by plan progress, by this
month's reports, by a figure's rate).

The bars: overview p95 ≤ 150 ms (#16) and province page p95 ≤ 1 s (#18), on SQLite and
on PostgreSQL.

    .venv/bin/python bench/bench_dashboard.py --database sqlite --requests 50
    .venv/bin/python bench/bench_dashboard.py --database postgres --requests 50
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import machine, summary_ms

TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
CODES = ("vneid", "cks", "ssk", "tknh", "dvc", "kns", "ttktm")
PAGES = ("/", "/villages", "/tasks", "/units", "/audit")
# What a province officer reads (#18: the province view over 100 communes, bar 1 s p95).
PROVINCE_PAGES = ("/province", "/province?by=reports", "/province?by=vneid")
PROVINCE_BAR_MS = 1000


def _clock() -> dt.datetime:
    return NOW


def build_province(
    engine: Any, communes: int, villages: int, months: int, seed: int = 57
) -> dict[str, int]:
    """Fill an empty, migrated database with a province; return row counts."""
    from sqlalchemy import insert
    from sqlmodel import Session, select

    from bot.dates import add_months
    from bot.plans.imports import apply_plan, find_plan_file, read_plan_file, validate
    from db.models import (
        AuditEntry,
        Commune,
        Evidence,
        Tally,
        Task,
        TaskProgress,
        Village,
        VillageDenominator,
    )

    rng = random.Random(seed)
    plan_path = find_plan_file("trung-hoi")
    assert plan_path is not None
    spec, problems = validate(read_plan_file(plan_path), today=TODAY)
    assert spec is not None, problems
    first_month = add_months(TODAY.replace(day=1), -(months - 1))
    counts = {"tallies": 0, "tasks": 0, "progress": 0, "evidence": 0}
    with Session(engine) as session:
        for c in range(communes):
            commune = Commune(slug=f"xa-{c:03d}", name=f"Xã Số {c:03d}", province="Tỉnh Mẫu")
            session.add(commune)
            session.flush()
            assert commune.id is not None
            village_rows = [
                Village(commune_id=commune.id, name=f"Thôn {v + 1}", position=v)
                for v in range(villages)
            ]
            session.add_all(village_rows)
            session.flush()
            denominators: list[dict[str, Any]] = []
            tallies: list[dict[str, Any]] = []
            for village in village_rows:
                assert village.id is not None
                population = rng.randint(600, 2400)
                adults = population * 7 // 10
                businesses = max(5, population // 40)
                denominators.append(
                    {
                        "village_id": village.id,
                        "valid_from": dt.date(2023, 1, 1),
                        "population": population,
                        "adults": adults,
                        "aged15": population * 8 // 10,
                        "households": population // 4,
                        "businesses": businesses,
                    }
                )
                for code in CODES:
                    cap = businesses if code == "ttktm" else adults
                    value = rng.randint(0, cap // 10)
                    for m in range(months):
                        value = min(cap, value + rng.randint(0, max(1, cap // 40)))
                        tallies.append(
                            {
                                "village_id": village.id,
                                "period": add_months(first_month, m),
                                "code": code,
                                "value": value,
                                "flagged": False,
                                "updated_at": NOW,
                            }
                        )
            session.execute(insert(VillageDenominator), denominators)
            session.execute(insert(Tally), tallies)
            counts["tallies"] += len(tallies)
            result = apply_plan(session, spec, commune_id=commune.id, now=NOW)
            assert result.plan_id is not None
            task_ids = session.exec(select(Task.id).where(Task.plan_id == result.plan_id)).all()
            progress: list[dict[str, Any]] = []
            evidence: list[dict[str, Any]] = []
            audit: list[dict[str, Any]] = []
            for task_id in task_ids:
                counts["tasks"] += 1
                if rng.random() < 0.6:
                    for k in range(rng.randint(1, 4)):
                        progress.append(
                            {
                                "task_id": task_id,
                                "period": "",
                                "percent": min(100, 20 * (k + 1)),
                                "note": "Đang làm",
                                "at": NOW - dt.timedelta(days=30 * (4 - k)),
                            }
                        )
                if rng.random() < 0.25:
                    status = rng.choice(("pending", "approved", "rejected"))
                    evidence.append(
                        {
                            "task_id": task_id,
                            "period": "",
                            "kind": "document",
                            "file_name": "bao-cao.pdf",
                            "mime_type": "application/pdf",
                            "size": 1000,
                            "sha256": "0" * 64,
                            "storage_path": "00/none.pdf",
                            "url": "",
                            "uploaded_at": NOW - dt.timedelta(days=3),
                            "status": status,
                            "review_reason": "",
                        }
                    )
                    audit.append(
                        {
                            "commune_id": commune.id,
                            "actor_name": "Văn phòng",
                            "action": "evidence.approve",
                            "entity": "evidence",
                            "entity_id": "0",
                            "reason": "",
                            "at": NOW - dt.timedelta(days=1),
                        }
                    )
            if progress:
                session.execute(insert(TaskProgress), progress)
            if evidence:
                session.execute(insert(Evidence), evidence)
            if audit:
                session.execute(insert(AuditEntry), audit)
            counts["progress"] += len(progress)
            counts["evidence"] += len(evidence)
        session.commit()
    return counts


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh database URL of the requested kind."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tocns-bench-dash-") as directory:
            yield f"sqlite:///{directory}/tocns.sqlite3"
        return
    from sqlalchemy import create_engine, text

    from tests.postgres import postgres_server

    with postgres_server() as url:
        if url is None:
            raise SystemExit("PostgreSQL is not installed")
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS tocns_bench"))
            conn.execute(text("CREATE DATABASE tocns_bench"))
        admin.dispose()
        yield url.rsplit("/", 1)[0] + "/tocns_bench"


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Build the dataset, sign an officer in and time the pages."""
    from aiohttp.test_utils import TestClient, TestServer
    from sqlmodel import Session, select

    from bot.admin.province_officers import add_officer
    from bot.app import build_services
    from bot.core.dispatcher import Dispatcher
    from bot.core.people import grant
    from bot.settings import Settings
    from bot.tallies.codes import CODE_NAMES
    from bot.web.auth import create_login_link
    from bot.web.server import build_web_app
    from db.engine import upgrade
    from db.models import Commune, Person

    directory = Path(tempfile.mkdtemp(prefix="tocns-bench-data-"))
    settings = Settings(_env_file=None, data_dir=directory, database_url=url, log_level="WARNING")  # type: ignore[call-arg]
    services = build_services(settings, _clock)
    upgrade(services.engine)  # already at head: only checks
    counts = json.loads(
        Path(tempfile.gettempdir(), "tocns-bench-dashboard-counts.json").read_text()
    )
    with Session(services.engine) as session:
        commune = session.exec(
            select(Commune).where(Commune.slug == f"xa-{args.communes // 2:03d}")
        ).one()
        person = Person(commune_id=commune.id, display_name="Cán bộ Văn phòng")
        session.add(person)
        session.flush()
        assert person.id is not None
        grant(session, person.id, "office")
        link = create_login_link(session, person.id, NOW, "")
        officer = add_officer(session, "Cán bộ Tỉnh", "Tỉnh Mẫu", NOW)
        assert officer.id is not None
        province_link = create_login_link(session, officer.id, NOW, "")
        session.commit()
    app = build_web_app(services, Dispatcher(services))
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    timings: dict[str, dict[str, float]] = {}

    async def sign_in(client: Any, link: str) -> None:
        form = await (await client.get(link)).text()  # the sign-in button's form and token
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token, form
        response = await client.post(link, data={"csrf": token.group(1)}, allow_redirects=False)
        assert response.status == 303, response.status

    async def time_pages(client: Any, paths: tuple[str, ...], requests: int) -> None:
        for path in paths:
            latencies = []
            for index in range(requests + 3):
                began = time.perf_counter()
                response = await client.get(path)
                body = await response.read()
                elapsed = time.perf_counter() - began
                assert response.status == 200 and body, path
                if index >= 3:  # the first requests warm caches (templates, guides)
                    latencies.append(elapsed)
            timings[path] = {k: round(v, 1) for k, v in summary_ms(latencies).items()}

    async with TestClient(TestServer(app)) as client:
        await sign_in(client, link)
        overview = await (await client.get("/")).text()
        charts = {
            "line": overview.count('<svg class="svg-chart svg-line-chart"'),
            "ranking": overview.count('<svg class="svg-chart svg-ranking"'),
        }
        assert charts == {"line": len(CODE_NAMES), "ranking": len(CODE_NAMES)}, charts
        await time_pages(client, PAGES, args.requests)
    async with TestClient(TestServer(app)) as client:
        await sign_in(client, province_link)
        page = await (await client.get("/province")).text()
        assert page.count("/province/communes/") >= args.communes, "every commune is listed"
        await time_pages(client, PROVINCE_PAGES, max(args.requests // 5, 5))
    services.engine.dispose()
    return {
        "database": args.database,
        "dataset": {
            "communes": args.communes,
            "villages": args.communes * args.villages,
            "months": args.months,
            **counts,
        },
        "gc_freeze": args.gc_freeze,
        "requests_per_page": args.requests,
        "overview_svg_charts": charts,
        "ms": timings,
        "overview_p95_ms": timings["/"]["p95"],
        "bar_ms": 150,
        "province_p95_ms": max(timings[path]["p95"] for path in PROVINCE_PAGES),
        "province_bar_ms": PROVINCE_BAR_MS,
        "ok": timings["/"]["p95"] <= 150
        and all(timings[path]["p95"] <= PROVINCE_BAR_MS for path in PROVINCE_PAGES),
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--villages", type=int, default=15)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--gc-freeze", action="store_true", help="freeze the start-up heap first (gc.freeze)"
    )
    parser.add_argument("--build-into", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_into:  # the child process: fill the database and leave
        build_only(args.build_into, args)
        return
    with database(args.database) as url:
        # The dataset is built in a child process, so the measured process holds only what
        # a freshly started server holds.
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--build-into",
                url,
                "--communes",
                str(args.communes),
                "--villages",
                str(args.villages),
                "--months",
                str(args.months),
            ],
            check=True,
        )
        build_seconds = time.perf_counter() - started
        result = asyncio.run(measure(url, args))
    result["build_seconds"] = round(build_seconds, 1)
    print(json.dumps(result, ensure_ascii=False, indent=1))


def build_only(url: str, args: argparse.Namespace) -> None:
    """Migrate and fill the database (run in a child process)."""
    from sqlmodel import create_engine

    from db.engine import upgrade

    engine = create_engine(url)
    upgrade(engine)
    counts = build_province(engine, args.communes, args.villages, args.months)
    engine.dispose()
    Path(tempfile.gettempdir(), "tocns-bench-dashboard-counts.json").write_text(json.dumps(counts))


if __name__ == "__main__":
    main()
