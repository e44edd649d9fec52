"""Workers started together on an empty PostgreSQL database all come up."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import Session, SQLModel, select

from bot.app import TocnsApp, build_services
from bot.services import Services
from db.models import Commune, JobMark, Plan
from tests.conftest import START, make_settings
from tests.helpers import FakeClock

WORKERS = 3


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
