"""A small async client for the Zalo Bot API (https://bot.zaloplatforms.com/docs).

Methods are POSTed as JSON to ``<base_url>/bot<token>/<method>``. The answer is
``{"ok": bool, "result": ..., "error_code": int, "description": str}`` and HTTP 200 can
still carry ``ok: false``. ``getUpdates`` returns ONE update per call and answers 408 when
nothing arrived within its timeout.

The client never logs the token (it is part of every URL) nor what residents wrote.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Literal, Self

import aiohttp

from bot.channels.textsplit import split_text

__all__ = [
    "DEFAULT_BASE_URL",
    "TEXT_LIMIT",
    "ZaloAPIError",
    "ZaloClient",
    "ZaloNetworkError",
    "ZaloUpdate",
    "parse_update",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT: Final = 2000
EVENT_TEXT: Final = "message.text.received"
EVENT_IMAGE: Final = "message.image.received"
UpdateKind = Literal["text", "image", "unsupported"]


class ZaloAPIError(Exception):
    """The Zalo Bot API refused a call (``ok: false``) or could not be reached."""

    def __init__(self, error_code: int, description: str, method: str = "") -> None:
        super().__init__(f"Zalo {method or 'API'} failed: {error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.method = method


class ZaloNetworkError(ZaloAPIError):
    """Transport failure after all retries: timeout, connection error or malformed answer."""

    def __init__(
        self, error_code: int, description: str, method: str = "", *, maybe_delivered: bool
    ) -> None:
        super().__init__(error_code, description, method)
        self.maybe_delivered = maybe_delivered  # Zalo may have taken the request


@dataclass(frozen=True)
class ZaloUpdate:
    """One incoming Zalo event, flattened to what the bot needs."""

    event_name: str
    kind: UpdateKind
    chat_id: str
    user_id: str
    display_name: str
    text: str | None
    message_id: str
    date: datetime | None
    photo_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dedupe_key(self) -> str:
        """Return the key that identifies a redelivered event."""
        return f"{self.event_name}:{self.message_id}"


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_str(value: Any) -> str:
    return "" if value is None else str(value)


def _parse_date(value: Any) -> datetime | None:
    """Zalo dates are epoch milliseconds; accept seconds too."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # an int too large for a float
        return None
    if number > 1e11:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _photo_url(message: dict[str, Any]) -> str | None:
    for key in ("photo_url", "photo", "url"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            return str(value["url"])
    return None


def parse_update(payload: Any) -> ZaloUpdate | None:
    """Parse a getUpdates result or a webhook body, with or without the ``{ok, result}``.

    Returns ``None`` for anything that is not a message from a chat (including
    ``ok: false`` answers); events we don't handle come back with kind ``"unsupported"``.
    """
    if not isinstance(payload, dict):
        return None
    if "result" in payload or "ok" in payload:
        if payload.get("ok") is False:
            return None
        payload = payload.get("result")
        if not isinstance(payload, dict):
            return None
    message = payload.get("message")
    if not isinstance(message, dict):
        return None
    chat = _as_dict(message.get("chat"))
    sender = _as_dict(message.get("from"))
    # Ids are short text or numbers: anything else (a dict, true, a 5,000-digit number,
    # control characters) is not a message from Zalo, and would not fit the tables
    # (chat ids: 64 characters; "event_name:message_id" is the 120-character update key).
    ids = (chat.get("id"), sender.get("id"), message.get("message_id"), payload.get("event_name"))
    for value in ids:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        if isinstance(value, int) and value.bit_length() > 200:
            return None
        if len(str(value)) > 59 or not str(value).isprintable():
            return None
    chat_id = _as_str(chat.get("id") or sender.get("id"))
    if not chat_id.strip():
        return None
    text = message.get("text")
    text = text if isinstance(text, str) else None
    event_name = _as_str(payload.get("event_name"))
    if not event_name:
        event_name = EVENT_TEXT if text is not None else "message.unsupported.received"
    kind: UpdateKind
    photo_url = None
    if event_name == EVENT_TEXT and text is not None:
        kind = "text"
    elif event_name == EVENT_IMAGE:
        kind = "image"
        photo_url = _photo_url(message)
        caption = message.get("caption")
        text = caption if isinstance(caption, str) and caption else text
    else:
        kind = "unsupported"
    return ZaloUpdate(
        event_name=event_name,
        kind=kind,
        chat_id=chat_id,
        user_id=_as_str(sender.get("id") or chat_id),
        display_name=next(
            (
                name
                for name in (sender.get(k) for k in ("display_name", "name", "first_name"))
                if isinstance(name, str) and name
            ),
            "",
        ),
        text=text,
        message_id=_as_str(message.get("message_id")),
        date=_parse_date(message.get("date")),
        photo_url=photo_url,
        raw=payload,
    )


# Methods that make a person receive something: retried only when Zalo surely did not
# take the request (refused with 429/5xx, or never connected), so nobody gets it twice.
SENDING_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendSticker"})


class _Retry(Exception):
    """A transient failure worth retrying."""

    def __init__(
        self,
        error_code: int,
        description: str,
        retry_after: float | None,
        *,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        # The request may have reached Zalo (timeout, dropped connection, unreadable 200).
        self.maybe_delivered = maybe_delivered


class ZaloClient:
    """Async client for the Zalo Bot API with retries on 429 and transient errors."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        max_retries: int = 4,
        timeout: float = 20.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not token:
            raise ValueError("a Zalo bot token is required")
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"ZaloClient(base_url={self._base_url!r})"

    async def __aenter__(self) -> Self:
        self._get_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    # -- transport -------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between 50% and 100% of base * 2**attempt."""
        delay = min(self.backoff_max, self.backoff_base * (2**attempt))
        return delay * (0.5 + random.random() / 2)

    async def _once(
        self, method: str, params: dict[str, Any], timeout: float
    ) -> tuple[int, dict[str, Any]]:
        """Do one HTTP call; return (status, decoded body) or raise ``_Retry``."""
        url = f"{self._base_url}/bot{self._token}/{method}"
        try:
            async with self._get_session().post(
                url, json=params, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                status = resp.status
                raw = await resp.read()
                retry_after_header = resp.headers.get("Retry-After")
        except TimeoutError:
            raise _Retry(0, "timeout", None, maybe_delivered=True) from None
        except aiohttp.ClientError as exc:
            # str(exc) may contain the URL, hence the token: keep only the type.
            never_connected = isinstance(exc, aiohttp.ClientConnectorError)
            raise _Retry(
                0,
                f"connection error ({type(exc).__name__})",
                None,
                maybe_delivered=not never_connected,
            ) from None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if status == 429 or status >= 500:
            retry_after = _retry_after(body, retry_after_header)
            raise _Retry(status, _description(body, status), retry_after)
        if not isinstance(body, dict):
            if status == 200:
                raise _Retry(0, "malformed response", None, maybe_delivered=True)
            # A 4xx without a JSON body (a proxy page, say): not worth retrying.
            return status, {"ok": False, "error_code": status, "description": f"HTTP {status}"}
        code = body.get("error_code")
        if body.get("ok") is False and isinstance(code, int) and (code == 429 or code >= 500):
            raise _Retry(code, _description(body, code), _retry_after(body, retry_after_header))
        return status, body

    async def _call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        chat_id: str | None = None,
        timeout: float | None = None,
        accept_408: bool = False,
    ) -> Any:
        """Call ``method``; retry transient failures; return ``result`` or raise."""
        params = params or {}
        attempt = 0
        while True:
            try:
                status, body = await self._once(method, params, timeout or self.timeout)
            except _Retry as retry:
                unsafe = retry.maybe_delivered and method in SENDING_METHODS
                if attempt >= self.max_retries or unsafe:
                    log.warning(
                        "zalo %s failed after %d attempts (chat %s): %s %s",
                        method,
                        attempt + 1,
                        chat_id or "-",
                        retry.error_code,
                        retry.description,
                    )
                    if retry.error_code == 0:
                        raise ZaloNetworkError(
                            0, retry.description, method, maybe_delivered=retry.maybe_delivered
                        ) from None
                    raise ZaloAPIError(retry.error_code, retry.description, method) from None
                delay = self._backoff(attempt)
                if retry.retry_after is not None:
                    delay = max(delay, min(retry.retry_after, self.backoff_max * 4))
                log.info(
                    "zalo %s transient failure (chat %s): %s %s; retry %d in %.2fs",
                    method,
                    chat_id or "-",
                    retry.error_code,
                    retry.description,
                    attempt + 1,
                    delay,
                )
                attempt += 1
                await self._sleep(delay)
                continue
            if accept_408 and (status == 408 or body.get("error_code") == 408):
                return None
            if body.get("ok") is not True:
                code = body.get("error_code")
                error_code = code if isinstance(code, int) else status
                description = _description(body, status)
                log.warning(
                    "zalo %s refused (chat %s): %s %s",
                    method,
                    chat_id or "-",
                    error_code,
                    description,
                )
                raise ZaloAPIError(error_code, description, method)
            return body.get("result")

    # -- API methods -----------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        """Return the bot's account info; fails with ``ZaloAPIError`` on a bad token."""
        result = await self._call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_updates(self, timeout: int = 30) -> ZaloUpdate | None:
        """Long-poll for ONE update; return ``None`` when nothing came (HTTP 408)."""
        result = await self._call(
            "getUpdates",
            {"timeout": str(timeout)},
            timeout=timeout + self.timeout,
            accept_408=True,
        )
        if result is None:
            return None
        update = parse_update(result)
        if update is None:
            log.warning("zalo getUpdates returned an update we cannot read")
        return update

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        """Register the webhook URL; Zalo sends ``X-Bot-Api-Secret-Token`` with each call."""
        result = await self._call("setWebhook", {"url": url, "secret_token": secret_token})
        return result if isinstance(result, dict) else {}

    async def delete_webhook(self) -> dict[str, Any]:
        """Remove the webhook so ``getUpdates`` works again."""
        result = await self._call("deleteWebhook")
        return result if isinstance(result, dict) else {}

    async def get_webhook_info(self) -> dict[str, Any]:
        """Return ``{"url": ..., "updated_at": ...}`` for the current webhook."""
        result = await self._call("getWebhookInfo")
        return result if isinstance(result, dict) else {}

    async def send_message(self, chat_id: str, text: str) -> list[dict[str, Any]]:
        """Send ``text``, split into pieces of at most 2000 characters, in order."""
        pieces = split_text(text, TEXT_LIMIT)
        if not pieces:
            raise ValueError("cannot send an empty message")
        results: list[dict[str, Any]] = []
        for piece in pieces:
            result = await self._call(
                "sendMessage", {"chat_id": chat_id, "text": piece}, chat_id=chat_id
            )
            results.append(result if isinstance(result, dict) else {})
        return results

    async def send_photo(
        self, chat_id: str, photo_url: str, caption: str | None = None
    ) -> dict[str, Any]:
        """Send an image by URL, with an optional caption (cut to 2000 characters)."""
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = split_text(caption, TEXT_LIMIT)[0]
        result = await self._call("sendPhoto", params, chat_id=chat_id)
        return result if isinstance(result, dict) else {}

    async def send_sticker(self, chat_id: str, sticker: str) -> dict[str, Any]:
        """Send a sticker by its Zalo sticker id."""
        result = await self._call(
            "sendSticker", {"chat_id": chat_id, "sticker": sticker}, chat_id=chat_id
        )
        return result if isinstance(result, dict) else {}

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show "typing…" (or another action) in the chat."""
        await self._call("sendChatAction", {"chat_id": chat_id, "action": action}, chat_id=chat_id)


def _description(body: Any, status: int) -> str:
    if isinstance(body, dict) and isinstance(body.get("description"), str):
        return str(body["description"])
    return f"HTTP {status}"


def _retry_after(body: Any, header: str | None) -> float | None:
    """Read ``retry_after`` from the body's ``parameters`` or the Retry-After header."""
    if isinstance(body, dict):
        params = body.get("parameters")
        value = params.get("retry_after") if isinstance(params, dict) else None
        if value is None:
            value = body.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    if header:
        try:
            return max(float(header), 0.0)
        except ValueError:
            return None
    return None
