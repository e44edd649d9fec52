"""What an officer does with the outbox by hand: count rows, see trouble, resend one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from db.engine import rowcount
from db.models import OutboxMessage, OutboxStatus

# Rows a person should look at: delivery may have failed or is not known.
ATTENTION = (OutboxStatus.UNKNOWN, OutboxStatus.FAILED)
# Rows an officer may send again (never automatic: they may have arrived already).
RETRYABLE = (OutboxStatus.UNKNOWN, OutboxStatus.FAILED, OutboxStatus.MISSED)


def outbox_counts(engine: Engine) -> dict[str, int]:
    """How many outbox rows are in each status."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
        ).all()
    return {str(status): int(count) for status, count in rows}


def needing_attention(engine: Engine, limit: int = 20) -> list[OutboxMessage]:
    """The newest rows whose delivery failed or is unknown."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.status).in_(ATTENTION))
                .order_by(col(OutboxMessage.id).desc())
                .limit(limit)
            ).all()
        )


def retry_row(engine: Engine, row_id: int, now: dt.datetime) -> bool:
    """Put an unknown, failed or missed row back in the queue (an officer's explicit choice)."""
    with Session(engine) as session:
        count = rowcount(
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status).in_(RETRYABLE))
                .values(status=OutboxStatus.PENDING, due_at=now, claimed_by="", attempts=0)
            )
        )
        session.commit()
    return bool(count)
