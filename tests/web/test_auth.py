"""One-time sign-in links and sessions: single use, 15 minutes, cookie flags, expiry, sign-out."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.auth import (
    COOKIE_NAME,
    LOGIN_TTL,
    SESSION_IDLE,
    SESSION_MAX,
    check_session,
    close_session,
    cookie_options,
    create_login_link,
    create_login_token,
    open_session,
    redeem_login_token,
)
from bot.web.csrf import PRE_COOKIE, token_for
from bot.web.server import build_web_app
from db.models import WebLoginToken, WebSession
from tests.helpers import FakeClock, add_person
from tests.web.conftest import behind_https, form_token, submit_login


def _link(services: Services, person_id: int, base: str = "") -> str:
    with Session(services.engine) as session:
        link = create_login_link(session, person_id, services.clock(), base)
        session.commit()
    return link


def test_tokens_are_stored_hashed_and_single_use(services: Services, clock: FakeClock) -> None:
    person = add_person(services, roles=("office",))
    with Session(services.engine) as session:
        token = create_login_token(session, person, clock())
        session.commit()
        stored = session.exec(select(WebLoginToken)).one()
        assert token not in stored.token_hash and len(stored.token_hash) == 64
        assert stored.expires_at == clock() + LOGIN_TTL
        assert redeem_login_token(session, token, clock()) == person
        assert redeem_login_token(session, token, clock()) is None  # used
        assert redeem_login_token(session, "not-a-token", clock()) is None


def test_link_expires_after_15_minutes(services: Services, clock: FakeClock) -> None:
    person = add_person(services, roles=("office",))
    with Session(services.engine) as session:
        fresh = create_login_token(session, person, clock())
        stale = create_login_token(session, person, clock())
        clock.advance(minutes=14, seconds=59)
        assert redeem_login_token(session, fresh, clock()) == person
        clock.advance(seconds=1)
        assert redeem_login_token(session, stale, clock()) is None


def test_session_idle_and_absolute_expiry(services: Services, clock: FakeClock) -> None:
    person = add_person(services, roles=("office",))
    with Session(services.engine) as session:
        opened = open_session(session, person, clock())
        session.commit()
        assert opened.token not in session.exec(select(WebSession)).one().token_hash
        # Used every 11 hours: it stays open, but never past 7 days after sign-in.
        start = clock()
        while clock() + dt.timedelta(hours=11) < start + SESSION_MAX:
            clock.advance(hours=11)
            assert check_session(session, opened.token, clock()) == person
        clock.set(start + SESSION_MAX)
        assert check_session(session, opened.token, clock()) is None
        # Idle for more than 12 hours: closed.
        other = open_session(session, person, clock())
        clock.advance(seconds=SESSION_IDLE.total_seconds() + 1)
        assert check_session(session, other.token, clock()) is None


def test_sign_out_revokes(services: Services, clock: FakeClock) -> None:
    person = add_person(services, roles=("office",))
    with Session(services.engine) as session:
        opened = open_session(session, person, clock())
        close_session(session, opened.token)
        assert check_session(session, opened.token, clock()) is None
        close_session(session, "unknown")  # harmless


def test_cookie_flags() -> None:
    plain = cookie_options("")
    assert plain["httponly"] is True and plain["samesite"] == "Lax" and plain["secure"] is False
    assert cookie_options("https://tocns.example.vn")["secure"] is True


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = build_web_app(services, Dispatcher(services))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_sign_in_over_http(
    services: Services, client: TestClient[web.Request, web.Application], clock: FakeClock
) -> None:
    person = add_person(services, roles=("office",))
    link = _link(services, person)
    assert (await client.get("/")).status == 401
    opened = await client.get(link)  # a preview fetch spends nothing
    page = await opened.text()
    assert opened.status == 200 and "Đăng nhập" in page
    response = await client.post(link, data={"csrf": form_token(page)}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert f"{COOKIE_NAME}=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    home = await client.get("/")
    assert home.status == 200
    token = form_token(await home.text())  # the token follows the new session
    again = await client.post(link, data={"csrf": token}, allow_redirects=False)
    assert again.status == 403 and "đã được dùng" in await again.text()
    out = await client.post("/logout", data={"csrf": token})
    assert out.status == 200 and "đăng xuất" in (await out.text()).lower()
    assert (await client.get("/")).status == 401


async def test_expired_link_refused_over_http(
    services: Services, client: TestClient[web.Request, web.Application], clock: FakeClock
) -> None:
    link = _link(services, add_person(services, roles=("office",)))
    token = form_token(await (await client.get(link)).text())
    clock.advance(minutes=16)
    assert (await client.get(link)).status == 403
    late = await client.post(link, data={"csrf": token}, allow_redirects=False)
    assert late.status == 403 and "hết hạn" in await late.text()


async def test_resident_cannot_sign_in(
    services: Services, client: TestClient[web.Request, web.Application]
) -> None:
    link = _link(services, add_person(services, roles=("resident",)))
    response = await submit_login(client, link)
    assert response.status == 403 and "Set-Cookie" not in response.headers


async def test_secure_cookie_over_https(services: Services, tmp_path: object) -> None:
    https = behind_https(services)
    link = _link(https, add_person(services, roles=("office",)), "https://tocns.example.vn")
    assert link.startswith("https://tocns.example.vn/login/")
    path = link.removeprefix("https://tocns.example.vn")
    async with TestClient(TestServer(build_web_app(https, Dispatcher(https)))) as client:
        # The test client speaks plain HTTP, so it would not send Secure cookies back:
        # it brings its own pre-session cookie.
        response = await client.post(
            path,
            data={"csrf": token_for("pre")},
            headers={"Cookie": f"{PRE_COOKIE}=pre"},
            allow_redirects=False,
        )
        assert "Secure" in response.headers["Set-Cookie"]


async def test_session_expiry_on_the_injected_clock(
    services: Services, client: TestClient[web.Request, web.Application], clock: FakeClock
) -> None:
    link = _link(services, add_person(services, roles=("office",)))
    await submit_login(client, link)
    clock.advance(hours=11)
    assert (await client.get("/")).status == 200
    clock.advance(hours=12, minutes=1)
    assert (await client.get("/")).status == 401


async def test_a_link_is_spent_once_under_concurrent_posts(
    services: Services, client: TestClient[web.Request, web.Application]
) -> None:
    """Twenty presses of the same link at once open exactly one session."""
    for attempt in range(5):
        person = add_person(services, name=f"Cán bộ {attempt}", roles=("office",))
        link = _link(services, person)
        page = await client.get(link)
        token = form_token(await page.text())
        responses = await asyncio.gather(
            *(client.post(link, data={"csrf": token}, allow_redirects=False) for _ in range(20))
        )
        statuses = sorted(r.status for r in responses)
        assert statuses == [303] + [403] * 19, statuses
        with Session(services.engine) as session:
            opened = session.exec(select(WebSession).where(WebSession.person_id == person)).all()
        assert len(opened) == 1
