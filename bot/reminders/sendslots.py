"""A platform's rate limit shared by every worker: send slots reserved in PostgreSQL.

Each send reserves the next free moment on its channel (one row per channel, spaced by
``(1 + SLOT_MARGIN) / per_second``) in one transaction on the database's clock, then
waits until then. N workers together therefore send at the platform's rate, not N
times it. A 429 pushes the channel's row past the platform's ``retry_after``, for every
worker. (SQLite deployments run one sender: ``RateLimiter`` paces it in process.)

The platform counts a message when its request arrives, not when its slot was: the
slots keep their spacing at the platform only if every message goes at its slot.

* A chat's row holds the channel slot its last message was given, and a channel slot is
  only taken once the chat is free by then (``chat gap`` after that message). A message
  that waited for its chat after taking a channel slot would go between two other slots
  and put 31 messages in one second.
* Nothing but the sleep lies between a slot and the request: the row is marked
  "sending" while waiting (``acquire``'s ``meanwhile``).
* A sender that wakes more than ``LATE`` past its slot (a loaded machine, a slow answer
  from the database) gives it up and takes a new one instead of sending late.
* ``SLOT_MARGIN`` leaves ~35 ms in every second for the delays no sender can see (the
  request's way to the platform): 30 messages/s become 29.
* A request can still leave late after that check (on Python 3.11 aiohttp writes it from
  a task of its own, after whatever the event loop has ready; the process can be paused).
  The HTTP client says when it really leaves (``bot.channels.base.request_written``); one
  that left more than the margin allows after its slot pushes the channel's slots still
  to come by as much, so that the message 30 slots on is still a second after it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from bot.channels.base import REQUEST_WRITTEN

log = logging.getLogger(__name__)

# A window of ``per_second`` slots spans 1 + SLOT_MARGIN seconds: the slack for sends a
# little late at the platform (a sender's own lateness beyond LATE is caught, see below).
SLOT_MARGIN = 0.035
# A sender waking more than this past its slot takes a new slot instead of sending late.
LATE = 0.012
# An idle channel's slot is this far ahead of the database's now, so that the answer
# reaches the sender before its slot (else every send on a quiet channel would be late).
LEAD = 0.03
# A chat's next message at least one chat gap plus this after its last one's slot (that
# message went up to LATE after its slot, and reached the platform later still).
CHAT_MARGIN = 0.06
# Slots given up in a row before a message goes anyway (however late): never starved.
MAX_RETAKES = 4
# Of the margin, what is left for the platform's own delay in reading a request: a
# request written later than the rest of the margin after its slot pushes the slots on.
PLATFORM_JITTER = 0.01

# A chat's row, locked for this transaction (new chats: a moment long past).
LOCK_CHAT = text(
    """
    INSERT INTO sendslot (key, next_at) VALUES (:key, timestamp '1970-01-01')
    ON CONFLICT (key) DO UPDATE SET next_at = sendslot.next_at
    RETURNING EXTRACT(EPOCH FROM next_at)
    """
)
# The channel's next slot: one gap after the last reservation and never in the past (an
# idle channel does not bank a burst), taken only if the chat is free by then.
NEXT_SLOT = """GREATEST(
        sendslot.next_at + make_interval(secs => :gap),
        timezone('UTC', clock_timestamp()) + make_interval(secs => :lead)
    )"""
RESERVE = text(
    f"""
    INSERT INTO sendslot (key, next_at)
    VALUES (:key, timezone('UTC', clock_timestamp()) + make_interval(secs => :lead))
    ON CONFLICT (key) DO UPDATE SET next_at = {NEXT_SLOT}
    WHERE {NEXT_SLOT} >= timezone('UTC', to_timestamp(:ready))
    RETURNING EXTRACT(EPOCH FROM next_at), EXTRACT(EPOCH FROM timezone('UTC', clock_timestamp()))
    """
)
PEEK = text(
    f"""
    SELECT EXTRACT(EPOCH FROM {NEXT_SLOT}), EXTRACT(EPOCH FROM timezone('UTC', clock_timestamp()))
    FROM sendslot WHERE key = :key
    """
)
SET_CHAT = text(
    "UPDATE sendslot SET next_at = timezone('UTC', to_timestamp(:slot)) WHERE key = :key"
)
PAUSE = text(
    """
    INSERT INTO sendslot (key, next_at)
    VALUES (:key, timezone('UTC', clock_timestamp()) + make_interval(secs => :seconds))
    ON CONFLICT (key) DO UPDATE SET next_at = GREATEST(
        sendslot.next_at, timezone('UTC', clock_timestamp()) + make_interval(secs => :seconds)
    )
    """
)
# The slots not yet taken move on by :shift, if the slot a second after the late one is
# among them (else it is taken already: moving the rest would only cost rate).
PUSH = text(
    """
    UPDATE sendslot SET next_at = next_at + make_interval(secs => :shift)
    WHERE key = :key AND next_at < timezone('UTC', to_timestamp(:horizon))
    """
)
# A chat's row holds its last message's slot: the moment it really went, if it still does.
PUSH_CHAT = text(
    """
    UPDATE sendslot SET next_at = timezone('UTC', to_timestamp(:went))
    WHERE key = :key AND abs(EXTRACT(EPOCH FROM next_at) - :slot) < 1e-5
    """
)
FORGET_CHATS = text(
    "DELETE FROM sendslot WHERE key LIKE :pattern "
    "AND next_at < timezone('UTC', clock_timestamp()) - make_interval(secs => :age)"
)


@dataclass(frozen=True)
class Reservation:
    """One answer of the database, in its epoch seconds."""

    slot: float | None  # the channel slot taken; None: the chat is not free in time
    ready: float  # when the chat is free
    now: float  # the database's now, as it answered
    previous: float  # the chat's last slot before this one (to give this one back)
    lead: float = 0.0  # how far ahead the channel's next slot is (chat not free)


class SharedRateLimiter:
    """Paces one channel's sends across workers."""

    def __init__(
        self,
        engine: Engine,
        channel: str,
        per_second: float,
        per_chat_per_second: float,
        *,
        run: Callable[..., Awaitable[Any]],
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        margin: float = SLOT_MARGIN,
        late: float = LATE,
        lead: float = LEAD,
        chat_margin: float = CHAT_MARGIN,
        group_per_minute: float | None = None,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.gap = (1.0 + margin) / per_second
        self.chat_gap = 1.0 / per_chat_per_second + chat_margin
        # A group chat has its own, slower limit (Telegram: 20 messages a minute).
        self.group_gap = (
            max(self.chat_gap, 60.0 / group_per_minute + chat_margin)
            if group_per_minute
            else self.chat_gap
        )
        self.late = late
        self.lead = lead
        self.per_second = per_second
        # How late a request may leave after its slot before the slots on are pushed.
        self.slack = max(0.0, margin - PLATFORM_JITTER)
        self.chat_slack = max(0.0, chat_margin - PLATFORM_JITTER)
        self._pushes: set[asyncio.Task[None]] = set()
        self._last_push: tuple[float, float] | None = None  # (slot, when it went): late
        self.run = run  # runs a blocking function off the event loop
        self.sleep = sleep
        self.monotonic = monotonic
        # The database's clock minus this process's, as seen by the last answers (each
        # late by its own delay): see ``_local``.
        self._offsets: deque[float] = deque(maxlen=200)
        # For tests and benchmarks: the channel slots this worker reserved (database epoch
        # seconds), how long it waited for each, the slots it gave up (woke too late) and
        # how often a chat was not free in time.
        self.slots: list[float] = []
        self.waits: list[float] = []
        self.retaken = 0
        self.chat_waits = 0
        self.pushed = 0  # requests that left late, and pushed the slots on

    def _reserve(
        self, chat_id: str, group: bool = False, giving_back: tuple[float, float] | None = None
    ) -> Reservation:
        """Take the channel's next slot for a message to a chat, if the chat is free by
        then. ``giving_back``: (a slot this sender gives up, the chat's slot before it):
        the chat's row is free again from its previous message if it still holds that."""
        chat_gap = self.group_gap if group else self.chat_gap
        chat_key = f"{self.channel}:chat:{chat_id}"[:100]
        with self.engine.begin() as connection:
            last = float(connection.execute(LOCK_CHAT, {"key": chat_key}).scalar_one())
            if giving_back is not None and abs(last - giving_back[0]) < 1e-5:
                last = giving_back[1]
            ready = last + chat_gap
            params = {"key": self.channel, "gap": self.gap, "lead": self.lead}
            row = connection.execute(RESERVE, {**params, "ready": ready}).first()
            if row is None:  # the chat is not free by the channel's next slot
                upcoming, now = connection.execute(PEEK, params).one()
                return Reservation(None, ready, float(now), last, lead=float(upcoming) - float(now))
            slot, now = float(row[0]), float(row[1])
            connection.execute(SET_CHAT, {"key": chat_key, "slot": slot})
        return Reservation(slot, ready, now, last)

    async def acquire(
        self,
        chat_id: str,
        group: bool = False,
        meanwhile: Callable[[], Awaitable[bool]] | None = None,
    ) -> bool:
        """Reserve this worker's slot for one message to a chat and wait for it.

        ``meanwhile`` runs once a slot is reserved, before waiting for it (the outbox
        marks its row "sending" then, so nothing but the sleep is left between the slot
        and the request); if it returns False nothing is sent and neither is this.
        """
        giving_back: tuple[float, float] | None = None
        retakes = 0
        while True:
            answer: Reservation = await self.run(self._reserve, chat_id, group, giving_back)
            arrived = self.monotonic()
            self._offsets.append(answer.now - arrived)  # database now - arrival here
            if answer.slot is None:
                # Ask again so that the channel's slot then falls when the chat is free.
                self.chat_waits += 1
                start = self._local(answer.ready - max(answer.lead, 0.0))
                await self.sleep(max(self.gap, start - self.monotonic()))
                continue
            self.slots.append(answer.slot)
            self.waits.append(answer.slot - answer.now)
            target = self._local(answer.slot)
            if meanwhile is not None:
                go = await meanwhile()
                meanwhile = None
                if not go:
                    return False
            wait = target - self.monotonic()
            if wait > 0:
                await self.sleep(wait)
            if self.monotonic() - target <= self.late or retakes >= MAX_RETAKES:
                REQUEST_WRITTEN.set(self._when_written(answer.slot, target, chat_id))
                return True
            # Woke too late: a message sent now could land in a window the next senders
            # fill on time. The slot stays empty; the chat is free again as it was.
            self.retaken += 1
            retakes += 1
            giving_back = (answer.slot, answer.previous)

    def _when_written(self, slot: float, target: float, chat_id: str) -> Callable[[], None]:
        """What the HTTP client calls as this slot's request leaves (once)."""
        done = False

        def written() -> None:
            nonlocal done
            if done:
                return
            done = True
            late = self.monotonic() - target
            if late <= self.slack:
                return
            went = slot + late  # on the database's clock
            shift = late - self.slack
            if self._last_push is not None and slot > self._last_push[0]:
                # One stall of this process makes several requests late at once: the slot
                # a second after the last late one is pushed past it already, and this
                # one's comes at least a slot after that. Only what it went later still.
                shift = min(shift, went - self._last_push[1] - self.gap)
            if shift <= 0 and late <= self.chat_slack:
                return
            self.pushed += 1
            self._last_push = (slot, went) if shift > 0 else self._last_push
            task = asyncio.get_running_loop().create_task(
                self._push_later(slot, max(shift, 0.0), went, chat_id)
            )
            self._pushes.add(task)
            task.add_done_callback(self._pushes.discard)

        return written

    async def _push_later(self, slot: float, shift: float, went: float, chat_id: str) -> None:
        try:
            await self.run(self._push, slot, shift, went, chat_id)
        except Exception as error:  # noqa: BLE001 - the database is away, or shutting down
            log.warning(
                "send slots on %s not pushed after a late request: %s",
                self.channel,
                type(error).__name__,
            )

    def _push(self, slot: float, shift: float, went: float, chat_id: str) -> None:
        """A request for ``slot`` left at ``went``: the channel's slots not yet taken move
        on by ``shift``, so that the one ``per_second`` slots after it is still a second
        after it (less the platform's jitter), and the chat's next message is a chat gap
        after it."""
        with self.engine.begin() as connection:
            if shift > 0:
                connection.execute(
                    PUSH,
                    {
                        "key": self.channel,
                        "shift": shift,
                        "horizon": slot + (self.per_second - 0.5) * self.gap,
                    },
                )
            if went - slot > self.chat_slack:
                connection.execute(
                    PUSH_CHAT,
                    {
                        "key": f"{self.channel}:chat:{chat_id}"[:100],
                        "went": went - self.chat_slack,
                        "slot": slot,
                    },
                )

    def _local(self, moment: float) -> float:
        """A moment on the database's clock (epoch seconds) on this process's clock.

        The database's answer reaches this coroutine late by however long the thread and
        the event loop took (tens of milliseconds on a loaded machine, differently for each
        send): the clocks are mapped by the least delayed of the last answers (as NTP
        does), which never puts a slot earlier than it is.
        """
        return moment - max(self._offsets)

    def _pause(self, seconds: float) -> None:
        with self.engine.begin() as connection:
            connection.execute(PAUSE, {"key": self.channel, "seconds": seconds})

    async def pause_all(self, seconds: float) -> None:
        """Send nothing on this channel for ``seconds``, from any worker (a 429)."""
        await self.run(self._pause, seconds)

    def forget_idle_chats(self, age_seconds: float = 60.0) -> None:
        """Drop the rows of chats not sent to lately (blocking; run with the recovery)."""
        with self.engine.begin() as connection:
            connection.execute(
                FORGET_CHATS, {"pattern": f"{self.channel}:chat:%", "age": age_seconds}
            )
