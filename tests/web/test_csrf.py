"""Cross-site requests: a form on another site can neither sign a victim in nor out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import jinja2
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.auth import COOKIE_NAME, create_login_link
from bot.web.csrf import PRE_COOKIE, csrf_field, same_origin, token_for
from bot.web.routes.webhooks import TELEGRAM_SECRET_HEADER, Webhooks
from bot.web.server import build_web_app
from db.models import WebLoginToken, WebSession
from tests.helpers import add_person
from tests.web.conftest import Client, behind_https, form_token, submit_login

EVIL = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


@pytest.fixture
async def clients(services: Services) -> AsyncIterator[list[Client]]:
    """Two browsers (two cookie jars) on the same server: the victim's and the attacker's."""
    app = build_web_app(services, Dispatcher(services))
    server = TestServer(app)
    opened = [TestClient(server), TestClient(server)]
    for client in opened:
        await client.start_server()
    yield opened
    for client in opened:
        await client.close()


def link_for(services: Services, name: str) -> str:
    person = add_person(services, name=name, roles=("office",))
    with Session(services.engine) as session:
        link = create_login_link(session, person, services.clock(), "")
        session.commit()
    return link


def unused(services: Services) -> int:
    with Session(services.engine) as session:
        rows = session.exec(select(WebLoginToken)).all()
        return sum(1 for row in rows if row.used_at is None)


async def test_a_cross_site_form_cannot_sign_a_victim_in(
    services: Services, clients: list[Client]
) -> None:
    victim, attacker = clients
    link = link_for(services, "Kẻ Gian")
    # The attacker opens their own link and copies the form, token included.
    stolen = form_token(await (await attacker.get(link)).text())
    assert stolen
    # From another site: refused by its origin, whatever the token.
    response = await victim.post(link, data={"csrf": stolen}, headers=EVIL, allow_redirects=False)
    assert response.status == 403 and "Set-Cookie" not in response.headers
    assert "tải lại trang" in await response.text()
    # Without Origin headers (an old browser): refused, the token belongs to another browser.
    response = await victim.post(link, data={"csrf": stolen}, allow_redirects=False)
    assert response.status == 403 and COOKIE_NAME not in response.cookies
    response = await victim.post(link, allow_redirects=False)  # no token at all
    assert response.status == 403
    assert (await victim.get("/")).status == 401
    assert unused(services) == 1  # the link was not spent by the refused requests
    # The attacker's own browser can still use it.
    assert (await submit_login(attacker, link)).status == 303


async def test_a_cross_site_form_cannot_sign_a_victim_out(
    services: Services, clients: list[Client]
) -> None:
    victim, _attacker = clients
    assert (await submit_login(victim, link_for(services, "Nạn Nhân"))).status == 303
    page = await (await victim.get("/")).text()
    token = form_token(page)
    assert token and 'action="/logout"' in page
    for headers, data in ((EVIL, {"csrf": token}), (EVIL, {}), ({}, {}), ({}, {"csrf": "x" * 64})):
        response = await victim.post("/logout", data=data, headers=headers)
        assert response.status == 403, (headers, data)
        assert (await victim.get("/")).status == 200  # still signed in
    cookie = victim.session.cookie_jar.filter_cookies(victim.make_url("/"))[COOKIE_NAME].value
    same_site = {"Origin": str(victim.make_url("")).rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    response = await victim.post("/logout", data={"csrf": token}, headers=same_site)
    assert response.status == 200 and "đăng xuất" in (await response.text()).lower()
    # The session is revoked on the server: the old cookie no longer opens anything.
    with Session(services.engine) as session:
        assert all(row.revoked for row in session.exec(select(WebSession)))
    replay = await victim.get("/", headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
    assert replay.status == 401


async def test_the_public_address_is_a_valid_origin(services: Services) -> None:
    public = behind_https(services)
    async with TestClient(TestServer(build_web_app(public, Dispatcher(public)))) as client:
        link = link_for(services, "Cán Bộ")
        # Over https the pre-session cookie is Secure, and the plain-HTTP test client would
        # not send it back: bring one.
        cookie = {"Cookie": f"{PRE_COOKIE}=pre"}
        page = await (await client.get(link, headers=cookie)).text()
        assert form_token(page) == token_for("pre")
        response = await client.post(
            link,
            data={"csrf": token_for("pre")},
            headers={
                "Origin": "https://tocns.example.vn",
                "Sec-Fetch-Site": "same-origin",
                **cookie,
            },
            allow_redirects=False,
        )
        assert response.status == 303


async def test_webhooks_are_not_forms(services: Services) -> None:
    received: list[dict[str, Any]] = []

    async def accept(update: dict[str, Any]) -> bool:
        received.append(update)
        return True

    hooks = Webhooks(telegram=accept, telegram_secret="s3cret-s3cret")
    async with TestClient(TestServer(build_web_app(services, Dispatcher(services), hooks))) as c:
        response = await c.post(
            "/webhook/telegram",
            json={"update_id": 1},
            headers={TELEGRAM_SECRET_HEADER: "s3cret-s3cret", **EVIL},
        )
        assert response.status == 200 and received == [{"update_id": 1}]


def test_the_template_helper_writes_the_hidden_field() -> None:
    env = jinja2.Environment(autoescape=True)
    env.globals["csrf_field"] = csrf_field
    html = env.from_string("<form>{{ csrf_field() }}</form>").render(csrf_token=token_for("abc"))
    assert html == f'<form><input type="hidden" name="csrf" value="{token_for("abc")}"></form>'
    assert token_for("abc") != token_for("abd") and len(token_for("abc")) == 64
    with pytest.raises(RuntimeError):
        env.from_string("{{ csrf_field() }}").render()  # a page without a token cannot post


@pytest.mark.parametrize(
    ("origin", "site", "ok"),
    [
        ("http://dash.local:8080", "same-origin", True),
        ("http://dash.local:8080", None, True),
        ("HTTP://DASH.LOCAL:8080/", None, True),
        (None, None, True),  # an old browser: the token decides
        ("null", "same-origin", True),  # the origin hidden by a privacy setting
        ("null", None, False),  # a sandboxed frame
        ("https://evil.example", None, False),
        ("http://dash.local:8080", "cross-site", False),
        ("http://dash.local:8080", "same-site", False),  # a sibling subdomain
        (None, "cross-site", False),
        ("http://dash.local:8081", "same-origin", False),
    ],
)
def test_origin_rules(origin: str | None, site: str | None, ok: bool) -> None:
    assert same_origin(origin, site, {"http://dash.local:8080"}) is ok
