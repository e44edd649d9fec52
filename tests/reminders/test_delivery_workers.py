"""The outbox with several workers: one clock for leases, own stale claims recovered after
an outage, dead workers' journals cleaned up."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import random
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bot.app import build_services
from bot.channels.base import REQUEST_WRITTEN, request_written
from bot.core.dispatcher import Dispatcher
from bot.core.messages import Incoming, Reply
from bot.reminders.delivery import PER_CHAT_IN_BATCH, OutboxDelivery
from bot.reminders.outbox import enqueue
from bot.reminders.policy import DeliveryLimits
from bot.reminders.runner import ReminderRunner
from bot.reminders.sendslots import SharedRateLimiter
from bot.services import Services
from db.engine import AdvisoryLock, transaction_lock
from db.models import OutboxMessage, ProcessedUpdate
from db.types import utcnow
from tests.faults.tcp_proxy import CuttableProxy
from tests.helpers import FakeClock, add_person
from tests.reminders.util import RecordingSender, rows

LEASE = DeliveryLimits().lease_seconds


def _queue(services: Services, count: int, due: dt.datetime) -> None:
    people = [add_person(services, name=f"Người {n}", chat_id=str(7000 + n)) for n in range(count)]
    with Session(services.engine) as session:
        for n, person in enumerate(people):
            enqueue(
                session,
                person_id=person,
                kind="broadcast",
                reply=Reply(text=f"tin {n}"),
                dedupe_key=f"w:{n}",
                due_at=due,
            )
        session.commit()


class CuttingSender(RecordingSender):
    """Delivers, and on the n-th send takes the database away (after the message went)."""

    def __init__(self, proxy: CuttableProxy, cut_on: int) -> None:
        super().__init__()
        self.proxy = proxy
        self.cut_on = cut_on

    async def send(self, chat_id: str, reply: Reply) -> None:
        await super().send(chat_id, reply)
        if self.started == self.cut_on:
            self.proxy.cut()


@pytest.fixture
def proxied(services: Services) -> Iterator[tuple[CuttableProxy, Services]]:
    """The same PostgreSQL database, reached through a proxy the test can cut."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("a database outage is PostgreSQL's (SQLite is a local file)")
    url = make_url(services.settings.effective_database_url)
    assert url.host is not None and url.port is not None
    with CuttableProxy(url.host, url.port) as proxy:
        through_url = url.set(host="127.0.0.1", port=proxy.port)
        settings = services.settings.model_copy(
            update={"database_url": through_url.render_as_string(hide_password=False)}
        )
        through = build_services(settings, services.clock)
        try:
            yield proxy, through
        finally:
            through.engine.dispose()


async def test_leases_are_timed_by_the_database_clock_not_the_workers(
    services: Services,
) -> None:
    """A sender whose clock is an hour slow claims; one whose clock is an hour fast must not
    take the row over (its lease is fresh by the database's clock)."""
    _queue(services, 1, utcnow() - dt.timedelta(minutes=1))
    hanging = RecordingSender(hang_on=1)
    slow = OutboxDelivery(
        services.engine,
        {"console": hanging},
        clock=lambda: utcnow() - dt.timedelta(hours=1),
        database_clock=True,
        worker_id="slow",
    )
    run = asyncio.create_task(slow.run_once())
    await asyncio.wait_for(hanging.hanging.wait(), 5)
    fast = OutboxDelivery(
        services.engine,
        {"console": RecordingSender()},
        clock=lambda: utcnow() + dt.timedelta(hours=1),
        database_clock=True,
        worker_id="fast",
    )
    assert await fast.recover(all_foreign=False) == 0
    assert [(r.status, r.claimed_by) for r in rows(services)] == [("sending", "slow")]
    claimed_at = rows(services)[0].claimed_at
    assert claimed_at is not None and abs(claimed_at - utcnow()) < dt.timedelta(minutes=1)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


