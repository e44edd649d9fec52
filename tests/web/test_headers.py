"""Security headers on every response (pages, errors, files, static), HSTS over HTTPS."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.auth import create_login_link
from bot.web.media import link_expiry, media_dir, save_media
from bot.web.routes.webhooks import Webhooks
from bot.web.server import build_web_app
from tests.web.conftest import Seeded, SignIn, behind_https, submit_login


def check(headers: Any, where: str) -> None:
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, where
    assert "script-src" not in csp and "unsafe-eval" not in csp, where  # no script at all
    assert "Cache-Control" in headers, where


async def test_every_response_carries_the_headers(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    client = await sign_in(seeded.office)
    name = save_media(
        media_dir(services.settings),
        b"a,b\r\n",
        ".csv",
        expires_at=link_expiry(services.settings, services.clock()),
    )
    paths = [
        "/",
        "/tasks",
        f"/tasks/{seeded.own_task}",
        f"/evidence/{seeded.own_evidence}",
        f"/evidence/{seeded.own_evidence}?view=1",
        "/export/tasks.xlsx",
        "/export/tallies.csv",
        "/static/dashboard.css",
        f"/media/{name}",
        "/media/unknown.123.csv",
        "/healthz",
        "/no/such/page",
        "/tasks/%D9%A3",
        "/villages?month=9999-12",
        "/login/not-a-token",
        "/logout",  # GET: 405
        "/webhook/telegram",  # GET: 405
    ]
    for path in paths:
        response = await client.get(path, allow_redirects=False)
        await response.read()
        check(response.headers, path)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP
    static = await client.get("/static/dashboard.css")
    assert static.headers["Cache-Control"] == "no-cache"  # revalidated, not stored blindly
    page = await client.get("/")
    assert page.headers["Cache-Control"] == "no-store"
    evidence = await client.get(f"/evidence/{seeded.own_evidence}")
    assert "sandbox" in evidence.headers["Content-Security-Policy"]
    posted = await client.post("/webhook/zalo", data=b"{}")  # no Zalo channel: 404
    check(posted.headers, "POST /webhook/zalo")
    signed_out = await client.post("/logout")  # no CSRF token: 403
    check(signed_out.headers, "POST /logout")


async def test_errors_and_crashes_carry_the_headers(services: Services) -> None:
    app = build_web_app(services, Dispatcher(services), Webhooks())

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app.router.add_get("/broken", broken)
    async with TestClient(TestServer(app)) as client:
        for path in ("/broken", "/", "/villages"):
            response = await client.get(path)
            assert response.status in (401, 500)
            check(response.headers, path)


async def test_hsts_when_the_public_address_is_https(services: Services) -> None:
    https = behind_https(services)
    async with TestClient(TestServer(build_web_app(https, Dispatcher(https)))) as client:
        for path in ("/", "/static/dashboard.css", "/no/such/page", "/healthz"):
            response = await client.get(path)
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path


async def test_login_page_carries_the_headers(services: Services, seeded: Seeded) -> None:
    async with TestClient(TestServer(build_web_app(services, Dispatcher(services)))) as client:
        with Session(services.engine) as session:
            link = create_login_link(session, seeded.office, services.clock(), "")
            session.commit()
        check((await client.get(link)).headers, "login form")
        response = await submit_login(client, link)
        assert response.status == 303
        check(response.headers, "login redirect")
