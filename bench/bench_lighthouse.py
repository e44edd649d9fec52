"""Lighthouse accessibility score of every dashboard page, at 390 px and at 1366 px.

Starts the dashboard on a fresh sample database (the sample commune, its plan and its
invented history, as ``tocns run`` loads them), signs in an admin (who may open every
commune page) and a province officer, and runs Lighthouse (accessibility only) on each
page with the session cookie passed as an extra header: once with a 390 × 844 phone
emulation, once with the desktop preset at 1366 × 900. Prints a table of the scores.

The bar (issue #16): ≥ 95 on every page at both sizes.

Lighthouse is installed project-locally with npm (bench/lighthouse/package.json and its
lock file; node_modules is not committed); Chromium is Debian's /usr/bin/chromium:

    (cd bench/lighthouse && npm ci)
    .venv/bin/python bench/bench_lighthouse.py
    .venv/bin/python bench/bench_lighthouse.py --only /tasks --only /villages --json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness import ROOT, machine

LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
BAR = 95
SIZES: dict[str, list[str]] = {
    "390": [
        "--form-factor=mobile",
        "--screenEmulation.mobile",
        "--screenEmulation.width=390",
        "--screenEmulation.height=844",
        "--screenEmulation.deviceScaleFactor=3",
    ],
    "1366": [
        "--preset=desktop",
        "--screenEmulation.width=1366",
        "--screenEmulation.height=900",
        "--screenEmulation.deviceScaleFactor=1",
    ],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def prepare(directory: Path) -> tuple[Any, dict[str, str], list[tuple[str, str | None]]]:
    """The services on a sample database, the session cookies and the pages to score.

    Each page is (path, whose cookie) — None for the sign-in page, opened signed out.
    """
    from sqlmodel import Session, col, select

    from bot.admin.province_officers import add_officer
    from bot.app import build_services, prepare_database
    from bot.core.people import grant
    from bot.web.auth import create_login_link, open_session
    from db.models import Commune, FeedbackReport, Person, PersonRole, Task

    settings_cls = __import__("bot.settings", fromlist=["Settings"]).Settings
    settings = settings_cls(
        _env_file=None,
        data_dir=directory,
        database_url=f"sqlite:///{directory}/tocns.sqlite3",
        log_level="WARNING",
        telegram_token=None,
        zalo_token=None,
    )
    services = build_services(settings, _now)
    prepare_database(services)  # the sample commune, its plan and its history
    now = _now()
    with Session(services.engine) as session:
        commune = session.exec(select(Commune)).first()
        assert commune is not None and commune.id is not None
        if not commune.province:
            commune.province = "Tỉnh Mẫu"
            session.add(commune)
        admin = Person(commune_id=commune.id, display_name="Quản Trị Xã")
        session.add(admin)
        session.flush()
        assert admin.id is not None
        grant(session, admin.id, "admin")
        officer = add_officer(session, "Cán Bộ Tỉnh", commune.province or "Tỉnh Mẫu", now)
        assert officer.id is not None
        # A unit officer (the lead of the first task) and a village team member.
        first = session.exec(
            select(Task).where(col(Task.lead_unit_id).is_not(None)).order_by(col(Task.id))
        ).first()
        assert first is not None and first.id is not None
        unit_officer = Person(
            commune_id=commune.id, display_name="Cán Bộ Đơn Vị", unit_id=first.lead_unit_id
        )
        session.add(unit_officer)
        session.flush()
        assert unit_officer.id is not None
        grant(session, unit_officer.id, "unit")
        team = session.exec(
            select(Person)
            .join(PersonRole, col(PersonRole.person_id) == Person.id)
            .where(Person.commune_id == commune.id, PersonRole.role == "team")
        ).first()
        cookies = {
            "admin": open_session(session, admin.id, now).token,
            "province": open_session(session, officer.id, now).token,
            "unit": open_session(session, unit_officer.id, now).token,
        }
        if team is not None and team.id is not None:
            cookies["team"] = open_session(session, team.id, now).token
        own_task = first.id
        login = create_login_link(session, admin.id, now, "")
        tasks = list(session.exec(select(Task.id).order_by(col(Task.id)).limit(2)))
        person = session.exec(
            select(Person.id).where(Person.commune_id == commune.id, Person.id != admin.id)
        ).first()
        report = session.exec(select(FeedbackReport.id)).first()
        commune_id = commune.id
        session.commit()
    pages: list[tuple[str, str | None]] = [(login, None)]
    paths = [
        "/",
        "/villages",
        "/tasks",
        "/tasks?status=red",
        *(f"/tasks/{task}" for task in tasks),
        "/units",
        "/content",
        "/audit",
        "/review",
        "/tallies/flagged",
        "/plan",
        "/announcements",
        "/feedback",
        "/feedback/stats",
        *([f"/feedback/{report}"] if report else []),
        "/setup",
        "/people",
        *([f"/people/{person}"] if person else []),
    ]
    pages += [(path, "admin") for path in paths]
    pages += [("/", "unit"), ("/tasks", "unit"), (f"/tasks/{own_task}", "unit")]
    if "team" in cookies:
        pages += [("/", "team"), ("/villages", "team")]
    pages += [
        (path, "province")
        for path in ("/province", "/province?by=reports", f"/province/communes/{commune_id}")
    ]
    return services, cookies, pages


async def lighthouse(url: str, cookie: str | None, size: str) -> dict[str, Any]:
    """Run Lighthouse (accessibility only) on one page; its score and failed audits."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--only-categories=accessibility",
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        "--throttling-method=provided",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        *SIZES[size],
    ]
    if cookie is not None:
        command.append("--extra-headers=" + json.dumps({"Cookie": f"tocns_session={cookie}"}))
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url} ({size}): {err.decode()[-2000:]}")
    report = json.loads(out)
    if report.get("runtimeError"):  # e.g. the page answered 401 or 404
        raise RuntimeError(f"{url} ({size}): {report['runtimeError']}")
    category = report["categories"]["accessibility"]
    failed = [
        ref["id"]
        for ref in category["auditRefs"]
        if ref["weight"] and report["audits"][ref["id"]]["score"] not in (1, None)
    ]
    final = report.get("finalDisplayedUrl") or report.get("finalUrl") or url
    return {"score": round(category["score"] * 100), "failed": failed, "final_url": final}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Serve the dashboard and score every page at both sizes."""
    from aiohttp import web

    from bot.core.dispatcher import Dispatcher
    from bot.web.server import build_web_app

    directory = Path(tempfile.mkdtemp(prefix="tocns-bench-lighthouse-"))
    services, cookies, pages = prepare(directory)
    if args.only:
        pages = [(p, who) for p, who in pages if p in args.only]
    runner = web.AppRunner(build_web_app(services, Dispatcher(services)))
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    try:
        for path, who in pages:
            row: dict[str, Any] = {"page": path if who else "/login/…", "as": who or "-"}
            for size in args.size:
                result = await lighthouse(base + path, cookies[who] if who else None, size)
                if who and "/login" in result["final_url"]:
                    raise RuntimeError(f"{path}: not signed in ({result['final_url']})")
                row[size] = result["score"]
                row[f"failed_{size}"] = result["failed"]
            rows.append(row)
            print(
                f"{row['page']:<32} {row['as']:<9} "
                + "  ".join(
                    f"{size}: {row[size]:>3} {row[f'failed_{size}']}" for size in args.size
                ),
                file=sys.stderr,
            )
    finally:
        await runner.cleanup()
        services.engine.dispose()
    lowest = {size: min(row[size] for row in rows) for size in args.size}
    return {
        "pages": rows,
        "lowest": lowest,
        "bar": BAR,
        "ok": all(score >= BAR for score in lowest.values()),
        "machine": machine(),
    }


def table(result: dict[str, Any], sizes: list[str]) -> str:
    """The scores as a Markdown table."""
    lines = [
        "| Page | Signed in as | " + " | ".join(f"{s} px" for s in sizes) + " |",
        "|---|---|" + "---:|" * len(sizes),
    ]
    for row in result["pages"]:
        lines.append(
            f"| `{row['page']}` | {row['as']} | " + " | ".join(str(row[s]) for s in sizes) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", action="append", choices=sorted(SIZES), help="default: both")
    parser.add_argument("--only", action="append", help="score only this path (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    args.size = args.size or ["390", "1366"]
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is not installed: (cd bench/lighthouse && npm ci)")
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(table(result, args.size))
        print(f"\nlowest: {result['lowest']} (bar {BAR}); {result['machine']}")


if __name__ == "__main__":
    main()
