"""The outbox sender: claims due rows, sends them within each platform's limits, once.

Delivery guarantee — at most once per dedupe key, and nothing lost silently:

* Rows move ``pending → claimed → sending → sent``. Claiming is one guarded UPDATE
  (PostgreSQL adds ``FOR UPDATE SKIP LOCKED``, so several senders never take the
  same row; SQLite deployments run one sender). A claim is a lease
  (``claimed_by``/``claimed_at``).
* Just before the network call the row is set to "sending" in its own committed
  transaction (guarded by ``claimed_by``); just after, to "sent" with the platform's
  message ids. A claimed row never touched the network, so after a crash it goes back
  to "pending" (safe to send). A row still "sending" when its lease expired may or may
  not have reached the platform — Telegram and Zalo have no idempotency key — so it is
  recorded as "unknown" and **never resent automatically** (``tocns outbox status``
  lists it; ``tocns outbox retry ID`` resends it by hand). The window is one HTTP
  request; a graceful stop (SIGTERM, ``stop()``) finishes in-flight requests first, so
  only a hard kill in the middle of a request can leave an "unknown" row.
* Errors: ``RetryLater`` (HTTP 429) puts the row back with ``due_at = now + retry_after``
  and pauses the channel; ``TransientError`` retries with exponential backoff up to
  ``max_attempts`` ("failed" after); ``DeliveryUnknown`` → "unknown"; ``Blocked`` →
  "blocked" and the chat identity is marked blocked; anything else → "failed".
* Reminder-like rows older than the catch-up window when they could finally be sent
  become "missed" instead of arriving days late.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from bot.channels.base import Blocked, DeliveryUnknown, RetryLater, Sender, TransientError
from bot.core.messages import Reply
from bot.reminders.policy import EXPIRING_KINDS, DeliveryLimits, ReminderPolicy, load_policy
from bot.reminders.ratelimit import RateLimiter
from bot.reminders.sendslots import SharedRateLimiter
from db.engine import rowcount
from db.models import ChatIdentity, Commune, GroupChat, OutboxMessage, OutboxStatus
from db.types import utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0


def _journal_name(worker_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in worker_id) + ".journal"


def _dead_on_this_host(journal_stem: str) -> bool:
    """Whether a journal's sender ran on this host (``host:pid:nonce``) and has exited."""
    host, _, rest = journal_stem.rpartition("_")  # "…_pid_nonce" → ("…_pid", "nonce")
    host, _, pid = host.rpartition("_")
    if not pid.isdigit() or host != _journal_name(socket.gethostname())[: -len(".journal")]:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


# Rows of one chat a delivery batch may hold (see ``_claim``).
PER_CHAT_IN_BATCH = 3


@dataclass
class DeliveryStats:
    """What an outbox delivery did so far."""

    sent: int = 0
    retried: int = 0
    rate_limited: int = 0
    failed: int = 0
    blocked: int = 0
    unknown: int = 0
    missed: int = 0
    lost_lease: int = 0
    recovered: int = 0
    replies_paced: int = 0  # direct replies that reserved a shared send slot
    errors: list[str] = field(default_factory=list)