async def test_a_worker_recovers_its_own_claims_after_a_database_outage(
    services: Services, clock: FakeClock, proxied: tuple[CuttableProxy, Services]
) -> None:
    proxy, through = proxied
    _queue(services, 10, clock())
    sender = CuttingSender(proxy, cut_on=3)
    delivery = OutboxDelivery(
        through.engine, {"console": sender}, clock=clock, batch_size=10, concurrency=1
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - the driver's error for a lost server
        await delivery.run_once()
    proxy.restore()
    assert Counter(r.status for r in rows(services)) == {"sent": 2, "sending": 1, "claimed": 7}

    assert await delivery.run_once() == 0  # the claims' lease still runs
    assert Counter(r.status for r in rows(services)) == {"sent": 3, "claimed": 7}
    clock.advance(seconds=LEASE + 1)
    await delivery.run_until_idle()  # the same worker, no restart
    assert Counter(r.status for r in rows(services)) == {"sent": 10}
    assert sorted(sender.delivered) == sorted(set(sender.delivered)) and len(sender.delivered) == 10


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])  # noqa: S607 - a process that has ended
    process.wait()
    return process.pid


async def test_journals_of_dead_workers_are_cleaned_up(
    services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    journals = tmp_path / "journals"
    _queue(services, 2, clock())
    host = socket.gethostname()
    dead_id = f"{host}:{_dead_pid()}:deadbeef"
    alive_id = f"{host}:{os.getpid()}:0a11fe00"
    dead = OutboxDelivery(
        services.engine,
        {"console": RecordingSender()},
        clock=clock,
        worker_id=dead_id,
        journal_dir=journals,
    )
    alive = OutboxDelivery(
        services.engine,
        {"console": RecordingSender()},
        clock=clock,
        worker_id=alive_id,
        journal_dir=journals,
    )
    first, second = (r.id for r in rows(services))
    with Session(services.engine) as session:
        session.execute(
            update(OutboxMessage).values(status="sending", claimed_by=dead_id, claimed_at=clock())
        )
        session.commit()
    assert dead._journal is not None and alive._journal is not None
    os.write(dead._journal, b"%d\n" % second)  # only the second had reached the network
    names = sorted(p.name for p in journals.iterdir())
    assert len(names) == 2

    clock.advance(seconds=LEASE + 1)
    recovering = OutboxDelivery(
        services.engine, {"console": RecordingSender()}, clock=clock, journal_dir=journals
    )
    await recovering.recover(all_foreign=False)  # PostgreSQL's periodic recovery
    assert {r.id: r.status for r in rows(services)} == {first: "pending", second: "unknown"}
    left = {p.name for p in journals.iterdir()}
    assert not any("deadbeef" in name for name in left), "the dead worker's journal is gone"
    assert any("0a11fe00" in name for name in left), "a live worker's journal stays"


def _postgres_only(services: Services) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("the shared rate limit is PostgreSQL's (SQLite runs one sender)")


async def test_two_workers_together_keep_to_one_platform_rate(services: Services) -> None:
    """At 20 messages/s the slots both workers reserve are 1/20 s apart, as one sender's
    (each pacing itself alone, two would send at twice the platform's rate)."""
    _postgres_only(services)
    _queue(services, 30, utcnow() - dt.timedelta(minutes=1))
    limits = DeliveryLimits(console_per_second=20)
    senders = [RecordingSender(), RecordingSender()]
    workers = [
        OutboxDelivery(
            services.engine,
            {"console": sender},
            limits=limits,
            worker_id=f"w{n}",
            concurrency=4,
            batch_size=5,
        )
        for n, sender in enumerate(senders)
    ]
    assert all(w.shared_limits for w in workers)
    await asyncio.gather(*(w.run_until_idle() for w in workers))
    delivered = senders[0].delivered + senders[1].delivered
    assert len(delivered) == 30 and len(set(delivered)) == 30
    assert senders[0].delivered and senders[1].delivered, "both workers sent"
    slots = sorted(
        slot
        for worker in workers
        for slot in worker.limiters["console"].slots  # type: ignore[union-attr]
    )
    assert len(slots) == 30
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert min(gaps) >= 1 / 20 - 1e-6, "the two workers' sends are spaced as one sender's"


async def test_a_429_seen_by_one_worker_pauses_the_others(services: Services) -> None:
    _postgres_only(services)
    limits = DeliveryLimits(console_per_second=20)
    one, other = (
        OutboxDelivery(services.engine, {"console": RecordingSender()}, limits=limits)
        for _ in range(2)
    )
    first, second = one.limiters["console"], other.limiters["console"]
    assert isinstance(first, SharedRateLimiter) and isinstance(second, SharedRateLimiter)
    await second.acquire("1")
    await first.pause_all(0.5)  # Telegram said "retry after 0.5 s" to the first worker
    await second.acquire("2")
    assert 0.4 <= second.waits[-1] <= 0.6


async def test_a_chat_slot_counts_from_when_its_message_really_goes(services: Services) -> None:
    """Behind a queue on the channel a message to a chat goes later than its chat slot: the
    chat's next message is one chat gap after that moment, not after the slot (a 429)."""
    _postgres_only(services)
    worker = OutboxDelivery(services.engine, {"telegram": RecordingSender()})
    limiter = worker.limiters["telegram"]
    assert isinstance(limiter, SharedRateLimiter)
    reserve = limiter._reserve  # the reservations alone, without waiting for them
    await limiter.pause_all(2.0)  # the channel is busy for 2 s
    first = reserve("9")
    assert first.slot is not None and 1.9 <= first.slot - first.now <= 2.1
    second = reserve("9")
    assert second.slot is None, "no channel slot while the chat is not free"
    assert second.ready - first.slot >= 1.0, "one chat gap after the first message goes"


async def test_a_message_waiting_for_its_chat_takes_no_channel_slot(services: Services) -> None:
    """A message that took a channel slot and then waited for its chat would go between
    two other slots (31 messages in a second at the platform): its chat's turn comes
    first, and the channel's slots stay evenly spaced for the others."""
    _postgres_only(services)
    worker = OutboxDelivery(services.engine, {"telegram": RecordingSender()})
    limiter = worker.limiters["telegram"]
    assert isinstance(limiter, SharedRateLimiter)
    reserve = limiter._reserve
    first = reserve("9")
    refused = reserve("9")  # the chat's next message, a chat gap later
    other = reserve("10")
    assert first.slot is not None and other.slot is not None
    assert refused.slot is None
    assert refused.ready >= first.slot + 1.0
    assert 0 <= refused.lead <= 1.0, "how far ahead the channel's next slot is"
    assert abs(other.slot - (first.slot + limiter.gap)) < 1e-4, "no hole, no extra slot"


async def _thread(function, *args):  # type: ignore[no-untyped-def]
    return await asyncio.to_thread(function, *args)


async def test_a_sender_woken_late_takes_a_new_slot(services: Services) -> None:
    """The database's answer reaches a sender 200 ms after its slot (a loaded machine):
    it does not send late into the others' windows but takes a new slot, and the chat's
    row is given back, so the message does not wait a chat gap for the slot given up."""
    _postgres_only(services)
    delayed = {"next": False}

    async def run(function, *args):  # type: ignore[no-untyped-def]
        result = await asyncio.to_thread(function, *args)
        if delayed["next"]:
            delayed["next"] = False
            await asyncio.sleep(0.2)
        return result

    limiter = SharedRateLimiter(services.engine, "telegram", 30, 1, run=run)
    assert await limiter.acquire("warm-up")  # a quick answer maps the clocks
    delayed["next"] = True
    started = time.monotonic()
    assert await limiter.acquire("9")
    assert limiter.retaken >= 1, "the late slot was given up"
    given_up, taken = limiter.slots[1], limiter.slots[-1]
    assert taken > given_up
    assert taken - given_up < limiter.chat_gap, "the chat was free again at once"
    assert time.monotonic() - started < 0.8


async def test_senders_woken_late_never_crowd_a_window(services: Services) -> None:
    """Three workers' senders on one channel of 30 a second, one sleep in five 200 ms or
    40 ms too long (seeded): the moments they send never put more than 30 in one second,
    and the slots given up cost only some of the rate (the bar itself is the benchmark's,
    ``bench/bench_workers.py``)."""
    _postgres_only(services)
    chance = random.Random(18)

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds + chance.choice((0,) * 8 + (0.04, 0.2)))

    limiters = [
        SharedRateLimiter(services.engine, "telegram", 30, 1, run=_thread, sleep=sleep)
        for _ in range(3)
    ]
    sent: list[float] = []

    async def sender(limiter: SharedRateLimiter, chats: range) -> None:
        for chat in chats:
            assert await limiter.acquire(str(chat))
            sent.append(time.monotonic())

    await asyncio.gather(
        *(
            sender(limiter, range(start, 150, 12))
            for start, limiter in enumerate(limiters * 4)  # four senders a worker
        )
    )
    sent.sort()
    assert len(sent) == 150
    crowded = [n for n in range(len(sent) - 30) if sent[n + 30] - sent[n] < 1.0]
    assert not crowded, f"31 sends within a second: {crowded[:5]}"
    assert sum(limiter.retaken for limiter in limiters) > 0
    rate = (len(sent) - 1) / (sent[-1] - sent[0])
    assert rate >= 0.5 * 30, rate


