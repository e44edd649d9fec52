"""The officer's outbox tools: counts by status, rows needing attention, resending by hand."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlmodel import Session

from bot.core.messages import Reply
from bot.reminders.outbox import enqueue
from bot.reminders.outbox_admin import needing_attention, outbox_counts, retry_row
from bot.services import Services
from db.models import OutboxMessage, OutboxStatus
from tests.helpers import FakeClock, add_person
from tests.reminders.util import rows

MODELS = Path(__file__).resolve().parents[2] / "db" / "models.py"


def _queue_with_statuses(services: Services, statuses: list[OutboxStatus]) -> list[int]:
    person = add_person(services, name="Người nhận", chat_id="8100")
    ids = []
    with Session(services.engine) as session:
        for index, status in enumerate(statuses):
            row = enqueue(
                session,
                person_id=person,
                kind="broadcast",
                reply=Reply(text=f"tin {index}"),
                dedupe_key=f"admin:{index}",
                due_at=services.clock(),
            )
            assert row is not None
            row.status = status
            row.last_error = "" if status == OutboxStatus.PENDING else f"lỗi {index}"
            session.add(row)
            session.flush()
            assert row.id is not None
            ids.append(row.id)
        session.commit()
    return ids


def test_counts_and_attention(services: Services) -> None:
    statuses = [
        OutboxStatus.PENDING,
        OutboxStatus.SENT,
        OutboxStatus.SENT,
        OutboxStatus.UNKNOWN,
        OutboxStatus.FAILED,
        OutboxStatus.MISSED,
    ]
    ids = _queue_with_statuses(services, statuses)
    assert outbox_counts(services.engine) == {
        "pending": 1,
        "sent": 2,
        "unknown": 1,
        "failed": 1,
        "missed": 1,
    }
    assert [row.id for row in needing_attention(services.engine)] == [ids[4], ids[3]]


def test_retry_only_rows_that_did_not_surely_arrive(services: Services, clock: FakeClock) -> None:
    ids = _queue_with_statuses(
        services, [OutboxStatus.SENT, OutboxStatus.UNKNOWN, OutboxStatus.MISSED]
    )
    later = clock() + dt.timedelta(hours=1)
    assert [retry_row(services.engine, row_id, later) for row_id in ids] == [False, True, True]
    assert retry_row(services.engine, 999_999, later) is False
    by_id = {row.id: row for row in rows(services)}
    assert by_id[ids[0]].status == OutboxStatus.SENT
    for row_id in ids[1:]:
        row: OutboxMessage = by_id[row_id]
        assert (row.status, row.due_at, row.attempts) == (OutboxStatus.PENDING, later, 0)


def test_documented_statuses_match_the_enum() -> None:
    comment = re.search(r"# An OutboxStatus: ([a-z|]+)", MODELS.read_text(encoding="utf-8"))
    assert comment is not None
    assert comment.group(1).split("|") == [status.value for status in OutboxStatus]
