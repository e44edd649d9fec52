"""A tocns process polling the fake Telegram and Zalo servers, to be killed by a test.

Usage: python -m tests.faults.polling_worker DATABASE_URL DATA_DIR TELEGRAM_ORIGIN ZALO_ORIGIN
Runs the whole app (both channels polling, the reminder runner, no web server) until
it is killed; prints "ready" once it polls.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.app import TocnsApp, build_services
from bot.settings import Settings
from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN, ZALO_TEST_TOKEN


async def main() -> None:
    url, data_dir, telegram, zalo = sys.argv[1:5]
    settings = Settings(  # type: ignore[call-arg, arg-type]
        _env_file=None,
        database_url=url,
        data_dir=Path(data_dir),
        telegram_token=TELEGRAM_TEST_TOKEN,
        telegram_base_url=f"{telegram}/bot",
        telegram_base_file_url=f"{telegram}/file/bot",
        telegram_poll_timeout=1,
        zalo_token=ZALO_TEST_TOKEN,
        zalo_base_url=zalo,
        zalo_poll_timeout=1,
        sample_history=False,
    )
    app = TocnsApp(build_services(settings))
    await app.start(web_server=False)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