def _next_at(services: Services, key: str) -> float:
    """The send slot row's moment (database epoch seconds)."""
    with services.engine.connect() as connection:
        query = text("SELECT EXTRACT(EPOCH FROM next_at) FROM sendslot WHERE key = :key")
        return float(connection.execute(query, {"key": key}).scalar_one())


async def test_a_request_that_leaves_late_pushes_the_slots_on(services: Services) -> None:
    """The request left 150 ms after its slot (its sender had checked it in time): the
    channel's next slots move on by what the margin did not cover, and the chat's next
    message is a chat gap after the moment it really went."""
    _postgres_only(services)
    limiter = SharedRateLimiter(services.engine, "telegram", 30, 1, run=_thread)
    assert await limiter.acquire("9")
    await asyncio.sleep(0.15)  # the event loop had other work before the request's write
    request_written()
    request_written()  # told once per slot
    await asyncio.gather(*limiter._pushes)
    assert limiter.pushed == 1
    slot = limiter.slots[-1]
    following = limiter._reserve("10")
    assert following.slot is not None
    assert following.slot - slot >= limiter.gap + 0.15 - limiter.slack - 0.01
    chat = limiter._reserve("9")
    assert (
        chat.slot is None
        and chat.ready - slot >= limiter.chat_gap + 0.15 - limiter.chat_slack - 0.01
    )


