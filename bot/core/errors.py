"""Errors raised by chat handlers; the dispatcher rolls back and renders them."""

from __future__ import annotations

from bot.errors import ReadableError


class UserError(ReadableError):
    """A problem with what the person asked; the message tells them what to do."""
