"""A broadcast to 10,000 people against a fake Telegram enforcing 30 messages/s (429 beyond).

The outbox is drained by a separate process (``tests/faults/broadcast_worker.py``), as ``tocns run`` would; with
``--kill sigkill`` (or ``sigterm``) that process is killed at a random moment and started
again at once. The fake server records every message it accepted: duplicates and losses
are counted per chat, the rate from the accepted messages' timestamps.

    .venv/bin/python bench/bench_broadcast.py [--recipients 10000] [--kill none|sigterm|sigkill] [--seed N]

With ``--postgres --workers N`` the database is a throwaway PostgreSQL server
(``tests/postgres.py``) and N sending processes drain the same outbox at once, sharing
the platform's limit through the database; ``--kill`` then kills the first of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import machine  # noqa: E402

LIMIT = 30  # messages per second the fake accepts


# ------------------------------------------------------------------ the sending process


# ------------------------------------------------------------------ the benchmark


def prepare(directory: Path, recipients: int, url: str | None = None) -> tuple[str, float]:
    """A database (SQLite unless ``url``) with the sample commune, ``recipients`` team
    members and one broadcast."""
    from bot.app import build_services, prepare_database
    from bot.settings import Settings
    from tests.faults.broadcast_worker import add_recipients_and_broadcast

    url = url or f"sqlite:///{directory}/tocns.sqlite3"
    settings = Settings(
        _env_file=None, data_dir=directory, database_url=url, telegram_token=None, zalo_token=None
    )  # type: ignore[call-arg]
    services = build_services(settings)
    prepare_database(services)
    seconds = add_recipients_and_broadcast(services, recipients)
    services.engine.dispose()
    return url, seconds


def _postgres_database(stack: contextlib.ExitStack) -> str:
    from sqlalchemy import create_engine, text

    from tests.postgres import postgres_server

    server = stack.enter_context(postgres_server())
    if server is None:
        raise SystemExit("PostgreSQL is not installed (see tests/postgres.py)")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE bench_broadcast"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/bench_broadcast"


async def bench(
    recipients: int, kill: str, seed: int, *, workers: int = 1, postgres: bool = False
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        url = _postgres_database(stack) if postgres else None
        return await _bench(recipients, kill, seed, workers, url)


async def _bench(
    recipients: int, kill: str, seed: int, workers: int, database_url: str | None
) -> dict[str, Any]:
    from sqlmodel import Session, select

    from db.engine import make_engine
    from db.models import OutboxMessage
    from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN
    from tests.fakes.telegram_api import FakeTelegramAPI

    directory = Path(tempfile.mkdtemp(prefix="tocns-broadcast-"))
    url, enqueue_seconds = await asyncio.to_thread(prepare, directory, recipients, database_url)
    rng = random.Random(seed)
    expected = recipients / LIMIT
    kill_at = rng.uniform(0.1, 0.8) * expected if kill != "none" else None
    runs: list[dict[str, Any]] = []
    killed = False
    sent_at_kill = 0
    async with FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake:
        fake.rate_limit(per_second=LIMIT, per_chat_per_second=1)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        command = [
            sys.executable,
            "-m",
            "tests.faults.broadcast_worker",
            url,
            str(directory / "outbox-journal"),
            fake.base_url,
            fake.base_file_url,
            TELEGRAM_TEST_TOKEN,
        ]
        started = time.perf_counter()

        async def slot(number: int) -> None:
            nonlocal killed, sent_at_kill
            while True:
                process = await asyncio.create_subprocess_exec(
                    *command, env=env, stdout=asyncio.subprocess.PIPE
                )
                waited = asyncio.create_task(process.communicate())
                victim = number == 0 and kill_at is not None and not killed
                if victim:
                    assert kill_at is not None
                    remaining = kill_at - (time.perf_counter() - started)
                    done, _ = await asyncio.wait({waited}, timeout=max(0.0, remaining))
                    if not done:
                        process.send_signal(signal.SIGKILL if kill == "sigkill" else signal.SIGTERM)
                        killed = True
                        sent_at_kill = len(fake.sent)
                out, _ = await waited
                runs.append(
                    {
                        "worker": number,
                        "returncode": process.returncode,
                        "output": [
                            json.loads(line)
                            for line in out.decode().splitlines()
                            if line.startswith("{")
                        ],
                    }
                )
                if victim and killed:
                    continue  # restart at once after the kill
                break

        await asyncio.gather(*(slot(n) for n in range(workers)))
        wall = time.perf_counter() - started
        sends = [c for c in fake.sent if c.method == "sendMessage"]
        per_chat = Counter(int(c.chat_id) for c in sends)
        times = sorted(c.at for c in sends)
    engine = make_engine(url)
    with Session(engine) as session:
        statuses = Counter(r for r in session.exec(select(OutboxMessage.status)).all())
    engine.dispose()
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    delivered = len(per_chat)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    downtime = max(gaps) if killed and gaps else 0.0
    rate = (len(times) - 1) / span if span else float("nan")
    active_rate = (len(times) - 1) / (span - downtime) if span else float("nan")
    return {
        "recipients": recipients,
        "workers": workers,
        "database": "postgresql" if database_url else "sqlite",
        "kill": kill,
        "seed": seed,
        "kill_after_s": round(kill_at, 1) if kill_at is not None else None,
        "sent_before_kill": sent_at_kill if killed else None,
        "enqueue_seconds": round(enqueue_seconds, 1),
        "wall_seconds": round(wall, 1),
        "accepted_messages": len(sends),
        "delivered_chats": delivered,
        "duplicates": duplicates,
        "losses": recipients - delivered,
        "rate_per_s": round(rate, 2),
        "rate_share_of_limit": round(rate / LIMIT, 4),
        "rate_excluding_restart_per_s": round(active_rate, 2),
        "rate_excluding_restart_share": round(active_rate / LIMIT, 4),
        "restart_gap_s": round(downtime, 2),
        "http_429": fake.rate_limited,
        "outbox_statuses": dict(statuses),
        "worker_runs": runs,
        "machine": machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--kill", choices=["none", "sigterm", "sigkill"], default="none")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--workers", type=int, default=1, help="sending processes at once")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    args = parser.parse_args()
    if args.workers > 1 and not args.postgres:
        parser.error("several workers need --postgres (SQLite deployments run one sender)")
    result = asyncio.run(
        bench(args.recipients, args.kill, args.seed, workers=args.workers, postgres=args.postgres)
    )
    print(json.dumps(result, ensure_ascii=False, indent=1))
    ok = (
        result["duplicates"] == 0
        and result["losses"] == 0
        and result["rate_excluding_restart_share"] >= 0.95
        and result["http_429"] == 0
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
