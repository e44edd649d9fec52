"""Fixtures for the database tests: an empty PostgreSQL database (no schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import REQUIRE_POSTGRES


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
