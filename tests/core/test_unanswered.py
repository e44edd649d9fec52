"""Replies committed with their update but never sent are sent once, by one worker."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.core.messages import Incoming, Reply
from bot.core.unanswered import GRACE, HORIZON, claim_unanswered, send_unanswered
from bot.services import Services
from db.models import ProcessedUpdate
from db.types import utcnow


class Recorder:
    """A channel's sender that only writes down what it was asked to send."""

    channel = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply.text))


def _start(dispatcher: Dispatcher, key: str) -> tuple[Incoming, list[Reply]]:
    message = Incoming(channel="telegram", chat_id="777", text="/start", update_key=key)
    return message, dispatcher.handle(message)


def _row(services: Services, key: str) -> ProcessedUpdate:
    with Session(services.engine) as session:
        return session.exec(
            select(ProcessedUpdate).where(ProcessedUpdate.update_key.endswith(key))  # type: ignore[attr-defined]
        ).one()


async def test_replies_are_kept_until_the_channel_has_sent_them(
    services: Services, dispatcher: Dispatcher
) -> None:
    message, replies = _start(dispatcher, "u1")
    row = _row(services, "u1")
    assert row.chat_id == "777" and row.answered_at is None
    assert [r["text"] for r in row.replies or []] == [r.text for r in replies]
    await dispatcher.answered(message)
    assert _row(services, "u1").answered_at is None  # written with the next batch
    await dispatcher.flush_answered()
    assert _row(services, "u1").answered_at is not None
    assert claim_unanswered(services.engine, now=utcnow() + GRACE * 2) == []


async def test_replies_a_dead_process_left_are_sent_once(
    services: Services, dispatcher: Dispatcher
) -> None:
    _message, replies = _start(dispatcher, "u2")  # committed; the process died before sending
    assert claim_unanswered(services.engine, now=utcnow()) == []  # its sender may be at work
    recorder = Recorder()
    later = utcnow() + GRACE * 2
    assert await send_unanswered(services.engine, {"telegram": recorder}, now=later) == 1
    assert recorder.sent == [("777", reply.text) for reply in replies]
    assert "Xin chào" in recorder.sent[0][1]
    assert await send_unanswered(services.engine, {"telegram": recorder}, now=later) == 0
    assert len(recorder.sent) == len(replies)  # claimed once: never sent twice


async def test_stale_and_duplicate_updates_send_nothing(
    services: Services, dispatcher: Dispatcher
) -> None:
    _start(dispatcher, "u3")
    message, again = _start(dispatcher, "u3")  # the platform's redelivery: a duplicate
    assert again == []
    assert claim_unanswered(services.engine, now=utcnow() + HORIZON + dt.timedelta(minutes=1)) == []
    [item] = claim_unanswered(services.engine, now=utcnow() + GRACE * 2)
    assert item.chat_id == message.chat_id and item.replies
