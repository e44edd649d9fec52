"""The process wiring: the sample data, symmetric start and stop, owned background tasks."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import Session, col, select

from bot.admin.setup import load_sample
from bot.app import TocnsApp, build_services, prepare_database
from bot.channels.zalo_client import ZaloAPIError
from db.models import Plan
from tests.conftest import (
    TELEGRAM_SECRET,
    ZALO_HEADERS,
    WebhookSettings,
    make_settings,
)
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI, text_event
from tests.helpers import FakeClock

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: the sample plan must not depend on which modules some
# earlier code happened to import (it used to be loaded by a hook that bot.handlers
# appended to bot.app when imported).
FRESH_PREPARE = textwrap.dedent(
    """
    import json, sys
    from sqlmodel import Session, select
    from bot.app import prepare_database
    from bot.core.registry import Registry
    from bot.services import Services
    from bot.settings import Settings
    from db.engine import make_engine
    from db.models import Commune, Plan

    settings = Settings(_env_file=None, data_dir=sys.argv[1], sample_history=False)
    engine = make_engine(settings.effective_database_url)
    prepare_database(Services(settings=settings, engine=engine, registry=Registry()))
    with Session(engine) as session:
        communes = session.exec(select(Commune.name)).all()
        plans = session.exec(select(Plan.slug)).all()
    print(json.dumps({"communes": list(communes), "plans": list(plans)}))
    """
)


def test_empty_database_gets_the_sample_commune_with_its_plan(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PREPARE, str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PTB_TIMEDELTA": "true"},
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"communes": ["Xã Trung Hội (dữ liệu mẫu)"], "plans": ["trung-hoi"]}


def test_sample_commune_left_without_its_plan_gets_it(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'tocns.sqlite3'}")
    services = build_services(settings, clock)
    prepare_database(services, sample=False)
    with Session(services.engine) as session:  # what the old start-up left behind
        load_sample(session, today=services.today())
        session.commit()
    prepare_database(services)
    with Session(services.engine) as session:
        assert session.exec(select(Plan.slug).order_by(col(Plan.id))).all() == ["trung-hoi"]
    prepare_database(services)  # and only once
    with Session(services.engine) as session:
        assert len(session.exec(select(Plan.id)).all()) == 1
    services.engine.dispose()


def _running_tasks(name: str) -> list[asyncio.Task[object]]:
    """Unfinished tasks running a coroutine of this name."""
    return [t for t in asyncio.all_tasks() if not t.done() and name in repr(t.get_coro())]


async def test_stop_cancels_zalo_webhook_work_in_flight(
    running, webhook_settings: WebhookSettings, fake_zalo: FakeZaloAPI
) -> None:
    app_settings = webhook_settings(
        zalo=fake_zalo,
        webhook_answer_within=0.2,  # the reply's retries outlast the webhook's answer
    )
    fake_zalo.fail_with("sendMessage", 500, "Internal Server Error", times=50)
    async with running(app_settings) as app, aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{app.port}/webhook/zalo",
            json=text_event("z-busy", "/start"),
            headers=ZALO_HEADERS,
        ) as response:
            assert response.status == 200
        await fake_zalo.wait_for(lambda: fake_zalo.failed)  # the reply is being retried...
        assert len(app.background) == 1  # ...by a task the app owns
        app.background.grace = 0.2  # given a moment to finish, then cancelled
    assert len(app.background) == 0
    assert _running_tasks("handle_update") == []


async def test_failed_start_stops_what_it_started(
    webhook_settings: WebhookSettings,
    clock: FakeClock,
    fake_telegram: FakeTelegramAPI,
    fake_zalo: FakeZaloAPI,
) -> None:
    app_settings = webhook_settings(telegram=fake_telegram, zalo=fake_zalo)
    fake_zalo.fail_with("setWebhook", 400, "url is not reachable")
    services = build_services(app_settings, clock)
    app = TocnsApp(services)
    with pytest.raises(ZaloAPIError):
        await app.start()
    assert fake_telegram.webhook["url"] == "https://tocns.example.vn/webhook/telegram"
    assert (app.telegram, app.zalo_client, app.reminders, len(app.background)) == (
        None,
        None,
        None,
        0,
    )
    assert app.port is not None
    with pytest.raises(aiohttp.ClientConnectionError):  # the web server was closed again
        async with aiohttp.ClientSession() as http:
            await http.get(f"http://127.0.0.1:{app.port}/healthz")
    await app.stop()  # harmless after a failed start
    await app.start(web_server=False, reminders=False)  # and the app can start again
    await app.stop()
    services.engine.dispose()


async def test_webhooks_registered_once_the_server_answers(
    running,
    webhook_settings: WebhookSettings,
    fake_telegram: FakeTelegramAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app_settings = webhook_settings(telegram=fake_telegram)
    caplog.set_level(logging.INFO, logger="bot.app")
    async with running(app_settings) as app:
        assert fake_telegram.webhook["secret_token"] == TELEGRAM_SECRET
        assert app.webhooks.telegram_secret == TELEGRAM_SECRET
        messages = [record.getMessage() for record in caplog.records]
        server = next(i for i, m in enumerate(messages) if m.startswith("web server on"))
        webhook = next(i for i, m in enumerate(messages) if m.startswith("telegram webhook"))
        assert server < webhook
        assert messages[webhook] == (
            "telegram webhook https://tocns.example.vn/webhook/telegram: registered"
        )
