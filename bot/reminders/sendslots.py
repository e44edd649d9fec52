"""A platform's rate limit shared by every worker: send slots reserved in PostgreSQL.

Each send reserves the next free moment on its channel (one row per channel, spaced by
``1 / per_second``) and on its chat (one row per recently used chat, spaced by
``1 / per_chat_per_second``) in one statement on the database's clock, then waits
until then. N workers together therefore send at the platform's rate, not N times it.
A 429 pushes the channel's row past the platform's ``retry_after``, for every worker.
(SQLite deployments run one sender: ``RateLimiter`` paces it in process.)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Engine, text

from bot.reminders.ratelimit import RATE_MARGIN

# One statement per key: a new key is free now; else one gap after the last reservation,
# and never in the past (an idle channel does not bank a burst).
RESERVE = text(
    """
    INSERT INTO sendslot (key, next_at)
    VALUES (:key, timezone('UTC', clock_timestamp()))
    ON CONFLICT (key) DO UPDATE SET next_at = GREATEST(
        sendslot.next_at + make_interval(secs => :gap), timezone('UTC', clock_timestamp())
    )
    RETURNING EXTRACT(EPOCH FROM next_at),
        EXTRACT(EPOCH FROM next_at - timezone('UTC', clock_timestamp()))
    """
)
# A chat's slot: one chat gap after its last message, and never before the channel slot
# just reserved, so the chat's row holds the moment the message really goes (a chat
# reserved 1 s after its last message but sent 3 s later, behind a queue on the channel,
# must have its next message 1 s after that, not at once).
RESERVE_CHAT = text(
    """
    INSERT INTO sendslot (key, next_at)
    VALUES (:key, GREATEST(timezone('UTC', clock_timestamp()), timezone('UTC', to_timestamp(:floor))))
    ON CONFLICT (key) DO UPDATE SET next_at = GREATEST(
        sendslot.next_at + make_interval(secs => :gap),
        timezone('UTC', clock_timestamp()),
        timezone('UTC', to_timestamp(:floor))
    )
    RETURNING EXTRACT(EPOCH FROM next_at - timezone('UTC', clock_timestamp()))
    """
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
FORGET_CHATS = text(
    "DELETE FROM sendslot WHERE key LIKE :pattern "
    "AND next_at < timezone('UTC', clock_timestamp()) - make_interval(secs => :age)"
)


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
        margin: float = RATE_MARGIN,
        group_per_minute: float | None = None,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.gap = (1.0 + margin) / per_second
        self.chat_gap = 1.0 / per_chat_per_second + margin
        # A group chat has its own, slower limit (Telegram: 20 messages a minute).
        self.group_gap = (
            max(self.chat_gap, 60.0 / group_per_minute + margin)
            if group_per_minute
            else self.chat_gap
        )
        self.run = run  # runs a blocking function off the event loop
        self.sleep = sleep
        self.monotonic = monotonic
        # The database's clock minus this process's, as seen by the last answers (each
        # late by its own delay): see ``_until``.
        self._offsets: deque[float] = deque(maxlen=200)
        # For tests and benchmarks: the channel slots this worker reserved (database epoch
        # seconds) and how long it waited for each.
        self.slots: list[float] = []
        self.waits: list[float] = []

    def _reserve(self, chat_id: str, group: bool = False) -> tuple[float, float, float]:
        """(the channel slot, seconds to wait for the channel and chat slots, the
        database's now), all in the database's epoch seconds."""
        chat_gap = self.group_gap if group else self.chat_gap
        with self.engine.begin() as connection:
            slot, wait = connection.execute(RESERVE, {"key": self.channel, "gap": self.gap}).one()
            chat_wait = connection.execute(
                RESERVE_CHAT,
                {"key": f"{self.channel}:chat:{chat_id}"[:100], "gap": chat_gap, "floor": slot},
            ).scalar_one()
        return float(slot), max(float(wait), float(chat_wait), 0.0), float(slot) - float(wait)

    async def acquire(self, chat_id: str, group: bool = False) -> None:
        """Reserve this worker's slot for one message to a chat and wait for it."""
        slot, wait, database_now = await self.run(self._reserve, chat_id, group)
        self.slots.append(slot)
        self.waits.append(wait)
        if wait > 0:
            await self.sleep(self._until(database_now + wait))

    def _until(self, target: float) -> float:
        """How long to sleep until ``target`` (the database's epoch seconds).

        The database's answer reaches this coroutine late by however long the thread and
        the event loop took (tens of milliseconds on a loaded machine, differently for each
        send): sleeping the slot's wait from then would send late by as much, and another
        worker's less delayed send could land in the same platform window (a 429). So the
        database's clock is mapped onto this process's by the least delayed of the last
        answers (as NTP does), and the sleep ends at the slot by that map.
        """
        now = self.monotonic()
        self._offsets.append(target - self.waits[-1] - now)  # database now - arrival here
        offset = max(self._offsets)  # the least delayed answer
        return max(0.0, target - offset - now)

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
