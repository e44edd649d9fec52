"""Footprint: resident memory of `tocns run` with the sample commune, and start-up time.

Starts `tocns run` as a separate process against a fake Telegram server (on a fresh
data directory, so start-up includes migrations and loading the sample commune and
plan), pushes /start at once, and measures the time until the first answer; then
sends a mix of messages (with /tiendo charts) and reads the process's resident memory
(VmRSS, VmHWM), and that of the chart helper process while it is running (charts are
drawn by matplotlib in a child that exits when idle, see bot/charts/process.py).

    .venv/bin/python bench/bench_footprint.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, machine

from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI

MESSAGES = ["/start", "cach kich hoat vneid muc 2", "/tiendo", "/huongdan", "chu ky so", "/trogiup"]


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def run_env(fake: FakeTelegramAPI, data: str) -> dict[str, str]:
    """The environment of a `tocns run` polling the fake Telegram server, data in ``data``."""
    return {
        **os.environ,
        "TOCNS_DATA_DIR": data,
        "TOCNS_TELEGRAM_TOKEN": TELEGRAM_TEST_TOKEN,
        "TOCNS_TELEGRAM_BASE_URL": fake.base_url,
        "TOCNS_TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "TOCNS_TELEGRAM_POLL_TIMEOUT": "1",
        "TOCNS_LISTEN_PORT": "0",
        "TOCNS_LOG_LEVEL": "WARNING",
    }


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


async def run(fresh: bool) -> dict[str, float]:
    async with FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as fake:
        with tempfile.TemporaryDirectory(prefix="tocns-footprint-") as data:
            env = run_env(fake, data)
            if not fresh:  # a second start on the same data: the usual restart
                warm = subprocess.run(
                    [str(ROOT / ".venv/bin/tocns"), "db", "upgrade"], env=env, capture_output=True
                )
                assert warm.returncode == 0
            started = time.monotonic()
            process = subprocess.Popen(
                [str(ROOT / ".venv/bin/tocns"), "run"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                fake.push_text(1, "/start")
                await fake.wait_sent(count=1, chat_id=1, method="sendMessage", timeout=60)
                first_answer = time.monotonic() - started
                for user in range(2, 22):
                    for text in MESSAGES:
                        fake.push_text(user, text)
                await fake.wait_for(
                    lambda: (
                        len(
                            {
                                str(c.chat_id)
                                for c in fake.sent
                                if c.method in ("sendMessage", "sendPhoto")
                            }
                        )
                        >= 21
                    ),
                    timeout=120,
                )
                await asyncio.sleep(2)
                memory = memory_kb(process.pid)
                helpers = [memory_kb(pid) for pid in children(process.pid)]
            finally:
                process.terminate()
                process.wait(timeout=30)
    return {
        "first_answer_s": first_answer,
        "rss_mb": memory["VmRSS"] / 1024,
        "peak_mb": memory["VmHWM"] / 1024,
        "helper_mb": sum(helper["VmRSS"] for helper in helpers) / 1024,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    print(f"Machine: {machine()}")
    print("| start | first answer (s) | RSS (MB) | peak RSS (MB) | chart helper RSS (MB) |")
    print("|---|---|---|---|---|")
    for fresh in (True, False):
        result = await run(fresh)
        label = "fresh data dir (migrate + sample)" if fresh else "restart (migrated)"
        print(
            f"| {label} | {result['first_answer_s']:.2f} | {result['rss_mb']:.0f} | {result['peak_mb']:.0f} | {result['helper_mb']:.0f} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
