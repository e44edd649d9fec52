"""Dashboard test data: the sample plan, village figures, progress and evidence."""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, col, select

from bot.core.dispatcher import Dispatcher
from bot.dates import add_months
from bot.plans.evidence import store_file
from bot.plans.sample import load_sample_plan
from bot.plans.store import record_evidence, record_progress, review_evidence, task_view
from bot.services import Services
from bot.web.auth import create_login_link
from bot.web.server import build_web_app
from db.models import Person, Plan, Tally, Task, Unit, Village, VillageDenominator
from tests.conftest import make_settings
from tests.helpers import add_person

PUBLIC_HTTPS = "https://tocns.example.vn"
OWN_UNIT = "Công an xã"
OTHER_UNIT = "Văn phòng - Thống kê"


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, blue) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Seeded:
    """Ids of what the dashboard tests look at."""

    plan_slug: str
    office: int
    officer: int  # unit officer of OWN_UNIT
    member: int  # team member of Xóm 3
    resident: int
    own_task: int  # a task OWN_UNIT leads, with evidence
    other_task: int  # a task OTHER_UNIT leads, with evidence
    own_evidence: int
    other_evidence: int


def ensure_plan(services: Services) -> Plan:
    """The sample plan (imported by the plans feature's sample hook, or here)."""
    with Session(services.engine) as session:
        plan = session.exec(select(Plan)).first()
    if plan is None:
        load_sample_plan(services)
        with Session(services.engine) as session:
            plan = session.exec(select(Plan)).one()
    return plan


def _task_led_by(session: Session, plan_id: int, unit_name: str) -> Task:
    unit = session.exec(select(Unit).where(Unit.name == unit_name)).one()
    return session.exec(
        select(Task)
        .where(Task.plan_id == plan_id, Task.lead_unit_id == unit.id, col(Task.active).is_(True))
        .order_by(col(Task.position))
    ).first() or pytest.fail(f"no task led by {unit_name}")