class OutboxDelivery:
    """Drains the outbox through one ``Sender`` per channel."""

    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        limits: DeliveryLimits | None = None,
        policy: ReminderPolicy | None = None,
        worker_id: str | None = None,
        batch_size: int = 100,
        concurrency: int = 8,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        journal_dir: Path | None = None,
        database_clock: bool | None = None,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.clock = clock
        # Leases and due times are compared on one clock, the database's: workers' own
        # clocks drift apart. An injected clock (tests, simulations) is used as is.
        self.database_clock = clock is utcnow if database_clock is None else database_clock
        self._policy = policy
        self.limits = limits or (policy.delivery if policy else self._load_policy().delivery)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.stats = DeliveryStats()
        self.postgres = engine.dialect.name == "postgresql"
        # Several workers on PostgreSQL share the platforms' limits through the database;
        # an injected clock (tests, simulations) paces in process.
        self.shared_limits = self.postgres and self.database_clock
        self.limiters: dict[str, RateLimiter | SharedRateLimiter] = {
            channel: (
                SharedRateLimiter(
                    engine,
                    channel,
                    *self.limits.rate(channel),
                    run=self._db,
                    group_per_minute=self.limits.group_rate(channel),
                )
                if self.shared_limits
                else RateLimiter(
                    *self.limits.rate(channel),
                    monotonic=monotonic,
                    sleep=sleep,
                    group_per_minute=self.limits.group_rate(channel),
                )
            )
            for channel in self.senders
        }
        self._group_chats: set[tuple[str, str]] = set()  # among the chats of claimed rows
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        # Rows this process has claimed and still handles (not stale whatever their age),
        # and outcomes it could not record (the database was unreachable): replayed by the
        # next recovery.
        self._held: set[int] = set()
        self._unrecorded: dict[int, dict[str, Any]] = {}
        self._handed: set[int] = set()  # given to the network, outcome not yet recorded
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency + 2, thread_name_prefix="outbox"
        )
        self.journal_dir = journal_dir
        self._journal: int | None = None
        if journal_dir is not None:
            journal_dir.mkdir(parents=True, exist_ok=True)
            path = journal_dir / _journal_name(self.worker_id)
            self._journal = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    async def _db(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking database step on the delivery's own threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )

    def _now(self, session: Session) -> dt.datetime:
        """Now by the clock leases and due times are compared on (see ``database_clock``)."""
        if not self.database_clock:
            return self.clock()
        if self.postgres:
            value = session.execute(select(func.now())).scalar_one()
            return value.astimezone(dt.UTC)
        return utcnow()  # SQLite runs in this process: its clock is this host's

    def _journal_started(self) -> dict[str, set[int]]:
        """Rows each (other) sender process of this host had handed to the network, by worker."""
        started: dict[str, set[int]] = {}
        if self.journal_dir is None:
            return started
        for path in self.journal_dir.glob("*.journal"):
            if path.name == _journal_name(self.worker_id):
                continue
            try:
                text = path.read_text(encoding="ascii", errors="ignore")
            except OSError:
                continue
            worker = path.stem
            started[worker] = {int(line) for line in text.split() if line.isdigit()}
        return started

    # ------------------------------------------------------------ configuration

    def _load_policy(self) -> ReminderPolicy:
        with Session(self.engine) as session:
            commune = session.exec(select(Commune).order_by(col(Commune.id))).first()  # type: ignore[call-overload]
            settings = commune[0].settings if commune is not None else {}
        return load_policy(settings)

    @property
    def policy(self) -> ReminderPolicy:
        if self._policy is None:
            self._policy = self._load_policy()
        return self._policy

    # ------------------------------------------------------------ database steps (sync)

    def _recover(self, *, all_foreign: bool) -> int:
        """Resolve rows left by senders that died.

        claimed → pending (never touched the network). sending → pending if the dead
        sender's journal on this host shows it never handed the row to the network,
        else → unknown (it may have been delivered: never resent automatically).
        """
        started = self._journal_started()
        with Session(self.engine) as session:
            self._replay_unrecorded(session)
            expired = self._now(session) - dt.timedelta(seconds=self.limits.lease_seconds)
            foreign = col(OutboxMessage.claimed_by) != self.worker_id
            # Our own rows too, once their lease expired and this process no longer handles
            # them (a database outage broke the batch they were claimed in).
            mine = and_(
                col(OutboxMessage.claimed_by) == self.worker_id,
                col(OutboxMessage.id).not_in(sorted(self._held)),
            )
            stale = or_(
                foreign if all_foreign else and_(foreign, col(OutboxMessage.claimed_at) < expired),
                and_(mine, col(OutboxMessage.claimed_at) < expired),
            )
            back = rowcount(
                session.execute(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.status) == OutboxStatus.CLAIMED, stale)
                    .values(status=OutboxStatus.PENDING, claimed_by="", claimed_at=None)
                )
            )
            interrupted = session.execute(
                select(col(OutboxMessage.id), col(OutboxMessage.claimed_by)).where(
                    col(OutboxMessage.status) == OutboxStatus.SENDING, stale
                )
            ).all()
            safe = [
                int(row_id)
                for row_id, worker in interrupted
                if self._never_handed(int(row_id), str(worker), started)
            ]
            unsure = [int(row_id) for row_id, _ in interrupted if int(row_id) not in safe]
            if safe:
                session.execute(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.id).in_(safe),
                        col(OutboxMessage.status) == OutboxStatus.SENDING,
                    )
                    .values(
                        status=OutboxStatus.PENDING,
                        claimed_by="",
                        claimed_at=None,
                        attempts=OutboxMessage.attempts - 1,
                    )  # type: ignore[operator]
                )
            if unsure:
                session.execute(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.id).in_(unsure),
                        col(OutboxMessage.status) == OutboxStatus.SENDING,
                    )
                    .values(
                        status=OutboxStatus.UNKNOWN,
                        last_error="interrupted while sending: may or may not have been delivered",
                    )
                )
            session.commit()
        if all_foreign and self.journal_dir is not None:  # every other sender is dead
            for path in self.journal_dir.glob("*.journal"):
                if path.name != _journal_name(self.worker_id):
                    path.unlink(missing_ok=True)
        elif self.journal_dir is not None:
            self._forget_dead_journals(set(started))
        for limiter in self.limiters.values():
            if isinstance(limiter, SharedRateLimiter):
                limiter.forget_idle_chats()
        if unsure:
            log.warning(
                "%d outbox rows were interrupted mid-send and are marked unknown", len(unsure)
            )
        return back + len(interrupted)

    def _never_handed(self, row_id: int, worker: str, started: dict[str, set[int]]) -> bool:
        """Whether a row left "sending" surely never reached the network."""
        if worker == self.worker_id:  # ours: this process knows (a claim's reply was lost)
            return row_id not in self._handed and row_id not in self._unrecorded
        stem = _journal_name(worker)[: -len(".journal")]
        return stem in started and row_id not in started[stem]

    def _replay_unrecorded(self, session: Session) -> None:
        """Record the outcomes of sends whose result could not be written at the time."""
        for row_id, values in list(self._unrecorded.items()):
            session.execute(self._guarded(row_id, OutboxStatus.SENDING).values(**values))
            session.commit()
            del self._unrecorded[row_id]

    def _forget_dead_journals(self, workers: set[str]) -> None:
        """Delete the journals of this host's senders that died, once none of their rows
        is left claimed or sending (recovery has read what it needed from them)."""
        assert self.journal_dir is not None
        dead = {w for w in workers if _dead_on_this_host(w)}
        if not dead:
            return
        with Session(self.engine) as session:
            busy = {
                _journal_name(str(worker))[: -len(".journal")]
                for worker in session.execute(
                    select(col(OutboxMessage.claimed_by))
                    .where(
                        col(OutboxMessage.status).in_([OutboxStatus.CLAIMED, OutboxStatus.SENDING]),
                        col(OutboxMessage.claimed_by) != self.worker_id,
                    )
                    .distinct()
                ).scalars()
            }
        for worker in sorted(dead - busy):
            (self.journal_dir / f"{worker}.journal").unlink(missing_ok=True)
            log.info("removed the outbox journal of dead sender %s", worker)

    def _expire(self) -> int:
        """Reminder-like rows too old to be worth sending become "missed"."""
        with Session(self.engine) as session:
            cutoff = self._now(session) - dt.timedelta(hours=self.policy.catchup_hours)
            count = rowcount(
                session.execute(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.status) == OutboxStatus.PENDING,
                        col(OutboxMessage.kind).in_(sorted(EXPIRING_KINDS)),
                        col(OutboxMessage.due_at) < cutoff,
                    )
                    .values(
                        status=OutboxStatus.MISSED,
                        last_error="too late to be useful when it could be sent",
                    )
                )
            )
            session.commit()
        return count

    def _claim(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        """Claim up to one batch of due rows for this worker."""
        with Session(self.engine) as session:
            now = self._now(session)
            pending = (
                col(OutboxMessage.status) == OutboxStatus.PENDING,
                col(OutboxMessage.due_at) <= now,
                col(OutboxMessage.channel).in_(sorted(self.senders)),
            )
            # A chat takes one message a second, and each worker drains a batch in seconds:
            # with one row of a chat per batch an officer's month of reminders went at a
            # third of that and ended the run alone, one a second. So a batch takes up to
            # PER_CHAT_IN_BATCH rows of a chat, the rows of the chats with the most left to
            # send after them first (those bound when everything is sent), and a
            # broadcast's single rows fill the rest. Rows of one chat wait for their chat
            # (``SharedRateLimiter``), never on a channel slot the others could use.
            chat = (col(OutboxMessage.channel), col(OutboxMessage.chat_id))
            ranked = (
                select(
                    col(OutboxMessage.id),
                    func.row_number()
                    .over(
                        partition_by=chat,
                        order_by=(col(OutboxMessage.due_at), col(OutboxMessage.id)),
                    )
                    .label("n"),
                    func.count().over(partition_by=chat).label("total"),
                )
                .where(*pending)
                .subquery()
            )
            due = (
                select(col(OutboxMessage.id), ranked.c.n)
                .join(ranked, ranked.c.id == col(OutboxMessage.id))
                .where(*pending, ranked.c.n <= PER_CHAT_IN_BATCH)
                .order_by(
                    (ranked.c.total - ranked.c.n).desc(),
                    col(OutboxMessage.due_at),
                    col(OutboxMessage.id),
                )
                .limit(self.batch_size)
            )
            if self.postgres:
                due = due.with_for_update(skip_locked=True, of=OutboxMessage)
            # Two steps in one transaction: PostgreSQL keeps the picked rows locked until the
            # commit, so another sender's SKIP LOCKED passes them by. (A LIMIT inside
            # "UPDATE … WHERE id IN (subquery)" may be re-evaluated and claim too many.)
            picked = session.execute(due).all()
            # Sent in this order: every chat's first row, then the second rows…, so that
            # a chat's rows are a batch's share of chats apart, not waiting on each other.
            order = {int(row_id): (n, index) for index, (row_id, n) in enumerate(picked)}
            ids = list(order)
            if not ids:
                session.rollback()
                return []
            claimed = session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(ids),
                    col(OutboxMessage.status) == OutboxStatus.PENDING,
                )
                .values(status=OutboxStatus.CLAIMED, claimed_by=self.worker_id, claimed_at=now)
                .returning(
                    col(OutboxMessage.id),
                    col(OutboxMessage.channel),
                    col(OutboxMessage.chat_id),
                    col(OutboxMessage.content),
                )
                .execution_options(synchronize_session=False)
            ).all()
            session.commit()
        rows = [(int(r[0]), str(r[1]), str(r[2]), dict(r[3] or {})) for r in claimed]
        rows.sort(key=lambda r: order[r[0]])
        if len(self._group_chats) > 10_000:
            self._group_chats.clear()
        self._group_chats |= self._groups_among(rows)
        self._held.update(r[0] for r in rows)
        return rows

    def _groups_among(
        self, rows: list[tuple[int, str, str, dict[str, Any]]]
    ) -> set[tuple[str, str]]:
        """Which of these rows' chats are group chats (paced by the group limit)."""
        chats = {(channel, chat_id) for _id, channel, chat_id, _content in rows}
        if not chats:
            return set()
        with Session(self.engine) as session:
            linked = session.execute(
                select(col(GroupChat.channel), col(GroupChat.chat_id)).where(
                    col(GroupChat.chat_id).in_(sorted({chat for _c, chat in chats}))
                )
            ).all()
        groups = {(str(channel), str(chat)) for channel, chat in linked}
        # Telegram group and supergroup ids are negative, linked or not.
        groups |= {(c, chat) for c, chat in chats if c == "telegram" and chat.startswith("-")}
        return groups & chats

    def _guarded(self, row_id: int, status: OutboxStatus) -> Any:
        return (
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == row_id,
                col(OutboxMessage.status) == status,
                col(OutboxMessage.claimed_by) == self.worker_id,
            )
            .execution_options(synchronize_session=False)
        )

    def _start_sending(self, row_id: int) -> bool:
        """Commit "sending" before the network call; False if the lease was lost."""
        with Session(self.engine) as session:
            count = rowcount(
                session.execute(
                    self._guarded(row_id, OutboxStatus.CLAIMED).values(
                        status=OutboxStatus.SENDING,
                        claimed_at=self._now(session),
                        attempts=OutboxMessage.attempts + 1,  # type: ignore[operator]
                    )
                )
            )
            session.commit()
        return bool(count)

    def _finish(
        self, row_id: int, values: dict[str, Any], *, retry_in: float | None = None
    ) -> None:
        """Record a send's outcome; ``retry_in`` seconds from now it is due again.

        If the database cannot be reached, the outcome is kept and the next recovery
        writes it (the row stays "sending" meanwhile, so nobody sends it again).
        """
        try:
            with Session(self.engine) as session:
                values = dict(values)
                if retry_in is not None:
                    values["due_at"] = self._now(session) + dt.timedelta(seconds=retry_in)
                if values.get("status") == OutboxStatus.SENT:
                    values["sent_at"] = self._now(session)
                session.execute(self._guarded(row_id, OutboxStatus.SENDING).values(**values))
                session.commit()
        except Exception:
            if retry_in is not None:  # due again from the moment it is recorded
                values["due_at"] = self.clock()
            if values.get("status") == OutboxStatus.SENT:
                values.setdefault("sent_at", self.clock())
            self._unrecorded[row_id] = values
            raise
        finally:
            self._handed.discard(row_id)

    def _release(self, row_id: int) -> None:
        """Give back a claimed row that was not sent (stopping)."""
        with Session(self.engine) as session:
            session.execute(
                self._guarded(row_id, OutboxStatus.CLAIMED).values(
                    status=OutboxStatus.PENDING, claimed_by="", claimed_at=None
                )
            )
            session.commit()

    def _attempts(self, row_id: int) -> int:
        with Session(self.engine) as session:
            value = session.execute(
                select(col(OutboxMessage.attempts)).where(col(OutboxMessage.id) == row_id)
            ).scalar()
        return int(value or 0)

    def _mark_blocked(self, row_id: int, channel: str, chat_id: str, reason: str) -> None:
        self._handed.discard(row_id)
        with Session(self.engine) as session:
            session.execute(
                self._guarded(row_id, OutboxStatus.SENDING).values(
                    status=OutboxStatus.BLOCKED, last_error=reason[:500]
                )
            )
            session.execute(
                update(ChatIdentity)
                .where(col(ChatIdentity.channel) == channel, col(ChatIdentity.chat_id) == chat_id)
                .values(blocked=True)
            )
            session.commit()

    # ------------------------------------------------------------ sending (async)

    async def recover(self, *, all_foreign: bool | None = None) -> int:
        """Resolve rows of dead senders; on SQLite every foreign claim is dead."""
        if all_foreign is None:
            all_foreign = not self.postgres
        count = await self._db(self._recover, all_foreign=all_foreign)
        self.stats.recovered += count
        return count

    async def run_once(self) -> int:
        """Send every row due now, claiming batches as the queue runs low; returns the count.

        Claiming the next batch before the current one is finished keeps the pipeline full,
        so the platform's rate limit, not batch boundaries, sets the pace.
        """
        if self._stopping:
            return 0
        self.stats.missed += await self._db(self._expire)
        self.stats.recovered += await self._db(self._recover, all_foreign=False)
        queue: asyncio.Queue[tuple[int, str, str, dict[str, Any]]] = asyncio.Queue()
        claiming = asyncio.Lock()
        exhausted = False
        handled = 0

        async def refill() -> None:
            nonlocal exhausted
            async with claiming:
                if exhausted or self._stopping or queue.qsize() > self.concurrency:
                    return
                rows = await self._db(self._claim)
                exhausted = not rows
                for row in rows:
                    queue.put_nowait(row)

        async def worker() -> None:
            nonlocal handled
            while True:
                if queue.qsize() <= self.concurrency:
                    await refill()
                if queue.empty():
                    return
                row = queue.get_nowait()
                if self._stopping:
                    try:
                        await self._db(self._release, row[0])
                    finally:
                        self._held.discard(row[0])
                    continue
                await self._send_row(*row)
                handled += 1

        try:
            await refill()
            if queue.empty():
                return 0
            workers = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
            self._in_flight.update(workers)
            try:
                await asyncio.gather(*workers)
            finally:
                self._in_flight.difference_update(workers)
        finally:
            # Rows still queued when a step failed (the database went away) are no longer
            # handled here: their lease runs out and a recovery, ours included, frees them.
            while not queue.empty():
                self._held.discard(queue.get_nowait()[0])
        return handled

    async def run_until_idle(self, max_batches: int = 10_000) -> DeliveryStats:
        """Send everything due now (honouring limits), then return."""
        for _ in range(max_batches):
            if await self.run_once() == 0:
                break
        return self.stats

    async def _send_row(
        self, row_id: int, channel: str, chat_id: str, content: dict[str, Any]
    ) -> None:
        try:
            await self._send_held_row(row_id, channel, chat_id, content)
        finally:
            self._held.discard(row_id)

    async def _send_held_row(
        self, row_id: int, channel: str, chat_id: str, content: dict[str, Any]
    ) -> None:
        sender = self.senders[channel]
        limiter = self.limiters[channel]
        group = (channel, chat_id) in self._group_chats
        if isinstance(limiter, SharedRateLimiter):
            # "Sending" is written while waiting for the slot: between the slot and the
            # request nothing is left that a loaded machine could make late.
            go = await limiter.acquire(
                chat_id, group, meanwhile=lambda: self._db(self._start_sending, row_id)
            )
        else:
            await limiter.acquire(chat_id, group=group)
            go = await self._db(self._start_sending, row_id)
        if not go:
            self.stats.lost_lease += 1
            return
        reply = Reply.from_dict(content)
        self._handed.add(row_id)
        if self._journal is not None:
            os.write(self._journal, b"%d\n" % row_id)  # survives a kill of this process
        try:
            result = await sender.send(chat_id, reply)
        except RetryLater as error:
            if isinstance(limiter, SharedRateLimiter):
                await limiter.pause_all(error.seconds)
            else:
                limiter.pause(error.seconds)
            self.stats.rate_limited += 1
            await self._db(
                self._finish,
                row_id,
                {
                    "status": OutboxStatus.PENDING,
                    "claimed_by": "",
                    "attempts": OutboxMessage.attempts - 1,  # a 429 is not the message's fault
                    "last_error": f"rate limited: retry after {error.seconds:g}s",
                },
                retry_in=error.seconds,
            )
            return
        except Blocked as error:
            self.stats.blocked += 1
            await self._db(self._mark_blocked, row_id, channel, chat_id, str(error) or "blocked")
            return
        except DeliveryUnknown as error:
            self.stats.unknown += 1
            await self._db(
                self._finish,
                row_id,
                {"status": OutboxStatus.UNKNOWN, "last_error": str(error)[:500]},
            )
            return
        except TransientError as error:
            attempts = await self._db(self._attempts, row_id)
            if attempts >= self.limits.max_attempts:
                self.stats.failed += 1
                values: dict[str, Any] = {
                    "status": OutboxStatus.FAILED,
                    "last_error": str(error)[:500],
                }
                delay = None
            else:
                self.stats.retried += 1
                delay = min(MAX_BACKOFF, self.limits.backoff_seconds * 2 ** (attempts - 1))
                values = {
                    "status": OutboxStatus.PENDING,
                    "claimed_by": "",
                    "last_error": str(error)[:500],
                }
            await self._db(self._finish, row_id, values, retry_in=delay)
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a permanent refusal (bad request…)
            log.warning(
                "outbox row %s failed permanently: %s", row_id, type(error).__name__, exc_info=error
            )
            self.stats.failed += 1
            self.stats.errors.append(f"{row_id}: {error}"[:200])
            await self._db(
                self._finish,
                row_id,
                {
                    "status": OutboxStatus.FAILED,
                    "last_error": f"{type(error).__name__}: {error}"[:500],
                },
            )
            return
        sent_content = dict(content)
        if isinstance(result, list) and result:
            sent_content["sent_message_ids"] = result
        await self._db(
            self._finish,
            row_id,
            {"status": OutboxStatus.SENT, "last_error": "", "content": sent_content},
        )
        self.stats.sent += 1

    @property
    def shares_limits(self) -> bool:
        """Whether sends are paced by slots shared with the other workers (PostgreSQL)."""
        return any(isinstance(v, SharedRateLimiter) for v in self.limiters.values())

    async def pace_reply(self, channel: str, chat_id: str, group: bool = False) -> None:
        """Reserve a shared send slot for a direct reply and wait for it.

        Replies then count towards the platform's rate with the outbox's sends, on every
        worker. Without the database (an outage) the reply goes at once: nothing could
        have been handled meanwhile, so there is no backlog of replies to pace.
        """
        limiter = self.limiters.get(channel)
        if not isinstance(limiter, SharedRateLimiter):
            return
        try:
            await limiter.acquire(chat_id, group)
        except SQLAlchemyError:
            log.warning("no send slot for a reply to %s %s: sending at once", channel, chat_id)
        self.stats.replies_paced += 1

    @property
    def stopping(self) -> bool:
        """Whether ``stop`` was called: nothing more is claimed."""
        return self._stopping

    def stop(self) -> None:
        """Stop claiming; rows already being sent finish, claimed ones are given back."""
        self._stopping = True

    async def drain(self) -> None:
        """Stop and wait for in-flight sends to be recorded."""
        self.stop()
        if self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)
