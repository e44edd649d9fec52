"""Update handling: the full stack against the fake Telegram server, beside an echo bot.

Many simulated users each send messages one after another (closed loop: the next one
after the bot's answer). Reported: updates/s and p50/p95/p99 latency from the update
being available to the bot's first reply, for each message kind; then the same
harness against a minimal python-telegram-bot echo bot, and the ratio tocns ÷ echo.
The echo bot runs twice: as PTB ships it (httpx, the bar's reference) and on tocns's
aiohttp transport, so the last column shows tocns's own handling cost apart from the
transport's.

    .venv/bin/python bench/bench_updates.py --users 100 --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from harness import echo_bot, machine, register_team, summary_ms, tocns_on_fakes

from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI

KINDS: dict[str, dict[str, Any]] = {
    "guide": {"text": "cach kich hoat vneid muc 2", "role": None},
    "report": {"text": "vneid {n} cks {m}", "role": "team"},
    "tiendo": {"text": "/tiendo", "role": "team"},
}
FIRST_USER = 900_000


async def _closed_loop(
    fake: FakeTelegramAPI, users: list[int], texts: list[str], replies_per_message: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def one_user(user: int) -> None:
        for round_index, text in enumerate(texts):
            expected = (round_index + 1) * replies_per_message
            started = time.monotonic()
            fake.push_text(user, text.format(n=10 + round_index, m=5 + round_index))
            calls = await fake.wait_sent(count=expected, chat_id=user, timeout=60)
            first = calls[round_index * replies_per_message]
            latencies.append(first.at - started)

    started = time.monotonic()
    await asyncio.gather(*(one_user(u) for u in users))
    return time.monotonic() - started, latencies


async def _replies_per_message(fake: FakeTelegramAPI, user: int, text: str) -> int:
    before = len(fake.sent_to(user))
    fake.push_text(user, text.format(n=1, m=1))
    await fake.wait_sent(count=before + 1, chat_id=user, timeout=30)
    await asyncio.sleep(0.5)  # let every reply of this message arrive
    return len(fake.sent_to(user)) - before


async def run_tocns(kind: str, users: int, rounds: int) -> dict[str, Any]:
    spec = KINDS[kind]
    ids = [FIRST_USER + i for i in range(users + 1)]
    async with (
        FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake,
        tocns_on_fakes(telegram=fake) as app,
    ):
        if spec["role"]:
            register_team(app, ids)
        per_message = await _replies_per_message(fake, ids[-1], spec["text"])
        elapsed, latencies = await _closed_loop(
            fake, ids[:users], [spec["text"]] * rounds, per_message
        )
    return {
        "bot": "tocns",
        "kind": kind,
        "updates": users * rounds,
        "seconds": elapsed,
        "updates_per_s": users * rounds / elapsed,
        **summary_ms(latencies),
    }


async def run_echo(users: int, rounds: int, *, aiohttp: bool = False) -> dict[str, Any]:
    ids = [FIRST_USER + i for i in range(users)]
    async with FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake, echo_bot(fake, aiohttp=aiohttp):
        elapsed, latencies = await _closed_loop(fake, ids, ["xin chao"] * rounds, 1)
    return {
        "bot": "echo on aiohttp" if aiohttp else "echo",
        "kind": "echo",
        "updates": users * rounds,
        "seconds": elapsed,
        "updates_per_s": users * rounds / elapsed,
        **summary_ms(latencies),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--kinds", default="guide,report,tiendo")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each; the median run is shown"
    )
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    runs: dict[str, list[dict[str, Any]]] = {"echo": [], "aiohttp": []}
    runs.update({kind: [] for kind in kinds})
    for _ in range(args.repeat):  # interleaved, so a noisy minute hits every bot alike
        runs["echo"].append(await run_echo(args.users, args.rounds))
        runs["aiohttp"].append(await run_echo(args.users, args.rounds, aiohttp=True))
        for kind in kinds:
            runs[kind].append(await run_tocns(kind, args.users, args.rounds))
    results = [sorted(r, key=lambda x: x["updates_per_s"])[len(r) // 2] for r in runs.values()]
    echo, echo_aiohttp = results[0], results[1]
    if args.json:
        print(json.dumps(results))
        return
    print(f"Machine: {machine()}")
    print(
        f"{args.users} users × {args.rounds} messages each, closed loop, SQLite; median of {args.repeat} interleaved runs\n"
    )
    print(
        "| bot | message | updates/s | p50 ms | p95 ms | p99 ms | ÷ echo | p95 ÷ echo p95 "
        "| ÷ echo on aiohttp |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        rate = r["updates_per_s"]
        print(
            f"| {r['bot']} | {r['kind']} | {rate:.0f} | {r['p50']:.1f} | {r['p95']:.1f} "
            f"| {r['p99']:.1f} | {rate / echo['updates_per_s']:.2f} "
            f"| {r['p95'] / echo['p95']:.1f} | {rate / echo_aiohttp['updates_per_s']:.2f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
