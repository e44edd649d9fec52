"""One aiohttp server: Telegram and Zalo webhooks, health check, media (and the dashboard)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.channels.security import secret_matches
from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.media import MEDIA_ROUTE
from db.engine import ping

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/webhook/telegram"
ZALO_WEBHOOK_PATH = "/webhook/zalo"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


@dataclass
class Webhooks:
    """What the webhook routes hand updates to, and the secrets they check."""

    telegram: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    telegram_secret: str = ""
    zalo: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    zalo_secret: str = ""


SERVICES = web.AppKey("services", Services)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
WEBHOOKS = web.AppKey("webhooks", Webhooks)


async def healthz(request: web.Request) -> web.Response:
    """Report whether the database answers."""
    services = request.app[SERVICES]
    import asyncio

    ok = await asyncio.to_thread(ping, services.engine)
    return web.json_response(
        {"ok": ok, "database": "ok" if ok else "unreachable"}, status=200 if ok else 503
    )


async def _read_update(
    request: web.Request, header: str, secret: str
) -> dict[str, Any] | web.Response:
    if not secret:
        return web.Response(status=403, text="webhook secret not configured")
    if not secret_matches(secret, request.headers.get(header)):
        log.warning("webhook %s refused: wrong or missing secret", request.path)
        return web.Response(status=401, text="unauthorized")
    if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
        return web.Response(status=413)
    try:
        payload = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return web.Response(status=400, text="bad json")
    if not isinstance(payload, dict):
        return web.Response(status=400, text="bad update")
    return payload


async def telegram_webhook(request: web.Request) -> web.Response:
    """Accept a Telegram update after checking the secret header; process it asynchronously."""
    hooks = request.app[WEBHOOKS]
    if hooks.telegram is None:
        return web.Response(status=404)
    payload = await _read_update(request, TELEGRAM_SECRET_HEADER, hooks.telegram_secret)
    if isinstance(payload, web.Response):
        return payload
    await hooks.telegram(payload)
    return web.Response(text="ok")


async def zalo_webhook(request: web.Request) -> web.Response:
    """Accept a Zalo update after checking the secret header; process it asynchronously."""
    hooks = request.app[WEBHOOKS]
    if hooks.zalo is None:
        return web.Response(status=404)
    payload = await _read_update(request, ZALO_SECRET_HEADER, hooks.zalo_secret)
    if isinstance(payload, web.Response):
        return payload
    await hooks.zalo(payload)
    return web.json_response({"ok": True})


async def media(request: web.Request) -> web.StreamResponse:
    """Serve a stored chart or export by its unguessable name."""
    name = request.match_info["name"]
    if "/" in name or name.startswith("."):
        raise web.HTTPNotFound()
    path = request.app[SERVICES].settings.data_dir / "media" / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


def build_web_app(
    services: Services, dispatcher: Dispatcher, webhooks: Webhooks | None = None
) -> web.Application:
    """The aiohttp application shared by webhooks, health check, media and dashboard."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[SERVICES] = services
    app[DISPATCHER] = dispatcher
    app[WEBHOOKS] = webhooks or Webhooks()
    app.router.add_get("/healthz", healthz)
    app.router.add_post(TELEGRAM_WEBHOOK_PATH, telegram_webhook)
    app.router.add_post(ZALO_WEBHOOK_PATH, zalo_webhook)
    app.router.add_get(MEDIA_ROUTE + "/{name}", media)
    from bot.web.dashboard import (
        setup_dashboard,  # imported here: the dashboard imports this module
    )

    setup_dashboard(app)
    return app
