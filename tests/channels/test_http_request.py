"""``AiohttpRequest``: PTB's requests over aiohttp, against a real local HTTP server."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.base import REQUEST_WRITTEN
from bot.channels.http import NEVER_LEFT, AiohttpRequest

TOKEN = "123456:SECRET-token-never-logged"


class Server(TestServer):
    """The test server and what it received, in order."""

    seen: list[dict[str, object]]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """A Bot-API-shaped server: echoes what it received as the ``result``."""
    seen: list[dict[str, object]] = []

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if name == "slow":
            await asyncio.sleep(2)
        fields: dict[str, object] = {}
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                body = await part.read()  # type: ignore[union-attr]
                fields[part.name or ""] = (
                    {
                        "file_name": part.filename,
                        "size": len(body),
                        "type": part.headers.get("Content-Type"),
                    }  # type: ignore[union-attr]
                    if part.filename  # type: ignore[union-attr]
                    else body.decode()
                )
        else:
            fields.update(await request.post())
        seen.append({"method": name, "fields": fields, "agent": request.headers.get("User-Agent")})
        if name == "getMe":
            fields = {"id": 123456, "is_bot": True, "first_name": "tocns", "username": "tocns_bot"}
        return web.json_response({"ok": True, "result": fields})

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", method)
    test_server = Server(app)
    test_server.seen = seen
    async with test_server:
        yield test_server


def url(server: Server, method: str) -> str:
    return str(server.make_url(f"/bot{TOKEN}/{method}"))


async def test_form_fields_reach_the_server_urlencoded(server: Server) -> None:
    async with AiohttpRequest(connection_pool_size=4) as request:
        data = RequestData(
            [
                RequestParameter.from_input("chat_id", 42),
                RequestParameter.from_input("text", "Chào bà"),
            ]
        )
        status, body = await request.do_request(url(server, "sendMessage"), "POST", data)
    assert status == 200
    assert json.loads(body)["result"] == {"chat_id": "42", "text": "Chào bà"}
    assert "python-telegram-bot" in str(server.seen[0]["agent"])


async def test_a_real_bot_uploads_a_file_as_multipart(server: Server) -> None:
    """PTB's own Bot builds the request; the file arrives with its name, size and type."""
    base = str(server.make_url("/bot"))
    request = AiohttpRequest(connection_pool_size=2)
    async with Bot(TOKEN, base_url=base, request=request) as bot:
        png = InputFile(io.BytesIO(b"\x89PNG" + b"x" * 5000), filename="tien-do.png")
        await bot._post("sendPhoto", {"chat_id": 7, "photo": png, "caption": "Tiến độ"})
    fields = server.seen[-1]["fields"]
    assert fields["chat_id"] == "7" and fields["caption"] == "Tiến độ"
    assert fields["photo"] == {"file_name": "tien-do.png", "size": 5004, "type": "image/png"}


async def test_a_slow_answer_is_timed_out(server: Server) -> None:
    async with AiohttpRequest(read_timeout=0.2) as request:
        with pytest.raises(TimedOut) as caught:
            await request.do_request(url(server, "slow"), "POST")
    assert not isinstance(caught.value.__cause__, NEVER_LEFT)  # it reached the server


async def test_a_refused_connection_never_left_and_hides_the_token() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe", "POST")
    assert isinstance(caught.value.__cause__, NEVER_LEFT)
    assert TOKEN not in str(caught.value)


async def test_waiting_for_a_pooled_connection_times_out_before_sending(
    server: Server,
) -> None:
    """With the only connection busy, the next request gives up without being sent."""
    async with AiohttpRequest(connection_pool_size=1, read_timeout=5) as request:
        busy = asyncio.create_task(request.do_request(url(server, "slow"), "POST"))
        await asyncio.sleep(0.2)
        with pytest.raises(TimedOut) as caught:
            await request.do_request(
                url(server, "sendMessage"), "POST", connect_timeout=0.1, pool_timeout=0.1
            )
        assert isinstance(caught.value.__cause__, NEVER_LEFT)
        assert (await busy)[0] == 200
    assert [seen["method"] for seen in server.seen] == ["slow"]


async def test_initialize_and_shutdown_are_idempotent(server: Server) -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError):
        await request.do_request(url(server, "getMe"), "POST")
    await request.initialize()
    await request.initialize()
    assert (await request.do_request(url(server, "getMe"), "POST"))[0] == 200
    await request.shutdown()
    await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request(url(server, "getMe"), "POST")


async def test_the_read_timeout_default_and_per_call(server: Server) -> None:
    """PTB reads ``read_timeout`` to add a long poll's wait; a call may pass its own."""
    async with AiohttpRequest(read_timeout=0.1) as request:
        assert request.read_timeout == 0.1
        status, _ = await request.do_request(url(server, "slow"), "POST", read_timeout=5)
    assert status == 200


async def test_a_send_slot_is_told_when_its_request_really_leaves(server: Server) -> None:
    """Once, as the request's bytes are written, before its answer (a send slot's
    lateness check, ``bot.reminders.sendslots``); a task that set nothing is not told."""
    told: list[int] = []
    data = RequestData([RequestParameter.from_input("chat_id", 7)])
    async with AiohttpRequest() as request:
        await request.do_request(url(server, "sendMessage"), "POST", data)
        REQUEST_WRITTEN.set(lambda: told.append(len(server.seen)))
        await request.do_request(url(server, "sendMessage"), "POST", data)
    assert told == [1], "told once, before the server had the request"
