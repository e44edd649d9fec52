"""A tocns process where the standing office reviews a batch of evidence, to be killed by a test.

Usage: python -m tests.faults.review_worker DATABASE_URL DATA_DIR NOW_ISO COUNT
Evidence number ``i`` (found by its link, see ``evidence_url``) is approved when ``i`` is
even (one button press) and sent back with a reason when ``i`` is odd (a button press,
then the typed reason). Prints one line per handled update so the test can kill the
process at a chosen moment, including between the two updates of a rejection.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from sqlmodel import Session, col, select

from bot.app import build_services
from bot.core.dispatcher import Dispatcher
from bot.core.messages import Incoming
from bot.settings import Settings
from db.models import Evidence

REVIEWER_CHAT = "office-review"
REVIEWER_NAME = "Phạm Thị Vân"
URL_PREFIX = "https://example.org/minh-chung/"


def evidence_url(index: int) -> str:
    return f"{URL_PREFIX}{index:04d}.pdf"


def approves(index: int) -> bool:
    return index % 2 == 0


def reason(index: int) -> str:
    return f"Thiếu biên bản có chữ ký, lần {index}"


def updates(index: int, evidence_id: int) -> list[Incoming]:
    """The deliveries that review evidence number ``index``, the deciding one last."""

    if approves(index):
        return [
            Incoming(
                "console",
                REVIEWER_CHAT,
                REVIEWER_NAME,
                choice=f"revok:{evidence_id}",
                update_key=f"ok{index}",
            )
        ]
    return [
        Incoming(
            "console",
            REVIEWER_CHAT,
            REVIEWER_NAME,
            choice=f"revno:{evidence_id}",
            update_key=f"no{index}",
        ),
        Incoming(
            "console", REVIEWER_CHAT, REVIEWER_NAME, text=reason(index), update_key=f"why{index}"
        ),
    ]


def deciding_key(index: int) -> str:
    return f"ok{index}" if approves(index) else f"why{index}"


def main() -> None:
    url, data_dir, now, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    settings = Settings(_env_file=None, database_url=url, data_dir=Path(data_dir))  # type: ignore[call-arg]
    moment = dt.datetime.fromisoformat(now)
    dispatcher = Dispatcher(build_services(settings, lambda: moment))
    with Session(dispatcher.services.engine) as session:
        ids = {
            row.url: row.id
            for row in session.exec(
                select(Evidence).where(col(Evidence.url).startswith(URL_PREFIX))
            )
        }
    handled = 0
    for index in range(count):
        evidence_id = ids[evidence_url(index)]
        assert evidence_id is not None
        for message in updates(index, evidence_id):
            dispatcher.handle(message)
            handled += 1
            print(handled, flush=True)


if __name__ == "__main__":
    main()
