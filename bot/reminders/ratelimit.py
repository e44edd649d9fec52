"""Paces sends to one platform: a sliding window overall, a gap per chat, pauses after 429."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

RATE_MARGIN = 0.02  # seconds added to every rate window, for network jitter


class RateLimiter:
    """Sliding one-second window overall, a minimum gap per chat, and pauses after a 429."""

    def __init__(
        self,
        per_second: float,
        per_chat_per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        margin: float = RATE_MARGIN,
        group_per_minute: float | None = None,
    ) -> None:
        self.limit = max(1, int(per_second))
        self.window = 1.0 if per_second >= 1 else 1.0 / per_second
        self.window += margin
        self.chat_gap = 1.0 / per_chat_per_second + margin
        # A group chat has its own, slower limit (Telegram: 20 messages a minute).
        self.group_gap = (
            max(self.chat_gap, 60.0 / group_per_minute + margin)
            if group_per_minute
            else self.chat_gap
        )
        self.gap = self.window / self.limit  # evenly paced: no burst that jitter could squeeze
        self._last = float("-inf")
        self.monotonic = monotonic
        self.sleep = sleep
        self.paused_until = 0.0
        self._sent: deque[float] = deque()
        self._chats: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Send nothing on this channel for ``seconds`` (the platform said 429)."""
        self.paused_until = max(self.paused_until, self.monotonic() + seconds)

    def _wait(self, chat_id: str, now: float, group: bool = False) -> float:
        wait = self.paused_until - now
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if len(self._sent) >= self.limit:
            wait = max(wait, self.window - (now - self._sent[0]))
        wait = max(wait, self._last + self.gap - now)
        last = self._chats.get(chat_id)
        if last is not None:
            wait = max(wait, (self.group_gap if group else self.chat_gap) - (now - last))
        return wait

    async def acquire(self, chat_id: str, *, group: bool = False) -> None:
        """Wait for a slot to send one message to a chat (``group``: a group chat's pace)."""
        async with self._lock:
            while True:
                now = self.monotonic()
                wait = self._wait(chat_id, now, group)
                if wait <= 0:
                    # Pace by the schedule, not by when the sleep happened to return, so the
                    # event loop's wake-up latency does not add up over thousands of sends.
                    target = self._last + self.gap
                    self._last = target if now - target < self.gap else now
                    self._sent.append(now)
                    self._chats[chat_id] = now
                    if len(self._chats) > 5000:
                        horizon = now - self.group_gap
                        self._chats = {c: t for c, t in self._chats.items() if t > horizon}
                    return
                await self.sleep(max(wait, 0.0005))  # never a no-op sleep (float rounding)
