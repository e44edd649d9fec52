"""Webhook secret checks shared by the Telegram and Zalo webhook endpoints."""

from __future__ import annotations

import hmac

__all__ = ["secret_matches"]


def secret_matches(expected: str, got: str | None) -> bool:
    """Return whether the received secret equals the expected one, in constant time.

    An empty expected secret never matches: a webhook without a configured secret must be
    refused, not opened to everyone.
    """
    if not expected or got is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), got.encode("utf-8"))