async def test_a_request_that_leaves_in_time_pushes_nothing(services: Services) -> None:
    _postgres_only(services)
    limiter = SharedRateLimiter(services.engine, "telegram", 30, 1, run=_thread)
    assert await limiter.acquire("9")
    request_written()
    assert limiter.pushed == 0 and not limiter._pushes
    assert abs(_next_at(services, "telegram") - limiter.slots[-1]) < 1e-5, "the row untouched"


async def test_requests_leaving_late_never_crowd_a_window(services: Services) -> None:
    """Three workers' senders, each request leaving after its slot was checked, one in
    five 60 or 200 ms late (seeded; the event loop or the machine): the moments they
    leave never put more than 30 in one second."""
    _postgres_only(services)
    chance = random.Random(7)
    limiters = [
        SharedRateLimiter(services.engine, "telegram", 30, 1, run=_thread) for _ in range(3)
    ]
    sent: list[float] = []

    async def sender(limiter: SharedRateLimiter, chats: range) -> None:
        for chat in chats:
            assert await limiter.acquire(str(chat))
            await asyncio.sleep(chance.choice((0,) * 8 + (0.06, 0.2)))
            request_written()
            sent.append(time.monotonic())

    await asyncio.gather(
        *(sender(limiter, range(start, 150, 12)) for start, limiter in enumerate(limiters * 4))
    )
    sent.sort()
    assert len(sent) == 150
    crowded = [n for n in range(len(sent) - 30) if sent[n + 30] - sent[n] < 1.0]
    assert not crowded, f"31 requests within a second: {crowded[:5]}"
    assert sum(limiter.pushed for limiter in limiters) > 0


