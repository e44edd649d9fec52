"""Soak: resident memory of `tocns run` under a steady mixed load, sampled over time.

Starts `tocns run` (sample commune, SQLite) as its own process against a fake Telegram
server and keeps a moderate mix of residents' messages flowing (guide questions typed
with and without diacritics, menus, help, thanks, /tiendo) at ``--rate`` messages a
second from ``--users`` people, for ``--minutes``. Every ``--every`` seconds it reads
the bot's resident memory (VmRSS). Reported: the samples, the memory after warm-up
(the first ``--warmup`` minutes), the growth from there to the end, and the slope of a
least-squares line through the samples after warm-up (MB per 10 minutes); also how
many messages were answered, so a stalled bot cannot pass as a flat one.

    .venv/bin/python bench/bench_soak.py --minutes 60 --rate 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import subprocess
import tempfile
import time

from bench_footprint import memory_kb, run_env
from harness import ROOT, machine

from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI

MIX = [
    "cach kich hoat vneid muc 2",
    "/start",
    "làm sao đăng ký chữ ký số",
    "/huongdan",
    "cảm ơn",
    "so suc khoe dien tu o dau",
    "/trogiup",
    "bị lừa chuyển tiền qua mạng phải làm gì",
    "/tiendo",
    "thanh toán tiền điện không dùng tiền mặt",
]
FIRST_USER = 700_000


def slope_per_10_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per 10 minutes."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (m - mean_m) for t, m in points) / spread * 600


async def soak(minutes: float, rate: float, users: int, every: float, warmup: float) -> None:
    async with FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake:
        with tempfile.TemporaryDirectory(prefix="tocns-soak-") as data:
            env = run_env(fake, data)
            process = subprocess.Popen(
                [str(ROOT / ".venv/bin/tocns"), "run"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                fake.push_text(FIRST_USER, "/start")
                await fake.wait_sent(count=1, chat_id=FIRST_USER, method="sendMessage", timeout=90)
                started = time.monotonic()
                texts = itertools.cycle(MIX)
                people = itertools.cycle(range(FIRST_USER, FIRST_USER + users))
                pushed = replies = 0
                samples: list[tuple[float, float]] = []
                next_sample = 0.0
                while (elapsed := time.monotonic() - started) < minutes * 60:
                    due = int(elapsed * rate) - pushed
                    for _ in range(due):
                        fake.push_text(next(people), next(texts))
                        pushed += 1
                    if elapsed >= next_sample:
                        rss = memory_kb(process.pid)["VmRSS"] / 1024
                        samples.append((elapsed, rss))
                        print(f"  {elapsed / 60:5.1f} min  RSS {rss:6.1f} MB  pushed {pushed}")
                        next_sample += every
                        replies += len(fake.sent)
                        fake.sent.clear()  # the fake's own memory stays flat too
                    await asyncio.sleep(0.05)
                await asyncio.sleep(3)
                replies += len(fake.sent)
                unconfirmed = len(fake.updates)
            finally:
                process.terminate()
                process.wait(timeout=30)
    after = [(t, m) for t, m in samples if t >= warmup * 60]
    base = after[0][1] if after else samples[-1][1]
    print()
    print(f"Machine: {machine()}")
    print(f"{minutes:g} min at {rate:g} msg/s from {users} residents ({pushed} messages)")
    print(
        "| warm-up | RSS after warm-up (MB) | RSS at end (MB) | growth (MB) | slope (MB/10 min) |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {warmup:g} min | {base:.1f} | {samples[-1][1]:.1f} | {samples[-1][1] - base:+.1f} "
        f"| {slope_per_10_min(after):+.2f} |"
    )
    print(f"replies sent: {replies} for {pushed} messages; left unconfirmed: {unconfirmed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=5.0, help="minutes before the base")
    args = parser.parse_args()
    asyncio.run(soak(args.minutes, args.rate, args.users, args.every, args.warmup))


if __name__ == "__main__":
    main()
