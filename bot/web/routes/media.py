"""Charts and report files the bot shares by link (Zalo cannot receive files)."""

from __future__ import annotations

from aiohttp import web

from bot.web.keys import SERVICES
from bot.web.media import media_dir


async def media(request: web.Request) -> web.StreamResponse:
    """Serve a stored chart or export by its unguessable name."""
    name = request.match_info["name"]
    if "/" in name or name.startswith("."):
        raise web.HTTPNotFound()
    path = media_dir(request.app[SERVICES].settings) / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)
