"""A tocns process that handles a batch of one-line reports, to be killed by a test.

Usage: python -m tests.faults.report_worker DATABASE_URL DATA_DIR FIRST COUNT
Prints one line per handled report so the test can kill it at a chosen moment.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.app import build_services
from bot.core.dispatcher import Dispatcher
from bot.core.messages import Incoming
from bot.settings import Settings


def report_text(index: int) -> str:
    return f"vneid {20 + index % 50} cks {10 + index % 30} ssk {5 + index % 20}"


def main() -> None:
    url, data_dir, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    settings = Settings(_env_file=None, database_url=url, data_dir=Path(data_dir))  # type: ignore[call-arg]
    dispatcher = Dispatcher(build_services(settings))
    for index in range(first, first + count):
        message = Incoming(
            "telegram", f"k{index}", "Tổ viên", text=report_text(index), update_key=f"r{index}"
        )
        dispatcher.handle(message)
        print(index, flush=True)


if __name__ == "__main__":
    main()
