"""Replies committed with their update but never sent: the process died in between.

The conversation core stores an update's replies in its ``ProcessedUpdate`` row, in the
same transaction as what the update changed; the channel marks the row answered once it
has sent them (``Dispatcher.answered``). A row still unanswered after ``GRACE`` belongs
to a process that died between the commit and the send: the reminder runner claims it
(one worker wins the claim) and sends its replies once. Images and files are not stored:
the text goes again, with the links Zalo gets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.channels.base import Sender
from bot.core.messages import Reply
from db.models import ProcessedUpdate

log = logging.getLogger(__name__)

GRACE = dt.timedelta(seconds=30)  # a live process has sent its replies by then
HORIZON = dt.timedelta(hours=6)  # an answer older than this would only confuse: dropped
BATCH = 200


@dataclass(frozen=True)
class Unanswered:
    """One update's replies to send again."""

    channel: str
    chat_id: str
    replies: list[Reply]


def claim_unanswered(
    engine: Engine, *, now: dt.datetime, grace: dt.timedelta = GRACE, limit: int = BATCH
) -> list[Unanswered]:
    """Claim the replies left unsent by a dead process; each row is claimed by one worker."""
    unanswered = (
        col(ProcessedUpdate.answered_at).is_(None),
        col(ProcessedUpdate.replies).is_not(None),
        col(ProcessedUpdate.processed_at) < now - grace,
        col(ProcessedUpdate.processed_at) >= now - HORIZON,
    )
    claimed: list[Unanswered] = []
    with Session(engine) as session:
        rows = session.exec(select(ProcessedUpdate).where(*unanswered).limit(limit)).all()
        for row in rows:
            won = session.execute(
                update(ProcessedUpdate)
                .where(
                    col(ProcessedUpdate.id) == row.id, col(ProcessedUpdate.answered_at).is_(None)
                )
                .values(answered_at=now)
            )
            if won.rowcount == 1 and row.chat_id:  # type: ignore[attr-defined]
                replies = [Reply.from_dict(data) for data in row.replies or []]
                claimed.append(Unanswered(row.channel, row.chat_id, replies))
        session.commit()
    return claimed


async def send_unanswered(
    engine: Engine,
    senders: Mapping[str, Sender],
    *,
    now: dt.datetime,
    grace: dt.timedelta = GRACE,
) -> int:
    """Send, once, the replies a dead process committed but never sent; how many chats."""
    sent = 0
    for item in await asyncio.to_thread(claim_unanswered, engine, now=now, grace=grace):
        sender = senders.get(item.channel)
        if sender is None:
            log.warning("unsent replies for chat %s: no %s sender", item.chat_id, item.channel)
            continue
        try:
            for reply in item.replies:
                await sender.send(item.chat_id, reply)
        except Exception:  # noqa: BLE001 - sent at most once: logged, not retried
            log.warning("unsent replies for chat %s failed again", item.chat_id, exc_info=True)
            continue
        sent += 1
    if sent:
        log.info("sent the replies of %d updates a stopped process had left", sent)
    return sent
