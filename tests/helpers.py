"""Small drivers shared by the tests: an injected clock and a chat on the conversation core.

Test data factories live in ``tests/factories.py``; the names below are re-exported
from there until every folder imports them from it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from bot.core.dispatcher import Dispatcher
from bot.core.messages import Attachment, Incoming, Reply
from tests.factories import (  # noqa: F401 - re-exported, see the docstring
    add_member_villages,
    add_person,
    unit_id,
    village_id,
)

VN = dt.timezone(dt.timedelta(hours=7))
_update_ids = itertools.count(1)


class FakeClock:
    """An injected clock the tests move by hand (never the real time, never sleep)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, value: dt.datetime) -> None:
        self.now = value

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Chat:
    """Drives the conversation core directly, as a channel adapter would."""

    dispatcher: Dispatcher
    chat_id: str = "1001"
    channel: str = "console"
    name: str = "Nguyễn Văn An"
    history: list[Reply] = field(default_factory=list)

    def send(self, text: str, *, key: str | None = None) -> list[Reply]:
        """Send a text message and return the replies."""
        return self._deliver(
            Incoming(self.channel, self.chat_id, self.name, text=text, update_key=key)
        )

    def press(self, value: str) -> list[Reply]:
        """Press a button (choose an option by its value)."""
        return self._deliver(
            Incoming(
                self.channel,
                self.chat_id,
                self.name,
                choice=value,
                update_key=f"u{next(_update_ids)}",
            )
        )

    def attach(self, attachment: Attachment, caption: str | None = None) -> list[Reply]:
        """Send a photo, document or link."""
        return self._deliver(
            Incoming(
                self.channel,
                self.chat_id,
                self.name,
                text=caption,
                attachment=attachment,
                update_key=f"u{next(_update_ids)}",
            )
        )

    def say(self, text: str) -> str:
        """Send text and return all reply texts joined (choices numbered)."""
        return "\n".join(reply.numbered_text() for reply in self.send(text))

    def _deliver(self, message: Incoming) -> list[Reply]:
        replies = self.dispatcher.handle(message)
        self.history.extend(replies)
        return replies
