"""The rate limiter paces sends evenly and keeps a gap per chat."""

from __future__ import annotations

from bot.reminders.ratelimit import RateLimiter
from tests.reminders.util import FakeTime


async def test_rate_limiter_spaces_messages() -> None:
    fake_time = FakeTime()
    limiter = RateLimiter(30, 1, monotonic=fake_time, sleep=fake_time.sleep, margin=0)
    for index in range(90):
        await limiter.acquire(str(index))
    assert 2.9 <= fake_time.now - 1000 < 3.2  # evenly paced: one every 1/30 s
    start = fake_time.now
    await limiter.acquire("same")
    await limiter.acquire("same")
    assert fake_time.now - start >= 1.0
