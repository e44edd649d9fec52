"""What every channel offers the rest of tocns for messages it did not receive first."""

from __future__ import annotations

from typing import Protocol

from bot.core.messages import Reply


class Blocked(Exception):
    """The person blocked the bot or can no longer be reached on this chat."""


class RetryLater(Exception):
    """The platform asked us to slow down (HTTP 429)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class TransientError(Exception):
    """A failure worth retrying later (timeout, 5xx, malformed answer)."""


class DeliveryUnknown(TransientError):
    """The request may have reached the platform (read timeout, dropped connection): resending
    could duplicate, so the outbox records the message as "unknown" instead of retrying."""


class Sender(Protocol):
    """Sends a reply to a chat on one channel, mapping platform errors to the ones above."""

    channel: str

    async def send(self, chat_id: str, reply: Reply) -> object: ...
