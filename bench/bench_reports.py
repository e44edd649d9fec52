"""One-line tally reports through the full stack: fake Telegram → python-telegram-bot →
conversation core → database → reply, on SQLite.

Two measurements with many simulated team members (each in one of the 12 sample
villages, reporting different codes so rows are inserted and corrected):
- open loop: reports arrive at a fixed rate (default 100/s, the bar) for some seconds;
  reported: achieved rate and p50/p95/p99 latency from the update being available to
  the bot's reply (the bar: p95 ≤ 100 ms);
- closed loop: every member sends the next report after the answer to the previous one;
  reported: the highest sustained reports/s.

    .venv/bin/python bench/bench_reports.py --members 300 --rate 100 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from typing import Any

from harness import echo_bot, machine, register_team, summary_ms, tocns_on_fakes

from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI

FIRST_USER = 700_000
CODES = ("vneid", "cks", "ssk", "tknh", "dvc", "kns")


_serial = itertools.count(10)


def _text(user: int, round_index: int) -> str:
    """A report with two codes and fresh values (no earlier month: nothing to confirm)."""
    first = CODES[(user + round_index) % len(CODES)]
    second = CODES[(user + round_index + 1) % len(CODES)]
    value = 10 + next(_serial) % 380  # below every sample village's denominators
    return f"{first} {value} {second}: {value // 2}"


async def _reply_latency(
    fake: FakeTelegramAPI, user: int, expected: int, started: float, check: bool = True
) -> float:
    calls = await fake.wait_sent(count=expected, chat_id=user, method="sendMessage", timeout=60)
    reply = calls[expected - 1]
    assert not check or "Đã ghi" in (reply.text or "") or "đã được ghi" in (reply.text or ""), (
        reply.text
    )
    return reply.at - started


async def open_loop(
    fake: FakeTelegramAPI, users: list[int], rate: float, seconds: float, check: bool = True
) -> dict[str, Any]:
    total = int(rate * seconds)
    sent_count = dict.fromkeys(users, 0)
    rounds = dict.fromkeys(users, 0)
    busy: set[int] = set()
    tasks: list[asyncio.Task[float]] = []
    cycle = itertools.cycle(users)
    started = time.monotonic()
    for index in range(total):
        due = started + index / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        user = next(cycle)
        while user in busy:  # one message in flight per member, like a person waiting
            if len(busy) >= len(users):
                await asyncio.sleep(0.001)  # saturated: every member waits for an answer
            user = next(cycle)
        busy.add(user)
        sent_count[user] += 1
        rounds[user] += 1
        push_at = time.monotonic()
        fake.push_text(user, _text(user, rounds[user]))

        async def wait(
            user: int = user, expected: int = sent_count[user], at: float = push_at
        ) -> float:
            try:
                return await _reply_latency(fake, user, expected, at, check)
            finally:
                busy.discard(user)

        tasks.append(asyncio.create_task(wait()))
    latencies = await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    return {
        "mode": "open",
        "target_rate": rate,
        "reports": total,
        "seconds": elapsed,
        "reports_per_s": total / elapsed,
        **summary_ms(list(latencies)),
    }


async def closed_loop(
    fake: FakeTelegramAPI, users: list[int], rounds: int, already: dict[int, int]
) -> dict[str, Any]:
    latencies: list[float] = []

    async def member(user: int) -> None:
        for round_index in range(rounds):
            expected = already[user] + round_index + 1
            at = time.monotonic()
            fake.push_text(user, _text(user, 1000 + round_index))
            latencies.append(await _reply_latency(fake, user, expected, at))

    started = time.monotonic()
    await asyncio.gather(*(member(u) for u in users))
    elapsed = time.monotonic() - started
    total = len(users) * rounds
    return {
        "mode": "closed",
        "members": len(users),
        "reports": total,
        "seconds": elapsed,
        "reports_per_s": total / elapsed,
        **summary_ms(latencies),
    }


async def echo_open_loop(users: list[int], rate: float, seconds: float) -> dict[str, Any]:
    """The same open loop against a minimal python-telegram-bot echo bot: the harness floor."""
    async with FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake, echo_bot(fake):
        result = await open_loop(fake, users, rate, seconds, check=False)
    return {**result, "mode": "echo"}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300, help="simulated team members")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop reports per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="open-loop duration")
    parser.add_argument(
        "--closed-members", type=int, default=50, help="members sending back to back"
    )
    parser.add_argument("--rounds", type=int, default=20, help="closed-loop reports per member")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo-bot baseline")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    users = [FIRST_USER + i for i in range(args.members)]
    baseline = [] if args.no_echo else [await echo_open_loop(users, args.rate, args.seconds)]
    async with (
        FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake,
        tocns_on_fakes(telegram=fake) as app,
    ):
        register_team(app, users)
        fake.push_text(users[0], "vneid 1")  # warm up: imports, caches, first connection
        await fake.wait_sent(chat_id=users[0], method="sendMessage", timeout=60)
        open_result = await open_loop(fake, users, args.rate, args.seconds)
        already = {u: len(fake.sent_to(u, "sendMessage")) for u in users}
        closed_result = await closed_loop(fake, users[: args.closed_members], args.rounds, already)
    results = [*baseline, open_result, closed_result]
    if args.json:
        print(json.dumps(results))
        return
    print(f"Machine: {machine()}")
    print(f"{args.members} team members, one-line reports, full stack on SQLite\n")
    print("| mode | reports | reports/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for r in results:
        label = {
            "echo": f"PTB echo bot (baseline), open loop at {r.get('target_rate', 0):.0f}/s",
            "open": f"tocns, open loop at {r.get('target_rate', 0):.0f}/s",
            "closed": f"tocns, closed loop, {r.get('members', 0)} members",
        }[r["mode"]]
        print(
            f"| {label} | {r['reports']} | {r['reports_per_s']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
