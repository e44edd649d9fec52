"""The health check: does the database answer?"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.web.keys import SERVICES
from db.engine import ping


async def healthz(request: web.Request) -> web.Response:
    """Report whether the database answers."""
    services = request.app[SERVICES]
    ok = await asyncio.to_thread(ping, services.engine)
    return web.json_response(
        {"ok": ok, "database": "ok" if ok else "unreachable"}, status=200 if ok else 503
    )
