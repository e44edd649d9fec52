"""PostgreSQL unreachable for a moment or for longer: retried, the person asked to wait, nothing lost.

The app talks to the test server through ``CuttableProxy``, which the tests cut on cue:
between transactions (idle pooled connections die) or in the middle of one (its
``COMMIT`` never reaches the server). SQLite's counterpart, a locked database file, is
tested in tests/core/test_robustness.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bot.app import build_services
from bot.core.dispatcher import DB_ATTEMPTS, Dispatcher
from bot.core.messages import Incoming, Reply
from bot.core.people import default_commune_id
from bot.plans.imports import from_yaml, import_plan
from bot.reminders.outbox import enqueue
from bot.reminders.runner import ReminderRunner
from bot.services import Services
from db.models import Plan, ProcessedUpdate, Task, TaskProgress
from tests.conftest import (
    TELEGRAM_HEADERS,
    ZALO_HEADERS,
    WebhookSettings,
    channel_settings,
    telegram_text_update,
)
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI, text_event
from tests.faults.tcp_proxy import CuttableProxy
from tests.helpers import Chat, add_person
from tests.reminders.util import RecordingSender, rows

OFFICER = "db-officer"
COMMIT = b"COMMIT\x00"  # the statement as psycopg sends it, in a Query or Parse message
SAVED = "Đã lưu: nhiệm vụ T1 đạt 40%"
BUSY_START = "Hệ thống đang bận"
PLAN = {
    "plan": {"slug": "mat-ket-noi", "title": "Kế hoạch thử mất kết nối", "issued": "2026-01-01"},
    "tasks": [
        {
            "number": "T1",
            "text": "Làm sạch dữ liệu dân cư",
            "lead": "Công an xã",
            "deadline": "Quý II/2026",
        }
    ],
}


@pytest.fixture
def proxied(services: Services) -> Iterator[tuple[CuttableProxy, Services]]:
    """The same database, reached through a proxy the test can cut."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL outage (SQLite's locked file: tests/core/test_robustness.py)")
    url = make_url(services.settings.effective_database_url)
    assert url.host is not None and url.port is not None
    with CuttableProxy(url.host, url.port) as proxy:
        through_url = url.set(host="127.0.0.1", port=proxy.port)
        settings = services.settings.model_copy(
            update={"database_url": through_url.render_as_string(hide_password=False)}
        )
        through = build_services(settings, services.clock)
        try:
            yield proxy, through
        finally:
            through.engine.dispose()


def officer_at_note_step(services: Services) -> int:
    """A unit officer has typed 40 % for a task and is asked for a note; return the task id."""
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        now = services.clock()
        result = import_plan(
            session,
            from_yaml(yaml.safe_dump(PLAN, allow_unicode=True)),
            commune_id=commune_id,
            today=now.astimezone(services.tz).date(),
            now=now,
        )
        assert result.problems == []
        session.commit()
        plan_id = session.exec(select(Plan.id).where(Plan.slug == "mat-ket-noi")).one()
        task = session.exec(select(Task.id).where(Task.plan_id == plan_id)).one()
        assert task is not None
    add_person(services, name="Lê Văn Công", roles=("unit",), unit="Công an xã", chat_id=OFFICER)
    officer = Chat(Dispatcher(services), chat_id=OFFICER, name="Lê Văn Công")
    officer.press(f"taskprog:{task}")
    assert "Ghi chú" in text_of(officer.send("40%"))
    return task


def note(key: str) -> Incoming:
    return Incoming("console", OFFICER, "Lê Văn Công", text="đã họp triển khai", update_key=key)


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.numbered_text() for reply in replies)


def progress(services: Services, task: int) -> list[int]:
    with Session(services.engine) as session:
        return list(session.exec(select(TaskProgress.percent).where(TaskProgress.task_id == task)))


def processed(services: Services, key: str) -> int:
    with Session(services.engine) as session:
        return len(
            session.exec(select(ProcessedUpdate).where(ProcessedUpdate.update_key == key)).all()
        )


def failed_attempts(caplog: pytest.LogCaptureFixture) -> list[int]:
    # From the message as written: the secret filter of an earlier ``tocns`` run in the
    # same process may have folded the arguments into it already.
    attempts = (
        re.match(r"database unavailable \(attempt (\d+)\)", record.getMessage())
        for record in caplog.records
        if record.name == "bot.core.dispatcher"
    )
    return [int(found.group(1)) for found in attempts if found]


