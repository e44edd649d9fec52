"""Deadline-hour burst: 1,000 team members report within one minute, Telegram and Zalo mixed.

Each member belongs to their own village (a synthetic commune of 1,000 villages) and
sends one one-line report ("vneid N cks M" with numbers unique to them) at a moment
spread evenly over the window; 5% of the deliveries arrive twice (platform retries).
Checked afterwards in the database: every report is stored exactly as sent (0 lost),
nothing is counted twice (one tally row per village and code, one reply per report).

    .venv/bin/python bench/bench_burst.py --members 1000 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from harness import machine, summary_ms, tocns_on_fakes

from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN, ZALO_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI, text_event


def setup_members(app: Any, members: int) -> list[dict[str, Any]]:
    """One village per member (with denominators) and its team member, half on each channel."""
    from tests.helpers import add_member_villages

    def chat_of(index: int) -> tuple[str, str]:
        return ("telegram", str(800_000 + index)) if index % 2 == 0 else ("zalo", f"zb-{index}")

    village_ids = add_member_villages(app.services, members, chat_of, name="Thôn tải")
    return [
        {
            "village_id": village_id,
            "channel": chat_of(index)[0],
            "chat_id": chat_of(index)[1],
            "vneid": 100 + index % 900,
            "cks": 10 + index % 80,
        }
        for index, village_id in enumerate(village_ids)
    ]


async def burst(members: int, seconds: float, duplicate_share: float) -> dict[str, Any]:
    rng = random.Random(57)
    async with (
        FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN) as telegram,
        FakeZaloAPI(token=ZALO_TEST_TOKEN) as zalo,
        tocns_on_fakes(telegram=telegram, zalo=zalo) as app,
    ):
        people = setup_members(app, members)
        order = list(range(members))
        rng.shuffle(order)
        latencies: list[float] = []
        duplicates = 0

        async def report(slot: int, index: int) -> None:
            nonlocal duplicates
            await asyncio.sleep(slot * seconds / members)
            person = people[index]
            text = f"vneid {person['vneid']} cks {person['cks']}"
            started = time.monotonic()
            twice = rng.random() < duplicate_share
            if person["channel"] == "telegram":
                user = int(person["chat_id"])
                update_id = telegram.push_text(user, text)
                if twice:
                    duplicates += 1
                    raw = next(u for u in telegram.updates if u["update_id"] == update_id)
                    telegram.push_update(dict(raw))
                [reply] = await telegram.wait_sent(
                    count=1, chat_id=user, method="sendMessage", timeout=120
                )
            else:
                event = text_event(person["chat_id"], text, message_id=f"m{index:019d}")
                zalo.push_event(event)
                if twice:
                    duplicates += 1
                    zalo.push_event(dict(event))
                [reply] = await zalo.wait_sent(
                    count=1, chat_id=person["chat_id"], method="sendMessage", timeout=120
                )
            latencies.append(reply.at - started)

        started = time.monotonic()
        await asyncio.gather(*(report(slot, index) for slot, index in enumerate(order)))
        elapsed = time.monotonic() - started
        await asyncio.sleep(2)  # let any duplicate (wrongly) produce a second answer
        lost, doubled = verify(app, people)
        extra_replies = sum(
            max(0, len(telegram.sent_to(p["chat_id"], "sendMessage")) - 1)
            if p["channel"] == "telegram"
            else max(0, len(zalo.sent_to(p["chat_id"], "sendMessage")) - 1)
            for p in people
        )
    return {
        "members": members,
        "window_s": seconds,
        "elapsed_s": elapsed,
        "duplicates_sent": duplicates,
        "lost": lost,
        "double_counted": doubled,
        "extra_replies": extra_replies,
        **summary_ms(latencies),
    }


def verify(app: Any, people: list[dict[str, Any]]) -> tuple[int, int]:
    from sqlmodel import Session, select

    from db.models import Tally

    with Session(app.services.engine) as session:
        rows = session.exec(select(Tally)).all()
    by_key: dict[tuple[int, str], list[int]] = {}
    for row in rows:
        by_key.setdefault((row.village_id, row.code), []).append(row.value)
    lost = doubled = 0
    for person in people:
        for code in ("vneid", "cks"):
            values = by_key.get((person["village_id"], code), [])
            if not values or values[-1] != person[code]:
                lost += 1
            if len(values) > 1:
                doubled += 1
    return lost, doubled


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--duplicates", type=float, default=0.05)
    args = parser.parse_args()
    result = await burst(args.members, args.seconds, args.duplicates)
    print(f"Machine: {machine()}")
    print(
        "| members | window s | elapsed s | duplicate deliveries | lost | double counted | extra replies | p50 ms | p95 ms | p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    r = result
    print(
        f"| {r['members']} | {r['window_s']:.0f} | {r['elapsed_s']:.1f} | {r['duplicates_sent']} | {r['lost']} | {r['double_counted']} | {r['extra_replies']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} |"
    )


if __name__ == "__main__":
    asyncio.run(main())
