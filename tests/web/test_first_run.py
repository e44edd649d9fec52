"""The first run: an empty database prints a first-admin link that creates the commune."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from bot.app import build_services, prepare_database
from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.auth import LOGIN_TTL, first_admin_link
from bot.web.server import build_web_app
from db.models import AuditEntry, Commune, Person, WebSession
from tests.conftest import DATABASES, make_settings
from tests.helpers import FakeClock
from tests.web.conftest import Client, form_token, submit_login

COMMUNE = {"name": "Xã Trung Hội", "code": "trung-hoi-2", "province": "Thái Nguyên"}


@pytest.fixture(params=DATABASES)
def empty(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    """Services on a migrated database with no commune at all (TOCNS_SAMPLE=0)."""
    name = ""
    server: str | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        server = request.getfixturevalue("_postgres")
        if server is None:
            pytest.skip("PostgreSQL not installed")
        name = f"e_{uuid.uuid4().hex[:12]}"
        with create_engine(server, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        url = server.rsplit("/", 1)[0] + f"/{name}"
    services = build_services(make_settings(tmp_path, url, sample=False), clock)
    prepare_database(services, sample=False)
    yield services
    services.engine.dispose()
    if server is not None:
        with create_engine(server, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
async def client(empty: Services) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_web_app(empty, Dispatcher(empty)))) as opened:
        yield opened


def _link(services: Services) -> str | None:
    with Session(services.engine) as session:
        link = first_admin_link(session, services.clock(), "")
        session.commit()
    return link


async def _signed_in(client: Client, services: Services) -> str:
    link = _link(services)
    assert link is not None
    response = await submit_login(client, link)
    assert response.status == 303 and response.headers["Location"] == "/first-run"
    return form_token(await (await client.get("/first-run")).text())


async def test_first_admin_creates_the_commune_then_sets_it_up(
    empty: Services, client: Client
) -> None:
    token = await _signed_in(client, empty)
    bad = await client.post("/first-run", data={"name": "Xã A", "code": "Xã A", "csrf": token})
    assert bad.status == 400 and "chữ thường" in await bad.text()
    made = await client.post("/first-run", data={**COMMUNE, "csrf": token}, allow_redirects=False)
    assert made.status == 303 and made.headers["Location"] == "/setup"
    assert (await client.get("/setup")).status == 200
    again = await client.get("/first-run", allow_redirects=False)
    assert again.status == 303  # done once
    with Session(empty.engine) as session:
        commune = session.exec(select(Commune)).one()
        assert commune.province == "Thái Nguyên" and commune.slug == "trung-hoi-2"
        admin = session.exec(select(Person)).one()
        assert admin.commune_id == commune.id
        actions = {e.action for e in session.exec(select(AuditEntry))}
        assert {"web.link", "web.sign_in", "commune.create"} <= actions
    assert _link(empty) is None  # not the first run any more


async def test_the_link_works_once_even_under_parallel_presses(
    empty: Services, client: Client
) -> None:
    link = _link(empty)
    assert link is not None
    page = await client.get(link)
    token = form_token(await page.text())
    answers = await asyncio.gather(
        *(client.post(link, data={"csrf": token}, allow_redirects=False) for _ in range(4))
    )
    assert sorted(a.status for a in answers) == [303, 403, 403, 403]
    with Session(empty.engine) as session:
        assert len(session.exec(select(WebSession)).all()) == 1


async def test_the_link_expires(empty: Services, client: Client, clock: FakeClock) -> None:
    link = _link(empty)
    assert link is not None
    clock.advance(seconds=LOGIN_TTL.total_seconds() + 1)
    assert (await client.get(link)).status == 403
    # A new start prints a new link, for the same waiting admin.
    assert _link(empty) not in (None, link)
    with Session(empty.engine) as session:
        assert len(session.exec(select(Person)).all()) == 1


async def test_creating_the_commune_needs_the_form_token(empty: Services, client: Client) -> None:
    await _signed_in(client, empty)
    refused = await client.post("/first-run", data=COMMUNE, allow_redirects=False)
    assert refused.status == 403
    with Session(empty.engine) as session:
        assert session.exec(select(Commune.id)).first() is None


async def test_parallel_submits_make_one_commune(empty: Services, client: Client) -> None:
    token = await _signed_in(client, empty)
    answers = await asyncio.gather(
        *(
            client.post(
                "/first-run",
                data={**COMMUNE, "code": f"xa-{n}", "csrf": token},
                allow_redirects=False,
            )
            for n in range(3)
        )
    )
    assert all(a.status in (303, 403) for a in answers)
    with Session(empty.engine) as session:
        communes = session.exec(select(Commune)).all()
        assert len(communes) == 1
        assert session.exec(select(Person)).one().commune_id == communes[0].id


def test_a_sample_database_prints_no_first_admin_link(services: Services) -> None:
    assert _link(services) is None