async def test_brief_outage_mid_transaction_is_retried_and_written_once(
    services: Services, proxied: tuple[CuttableProxy, Services], caplog: pytest.LogCaptureFixture
) -> None:
    proxy, through = proxied
    task = officer_at_note_step(services)
    dispatcher = Dispatcher(through)
    # The COMMIT is lost with the connection; the retry after it finds the database still
    # unreachable (one connection refused), the one after that gets through.
    proxy.cut_when_sent(COMMIT, refuse=DB_ATTEMPTS - 2)
    with caplog.at_level(logging.WARNING, logger="bot.core.dispatcher"):
        replies = await dispatcher.handle_async(note("n1"))
    assert (proxy.cuts, proxy.refused) == (1, DB_ATTEMPTS - 2), "the outage happened as planned"
    assert failed_attempts(caplog) == list(range(1, DB_ATTEMPTS))
    assert SAVED in text_of(replies), "the normal answer, after the retries"
    assert progress(services, task) == [40], "written exactly once"
    assert processed(services, "n1") == 1


@pytest.mark.parametrize("when", ["between transactions", "at commit"])
async def test_long_outage_asks_to_wait_loses_nothing_and_recovers(
    services: Services,
    proxied: tuple[CuttableProxy, Services],
    caplog: pytest.LogCaptureFixture,
    when: str,
) -> None:
    proxy, through = proxied
    task = officer_at_note_step(services)
    dispatcher = Dispatcher(through)
    # Warm the pool: the outage kills the idle pooled connections too.
    greeting = await dispatcher.handle_async(
        Incoming("console", "db-guest", "Khách", text="/start", update_key="g1")
    )
    assert "Xin chào" in text_of(greeting)
    if when == "at commit":
        proxy.cut_when_sent(COMMIT)
    else:
        proxy.cut()
    with caplog.at_level(logging.WARNING, logger="bot.core.dispatcher"):
        replies = await dispatcher.handle_async(note("n1"))
        assert proxy.cuts == 1
        assert failed_attempts(caplog) == list(range(1, DB_ATTEMPTS + 1))
        assert text_of(replies).startswith(BUSY_START), "the person is asked to wait"
        # Nothing half-written, and the conversation is where it was.
        assert progress(services, task) == []
        assert processed(services, "n1") == 0
        proxy.restore()
        caplog.clear()
        # The person sends the note again: the pool recovers without a single retry.
        replies = await dispatcher.handle_async(note("n2"))
        assert failed_attempts(caplog) == []
    assert SAVED in text_of(replies)
    assert progress(services, task) == [40]
    assert processed(services, "n2") == 1
    replies = await dispatcher.handle_async(
        Incoming("console", "db-guest", "Khách", text="/start", update_key="g2")
    )
    assert "Xin chào" in text_of(replies)


async def lose_the_answer_to_commit(
    services: Services, proxied: tuple[CuttableProxy, Services], caplog: pytest.LogCaptureFixture
) -> tuple[list[Reply], int]:
    """The server commits the note, but the connection breaks before the app hears so."""
    proxy, through = proxied
    task = officer_at_note_step(services)
    proxy.cut_when_answered(COMMIT, refuse=0)
    with caplog.at_level(logging.WARNING, logger="bot.core.dispatcher"):
        replies = await Dispatcher(through).handle_async(note("n1"))
    assert proxy.cuts == 1
    assert failed_attempts(caplog) == [1], "retried once"
    return replies, task


async def test_connection_lost_after_commit_is_not_applied_twice(
    services: Services, proxied: tuple[CuttableProxy, Services], caplog: pytest.LogCaptureFixture
) -> None:
    _replies, task = await lose_the_answer_to_commit(services, proxied, caplog)
    assert progress(services, task) == [40], "written exactly once"
    assert processed(services, "n1") == 1


async def test_connection_lost_after_commit_still_answers(
    services: Services, proxied: tuple[CuttableProxy, Services], caplog: pytest.LogCaptureFixture
) -> None:
    replies, _task = await lose_the_answer_to_commit(services, proxied, caplog)
    assert SAVED in text_of(replies), "the person hears that the note was saved"


async def test_reminder_tick_survives_an_outage_and_resumes(
    services: Services, proxied: tuple[CuttableProxy, Services], caplog: pytest.LogCaptureFixture
) -> None:
    """A scheduler tick while the database is unreachable fails quietly; the next one sends."""
    proxy, through = proxied
    person = add_person(services, name="Lê Văn Công", roles=("unit",), chat_id="db-remind")
    with Session(services.engine) as session:
        enqueue(
            session,
            person_id=person,
            kind="broadcast",
            reply=Reply(text="Họp tổ lúc 8 giờ"),
            dedupe_key="db-outage",
            due_at=services.clock(),
        )
        session.commit()
    sender = RecordingSender()
    runner = ReminderRunner(through, {"console": sender})

    async def tick() -> None:
        await asyncio.wait_for(runner.tick(), timeout=10)
        assert runner._sending is not None
        await asyncio.wait_for(runner._sending, timeout=10)

    proxy.cut()
    with caplog.at_level(logging.ERROR, logger="bot.reminders.runner"):
        await tick()  # must not raise: the scheduler keeps running
    failures = {record.msg for record in caplog.records if record.name == "bot.reminders.runner"}
    assert failures == {
        "reminder planning failed",
        "outbox delivery failed",
        "resending unsent replies failed",
        "feedback retention sweep failed",
    }
    assert sender.delivered == []
    assert [row.status for row in rows(services, dedupe_key="db-outage")] == ["pending"]
    proxy.restore()
    await tick()
    await tick()  # a second tick after recovery sends nothing twice
    assert [text for chat, text in sender.delivered if chat == "db-remind"] == ["Họp tổ lúc 8 giờ"]
    assert [row.status for row in rows(services, dedupe_key="db-outage")] == ["sent"]
    assert runner._swept is not None  # the retention sweep the outage stopped ran after it


