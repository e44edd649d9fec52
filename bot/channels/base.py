"""What every channel offers the rest of tocns for messages it did not receive first."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

from bot.core.messages import Reply

if TYPE_CHECKING:
    import aiohttp

# Called when this task's next request to the platform really leaves (its first bytes are
# written to the socket): a shared send slot learns how late that was, after its own
# check (``bot.reminders.sendslots``). Set by the slot, called by the HTTP clients.
REQUEST_WRITTEN: ContextVar[Callable[[], None] | None] = ContextVar(
    "tocns_request_written", default=None
)


def request_written() -> None:
    """Tell this task's send slot, if any, that its request is being written now."""
    callback = REQUEST_WRITTEN.get()
    if callback is not None:
        callback()


async def _on_chunk_sent(*_: object) -> None:
    request_written()  # aiohttp calls this just before it writes the chunk


def write_trace() -> aiohttp.TraceConfig:
    """An aiohttp session's trace that calls ``request_written``: on Python 3.11 aiohttp
    writes a request's body, and its buffered headers with it, from a task of its own,
    after whatever else the event loop has ready, so a request can leave well after the
    moment its sender checked its slot."""
    import aiohttp  # noqa: PLC0415 - only the HTTP clients need it

    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(_on_chunk_sent)
    return trace


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
