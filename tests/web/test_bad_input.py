"""Odd input never gives a 500: strict parameters, Vietnamese 400/404 pages, bounded JSON."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.params import (
    MAX_ID,
    BadInput,
    json_depth_ok,
    parse_id,
    parse_month,
    parse_page,
)
from bot.web.routes.webhooks import TELEGRAM_SECRET_HEADER, ZALO_SECRET_HEADER, Webhooks
from bot.web.server import build_web_app
from tests.web.conftest import Seeded, SignIn

BAD_REQUEST = "Địa chỉ không hợp lệ"
NOT_FOUND = "Không tìm thấy"


def test_ids_are_plain_ascii_numbers_the_database_can_hold() -> None:
    assert parse_id("3") == 3 and parse_id(str(MAX_ID)) == MAX_ID
    for raw in (
        "",
        "٣",
        "３",
        "²",
        "0",
        "03",
        "-3",
        "+3",
        " 3",
        "3 ",
        "1e3",
        str(MAX_ID + 1),
        "9" * 40,
    ):
        with pytest.raises(BadInput) as caught:
            parse_id(raw)
        assert caught.value.status == 404, raw


def test_months_and_pages() -> None:
    today = dt.date(2026, 3, 10)
    assert parse_month("2026-03", today) == dt.date(2026, 3, 1)
    assert parse_month("", today) is None
    for raw in ("9999-12", "2026-13", "2026-00", "1899-01", "٢٠٢٦-٠٣", "2026-3", "2026-03-01", "x"):
        with pytest.raises(BadInput) as caught:
            parse_month(raw, today)
        assert caught.value.status == 400, raw
    assert parse_page("") == 1 and parse_page("7") == 7
    for raw in ("0", "-1", "٣", "9" * 30, "100001"):
        with pytest.raises(BadInput):
            parse_page(raw)


def test_json_depth() -> None:
    assert json_depth_ok(b'{"a": [1, {"b": "[[[[{{{{"}]}', limit=3)
    assert not json_depth_ok(b'{"a": [1, {"b": [[]]}]}', limit=3)
    assert json_depth_ok(b'"\\"[[[[[["', limit=1)
    assert not json_depth_ok(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/tasks/%D9%A3", 404, NOT_FOUND),  # an Arabic-Indic 3 is not task 3
        ("/tasks/99999999999999999999", 404, NOT_FOUND),
        ("/tasks/2147483648", 404, NOT_FOUND),
        ("/tasks/0", 404, NOT_FOUND),
        ("/evidence/%D9%A3", 404, NOT_FOUND),
        ("/evidence/99999999999999999999", 404, NOT_FOUND),
        ("/villages?month=9999-12", 400, BAD_REQUEST),
        ("/villages?month=2026-13", 400, BAD_REQUEST),
        ("/villages?code=nonsense", 400, BAD_REQUEST),
        ("/tasks?unit=abc", 400, BAD_REQUEST),
        ("/tasks?unit=99999999999999999999", 400, BAD_REQUEST),
        ("/tasks?unit=%D9%A3", 400, BAD_REQUEST),
        ("/tasks?status=nonsense", 400, BAD_REQUEST),
        ("/tasks?deadline=%D9%A3", 400, BAD_REQUEST),
        ("/tasks?plan=" + "x" * 500, 400, BAD_REQUEST),
        ("/tasks?plan=no-such-plan", 404, NOT_FOUND),
        ("/audit?page=99999999999999999999", 400, BAD_REQUEST),
        ("/audit?page=%D9%A3", 400, BAD_REQUEST),
        ("/audit?kind=nonsense", 400, BAD_REQUEST),
        ("/export/tasks.xlsx?plan=no-such-plan", 404, NOT_FOUND),
        ("/no/such/page", 404, NOT_FOUND),
    ],
)
async def test_bad_input_is_a_readable_page(
    path: str, status: int, text: str, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.office)
    response = await client.get(path)
    assert response.status == status, path
    html = await response.text()
    assert response.content_type == "text/html" and text in html and 'lang="vi"' in html


async def test_good_input_still_works(seeded: Seeded, sign_in: SignIn) -> None:
    client = await sign_in(seeded.office)
    for path in (
        "/villages?month=2026-02&code=cks",
        "/villages?month=&code=",
        "/tasks?unit=&status=&deadline=",
        f"/tasks?plan={seeded.plan_slug}&status=red&deadline=14",
        "/audit?page=1&kind=",
        f"/tasks/{seeded.own_task}",
    ):
        assert (await client.get(path)).status == 200, path


async def test_wrong_method_and_server_errors_are_pages(services: Services) -> None:
    app = build_web_app(services, Dispatcher(services))

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app.router.add_get("/broken", broken)
    async with TestClient(TestServer(app)) as client:
        wrong = await client.get("/logout")
        assert wrong.status == 405 and "Không làm được" in await wrong.text()
        crash = await client.get("/broken")
        body = await crash.text()
        assert crash.status == 500 and "Đã có lỗi" in body and "a bug" not in body


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_deep_json_on_webhooks_is_refused(channel: str, services: Services) -> None:
    received: list[dict[str, Any]] = []

    async def accept(update: dict[str, Any]) -> bool:
        received.append(update)
        return True

    hooks = Webhooks(telegram=accept, telegram_secret="s" * 16, zalo=accept, zalo_secret="s" * 16)
    header = TELEGRAM_SECRET_HEADER if channel == "telegram" else ZALO_SECRET_HEADER
    async with TestClient(TestServer(build_web_app(services, Dispatcher(services), hooks))) as c:
        deep = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
        response = await c.post(f"/webhook/{channel}", data=deep, headers={header: "s" * 16})
        assert response.status == 400
        big = b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        response = await c.post(
            f"/webhook/{channel}", data=io.BytesIO(big), headers={header: "s" * 16}
        )
        assert response.status == 413
        fine = await c.post(
            f"/webhook/{channel}", json={"update_id": 1}, headers={header: "s" * 16}
        )
        assert fine.status == 200 and received == [{"update_id": 1}]
