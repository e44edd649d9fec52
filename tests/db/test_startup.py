"""Workers started together on an empty PostgreSQL database all come up."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel, select

from bot.app import TocnsApp, build_services
from bot.services import Services
from db.models import Commune, JobMark, Plan
from tests.conftest import REQUIRE_POSTGRES, START, make_settings
from tests.helpers import FakeClock

WORKERS = 3


@pytest.fixture
def empty_postgres(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new PostgreSQL database with nothing in it (not even the schema)."""
    server = request.getfixturevalue("_postgres")
    if server is None:
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required (TOCNS_REQUIRE_POSTGRES=1) but not installed")
        pytest.skip("PostgreSQL not installed")
    name = f"e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def start_worker(url: str, data_dir: str, barrier: object) -> str:
    """One worker process: wait for the others, then start the app (migrations, sample
    load, the first planning pass and delivery) and stop it."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    settings = make_settings(Path(data_dir), url)
    services = build_services(settings, FakeClock(START))

    async def run() -> None:
        app = TocnsApp(services)
        barrier.wait()  # type: ignore[attr-defined]
        await app.start(web_server=False)
        await app.stop()

    try:
        asyncio.run(run())
    finally:
        services.engine.dispose()
    return "ok"


def test_workers_started_together_on_an_empty_database_all_start(
    empty_postgres: str, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(WORKERS)
        with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
            futures = [
                pool.submit(start_worker, empty_postgres, str(tmp_path / f"w{n}"), barrier)
                for n in range(WORKERS)
            ]
            outcomes = [future.result(timeout=180) for future in futures]
    assert outcomes == ["ok"] * WORKERS
    engine = create_engine(empty_postgres)
    try:
        with Session(engine) as session:
            assert len(session.exec(select(Commune)).all()) == 1
            assert len(session.exec(select(Plan)).all()) == 1
            marks = session.exec(select(JobMark.name)).all()
            assert len(marks) == len(set(marks)) >= 1
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_models(services: Services) -> None:
    with services.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
