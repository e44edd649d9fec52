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
from bot.web.params import (
    MSG_BAD_BODY,
    MSG_BAD_TITLE,
    MSG_NOT_FOUND_BODY,
    MSG_NOT_FOUND_TITLE,
    BadInput,
)
from bot.web.render import message
from bot.web.routes.webhooks import MAX_UPDATE_BYTES

log = logging.getLogger(__name__)

# On every response, pages, errors, files and static alike (a response may set its own
# stricter value first, as evidence files do with a sandbox).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # our forms send their Origin; no other site sees a URL
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"  # one year; no includeSubDomains: the commune's other sites are not ours
STATIC_PREFIX = "/static/"

# Machine-to-machine routes authenticated otherwise (a secret header, an Open311 API key),
# never by cookie.
NOT_FORMS = ("/webhook/", "/open311/")

MSG_METHOD_TITLE = N_("This cannot be done here")
MSG_METHOD_BODY = N_("This address does not accept this kind of request. Go back to the overview.")
MSG_TOO_BIG_TITLE = N_("Too large")
MSG_TOO_BIG_BODY = N_("What was sent is larger than the dashboard accepts.")
MSG_ERROR_TITLE = N_("Something went wrong")
MSG_ERROR_BODY = N_(
    "The server could not open this page. The error was recorded; please try again in a few minutes."
)
ERROR_MESSAGES = {
    400: (MSG_BAD_TITLE, MSG_BAD_BODY),
    404: (MSG_NOT_FOUND_TITLE, MSG_NOT_FOUND_BODY),
    405: (MSG_METHOD_TITLE, MSG_METHOD_BODY),
    413: (MSG_TOO_BIG_TITLE, MSG_TOO_BIG_BODY),
    500: (MSG_ERROR_TITLE, MSG_ERROR_BODY),
}

MSG_CSRF_TITLE = N_("This form has expired")
MSG_CSRF_BODY = N_(
    "For your safety the request was refused: it did not come from a page of this "
    "dashboard, or the page is too old. Go back, reload the page and try again."
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer errors with a Vietnamese page; log unexpected ones with their traceback."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or request.path.startswith(NOT_FORMS):
            raise
        title, body = ERROR_MESSAGES.get(error.status, ERROR_MESSAGES[400])
        return message(request.app[TEMPLATES], error.status, title, body)
    except BadInput as bad:
        return message(request.app[TEMPLATES], bad.status, bad.title, bad.body)
    except Exception:
        log.exception("error answering %s %s", request.method, request.path)
        title, body = ERROR_MESSAGES[500]
        return message(request.app[TEMPLATES], 500, title, body)


@web.middleware
async def body_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Keep webhook bodies to an update's size; dashboard forms may carry a file."""
    if request.path.startswith(NOT_FORMS):
        request = request.clone(client_max_size=MAX_UPDATE_BYTES)
    return await handler(request)


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


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Add the security headers to a response about to be sent, whatever produced it."""
    headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    # Pages hold personal figures: never stored. The stylesheet is revalidated instead.
    headers.setdefault(
        "Cache-Control", "no-cache" if request.path.startswith(STATIC_PREFIX) else "no-store"
    )
    if request.app[SERVICES].settings.public_base_url.lower().startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)


def setup_middlewares(app: web.Application) -> None:
    """Install the middlewares (outermost first) and the headers every response gets."""
    app.on_response_prepare.append(security_headers)
    app.middlewares.append(error_pages)
    app.middlewares.append(body_limits)
    app.middlewares.append(csrf_protect)
