"""Logging for tocns processes: one handler, and no secret ever reaches it.

python-telegram-bot logs its base URL (which contains the bot token) and, at DEBUG,
the parameters of every call (``setWebhook`` carries the webhook secret); database
drivers may print connection URLs. ``SecretFilter`` replaces every known secret in a
record's message, arguments, traceback and stack before any handler formats it.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import urllib.parse
from collections.abc import Iterable
from typing import TextIO

from pydantic import SecretStr

from bot.settings import Settings

REDACTED = "[secret]"
MIN_SECRET_LENGTH = 4  # shorter values would blank out ordinary words all over the log
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# httpx logs a line per request (one per long poll): shown at DEBUG only. httpcore's
# DEBUG is every socket event: never shown.
REQUEST_LOGGER = "httpx"
WIRE_LOGGER = "httpcore"

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def remember_secret(value: str | SecretStr | None) -> None:
    """Redact ``value`` (and its URL-encoded form) from every log record from now on."""
    global _pattern
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(forms)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
        _pattern = re.compile("|".join(re.escape(secret) for secret in ordered))


def settings_secrets(settings: Settings) -> Iterable[str | SecretStr | None]:
    """Every secret the settings hold: tokens, webhook secrets, the database password."""
    yield settings.telegram_token
    yield settings.zalo_token
    yield settings.telegram_webhook_secret
    yield settings.zalo_webhook_secret
    try:
        password = urllib.parse.urlsplit(settings.effective_database_url).password
    except ValueError:  # an unreadable URL fails later, with its own message
        return
    if password:
        yield password
        yield urllib.parse.unquote(password)


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced."""
    pattern = _pattern
    return pattern.sub(REDACTED, text) if pattern is not None else text


class SecretFilter(logging.Filter):
    """Rewrites each record so that no remembered secret is left in it; drops nothing."""

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        super().__init__()
        self._formatter = formatter or logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: keep what there is
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _TocnsHandler(logging.StreamHandler[TextIO]):
    """The handler ``setup_logging`` installs (found again by its type to be replaced)."""


def setup_logging(
    settings: Settings, *, quiet: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """Log to standard error (or ``stream``) at the configured level, secrets redacted.

    ``quiet``: warnings and errors only (the console chat, one-off commands). Calling it
    again replaces the handler installed before.
    """
    for secret in settings_secrets(settings):
        remember_secret(secret)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _TocnsHandler)]:
        root.removeHandler(handler)
    formatter = logging.Formatter(LOG_FORMAT)
    handler = _TocnsHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(SecretFilter(formatter))
    root.addHandler(handler)
    level = (
        logging.WARNING
        if quiet
        else logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    )
    root.setLevel(level)
    logging.getLogger(REQUEST_LOGGER).setLevel(
        logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    )
    logging.getLogger(WIRE_LOGGER).setLevel(logging.WARNING)
    return handler
