"""A polling worker SIGKILLed mid-burst: reports lost, counted twice, left unanswered.

The whole app (`tests/faults/polling_worker.py`: both channels polling, the reminder
runner) runs in its own process against fake Telegram and Zalo servers in this one.
``--reports`` team members, each of their own village, have each sent one one-line
report before the worker starts; the worker is SIGKILLed once ``--kill-after`` replies
went out, then started again and left to finish. Counted from the database and the
fakes: reports lost (a village without its figures), counted twice (a figure with two
rows), and people never answered.

    .venv/bin/python bench/bench_kill.py --reports 1440 --kill-after 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import ROOT, machine

from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN, ZALO_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI, text_event


def chat_of(index: int) -> tuple[str, str]:
    """Two in three on Zalo (the channel most villages use), the others on Telegram."""
    return ("telegram", str(820_000 + index)) if index % 3 == 0 else ("zalo", f"zkb-{index}")


def figures(index: int) -> dict[str, int]:
    return {"vneid": 40 + index % 900, "cks": 3 + index % 70}


async def start(url: str, data: str, telegram: str, zalo: str) -> asyncio.subprocess.Process:
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.faults.polling_worker",
        url,
        data,
        telegram,
        zalo,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "TOCNS_UNSENT_REPLY_GRACE": "2", "TOCNS_LOG_LEVEL": "ERROR"},
    )
    assert worker.stdout is not None
    line = await asyncio.wait_for(worker.stdout.readline(), 120)
    assert line.strip() == b"ready", line
    return worker


async def run(reports: int, kill_after: int, url: str | None) -> dict[str, Any]:
    from sqlmodel import Session, select

    from bot.app import build_services, prepare_database
    from db.models import Tally
    from tests.conftest import make_settings
    from tests.factories import add_member_villages

    with tempfile.TemporaryDirectory(prefix="tocns-kill-") as data:
        url = url or f"sqlite:///{Path(data) / 'kill.sqlite3'}"
        services = build_services(make_settings(Path(data), url, sample_history=False))
        prepare_database(services)
        villages = add_member_villages(services, reports, chat_of, name="Thôn thử")
        async with (
            FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as telegram,
            FakeZaloAPI(token=ZALO_TEST_TOKEN) as zalo,
        ):
            for index in range(reports):
                text = " ".join(f"{code} {value}" for code, value in figures(index).items())
                channel, chat = chat_of(index)
                if channel == "telegram":
                    telegram.push_text(int(chat), text)
                else:
                    zalo.push_event(text_event(chat, text, message_id=f"m{index:019d}"))

            def answered() -> list[int]:
                counts = []
                for index in range(reports):
                    channel, chat = chat_of(index)
                    fake: Any = telegram if channel == "telegram" else zalo
                    key: Any = int(chat) if channel == "telegram" else chat
                    counts.append(len(fake.sent_to(key, "sendMessage")))
                return counts

            def recorded() -> dict[int, dict[str, list[int]]]:
                with Session(services.engine) as session:
                    rows = session.exec(select(Tally)).all()
                found: dict[int, dict[str, list[int]]] = {}
                for row in rows:
                    found.setdefault(row.village_id, {}).setdefault(row.code, []).append(row.value)
                return found

            started = time.monotonic()
            worker = await start(url, data, telegram.origin, zalo.origin)
            while sum(answered()) < kill_after:
                await asyncio.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
            at_kill = sum(1 for v in villages if v in recorded())
            worker = await start(url, data, telegram.origin, zalo.origin)
            expected = {v: {c: [n] for c, n in figures(i).items()} for i, v in enumerate(villages)}
            progress, still = (-1, -1), time.monotonic()
            while time.monotonic() - still < 20:  # done, or nothing moved for 20 s
                got = recorded()
                done = sum(1 for v in villages if got.get(v) == expected[v])
                replied = sum(1 for n in answered() if n)
                if done == reports and replied == reports:
                    break
                if (done, replied) != progress:
                    progress, still = (done, replied), time.monotonic()
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)  # a late duplicate would show now
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
            elapsed = time.monotonic() - started
            got = recorded()
            counts = answered()
        services.engine.dispose()
    lost = [i for i, v in enumerate(villages) if v not in got]
    doubled = [
        i for i, v in enumerate(villages) if any(len(x) > 1 for x in got.get(v, {}).values())
    ]
    unanswered = [i for i, n in enumerate(counts) if n == 0]
    return {
        "reports": reports,
        "recorded_at_kill": at_kill,
        "lost": lost,
        "doubled": doubled,
        "unanswered": unanswered,
        "answered_twice": sum(1 for n in counts if n > 1),
        "seconds": elapsed,
    }


def _postgres_database(stack: contextlib.ExitStack) -> str:
    from sqlalchemy import create_engine, text

    from tests.postgres import postgres_server

    server = stack.enter_context(postgres_server())
    if server is None:
        raise SystemExit("PostgreSQL is not installed (see tests/postgres.py)")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE bench_kill"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/bench_kill"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1440)
    parser.add_argument("--kill-after", type=int, default=500, help="replies before the kill")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = _postgres_database(stack) if args.postgres else None
        result = asyncio.run(run(args.reports, args.kill_after, url))
    print(f"Machine: {machine()}")
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{database}: {result['reports']} reports (1 in 3 on Telegram, 2 in 3 on Zalo), "
        "worker SIGKILLed "
        f"after {args.kill_after} replies ({result['recorded_at_kill']} reports committed by then)"
    )
    print("| lost | counted twice | never answered | answered twice | seconds |")
    print("|---|---|---|---|---|")
    print(
        f"| {len(result['lost'])} | {len(result['doubled'])} | {len(result['unanswered'])} "
        f"| {result['answered_twice']} | {result['seconds']:.0f} |"
    )
    for name in ("lost", "doubled", "unanswered"):
        if result[name]:
            print(f"{name}: {[chat_of(i) for i in result[name][:10]]}")


if __name__ == "__main__":
    main()
