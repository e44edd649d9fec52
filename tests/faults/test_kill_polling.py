"""A polling worker SIGKILLed mid-burst: no report lost or counted twice, every one answered.

The worker is the whole app in its own process, polling the fake Telegram and Zalo
servers of this test. Telegram gets back every update whose batch was not committed;
Zalo's were kept in the inbox; replies committed but unsent go out after the restart.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys

from sqlmodel import Session, select

from bot.services import Services
from db.models import Tally
from tests.factories import add_member_villages
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI, text_event
from tests.faults.killing import ROOT

MEMBERS = 80


def chat_of(index: int) -> tuple[str, str]:
    return ("telegram", str(810_000 + index)) if index % 2 == 0 else ("zalo", f"zk-{index}")


def numbers(index: int) -> dict[str, int]:
    return {"vneid": 30 + index, "cks": 5 + index % 40}


async def start_worker(services: Services, telegram: str, zalo: str) -> asyncio.subprocess.Process:
    settings = services.settings
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.faults.polling_worker",
        settings.effective_database_url,
        str(settings.data_dir),
        telegram,
        zalo,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "TOCNS_UNSENT_REPLY_GRACE": "0.5"},
    )
    assert worker.stdout is not None
    line = await asyncio.wait_for(worker.stdout.readline(), 60)
    assert line.strip() == b"ready"
    return worker


def reported(services: Services, villages: list[int]) -> list[dict[str, list[int]]]:
    with Session(services.engine) as session:
        rows = session.exec(select(Tally)).all()
    by_village: dict[int, dict[str, list[int]]] = {}
    for row in rows:
        by_village.setdefault(row.village_id, {}).setdefault(row.code, []).append(row.value)
    return [by_village.get(village, {}) for village in villages]


def replies(telegram: FakeTelegramAPI, zalo: FakeZaloAPI, index: int) -> int:
    channel, chat = chat_of(index)
    fake = telegram if channel == "telegram" else zalo
    return len(fake.sent_to(int(chat) if channel == "telegram" else chat, "sendMessage"))


async def test_a_polling_worker_killed_mid_burst_loses_nothing(
    services: Services, fake_telegram: FakeTelegramAPI, fake_zalo: FakeZaloAPI
) -> None:
    villages = add_member_villages(services, MEMBERS, chat_of)
    for index in range(MEMBERS):
        text = " ".join(f"{code} {value}" for code, value in numbers(index).items())
        channel, chat = chat_of(index)
        if channel == "telegram":
            fake_telegram.push_text(int(chat), text)
        else:
            fake_zalo.push_event(text_event(chat, text, message_id=f"m{index:019d}"))
    kill_after = random.Random().randint(5, MEMBERS // 2)
    worker = await start_worker(services, fake_telegram.origin, fake_zalo.origin)
    try:
        await fake_telegram.wait_for(
            lambda: sum(replies(fake_telegram, fake_zalo, i) for i in range(MEMBERS)) >= kill_after,
            timeout=60,
        )
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    for index, values in enumerate(reported(services, villages)):
        assert values in ({}, {code: [value] for code, value in numbers(index).items()}), (
            f"report {index} partly written: {values}"
        )

    worker = await start_worker(services, fake_telegram.origin, fake_zalo.origin)
    expected = [{code: [value] for code, value in numbers(i).items()} for i in range(MEMBERS)]

    def missing() -> list[int]:
        got = reported(services, villages)
        return [i for i in range(MEMBERS) if got[i] != expected[i]]

    try:
        # Zalo's getUpdates forgets an update once it has answered: the one update in that
        # answer at the moment of the kill (not yet in the inbox) is the only one that can
        # be lost. Telegram loses none.
        await fake_telegram.wait_for(lambda: len(missing()) <= 1, timeout=60)
        await asyncio.sleep(1.0)
        lost = missing()
        assert all(chat_of(i)[0] == "zalo" for i in lost), f"lost: {lost}"
        assert all(reported(services, villages)[i] == {} for i in lost)  # never half-written
        await fake_telegram.wait_for(
            lambda: all(
                replies(fake_telegram, fake_zalo, i) >= 1 for i in range(MEMBERS) if i not in lost
            ),
            timeout=60,
        )
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    assert missing() == lost  # nothing counted twice