def add_tallies(services: Services, months: int = 4) -> None:
    """Figures for every village over the last months (one village misses this month)."""
    today = services.clock().astimezone(services.tz).date()
    period = today.replace(day=1)
    with Session(services.engine) as session:
        villages = list(session.exec(select(Village).order_by(col(Village.position))))
        for index, village in enumerate(villages):
            denominator = session.exec(
                select(VillageDenominator).where(VillageDenominator.village_id == village.id)
            ).first()
            population = denominator.population if denominator else 1000
            for back in range(months - 1, -1, -1):
                if back == 0 and index == len(villages) - 1:
                    continue  # the last village has not reported this month
                month = add_months(period, -back)
                base = population * (20 + 3 * index) // 100
                for offset, code in enumerate(("vneid", "cks", "ssk", "tknh", "dvc", "kns")):
                    value = max(0, base - 15 * offset + 10 * (months - back))
                    session.add(
                        Tally(
                            village_id=village.id or 0,
                            period=month,
                            code=code,
                            value=min(value, population // 2),
                        )
                    )
        session.commit()


def seed(services: Services) -> Seeded:
    """A plan with progress, evidence (pending, approved, rejected), figures and people."""
    plan = ensure_plan(services)
    assert plan.id is not None
    office = add_person(services, name="Lê Thị Thường Trực", roles=("office",), chat_id="3001")
    officer = add_person(
        services, name="Phạm Văn Công An", roles=("unit",), unit=OWN_UNIT, chat_id="3002"
    )
    other_officer = add_person(
        services, name="Đỗ Thị Văn Phòng", roles=("unit",), unit=OTHER_UNIT, chat_id="3003"
    )
    member = add_person(
        services, name="Hoàng Văn Tổ", roles=("team",), village="Xóm 3", chat_id="3004"
    )
    resident = add_person(services, name="Bà Dân", roles=("resident",), chat_id="3005")
    add_tallies(services)
    now = services.clock()
    today = now.astimezone(services.tz).date()
    directory = services.settings.effective_evidence_dir
    with Session(services.engine) as session:
        own = _task_led_by(session, plan.id, OWN_UNIT)
        other = _task_led_by(session, plan.id, OTHER_UNIT)
        assert own.id is not None and other.id is not None
        own_view = task_view(session, own.id, today)
        other_view = task_view(session, other.id, today)
        record_progress(
            session,
            own_view,
            person_id=officer,
            percent=40,
            note="Đã họp triển khai",
            today=today,
            now=now - dt.timedelta(days=20),
        )
        record_progress(
            session,
            own_view,
            person_id=officer,
            percent=80,
            note="Gần xong",
            today=today,
            now=now - dt.timedelta(days=2),
        )
        own_evidence = record_evidence(
            session,
            own_view,
            store_file(directory, tiny_png(), "anh-hop.png", "image/png"),
            person_id=officer,
            today=today,
            now=now - dt.timedelta(days=1),
        )
        rejected = record_evidence(
            session,
            other_view,
            store_file(directory, PDF, "bao-cao.pdf", "application/pdf"),
            person_id=other_officer,
            today=today,
            now=now - dt.timedelta(days=5),
        )
        reviewer = session.get(Person, office)
        assert reviewer is not None and rejected.id is not None
        review_evidence(
            session, rejected.id, reviewer=reviewer, approve=False, reason="Thiếu chữ ký", now=now
        )
        session.commit()
        assert own_evidence.id is not None
        return Seeded(
            plan.slug,
            office,
            officer,
            member,
            resident,
            own.id,
            other.id,
            own_evidence.id,
            rejected.id,
        )


def behind_https(services: Services) -> Services:
    """The same database and clock, served at a public HTTPS address."""
    settings = make_settings(
        services.settings.data_dir, services.settings.database_url, public_base_url=PUBLIC_HTTPS
    )
    return Services(
        settings=settings, engine=services.engine, registry=services.registry, clock=services.clock
    )


@pytest.fixture
def seeded(services: Services) -> Seeded:
    return seed(services)


Client = TestClient[web.Request, web.Application]
SignIn = Callable[[int], Awaitable[Client]]
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the first form of a page ("" when the page has none)."""
    match = CSRF_FIELD.search(html)
    return match.group(1) if match else ""


async def submit_login(client: Client, link: str) -> ClientResponse:
    """Open a sign-in link and press its button, as a browser does."""
    page = await client.get(link)
    return await client.post(
        link, data={"csrf": form_token(await page.text())}, allow_redirects=False
    )


@pytest.fixture
async def sign_in(services: Services) -> AsyncIterator[SignIn]:
    """Open a signed-in HTTP client for a person (each person gets their own cookie jar)."""
    clients: list[Client] = []

    async def open_for(person_id: int) -> Client:
        client: Client = TestClient(TestServer(build_web_app(services, Dispatcher(services))))
        await client.start_server()
        clients.append(client)
        with Session(services.engine) as session:
            link = create_login_link(session, person_id, services.clock(), "")
            session.commit()
        response = await submit_login(client, link)
        assert response.status == 303
        return client

    yield open_for
    for client in clients:
        await client.close()


async def post_form(
    client: Client, page: str, action: str, data: dict[str, Any] | None = None
) -> ClientResponse:
    """Open a page, take its CSRF token and post one of its forms, as a browser does."""
    token = form_token(await (await client.get(page)).text())
    assert token, f"{page} has no form"
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    for name, value in (data or {}).items():
        if isinstance(value, tuple):  # (file name, bytes, content type)
            file_name, content, content_type = value
            form.add_field(name, content, filename=file_name, content_type=content_type)
        elif isinstance(value, list):  # a field sent several times (check boxes)
            for item in value:
                form.add_field(name, str(item))
        else:
            form.add_field(name, str(value))
    return await client.post(action, data=form, allow_redirects=False)
