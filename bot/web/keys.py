"""Typed keys of the web application's shared state.

This module imports nothing of tocns at run time (the types are for the type checker
only), so every web module can use the keys without importing another web module:
the app factory (``bot.web.server``) fills them, the route modules read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import jinja2

    from bot.core.dispatcher import Dispatcher
    from bot.services import Services
    from bot.web.routes.webhooks import Webhooks

SERVICES: web.AppKey[Services] = web.AppKey("services")
DISPATCHER: web.AppKey[Dispatcher] = web.AppKey("dispatcher")
WEBHOOKS: web.AppKey[Webhooks] = web.AppKey("webhooks")
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates")
# The CSRF token of the browser making a request (set by the CSRF middleware).
CSRF_TOKEN: web.RequestKey[str] = web.RequestKey("csrf_token", str)
