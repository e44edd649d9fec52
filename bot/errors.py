"""The one base for errors a person reads: an English message id plus its parameters.

Domain code (parsers, importers, invites…) raises a subclass; the edge that talks to
the person (chat dispatcher, CLI, web) renders it once, in the person's locale, with
``ReadableError.render``. Pure: no framework import, so any layer may raise it.
"""

from __future__ import annotations

from typing import Any, Protocol


class _Translates(Protocol):
    def gettext(self, message: str, **params: Any) -> str: ...


class ReadableError(Exception):
    """A problem a person can fix; ``message_id`` is a gettext msgid with ``{named}`` slots."""

    def __init__(self, message_id: str, **params: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.params = params

    def render(self, t: _Translates) -> str:
        """The message in the translator's language, placeholders filled."""
        return t.gettext(self.message_id, **self.params)
