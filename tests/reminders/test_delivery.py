"""The outbox delivery: limits, 429, blocked people, retries, crashes, several processes."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import telegram
from sqlmodel import Session, select

from bot.channels.telegram import TelegramSender
from bot.core.messages import Choice, Reply
from bot.reminders.delivery import OutboxDelivery
from bot.reminders.outbox import enqueue
from bot.reminders.policy import DeliveryLimits
from bot.services import Services
from db.models import ChatIdentity
from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.helpers import FakeClock, add_person
from tests.reminders.util import FakeTime, RecordingSender, rows


def _queue(
    services: Services,
    count: int,
    *,
    channel: str = "console",
    same_chat: bool = False,
    prefix: str = "k",
) -> list[int]:
    people = []
    for index in range(count):
        chat = "7999" if same_chat else str(7000 + index)
        if same_chat and index:
            person = people[0]
        else:
            person = add_person(services, name=f"Người {index}", channel=channel, chat_id=chat)
        people.append(person)
    with Session(services.engine) as session:
        for index, person in enumerate(people):
            enqueue(
                session,
                person_id=person,
                kind="broadcast",
                reply=Reply(text=f"tin {index}", choices=[Choice("Xem", "task:1")]),
                dedupe_key=f"{prefix}:{index}",
                due_at=services.clock(),
            )
        session.commit()
    return people


async def test_sends_each_due_row_once(services: Services, clock: FakeClock) -> None:
    _queue(services, 25)
    sender = RecordingSender()
    delivery = OutboxDelivery(services.engine, {"console": sender}, clock=clock, batch_size=10)
    await delivery.run_until_idle()
    await delivery.run_until_idle()
    assert len(sender.delivered) == 25 and len(set(sender.delivered)) == 25
    assert {r.status for r in rows(services)} == {"sent"}


async def test_future_rows_wait_for_their_time(services: Services, clock: FakeClock) -> None:
    person = add_person(services, chat_id="7100")
    with Session(services.engine) as session:
        enqueue(
            session,
            person_id=person,
            kind="broadcast",
            reply=Reply(text="sau"),
            dedupe_key="later",
            due_at=clock() + dt.timedelta(hours=1),
        )
        session.commit()
    sender = RecordingSender()
    delivery = OutboxDelivery(services.engine, {"console": sender}, clock=clock)
    await delivery.run_until_idle()
    assert sender.delivered == []
    clock.advance(hours=1)
    await delivery.run_until_idle()
    assert sender.delivered == [("7100", "sau")]


async def test_no_duplicate_and_no_silent_loss_across_a_crash(
    services: Services, clock: FakeClock
) -> None:
    _queue(services, 20)
    crashing = RecordingSender(hang_on=5)
    first = OutboxDelivery(
        services.engine, {"console": crashing}, clock=clock, batch_size=20, concurrency=1
    )
    run = asyncio.create_task(first.run_once())
    await asyncio.wait_for(crashing.hanging.wait(), 5)
    run.cancel()  # the process dies in the middle of the fifth request
    with pytest.raises(asyncio.CancelledError):
        await run
    assert Counter(r.status for r in rows(services)) == {"sent": 4, "sending": 1, "claimed": 15}

    clock.advance(seconds=DeliveryLimits().lease_seconds + 1)
    restarted = RecordingSender()
    second = OutboxDelivery(services.engine, {"console": restarted}, clock=clock)
    assert await second.recover(all_foreign=False) == 16
    await second.run_until_idle()
    delivered = crashing.delivered + restarted.delivered
    assert len(delivered) == 19 and len(set(delivered)) == 19  # nothing twice
    statuses = Counter(r.status for r in rows(services))
    assert statuses == {"sent": 19, "unknown": 1}  # the interrupted one is recorded, not resent
    unknown = rows(services, status="unknown")[0]
    assert "may or may not" in unknown.last_error


async def test_a_live_lease_is_not_stolen(services: Services, clock: FakeClock) -> None:
    _queue(services, 3)
    hanging = RecordingSender(hang_on=1)
    first = OutboxDelivery(services.engine, {"console": hanging}, clock=clock, concurrency=1)
    run = asyncio.create_task(first.run_once())
    await asyncio.wait_for(hanging.hanging.wait(), 5)
    other = OutboxDelivery(services.engine, {"console": RecordingSender()}, clock=clock)
    assert await other.recover(all_foreign=False) == 0  # the lease is still valid
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


async def test_graceful_stop_finishes_in_flight_and_gives_back_the_rest(
    services: Services, clock: FakeClock
) -> None:
    _queue(services, 10)
    sender = RecordingSender(delay=0.01)
    delivery = OutboxDelivery(services.engine, {"console": sender}, clock=clock, concurrency=1)
    run = asyncio.create_task(delivery.run_once())
    while len(sender.delivered) < 3:
        await asyncio.sleep(0.005)
    await delivery.drain()
    await run
    statuses = Counter(r.status for r in rows(services))
    assert statuses["sending"] == 0 and statuses["claimed"] == 0
    assert statuses["sent"] == len(sender.delivered) and statuses["pending"] == 10 - len(
        sender.delivered
    )


async def test_two_dispatchers_on_postgresql_never_double_send(
    services: Services, clock: FakeClock
) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("row claiming with SKIP LOCKED is PostgreSQL's; SQLite runs one delivery")
    _queue(services, 120)
    first, second = RecordingSender(delay=0.001), RecordingSender(delay=0.001)
    a = OutboxDelivery(
        services.engine, {"console": first}, clock=clock, batch_size=7, worker_id="a"
    )
    b = OutboxDelivery(
        services.engine, {"console": second}, clock=clock, batch_size=7, worker_id="b"
    )
    await asyncio.gather(a.run_until_idle(), b.run_until_idle())
    delivered = first.delivered + second.delivered
    assert len(delivered) == 120 and len(set(delivered)) == 120
    assert first.delivered and second.delivered  # both took part
    assert {r.status for r in rows(services)} == {"sent"}


# ------------------------------------------------------------------ against the fake Telegram


@pytest.fixture
async def limited_telegram() -> AsyncIterator[tuple[FakeTelegramAPI, FakeTime]]:
    fake_time = FakeTime()
    async with FakeTelegramAPI(token=TELEGRAM_TEST_TOKEN, clock=fake_time) as fake:
        fake.rate_limit(per_second=30, per_chat_per_second=1)
        yield fake, fake_time


def _bot(fake: FakeTelegramAPI) -> telegram.Bot:
    return telegram.Bot(
        TELEGRAM_TEST_TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url
    )


async def test_429_retry_after_is_honoured_without_duplicates(
    services: Services, clock: FakeClock, limited_telegram: tuple[FakeTelegramAPI, FakeTime]
) -> None:
    fake, fake_time = limited_telegram
    _queue(services, 3, channel="telegram", same_chat=True)
    loose = DeliveryLimits(
        telegram_per_second=1000, telegram_per_chat_per_second=1000
    )  # ignore our own limits
    async with _bot(fake) as bot:
        delivery = OutboxDelivery(
            services.engine,
            {"telegram": TelegramSender(bot)},
            clock=clock,
            limits=loose,
            concurrency=1,
            monotonic=fake_time,
            sleep=fake_time.sleep,
        )
        await delivery.run_until_idle()
        assert fake.rate_limited >= 1 and delivery.stats.rate_limited >= 1
        waiting = rows(services, status="pending")
        assert waiting and all("retry after" in r.last_error for r in waiting)
        for _ in range(5):  # time passes (the injected clocks), the rows fall due again
            clock.advance(seconds=1)
            fake_time.now += 1
            await delivery.run_until_idle()
    texts = fake.texts_to(7999)
    assert sorted(texts) == ["tin 0", "tin 1", "tin 2"]
    assert {r.status for r in rows(services)} == {"sent"}
    assert all(r.attempts == 1 for r in rows(services))  # a 429 is not counted as a failed attempt


async def test_default_limits_keep_under_telegram_flood_control(
    services: Services, clock: FakeClock, limited_telegram: tuple[FakeTelegramAPI, FakeTime]
) -> None:
    fake, fake_time = limited_telegram
    _queue(services, 70, channel="telegram")
    _queue(services, 3, channel="telegram", same_chat=True, prefix="same")
    async with _bot(fake) as bot:
        delivery = OutboxDelivery(
            services.engine,
            {"telegram": TelegramSender(bot)},
            clock=clock,
            monotonic=fake_time,
            sleep=fake_time.sleep,
            concurrency=1,  # one request at a time:
        )  # with a fake clock, a sleeping worker would move time under another's request
        await delivery.run_until_idle()
    assert fake.rate_limited == 0
    assert len(fake.sent) == 73
    assert fake_time.now - 1000 >= 2.0  # 73 messages at 30/s, 3 of them to one chat 1 s apart


async def test_blocked_person_is_marked_and_not_queued_again(
    services: Services, clock: FakeClock, fake_telegram: FakeTelegramAPI
) -> None:
    people = _queue(services, 2, channel="telegram")
    fake_telegram.block_user(7001)
    async with _bot(fake_telegram) as bot:
        delivery = OutboxDelivery(services.engine, {"telegram": TelegramSender(bot)}, clock=clock)
        await delivery.run_until_idle()
    assert {r.dedupe_key: r.status for r in rows(services)} == {"k:0": "sent", "k:1": "blocked"}
    with Session(services.engine) as session:
        identity = session.exec(select(ChatIdentity).where(ChatIdentity.chat_id == "7001")).one()
        assert identity.blocked
        assert (
            enqueue(
                session,
                person_id=people[1],
                kind="broadcast",
                reply=Reply(text="x"),
                dedupe_key="again",
                due_at=clock(),
            )
            is None
        )
    sent = rows(services, status="sent")[0]
    assert sent.content["sent_message_ids"]  # proof of delivery


async def test_transient_failures_retry_with_backoff_then_fail(
    services: Services, clock: FakeClock, fake_telegram: FakeTelegramAPI
) -> None:
    _queue(services, 1, channel="telegram")
    fake_telegram.fail_next("sendMessage", status=502, times=1)
    limits = DeliveryLimits(max_attempts=2, backoff_seconds=60)
    async with _bot(fake_telegram) as bot:
        delivery = OutboxDelivery(
            services.engine, {"telegram": TelegramSender(bot)}, clock=clock, limits=limits
        )
        await delivery.run_until_idle()
        row = rows(services)[0]
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.due_at == clock() + dt.timedelta(seconds=60)
        clock.advance(seconds=61)
        await delivery.run_until_idle()
    assert rows(services)[0].status == "sent"
    assert len(fake_telegram.texts_to(7000)) == 1


async def test_journal_tells_rows_that_never_reached_the_network(
    services: Services, clock: FakeClock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from db.models import OutboxMessage

    _queue(services, 2)
    dead = OutboxDelivery(
        services.engine,
        {"console": RecordingSender()},
        clock=clock,
        worker_id="dead",
        journal_dir=tmp_path,
    )
    first, second = (r.id for r in rows(services))
    with Session(services.engine) as session:  # both were "sending" when the process died...
        session.execute(
            update(OutboxMessage).values(status="sending", claimed_by="dead", claimed_at=clock())
        )
        session.commit()
    assert dead._journal is not None
    import os

    os.write(
        dead._journal, b"%d\n" % second
    )  # ...but only the second had been handed to the network
    restarted = OutboxDelivery(
        services.engine, {"console": RecordingSender()}, clock=clock, journal_dir=tmp_path
    )
    await restarted.recover(all_foreign=True)
    assert {r.id: r.status for r in rows(services)} == {first: "pending", second: "unknown"}
    assert not (tmp_path / "dead.journal").exists()
