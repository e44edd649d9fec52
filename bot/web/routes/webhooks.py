"""Telegram and Zalo webhooks: check the secret header, read the update, hand it on."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.channels.security import secret_matches
from bot.web.keys import WEBHOOKS
from bot.web.params import json_depth_ok

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/webhook/telegram"
ZALO_WEBHOOK_PATH = "/webhook/zalo"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


@dataclass
class Webhooks:
    """What the webhook routes hand updates to, and the secrets they check.

    Each handler returns once the update is handled (at most a few seconds), so the
    platform's "200 OK" means committed: an update lost to a crash is sent again. False:
    the database stayed unavailable and nothing was done; the route answers 503 and the
    platform sends the update again.
    """

    telegram: Callable[[dict[str, Any]], Awaitable[bool]] | None = None
    telegram_secret: str = ""
    zalo: Callable[[dict[str, Any]], Awaitable[bool]] | None = None
    zalo_secret: str = ""


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
    body = await request.read()
    if not body.strip():
        return {}  # Zalo's check when a webhook is saved has no body: answer it, do nothing
    if not json_depth_ok(body):
        log.warning("webhook %s refused: JSON nested too deep", request.path)
        return web.Response(status=400, text="bad json")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return web.Response(status=400, text="bad json")
    if not isinstance(payload, dict):
        return web.Response(status=400, text="bad update")
    return payload


async def telegram_webhook(request: web.Request) -> web.Response:
    """Check the secret header, then answer once the update is handled (or still going)."""
    hooks = request.app[WEBHOOKS]
    if hooks.telegram is None:
        return web.Response(status=404)
    payload = await _read_update(request, TELEGRAM_SECRET_HEADER, hooks.telegram_secret)
    if isinstance(payload, web.Response):
        return payload
    if not payload:
        return web.Response(status=400, text="bad update")
    if not await hooks.telegram(payload):
        return _send_again()
    return web.Response(text="ok")


async def zalo_webhook(request: web.Request) -> web.Response:
    """Check the secret header, then answer once the update is handled (or still going)."""
    hooks = request.app[WEBHOOKS]
    if hooks.zalo is None:
        return web.Response(status=404)
    payload = await _read_update(request, ZALO_SECRET_HEADER, hooks.zalo_secret)
    if isinstance(payload, web.Response):
        return payload
    if payload and not await hooks.zalo(payload):
        return _send_again()
    return web.json_response({"ok": True})


def _send_again() -> web.Response:
    """The database is unavailable: Telegram and Zalo send a non-2xx-answered update again."""
    return web.Response(status=503, text="database unavailable, send again")