async def test_a_webhook_update_during_an_outage_is_refused_then_answered_once(
    services: Services,
    proxied: tuple[CuttableProxy, Services],
    running: Any,
    fake_telegram: FakeTelegramAPI,
    fake_zalo: FakeZaloAPI,
    webhook_settings: WebhookSettings,
) -> None:
    """503 and no "busy" reply while the database is away; the redelivery is answered once."""
    proxy, through = proxied
    app_settings = webhook_settings(
        telegram=fake_telegram, zalo=fake_zalo, base=services.settings
    ).model_copy(update={"database_url": through.settings.database_url})
    user = 5550202
    hooks = [
        ("/webhook/telegram", telegram_text_update(43, user), TELEGRAM_HEADERS),
        ("/webhook/zalo", text_event("z-cut", "/start"), ZALO_HEADERS),
    ]
    async with running(app_settings) as app, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{app.port}"

        async def post_all() -> list[int]:
            statuses = []
            for path, body, headers in hooks:
                async with http.post(base + path, json=body, headers=headers) as answer:
                    statuses.append(answer.status)
            return statuses

        proxy.cut()
        assert await post_all() == [503, 503]
        assert fake_telegram.sent_to(user, "sendMessage") == [], "no 'busy' reply"
        assert fake_zalo.texts_to("z-cut") == []
        proxy.restore()
        # Telegram and Zalo send the updates again (and again): answered once.
        assert await post_all() == [200, 200]
        assert await post_all() == [200, 200]
        [reply] = fake_telegram.sent_to(user, "sendMessage")
        assert "Xin chào" in (reply.text or "")
        [text] = fake_zalo.texts_to("z-cut")
        assert "Xin chào" in text


def _deferrals(caplog: pytest.LogCaptureFixture) -> int:
    return sum("deferred: the database is unavailable" in r.getMessage() for r in caplog.records)


async def test_a_polled_update_during_an_outage_is_kept_noted_once_and_answered_after(
    services: Services,
    proxied: tuple[CuttableProxy, Services],
    running: Any,
    fake_telegram: FakeTelegramAPI,
    fake_zalo: FakeZaloAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Polling: not confirmed while the database is cut, one "kept" note, then the answer."""
    import bot.core.dispatcher as dispatcher_module

    monkeypatch.setattr(dispatcher_module, "POLL_NOTE_AFTER", 0.0)
    proxy, through = proxied
    app_settings = channel_settings(services.settings, fake_telegram, fake_zalo).model_copy(
        update={"database_url": through.settings.database_url}
    )
    user = 5550303
    async with running(app_settings):
        await fake_telegram.wait_sent(method="setMyCommands")
        with caplog.at_level(logging.WARNING):
            proxy.cut()
            update_id = fake_telegram.push_text(user, "/start")
            fake_zalo.push_text("z-polled", "/start")
            await fake_telegram.wait_for(lambda: _deferrals(caplog) >= 2, timeout=15)
            [kept] = await fake_telegram.wait_sent(chat_id=user, method="sendMessage")
            assert (kept.text or "").startswith("Hệ thống đang bận một chút. Tin nhắn của bạn")
            await fake_zalo.wait_for(lambda: fake_zalo.texts_to("z-polled"))
            # Still Telegram's to send again: a process killed now loses nothing.
            assert [u["update_id"] for u in fake_telegram.updates] == [update_id]
            proxy.restore()
            await fake_telegram.wait_sent(2, chat_id=user, method="sendMessage", timeout=40)
            await fake_zalo.wait_for(lambda: len(fake_zalo.texts_to("z-polled")) >= 2, timeout=40)
            await fake_telegram.wait_for(lambda: fake_telegram.updates == [])
        await asyncio.sleep(0.5)  # nothing else follows
    for texts in (fake_telegram.texts_to(user), fake_zalo.texts_to("z-polled")):
        assert len(texts) == 2 and texts[0].startswith(BUSY_START), texts
        assert "Xin chào" in texts[1]
    assert processed(services, f"123456789:{update_id}") == 1
