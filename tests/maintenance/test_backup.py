"""Backup then restore gives back exactly the same data, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from bot.maintenance import BackupError, backup, restore
from bot.services import Services
from tests.helpers import Chat

TABLES = (
    "person",
    "chatidentity",
    "village",
    "villagedenominator",
    "unit",
    "conversationstate",
    "processedupdate",
)


def snapshot(services: Services) -> dict[str, list[tuple[object, ...]]]:
    with Session(services.engine) as session:
        return {
            t: [
                tuple(r)
                for r in session.connection().execute(text(f"SELECT * FROM {t} ORDER BY id")).all()
            ]
            for t in TABLES
        }


def test_backup_restore_roundtrip(services: Services, chat: Chat, tmp_path: Path) -> None:
    chat.send("/start", key="a1")
    chat.send("cach cai vneid", key="a2")
    before = snapshot(services)
    target = tmp_path / "backup.db"
    try:
        backup(services.settings.effective_database_url, target)
    except BackupError as error:
        pytest.skip(str(error))
    chat.send("/ngonngu", key="a3")
    Chat(chat.dispatcher, chat_id="other").send("/start", key="a4")
    assert snapshot(services) != before
    services.engine.dispose()
    restore(services.settings.effective_database_url, target)
    assert snapshot(services) == before


def test_restore_refuses_garbage(services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError):
        restore(services.settings.effective_database_url, bad)
