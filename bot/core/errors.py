"""Domain errors carry a message a person can read (an English msgid plus parameters)."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """A problem with what the person asked; the message tells them what to do."""

    def __init__(self, message_id: str, **params: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.params = params
