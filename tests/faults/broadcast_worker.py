"""A separate process draining the outbox, as ``tocns run`` does: killed by tests and benches.

    python -m tests.faults.broadcast_worker DATABASE_URL JOURNAL_DIR BASE_URL FILE_URL TOKEN

prints one JSON line when it has recovered what a killed predecessor left, and one with
its statistics when the outbox is empty (or on SIGTERM, after finishing what is in flight).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from sqlmodel import Session, select

from bot.reminders.broadcasts import create_broadcast
from bot.services import Services
from db.models import ChatIdentity, Commune, Person, PersonRole

CHAT_BASE = 1_000_000  # chat id of recipient 0


def add_recipients_and_broadcast(services: Services, recipients: int) -> float:
    """``recipients`` team members on Telegram and one broadcast to them all; seconds to queue."""
    with Session(services.engine) as session:
        commune = session.exec(select(Commune)).first()
        assert commune is not None and commune.id is not None
        people = [
            Person(commune_id=commune.id, display_name=f"Tổ viên {i}") for i in range(recipients)
        ]
        session.add_all(people)
        session.flush()
        for index, person in enumerate(people):
            assert person.id is not None
            session.add(PersonRole(person_id=person.id, role="team"))
            session.add(
                ChatIdentity(
                    person_id=person.id, channel="telegram", chat_id=str(CHAT_BASE + index)
                )
            )
        session.commit()
        started = time.perf_counter()
        _broadcast, queued = create_broadcast(
            session,
            commune_id=commune.id,
            group="team",
            sender_name="UBND xã",
            text="Thông báo: họp Tổ công nghệ số cộng đồng lúc 14:00 thứ Sáu tại hội trường xã.",
            now=services.clock(),
        )
        session.commit()
        assert queued == recipients, queued
    return time.perf_counter() - started


async def worker(
    database_url: str, journal_dir: str, base_url: str, file_url: str, token: str
) -> None:
    """Drain the outbox like ``tocns run`` does, until nothing is left to send."""
    import telegram
    from sqlmodel import Session, col, func, select
    from telegram.request import HTTPXRequest

    from bot.channels.telegram import TelegramSender
    from bot.reminders.delivery import OutboxDelivery
    from db.engine import make_engine
    from db.models import OutboxMessage

    engine = make_engine(database_url)
    request = HTTPXRequest(connection_pool_size=32)
    bot = telegram.Bot(token, base_url=base_url, base_file_url=file_url, request=request)
    async with bot:
        delivery = OutboxDelivery(
            engine,
            {"telegram": TelegramSender(bot)},
            batch_size=200,
            concurrency=8,
            journal_dir=Path(journal_dir),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        recovered = await delivery.recover()
        print(json.dumps({"worker": os.getpid(), "recovered": recovered}), flush=True)

        async def drain() -> None:
            while not stop.is_set():
                if await delivery.run_once():
                    continue
                with Session(engine) as session:
                    left = session.exec(
                        select(func.count()).where(
                            col(OutboxMessage.status).in_(["pending", "claimed", "sending"])
                        )
                    ).one()
                if not left:
                    return
                await asyncio.sleep(0.05)  # rows waiting for their retry time

        task = asyncio.create_task(drain())
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():  # graceful: finish what is in flight, give the rest back
            await delivery.drain()
            await asyncio.wait_for(task, 30)
        waiter.cancel()
        print(
            json.dumps({"worker": os.getpid(), "stats": delivery.stats.__dict__}, default=str),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(worker(*sys.argv[1:6]))
