"""Charts and report files the bot shares by link (Zalo cannot receive files)."""

from __future__ import annotations

from aiohttp import web

from bot.i18n import N_
from bot.web.keys import SERVICES, TEMPLATES
from bot.web.media import media_dir, stored_media
from bot.web.params import MSG_NOT_FOUND_BODY, MSG_NOT_FOUND_TITLE
from bot.web.render import message

MSG_EXPIRED_TITLE = N_("This link has expired")
MSG_EXPIRED_BODY = N_(
    "Links to files work for a limited time. Ask the bot again for the chart or the report."
)
# Shared files hold every village's figures: never kept by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


async def media(request: web.Request) -> web.StreamResponse:
    """Serve a stored chart or export by its unguessable name, until its link expires."""
    services = request.app[SERVICES]
    env = request.app[TEMPLATES]
    directory = media_dir(services.settings)
    found = stored_media(directory, request.match_info["name"])
    if found is None:
        return message(env, 404, MSG_NOT_FOUND_TITLE, MSG_NOT_FOUND_BODY)
    path, expires = found
    if expires <= services.clock():
        path.unlink(missing_ok=True)
        return message(env, 410, MSG_EXPIRED_TITLE, MSG_EXPIRED_BODY)
    return web.FileResponse(path, headers={**NO_STORE, "X-Robots-Tag": "noindex"})
