"""Engines and migrations: the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import ColumnElement, Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

# Any process with an engine keeps the progress version tokens current on every flush.
from db import progress_version as _progress_version  # noqa: E402, F401

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, *, echo: bool = False, busy_timeout_ms: int = 5000) -> Engine:
    """Create an engine; SQLite gets WAL mode, a busy timeout and foreign keys."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # A server connection can die under us (restart, network): test it on checkout.
    # (A SQLite file cannot, so SQLite skips the extra round trip.)
    kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
    return create_engine(url, **kwargs)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class AdvisoryLock(enum.IntEnum):
    """PostgreSQL advisory lock keys: one per thing several workers must not do at once."""

    SETUP = 7_414_001  # migrations and the one-time sample load
    PLANNER = 7_414_002  # a reminder planning pass


@contextmanager
def setup_lock(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock for one-time set-up; a no-op on SQLite.

    Workers started together on an empty database queue up here: the first migrates
    and loads the sample, the others then find it done. The lock belongs to a
    connection of its own, so a worker killed while holding it releases it.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": int(AdvisoryLock.SETUP)})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": int(AdvisoryLock.SETUP)}
            )
            connection.commit()


def transaction_lock(connection: Connection | Session, key: AdvisoryLock) -> None:
    """Wait for a PostgreSQL advisory lock held until this transaction ends; no-op on SQLite."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    if bind.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(key)})


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def ping(engine: Engine) -> bool:
    """Whether the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        log.warning("database ping failed", exc_info=True)
        return False


def insert_unless_exists(
    connection: Connection | Session,
    table: Table,
    values: dict[str, Any],
    *,
    conflict: list[str],
    where: ColumnElement[bool] | None = None,
) -> int:
    """``INSERT … ON CONFLICT DO NOTHING``: 1 if this call inserted the row, 0 if it existed.

    A row another worker inserts at the same moment is a conflict, not an error: on
    PostgreSQL this waits for that worker's commit (or rollback) and then knows.
    ``where`` names a partial unique index's condition.
    """
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    dialect = bind.dialect.name
    statement: Any = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    statement = statement.values(**values).on_conflict_do_nothing(
        index_elements=conflict, index_where=where
    )
    return rowcount(connection.execute(statement))


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched (0 when the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)