def test_a_batch_holds_a_few_messages_per_chat_the_longest_backlog_first(
    services: Services,
) -> None:
    """Twenty reminders for one officer do not fill a batch and hold back a broadcast
    queued after them: a batch claims the first three due rows of each chat; and the
    officer's, with the most left to send one a second, come before the broadcast's."""
    officer = add_person(services, name="Cán bộ", chat_id="8000")
    others = [add_person(services, name=f"Tổ viên {n}", chat_id=str(8001 + n)) for n in range(3)]
    earlier = utcnow() - dt.timedelta(days=3)
    with Session(services.engine) as session:
        for n, person in enumerate(others):
            enqueue(
                session,
                person_id=person,
                kind="broadcast",
                reply=Reply(text="thông báo"),
                dedupe_key=f"b:{n}",
                due_at=earlier - dt.timedelta(minutes=1),  # due before the officer's
            )
        for n in range(20):
            enqueue(
                session,
                person_id=officer,
                kind="overdue",
                reply=Reply(text=f"nhắc {n}"),
                dedupe_key=f"o:{n}",
                due_at=earlier + dt.timedelta(minutes=n),
            )
        session.commit()
    delivery = OutboxDelivery(services.engine, {"console": RecordingSender()}, batch_size=10)
    claimed = delivery._claim()
    chats = [chat for _id, _channel, chat, _content in claimed]
    assert chats == ["8000", "8001", "8002", "8003"] + ["8000"] * (PER_CHAT_IN_BATCH - 1), (
        "the officer's first, then each chat's first row before any chat's second"
    )
    assert [c["text"] for _i, _ch, chat, c in claimed if chat == "8000"] == [
        f"nhắc {n}" for n in range(PER_CHAT_IN_BATCH)
    ], "a chat's rows in due order"


async def test_replies_sent_marks_are_written_once_the_database_is_back(
    services: Services, proxied: tuple[CuttableProxy, Services]
) -> None:
    """A reply went out, then the database went away before its "sent" mark was written:
    the mark is kept and written once it is back, so the reply outbox does not send the
    reply a second time (a resident answered twice after a 20 s outage, #18)."""
    proxy, through = proxied
    dispatcher = Dispatcher(through)
    message = Incoming(channel="console", chat_id="9100", text="giúp", update_key="u-9100")
    assert await dispatcher.handle_async(message)
    proxy.cut()
    await dispatcher.answered(message)
    await asyncio.sleep(2.5)  # the write fails, and is tried again, while it is away
    proxy.restore()
    for _ in range(100):
        with Session(services.engine) as session:
            marks = session.exec(select(ProcessedUpdate.answered_at)).all()
        if marks and all(marks):
            break
        await asyncio.sleep(0.1)
    assert marks and all(marks), "the reply is marked sent once the database is back"
    await dispatcher.flush_answered()


async def test_what_is_due_goes_out_while_a_planning_pass_waits(
    services: Services, clock: FakeClock
) -> None:
    """A long planning pass (another worker's month of catch-up holds the planner's lock)
    does not hold back a broadcast already queued: the sender wakes first."""
    _postgres_only(services)
    _queue(services, 3, clock())
    sender = RecordingSender()
    runner = ReminderRunner(services, {"console": sender})
    with services.engine.connect() as other_worker:
        transaction_lock(other_worker, AdvisoryLock.PLANNER)  # held until its rollback
        tick = asyncio.create_task(runner.tick())
        for _ in range(100):
            if len(sender.delivered) == 3:
                break
            await asyncio.sleep(0.05)
        assert len(sender.delivered) == 3, "sent while the pass waited for the lock"
        assert not tick.done()
        other_worker.rollback()
    await asyncio.wait_for(tick, 30)
    await runner.stop()


async def test_requests_late_in_one_stall_push_the_slots_on_once(services: Services) -> None:
    """Three requests of one worker written at one moment, 150 ms after the first one's
    slot (one stall of its event loop): the slot a second after the first is pushed, and
    the two after it come later still without pushing again."""
    _postgres_only(services)
    limiter = SharedRateLimiter(services.engine, "telegram", 30, 1, run=_thread)
    written, taken = [], []
    for chat in ("1", "2", "3"):
        assert await limiter.acquire(chat)
        written.append(REQUEST_WRITTEN.get())
        taken.append(limiter.slots[-1])
    first = taken[0]
    await asyncio.sleep(max(0.0, limiter._local(first) + 0.15 - time.monotonic()))
    for callback in written:
        assert callback is not None
        callback()
    await asyncio.gather(*limiter._pushes)
    assert limiter._last_push is not None and limiter._last_push[0] == first
    late = limiter._last_push[1] - first  # how late the first request went (>= 150 ms)
    assert late >= 0.14  # (its sleep was timed on a clock map since refined)
    pushed = _next_at(services, "telegram") - limiter.slots[-1]
    assert abs(pushed - (late - limiter.slack)) < 1e-4, "pushed once, for the first request"
