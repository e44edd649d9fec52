"""Updates fetched by polling a platform that forgets them once fetched (Zalo).

Zalo's getUpdates hands each update out once: nothing confirms it later, as Telegram's
offset does. So a polled update is written here (committed) before it is handled and
deleted once handled; a process killed in between finds it here on restart and handles
it then (the conversation core drops it if it had been committed already).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from db.models import InboxUpdate


def keep(engine: Engine, channel: str, payload: dict[str, Any]) -> int:
    """Write a fetched update down before handling it; its row id."""
    with Session(engine) as session:
        row = InboxUpdate(channel=channel, payload=payload)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def forget(engine: Engine, row_id: int) -> None:
    """The update is handled: it need not be handled again."""
    with Session(engine) as session:
        session.execute(delete(InboxUpdate).where(col(InboxUpdate.id) == row_id))
        session.commit()


def kept(engine: Engine, channel: str) -> list[tuple[int, dict[str, Any]]]:
    """Updates a stopped process fetched and did not finish, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(InboxUpdate).where(InboxUpdate.channel == channel).order_by(col(InboxUpdate.id))
        ).all()
        return [(row.id, row.payload) for row in rows if row.id is not None]
