"""Migrations applied to a database that already holds data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from db.engine import alembic_config

T0 = dt.datetime(2026, 3, 1, 2, 0)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    return str(request.getfixturevalue("empty_postgres"))


def test_duplicate_open_red_episodes_are_closed_before_the_index(empty_url: str) -> None:
    """Concurrent passes of an older version opened two episodes for a task: the oldest stays."""
    config = alembic_config(empty_url)
    command.upgrade(config, "group_chats")
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO commune (id, slug, name, is_sample, settings, created_at) "
                    "VALUES (1, 'x', 'Xã', false, '{}', :t)"
                ),
                {"t": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO plan (id, commune_id, slug, title, monitoring, imported_at) "
                    "VALUES (1, 1, 'p', 'Kế hoạch', '{}', :t)"
                ),
                {"t": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO task (id, plan_id, number, position, text, coordinating, kind, "
                    "active) VALUES (1, 1, 'T1', 0, 'Nhiệm vụ', '[]', 'once', true)"
                )
            )
            for episode, ended in ((1, None), (2, None), (3, T0)):
                conn.execute(
                    text(
                        "INSERT INTO redepisode (id, task_id, reason, started_at, ended_at) "
                        "VALUES (:id, 1, 'overdue', :t, :ended)"
                    ),
                    {"id": episode, "t": T0 + dt.timedelta(minutes=episode), "ended": ended},
                )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, ended_at FROM redepisode ORDER BY id")).all()
        assert [(r[0], r[1] is None) for r in rows] == [(1, True), (2, False), (3, False)]
    finally:
        engine.dispose()
