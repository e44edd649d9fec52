"""What every request of the web server goes through (installed by ``bot.web.server``)."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.i18n import N_
from bot.web import csrf
from bot.web.auth import COOKIE_NAME, cookie_options
from bot.web.keys import CSRF_TOKEN, SERVICES, TEMPLATES
from bot.web.render import message

log = logging.getLogger(__name__)

# Machine-to-machine routes authenticated otherwise (a secret header), never by cookie.
NOT_FORMS = ("/webhook/",)

MSG_CSRF_TITLE = N_("This form has expired")
MSG_CSRF_BODY = N_(
    "For your safety the request was refused: it did not come from a page of this "
    "dashboard, or the page is too old. Go back, reload the page and try again."
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


@web.middleware
async def csrf_protect(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing requests without our CSRF token or from another origin."""
    if request.path.startswith(NOT_FORMS):
        return await handler(request)
    settings = request.app[SERVICES].settings
    secret = request.cookies.get(COOKIE_NAME) or request.cookies.get(csrf.PRE_COOKIE)
    fresh = None if secret else secrets.token_urlsafe(32)
    expected = csrf.token_for(secret or fresh or "")
    request[CSRF_TOKEN] = expected
    if request.method in csrf.UNSAFE_METHODS:
        allowed = {_origin(str(request.url)), _origin(settings.public_base_url)} - {""}
        submitted = request.headers.get(csrf.HEADER)
        if submitted is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            value = (await request.post()).get(csrf.FIELD)
            submitted = value if isinstance(value, str) else None
        fetch_site = request.headers.get("Sec-Fetch-Site")
        origin = request.headers.get("Origin")
        if not csrf.same_origin(origin, fetch_site, allowed) or not csrf.token_matches(
            expected, submitted
        ):
            log.warning(
                "refused %s %s: csrf (origin=%s, site=%s, token=%s)",
                request.method,
                request.path,
                origin,
                fetch_site,
                "present" if submitted else "missing",
            )
            return message(request.app[TEMPLATES], 403, MSG_CSRF_TITLE, MSG_CSRF_BODY)
    response = await handler(request)
    if fresh is not None and response.content_type == "text/html":
        options = cookie_options(settings.public_base_url)
        options.pop("max_age")
        response.set_cookie(csrf.PRE_COOKIE, fresh, **options)  # type: ignore[arg-type]
    return response


def setup_middlewares(app: web.Application) -> None:
    """Install the middlewares, outermost first."""
    app.middlewares.append(csrf_protect)
