"""Cross-site request forgery: every form carries a token only our pages know.

A browser's token is an HMAC of a secret its cookies already hold (the session cookie
once signed in, a random pre-session cookie before), so it needs no server-side state,
survives restarts and changes with every sign-in. A state-changing request must carry
the token (form field ``csrf`` or header ``X-CSRF-Token``) and come from our own
origin (``Origin`` / ``Sec-Fetch-Site``). Templates write the field with
``{{ csrf_field() }}``; the middleware in ``bot.web.middlewares`` checks it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import jinja2
from markupsafe import Markup, escape

FIELD = "csrf"
HEADER = "X-CSRF-Token"
PRE_COOKIE = "tocns_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PURPOSE = b"tocns csrf v1"


def token_for(secret: str) -> str:
    """The CSRF token of a browser holding this cookie secret."""
    return hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).hexdigest()


def token_matches(expected: str, submitted: str | None) -> bool:
    """Constant-time comparison of the submitted token with the expected one."""
    return bool(submitted) and hmac.compare_digest(expected, submitted or "")


def same_origin(origin: str | None, fetch_site: str | None, allowed: set[str]) -> bool:
    """Whether a request's Origin / Sec-Fetch-Site say it comes from our own pages.

    Browsers that send neither (old ones, tools) are judged by the token alone.
    """
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        return False
    if origin is None or (origin == "null" and fetch_site is not None):
        return True  # "null": a privacy setting hid it, and Sec-Fetch-Site vouched
    return origin.rstrip("/").lower() in allowed


@jinja2.pass_context
def csrf_field(context: jinja2.runtime.Context) -> Markup:
    """The hidden form field with the page's CSRF token (for every POST form)."""
    token: Any = context.get("csrf_token")
    if not token:
        raise RuntimeError("a page with a form was rendered without a CSRF token")
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token)}">')
