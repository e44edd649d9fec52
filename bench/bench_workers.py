"""Three `tocns run` workers on PostgreSQL, webhook mode behind a round-robin balancer.

The fake Telegram server (``tests/fakes/telegram_api.py``, in its own process so the
benchmark's own work does not skew its clock) accepts 30 messages/s and 1 per chat per
second, answering 429 beyond. Queued before the workers start:

* a broadcast to ``--recipients`` team members of the sample commune;
* ``--communes`` communes, each with the Trung Hội sample plan (``plans/``), one officer per
  unit and an office and a leader, all on Telegram. Their reminder policy's catch-up
  window is 31 days and their last planning pass is recorded 31 days ago, so the
  workers' first planning pass catches up **the month before the run**: every reminder,
  red alert and digest the plans implied from 31 days ago to now, due at once. (A month on an injected clock cannot be used: the shared send slots run on
  the database's clock; ``bench/bench_year.py`` checks the reminders' timing.)

Meanwhile residents write to the bot at ``--residents-per-second``: their updates are
POSTed to the balancer as Telegram's webhook would (another worker after an error or no
answer in 10 s: the same update again), and the workers' replies count towards the
same 30 messages/s. With ``--fault kill+outage`` one worker is SIGKILLed at 30 % of the
expected time and started again, and PostgreSQL is stopped for 20 s at 55 %.

Counted from the fake's record: outbox messages (text per chat) delivered twice or not
at all, residents never answered or answered twice with the same text, HTTP 429s, and
the combined rate from the first accepted message to the last.

    .venv/bin/python bench/bench_workers.py [--recipients 10000] [--communes 100]
        [--fault none|kill+outage] [--workers 3] [--fake-priority -10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import itertools
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness import ROOT, machine

LIMIT = 30  # messages per second the fake accepts
SECRET = "bench-workers-webhook-secret"
RESIDENT_BASE = 7_000_000  # chat id of the first resident
OFFICER_BASE = 3_000_000  # chat id of the first officer
QUESTIONS = (
    "cách kích hoạt VNeID mức 2",
    "chữ ký số là gì",
    "cach nop ho so dich vu cong truc tuyen",
    "/trogiup",
    "đăng ký khai sinh online",
)


# ------------------------------------------------------------------ the fake, in its own process


async def serve_fake(port_file: str, out_file: str, priority: int) -> None:
    """Run the fake Telegram server until SIGTERM; then write what it accepted.

    ``priority`` (a nice value, below 0 needs root): Telegram's servers do not share this
    machine's two CPUs with the workers, and a fake kept waiting for a CPU reads the
    requests queued meanwhile at one moment, bunched. How late its event loop ran is
    measured either way (``fake_loop_lag``)."""
    from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN
    from tests.fakes.telegram_api import FakeTelegramAPI

    if priority:
        os.setpriority(os.PRIO_PROCESS, 0, priority)
    # The fake keeps every call it answered (20,000 and more): Python's full collections
    # over them paused its event loop for up to 243 ms (2026-12-07), and the requests
    # queued meanwhile were counted at one moment. Nothing it keeps is cyclic.
    gc.disable()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    lags: list[float] = []
    late: list[tuple[float, float]] = []  # (when it ran again, how late), over 10 ms

    async def watch_loop() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            lag = time.monotonic() - before - 0.005
            lags.append(lag)
            if lag > 0.01:
                late.append((time.monotonic(), lag))

    async with FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake:
        fake.rate_limit(per_second=LIMIT, per_chat_per_second=1)
        Path(port_file).write_text(str(fake.port))
        watcher = asyncio.create_task(watch_loop())
        await stop.wait()
        watcher.cancel()
        sent = [
            [c.method, c.chat_id, c.text, c.at]
            for c in fake.sent
            if c.method in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText")
        ]
        refused = [[c.method, c.chat_id, c.at] for c in fake.failed]
        Path(out_file).write_text(
            json.dumps(
                {
                    "sent": sent,
                    "refused": refused,
                    "http_429": fake.rate_limited,
                    "loop_lag": {
                        "priority": priority,
                        "over_10_ms": sum(lag > 0.01 for lag in lags),
                        "over_30_ms": sum(lag > 0.03 for lag in lags),
                        "max_ms": round(1000 * max(lags, default=0.0), 1),
                        "over_10_ms_at": late,
                    },
                }
            )
        )


# ------------------------------------------------------------------ the database


def prepare(url: str, data: Path, recipients: int, communes: int) -> dict[str, Any]:
    """The sample commune with its broadcast, and ``communes`` communes with the sample plan."""
    from sqlmodel import Session, select

    from bot.app import build_services, prepare_database
    from bot.core.people import grant
    from bot.plans.imports.apply import import_plan
    from bot.plans.imports.read import find_plan_file, read_plan_file
    from bot.settings import Settings
    from db.models import ChatIdentity, Commune, JobMark, Person, Unit
    from tests.faults.broadcast_worker import add_recipients_and_broadcast

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data,
        database_url=url,
        telegram_token=None,
        zalo_token=None,
        sample_history=False,
    )
    services = build_services(settings)
    prepare_database(services)
    started = time.perf_counter()
    add_recipients_and_broadcast(services, recipients)
    path = find_plan_file("trung-hoi")
    assert path is not None
    now = services.clock()
    today = now.astimezone(services.tz).date()
    chats = itertools.count(OFFICER_BASE)
    officers = 0
    with Session(services.engine) as session:
        for number in range(communes):
            commune = Commune(slug=f"xa-{number:03d}", name=f"Xã Số {number:03d}", province="Tỉnh")
            session.add(commune)
            session.flush()
            assert commune.id is not None
            result = import_plan(
                session, read_plan_file(path), commune_id=commune.id, today=today, now=now
            )
            assert not result.problems, result.problems
            units = session.exec(select(Unit).where(Unit.commune_id == commune.id)).all()
            staff = [(f"Cán bộ {u.name}", "unit", u.id) for u in units]
            staff += [("Văn phòng", "office", None), ("Chủ tịch xã", "commune_leader", None)]
            for name, role, unit in staff:
                person = Person(commune_id=commune.id, display_name=name, unit_id=unit)
                session.add(person)
                session.flush()
                assert person.id is not None
                grant(session, person.id, role)
                session.add(
                    ChatIdentity(person_id=person.id, channel="telegram", chat_id=str(next(chats)))
                )
                officers += 1
            # The commune's last planning pass was a month ago: the first pass catches up.
            session.add(JobMark(name=f"reminders:{commune.id}", at=now - dt.timedelta(days=31)))
        # A month of catch-up: what the plans implied over the last 31 days is still sent.
        for commune in session.exec(select(Commune)).all():
            values = dict(commune.settings)
            values["reminders"] = {**values.get("reminders", {}), "catchup_hours": 31 * 24}
            commune.settings = values
            session.add(commune)
        session.commit()
    services.engine.dispose()
    return {"officers": officers, "prepare_seconds": round(time.perf_counter() - started, 1)}


def outbox_rows(url: str) -> list[tuple[str, str, str, str]]:
    """(status, kind, chat, text) of every outbox row that was due by now."""
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT status, kind, chat_id, content FROM outboxmessage "
                "WHERE due_at <= timezone('UTC', now())"
            )
        ).all()
    engine.dispose()
    result = []
    for status, kind, chat, content in rows:
        value = content if isinstance(content, dict) else json.loads(content)
        result.append((status, kind, chat, value.get("text") or ""))
    return result


def unfinished(url: str) -> int:
    """Outbox rows due by now and not yet settled."""
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM outboxmessage WHERE status IN "
                        "('pending', 'claimed', 'sending') AND due_at <= timezone('UTC', now())"
                    )
                ).scalar_one()
            )
    except Exception:  # noqa: BLE001 - the database is down (the outage): not finished
        return -1
    finally:
        engine.dispose()


# ------------------------------------------------------------------ workers and the balancer


def worker_env(url: str, data: Path, fake_port: int, port: int) -> dict[str, str]:
    """The environment of one `tocns run` worker in webhook mode."""
    origin = f"http://127.0.0.1:{fake_port}"
    from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN

    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TOCNS_DATABASE_URL": url,
        "TOCNS_DATA_DIR": str(data),  # one host: the workers share the data directory
        "TOCNS_TELEGRAM_TOKEN": TELEGRAM_TEST_TOKEN,
        "TOCNS_TELEGRAM_BASE_URL": f"{origin}/bot",
        "TOCNS_TELEGRAM_BASE_FILE_URL": f"{origin}/file/bot",
        "TOCNS_WEBHOOK_MODE": "true",
        "TOCNS_PUBLIC_BASE_URL": "https://balancer.invalid",
        "TOCNS_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TOCNS_LISTEN_PORT": str(port),
        "TOCNS_SAMPLE_HISTORY": "false",
        "TOCNS_LOG_LEVEL": "WARNING",
    }


async def start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from bot.cli import main; sys.exit(main(['run']))",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


async def wait_listening(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"no worker listening on {port}")


class Balancer:
    """Round-robin reverse proxy for webhook POSTs; a worker that refuses is skipped."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._next = itertools.cycle(range(len(ports)))
        self.forwarded = 0
        self.upstream_errors = 0

    async def start(self) -> int:
        import aiohttp
        from aiohttp import web

        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_post("/{path:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        await self.session.close()
        await self.runner.cleanup()

    async def forward(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web

        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() in ("content-type", SECRET_HDR)
        }
        for _ in range(len(self.ports)):
            port = self.ports[next(self._next)]
            try:
                async with self.session.post(
                    f"http://127.0.0.1:{port}{request.path}", data=body, headers=headers
                ) as answer:
                    text = await answer.text()
                    self.forwarded += 1
                    return web.Response(status=answer.status, text=text)
            except (aiohttp.ClientError, TimeoutError):
                self.upstream_errors += 1  # down (killed): the next worker
        return web.Response(status=502, text="no worker")


SECRET_HDR = "x-telegram-bot-api-secret-token"


async def telegram_webhook(balancer: int, update: dict[str, Any], stats: Counter[str]) -> None:
    """Deliver one update as Telegram does: again until a worker answers 200."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while True:
            try:
                async with session.post(
                    f"http://127.0.0.1:{balancer}/webhook/telegram",
                    json=update,
                    headers={SECRET_HDR: SECRET},
                ) as answer:
                    await answer.read()
                    if answer.status == 200:
                        stats["acknowledged"] += 1
                        return
                    stats[f"http_{answer.status}"] += 1
            except (aiohttp.ClientError, TimeoutError):
                stats["no_answer"] += 1
            stats["redelivered"] += 1
            await asyncio.sleep(1.0)


def resident_update(index: int) -> dict[str, Any]:
    user = {"id": RESIDENT_BASE + index, "is_bot": False, "first_name": f"Dân {index}"}
    return {
        "update_id": 500_000 + index,
        "message": {
            "message_id": 1 + index,
            "date": int(time.time()),
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "from": user,
            "text": QUESTIONS[index % len(QUESTIONS)],
        },
    }


# ------------------------------------------------------------------ the benchmark


async def run(args: argparse.Namespace, server: Any, url: str) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="tocns-workers-"))
    prepared = await asyncio.to_thread(prepare, url, data, args.recipients, args.communes)
    port_file, out_file = data / "fake.port", data / "fake.json"
    fake = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve-fake",
        str(port_file),
        str(out_file),
        "--fake-priority",
        str(args.fake_priority),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    while not port_file.exists() or not port_file.read_text():
        await asyncio.sleep(0.1)
    fake_port = int(port_file.read_text())
    from tests.postgres import _free_port

    ports = [_free_port() for _ in range(args.workers)]
    envs = [worker_env(url, data, fake_port, port) for port in ports]
    logs = [data / f"worker-{n}.log" for n in range(args.workers)]
    workers = [await start_worker(env, log) for env, log in zip(envs, logs, strict=True)]
    started = time.monotonic()
    await asyncio.gather(*(wait_listening(port) for port in ports))
    ready = time.monotonic() - started
    balancer = Balancer(ports)
    balancer_port = await balancer.start()
    expected_seconds = (args.recipients + 120 * args.communes) / LIMIT
    stats: Counter[str] = Counter()
    events: list[tuple[str, float]] = []
    pushes: set[asyncio.Task[None]] = set()
    residents = 0

    async def push_residents() -> None:
        nonlocal residents
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.8 * expected_seconds:
            due = int((time.monotonic() - t0) * args.residents_per_second)
            while residents < due:
                task = asyncio.create_task(
                    telegram_webhook(balancer_port, resident_update(residents), stats)
                )
                pushes.add(task)
                task.add_done_callback(pushes.discard)
                residents += 1
            await asyncio.sleep(0.05)

    async def faults() -> None:
        if args.fault == "none":
            return
        t0 = time.monotonic()
        await asyncio.sleep(0.3 * expected_seconds)
        victim = workers[1]
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        events.append(("sigkill worker 1", time.monotonic() - t0))
        workers[1] = await start_worker(envs[1], logs[1])
        events.append(("worker 1 restarted", time.monotonic() - t0))
        await asyncio.sleep(max(0.0, 0.55 * expected_seconds - (time.monotonic() - t0)))
        events.append(("postgresql stopped", time.monotonic() - t0))
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(20)
        await asyncio.to_thread(server.start)
        events.append(("postgresql started", time.monotonic() - t0))

    pusher = asyncio.create_task(push_residents())
    faulting = asyncio.create_task(faults())
    # Done when the residents are all acknowledged, the faults are over and nothing due is
    # left in the outbox (checked twice, 5 s apart); or after 5 minutes without progress.
    last, still = None, time.monotonic()
    while True:
        await asyncio.sleep(2)
        left = await asyncio.to_thread(unfinished, url)
        if pusher.done() and faulting.done() and not pushes and left == 0:
            await asyncio.sleep(5)
            if await asyncio.to_thread(unfinished, url) == 0:
                break
        if (left, stats["acknowledged"]) != last:
            last, still = (left, stats["acknowledged"]), time.monotonic()
        elif time.monotonic() - still > 300:
            break
    await asyncio.sleep(5)  # late duplicates would show now
    wall = time.monotonic() - started
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    await asyncio.gather(*(w.wait() for w in workers))
    await balancer.stop()
    fake.send_signal(signal.SIGTERM)
    await fake.wait()
    record = json.loads(out_file.read_text())
    rows = await asyncio.to_thread(outbox_rows, url)
    return summarise(args, record, rows, residents, stats, balancer, prepared, ready, wall, events)


def summarise(
    args: argparse.Namespace,
    record: dict[str, Any],
    rows: list[tuple[str, str, str, str]],
    residents: int,
    stats: Counter[str],
    balancer: Balancer,
    prepared: dict[str, Any],
    ready: float,
    wall: float,
    events: list[tuple[str, float]],
) -> dict[str, Any]:
    sent = record["sent"]
    times = sorted(at for _m, _c, _t, at in sent)
    got = Counter((str(chat), text) for _m, chat, text, _at in sent)
    statuses = Counter(status for status, _k, _c, _t in rows)
    kinds = Counter(kind for _s, kind, _c, _t in rows)
    owed = Counter((chat, text) for status, _k, chat, text in rows if status != "cancelled")
    outbox_chats = {chat for chat, _text in owed}
    duplicates = sum(max(0, got[key] - n) for key, n in owed.items())
    losses = sum(max(0, n - got[key]) for key, n in owed.items())
    resident_chats = {str(RESIDENT_BASE + i) for i in range(residents)}
    answered = {chat for chat, _text in got if chat in resident_chats}
    replies_twice = sum(
        n - 1 for (chat, _text), n in got.items() if chat in resident_chats and n > 1
    )
    stray = sum(n for (chat, _t), n in got.items() if chat not in resident_chats | outbox_chats)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    refusals = refusal_kinds(sent, record["refused"])
    lag = dict(record["loop_lag"])
    lagged = [at for at, _lag in lag.pop("over_10_ms_at")]
    # A refusal within a second after the fake's loop ran late: the requests it read at
    # once then were not sent at once.
    lag["http_429_within_1_s_after"] = sum(
        any(0 <= at - t < 1.0 for t in lagged) for _m, _c, at in record["refused"]
    )
    gaps = sorted((b - a for a, b in itertools.pairwise(times)), reverse=True)
    outage = sum(gaps[:2]) if args.fault != "none" else 0.0
    rate = (len(times) - 1) / span if span else float("nan")
    active = (len(times) - 1) / (span - outage) if span else float("nan")
    return {
        "fault": args.fault,
        "workers": args.workers,
        "recipients": args.recipients,
        "communes": args.communes,
        **prepared,
        "workers_listening_s": round(ready, 1),
        "wall_s": round(wall, 1),
        "events": [(name, round(at, 1)) for name, at in events],
        "outbox_rows_due": len(rows),
        "outbox_kinds": dict(kinds),
        "outbox_statuses": dict(statuses),
        "accepted_messages": len(sent),
        "outbox_duplicates": duplicates,
        "outbox_losses": losses,
        "residents": residents,
        "residents_answered": len(answered),
        "residents_unanswered": residents - len(answered),
        "resident_replies_twice": replies_twice,
        "stray_messages": stray,
        "webhook": dict(stats),
        "balancer_upstream_errors": balancer.upstream_errors,
        "rate_per_s": round(rate, 2),
        "rate_share_of_limit": round(rate / LIMIT, 4),
        "rate_without_two_longest_gaps_per_s": round(active, 2),
        "rate_without_two_longest_gaps_share": round(active / LIMIT, 4),
        "longest_gaps_s": [round(g, 1) for g in gaps[:3]],
        "http_429": record["http_429"],
        "http_429_kinds": refusals,
        "fake_loop_lag": lag,
        "load_average": os.getloadavg(),
        "machine": machine(),
    }


def refusal_kinds(sent: list[list[Any]], refused: list[list[Any]]) -> dict[str, int]:
    """Each refusal as the fake saw it: "chat" if its chat had a message accepted less than
    a second before, else "channel" (30 accepted in the second before it)."""
    by_chat: dict[str, list[float]] = {}
    for _m, chat, _t, at in sent:
        by_chat.setdefault(str(chat), []).append(at)
    kinds: Counter[str] = Counter()
    for _m, chat, at in refused:
        recent = [t for t in by_chat.get(str(chat), []) if 0 <= at - t < 1.0]
        kinds["chat" if recent else "channel"] += 1
    return dict(kinds)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--residents-per-second", type=float, default=2.0)
    parser.add_argument("--fault", choices=["none", "kill+outage"], default="none")
    parser.add_argument(
        "--fake-priority",
        type=int,
        default=0,
        help="the fake Telegram's nice value (-10: ahead of the workers; needs root)",
    )
    parser.add_argument("--serve-fake", nargs=2, metavar=("PORT_FILE", "OUT_FILE"))
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake(*args.serve_fake, args.fake_priority))
        return 0
    from sqlalchemy import create_engine, text

    from tests.postgres import postgres_controller

    with postgres_controller(durable=True) as server:
        if server is None:
            raise SystemExit("PostgreSQL is not installed (see tests/postgres.py)")
        admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench_workers"))
        admin.dispose()
        url = server.url.rsplit("/", 1)[0] + "/bench_workers"
        result = asyncio.run(run(args, server, url))
    print(json.dumps(result, ensure_ascii=False, indent=1))
    ok = (
        result["outbox_duplicates"] == 0
        and result["outbox_losses"] == 0
        and result["residents_unanswered"] == 0
        and result["http_429"] == 0
        and result["rate_without_two_longest_gaps_share"] >= 0.95
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
