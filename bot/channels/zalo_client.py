"""A small async client for the Zalo Bot API (https://bot.zaloplatforms.com/docs).

Methods are POSTed as JSON to ``<base_url>/bot<token>/<method>``. The answer is
``{"ok": bool, "result": ..., "error_code": int, "description": str}`` and HTTP 200 can
still carry ``ok: false``. The eleven documented methods are getMe, getUpdates (ONE update
per call, 408 when nothing arrived; not while a webhook is set), setWebhook (secret of
8–256 characters; Zalo calls the URL once and answers with its ``verification``),
deleteWebhook, getWebhookInfo (404 when no webhook is set), testWebhook (a daily limit,
426 beyond it), sendMessage (≤ 2,000 characters, optional ``parse_mode``), sendPhoto
(caption ≤ 2,000), sendSticker, sendVoice (an ``.aac`` URL, private chats only) and
sendChatAction. There is no sendDocument, no buttons and no editing.

What each documented error code means for a message is decided once, in
:func:`classify_error`; the outbox and reply sending act on its :class:`Verdict`.
What the documentation says, and where it was read, is written down at the top of
``tests/fakes/zalo_api.py``.

The client never logs the token (it is part of every URL) nor what residents wrote.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Final, Literal, Self
from urllib.parse import urlsplit

import aiohttp

from bot.channels.base import write_trace
from bot.channels.textsplit import split_text
from bot.text import fold

__all__ = [
    "DEFAULT_BASE_URL",
    "SECRET_MAX",
    "SECRET_MIN",
    "TEXT_LIMIT",
    "InvalidWebhookSecret",
    "Verdict",
    "WebhookCheck",
    "WebhookInfo",
    "WebhookRegistration",
    "ZaloAPIError",
    "ZaloChat",
    "ZaloClient",
    "ZaloNetworkError",
    "ZaloUpdate",
    "ZaloUser",
    "check_webhook_secret",
    "classify_error",
    "parse_update",
    "plain_text",
    "split_message",
    "zalo_length",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT: Final = 2000  # sendMessage text and sendPhoto caption, in UTF-16 code units
SECRET_MIN: Final = 8
SECRET_MAX: Final = 256

EVENT_TEXT: Final = "message.text.received"
EVENT_IMAGE: Final = "message.image.received"
EVENT_STICKER: Final = "message.sticker.received"
EVENT_VOICE: Final = "message.voice.received"
EVENT_UNSUPPORTED: Final = "message.unsupported.received"

UpdateKind = Literal["text", "image", "sticker", "voice", "unsupported"]
ChatType = Literal["PRIVATE", "GROUP"]
ParseMode = Literal["markdown", "html"]


# -- lengths and splitting ---------------------------------------------------------------


def zalo_length(text: str) -> int:
    """Return the length of ``text`` the way Zalo counts it: UTF-16 code units.

    The docs give limits "từ 1 đến 2000 ký tự" and count ``text_styles`` offsets in
    UTF-16 code units (Zalo's servers are Java, whose strings are UTF-16), so an emoji
    outside the Basic Multilingual Plane counts 2 and every combining mark counts 1.
    Counting code units is never shorter than counting code points, so a text that fits
    here fits whichever of the two Zalo applies.
    """
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


_REGIONAL = range(0x1F1E6, 0x1F200)


def _continues_cluster(previous: str, ch: str) -> bool:
    """Whether ``ch`` belongs to the same user-perceived character as ``previous``."""
    code = ord(ch)
    if unicodedata.category(ch) in ("Mn", "Mc", "Me"):  # combining marks, keycap
        return True
    if code == 0x200D or ord(previous) == 0x200D:  # zero-width joiner sequences
        return True
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:  # variation selectors
        return True
    return 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F  # skin tones, tags


def _cluster_safe_cut(text: str, cut: int) -> int:
    """Move ``cut`` back so it does not fall inside a user-perceived character."""
    while 0 < cut < len(text) and _continues_cluster(text[cut - 1], text[cut]):
        cut -= 1
    # Flags are pairs of regional indicators: never keep an odd one at the end.
    run = 0
    while run < cut and ord(text[cut - 1 - run]) in _REGIONAL:
        run += 1
    if run % 2 and cut < len(text) and ord(text[cut]) in _REGIONAL:
        cut -= 1
    return cut


def split_message(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split ``text`` into messages Zalo accepts, in order.

    The text is put in Unicode NFC first (a decomposed "ệ" is three code units, the
    composed one is one, and they look the same). Cuts prefer paragraph, line, sentence
    and word boundaries; a hard cut inside a very long word never separates a letter from
    its accents nor splits an emoji or a flag.
    """
    text = unicodedata.normalize("NFC", text).strip()
    pieces: list[str] = []
    while text:
        if zalo_length(text) <= limit:
            pieces.append(text)
            break
        first = split_text(text, limit, utf16=True)[0]
        cut = _cluster_safe_cut(text, len(first))
        if cut == 0:  # one character longer than the limit: nothing better to do
            cut = len(first)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [piece for piece in pieces if piece]


# Markdown markers the plain-text fallback removes. Zalo's docs name parse_mode markdown
# and html but publish no grammar (issue #14 names bold, lists and {big}; no stored copy
# of the docs shows {big}: see the deviations in tests/fakes/zalo_api.py), so only
# unambiguous markers are stripped. tocns itself sends only **bold** list headings.
_MARKUP = [
    (re.compile(r"\*\*(.+?)\*\*", re.S), r"\1"),
    (re.compile(r"__(.+?)__", re.S), r"\1"),
    (re.compile(r"~~(.+?)~~", re.S), r"\1"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", re.S), r"\1"),
    (re.compile(r"\{/?(?:big|small|red|orange|yellow|green|b|i|u|s)\}", re.I), ""),
    (re.compile(r"^#{1,6}\s+", re.M), ""),
]


def plain_text(markdown: str) -> str:
    """Return ``markdown`` without its markers, for Zalo clients that refuse the markup."""
    for pattern, replacement in _MARKUP:
        markdown = pattern.sub(replacement, markdown)
    return markdown


def _balanced(markdown: str) -> bool:
    """Whether a piece of a split markdown text still has every marker paired."""
    return all(markdown.count(marker) % 2 == 0 for marker in ("**", "__", "~~"))


# -- errors and what they mean --------------------------------------------------------------


class Verdict(StrEnum):
    """What a failed call means for the message (or the call) that failed."""

    RETRY = "retry"  # Zalo did not take it, for a passing reason: send it again later
    RATE_LIMITED = "rate_limited"  # 429: slow down, then send it again
    QUOTA = "quota"  # 426: a daily limit is used up (testWebhook): try again tomorrow
    CONFIG = "config"  # our side is wrong (token, base URL): keep it until an admin fixes it
    REJECTED = "rejected"  # this request can never succeed as it is (400): do not resend
    UNREACHABLE = "unreachable"  # the chat cannot receive from this bot (404 on a send)
    NO_UPDATE = "no_update"  # 408 on getUpdates: nothing arrived, poll again


# Codes the Bot Platform documents. -201 and -230 are Official Account API codes: they
# mean nothing here and, like every undocumented code, are retried (and logged).
DOCUMENTED_CODES: Final = frozenset({400, 401, 403, 404, 408, 426, 429})
SENDING_METHODS: Final = frozenset(
    {"sendMessage", "sendPhoto", "sendSticker", "sendVoice", "sendChatAction"}
)


def classify_error(
    code: int, method: str = "sendMessage", *, zalo_answered: bool = True
) -> Verdict:
    """Decide what a failure means; a pure function of the code and the method.

    ``zalo_answered`` is false when the answer was not Zalo's JSON (a proxy's HTML page),
    so its status says something about the path to Zalo, not about the chat.

    ======  ==========================================  =====================================
    code    documented meaning                          verdict
    ======  ==========================================  =====================================
    400     bad request (too long, bad URL, bad params) REJECTED: final, never "blocked"
    401     invalid bot token                           CONFIG: keep messages, alert admin
    403     labelled an *internal error* by the docs    RETRY: it says nothing about the chat
    404     not found (no webhook; unknown chat)        getWebhookInfo: no webhook; a send
                                                        with Zalo's JSON: UNREACHABLE;
                                                        otherwise CONFIG (wrong URL)
    408     request timeout (getUpdates: no update)     getUpdates: NO_UPDATE; else RETRY
    426     daily limit of testWebhook used up          QUOTA
    429     too many requests                           RATE_LIMITED
    5xx     Zalo or its edge failed                     RETRY
    other   undocumented (incl. OA codes -201, -230)    RETRY, logged with its description
    ======  ==========================================  =====================================
    """
    if code == 400:
        return Verdict.REJECTED
    if code == 401:
        return Verdict.CONFIG
    if code == 404:
        if method in SENDING_METHODS and zalo_answered:
            return Verdict.UNREACHABLE
        return Verdict.CONFIG
    if code == 408:
        return Verdict.NO_UPDATE if method == "getUpdates" else Verdict.RETRY
    if code == 426:
        return Verdict.QUOTA
    if code == 429:
        return Verdict.RATE_LIMITED
    return Verdict.RETRY  # 403 (internal error), 5xx and every undocumented code


class ZaloAPIError(Exception):
    """The Zalo Bot API refused a call (``ok: false``) or could not be reached."""

    def __init__(
        self,
        error_code: int,
        description: str,
        method: str = "",
        *,
        zalo_answered: bool = True,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"Zalo {method or 'API'} failed: {error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.method = method
        self.zalo_answered = zalo_answered
        self.retry_after = retry_after

    @property
    def verdict(self) -> Verdict:
        """What this failure means for the message; see :func:`classify_error`."""
        return classify_error(self.error_code, self.method, zalo_answered=self.zalo_answered)


class ZaloNetworkError(ZaloAPIError):
    """Transport failure after all retries: timeout, connection error or malformed answer."""

    def __init__(
        self, error_code: int, description: str, method: str = "", *, maybe_delivered: bool
    ) -> None:
        super().__init__(error_code, description, method, zalo_answered=False)
        self.maybe_delivered = maybe_delivered  # Zalo may have taken the request

    @property
    def verdict(self) -> Verdict:
        """A network failure is always worth another try (the outbox decides how)."""
        return Verdict.RETRY


class InvalidWebhookSecret(ValueError):
    """A webhook secret Zalo would refuse: 8 to 256 printable ASCII characters."""


def check_webhook_secret(secret: str) -> None:
    """Refuse, before calling Zalo, a secret setWebhook does not accept.

    The docs allow 8 to 256 characters; the secret travels in an HTTP header
    (``X-Bot-Api-Secret-Token``), so it must also be printable ASCII without spaces.
    """
    if not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise InvalidWebhookSecret(
            f"the Zalo webhook secret must be {SECRET_MIN} to {SECRET_MAX} characters long,"
            f" not {len(secret)}"
        )
    if not all(0x21 <= ord(ch) <= 0x7E for ch in secret):
        raise InvalidWebhookSecret(
            "the Zalo webhook secret may only use printable ASCII characters without spaces"
        )


# -- updates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZaloUser:
    """Who sent a message (``message.from``)."""

    id: str
    display_name: str = ""
    is_bot: bool = False


@dataclass(frozen=True)
class ZaloChat:
    """Where a message was written (``message.chat``); replies go to ``id``."""

    id: str
    chat_type: ChatType = "PRIVATE"


@dataclass(frozen=True)
class ZaloUpdate:
    """One incoming Zalo event, flattened to what the bot needs.

    In a private chat ``chat.id == sender.id``; in a group the chat is the group and the
    sender is one of its members, so identity goes by ``sender`` and replies by ``chat``.
    """

    event_name: str
    kind: UpdateKind
    sender: ZaloUser
    chat: ZaloChat
    message_id: str
    date: datetime | None
    text: str | None = None  # the text, or an image's caption; a group's @mention stripped
    photo_url: str | None = None
    sticker: str | None = None
    sticker_url: str | None = None
    voice_url: str | None = None
    mentioned: bool = False  # a leading @BotName was found (and stripped)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def chat_id(self) -> str:
        """Return the chat to answer in."""
        return self.chat.id

    @property
    def user_id(self) -> str:
        """Return the person who wrote."""
        return self.sender.id

    @property
    def display_name(self) -> str:
        """Return the sender's Zalo display name (may be empty)."""
        return self.sender.display_name

    @property
    def is_group(self) -> bool:
        """Whether the message was written in a group chat."""
        return self.chat.chat_type == "GROUP"

    @property
    def dedupe_key(self) -> str:
        """Return the key that identifies a redelivery of this event, and only of it.

        With a ``message_id`` it is ``event:message_id``. Without one, a digest of the
        whole message (sender, chat, date and content) stands in, so two people's messages
        can never share a key; a redelivery of the same payload gets the same one.
        """
        if self.message_id:
            return f"{self.event_name}:{self.message_id}"
        message = self.raw.get("message")
        canonical = json.dumps(
            [self.event_name, message if isinstance(message, dict) else self.raw],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]
        return f"{self.event_name}:#{digest}"


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


def _url(message: dict[str, Any], *keys: str) -> str | None:
    """The first non-empty URL among ``keys`` (a string, or an object with a ``url``)."""
    for key in keys:
        value = message.get(key)
        if isinstance(value, dict):
            value = value.get("url")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _valid_id(value: Any) -> bool:
    # Ids are short text or numbers: anything else (a dict, true, a 5,000-digit number,
    # control characters) is not a message from Zalo, and would not fit the tables
    # (chat ids: 64 characters; "event_name:message_id" is the 120-character update key).
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    if isinstance(value, int) and value.bit_length() > 200:
        return False
    return len(str(value)) <= 59 and str(value).isprintable()


def strip_mention(text: str, bot_names: Iterable[str]) -> tuple[str, bool]:
    """Remove a leading ``@BotName`` (any case, with or without accents) from ``text``.

    Returns the remaining text and whether a mention was removed. The longest matching
    name wins, and it must end at a space, a punctuation mark or the end of the text.
    """
    stripped = text.lstrip()
    if not stripped.startswith("@"):
        return text, False
    for name in sorted(
        {n.strip().lstrip("@") for n in bot_names if n.strip()}, key=len, reverse=True
    ):
        candidate = stripped[1 : 1 + len(name)]
        rest = stripped[1 + len(name) :]
        if fold(candidate) == fold(name) and (not rest or not rest[0].isalnum()):
            return rest.lstrip(" \t,:;.-–—").lstrip(), True
    return text, False


def parse_update(payload: Any, bot_names: Iterable[str] = ()) -> ZaloUpdate | None:
    """Parse a getUpdates result or a webhook body, with or without the ``{ok, result}``.

    Returns ``None`` for anything that is not a message from a chat (including
    ``ok: false`` answers). Images carry their URL in ``photo`` (the docs) or
    ``photo_url`` (real payloads and python-zalo-bot); both are read. A group text that
    starts with ``@`` and one of ``bot_names`` comes back without the mention.
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
    ids = (chat.get("id"), sender.get("id"), message.get("message_id"), payload.get("event_name"))
    if not all(_valid_id(value) for value in ids):
        return None
    chat_id = _as_str(chat.get("id") or sender.get("id"))
    if not chat_id.strip():
        return None
    chat_type: ChatType = (
        "GROUP" if _as_str(chat.get("chat_type")).upper() == "GROUP" else "PRIVATE"
    )
    text = message.get("text")
    text = text if isinstance(text, str) else None
    event_name = _as_str(payload.get("event_name"))
    if not event_name:
        event_name = EVENT_TEXT if text is not None else EVENT_UNSUPPORTED
    kind: UpdateKind = "unsupported"
    photo_url = sticker = sticker_url = voice_url = None
    if event_name == EVENT_TEXT and text is not None:
        kind = "text"
    elif event_name == EVENT_IMAGE:
        photo_url = _url(message, "photo", "photo_url", "url")
        caption = message.get("caption")
        text = caption if isinstance(caption, str) and caption else text
        kind = "image" if photo_url else "unsupported"
    elif event_name == EVENT_STICKER:
        value = message.get("sticker")
        sticker = value if isinstance(value, str) and value else None
        sticker_url = _url(message, "url", "sticker_url")
        kind = "sticker"
        text = None
    elif event_name == EVENT_VOICE:
        voice_url = _url(message, "voice_url", "voice", "url")
        kind = "voice"
        text = None
    else:  # message.unsupported.received, or an event we do not know yet: no content
        text = None
    mentioned = False
    if text is not None and chat_type == "GROUP":
        text, mentioned = strip_mention(text, bot_names)
    display_name = next(
        (
            name
            for name in (sender.get(k) for k in ("display_name", "name", "first_name"))
            if isinstance(name, str) and name
        ),
        "",
    )
    return ZaloUpdate(
        event_name=event_name,
        kind=kind,
        sender=ZaloUser(
            id=_as_str(sender.get("id") or chat_id),
            display_name=display_name,
            is_bot=sender.get("is_bot") is True,
        ),
        chat=ZaloChat(id=chat_id, chat_type=chat_type),
        message_id=_as_str(message.get("message_id")),
        date=_parse_date(message.get("date")),
        text=text,
        photo_url=photo_url,
        sticker=sticker,
        sticker_url=sticker_url,
        voice_url=voice_url,
        mentioned=mentioned,
        raw=payload,
    )


# -- webhook results ----------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookInfo:
    """The webhook Zalo has on record (getWebhookInfo)."""

    url: str
    updated_at: datetime | None = None


@dataclass(frozen=True)
class WebhookCheck:
    """What happened when Zalo called the webhook (setWebhook's verification, testWebhook).

    ``ok`` is ``None`` when Zalo's answer did not say. The docs do not publish the shape of
    this object; :func:`parse_check` reads the usual spellings and keeps the rest in ``raw``.
    """

    ok: bool | None
    status_code: int | None = None
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class WebhookRegistration:
    """setWebhook's answer: the URL Zalo saved and, when it said, how its test call went."""

    url: str
    updated_at: datetime | None
    verification: WebhookCheck | None


def _first(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return None


def parse_check(value: Any) -> WebhookCheck | None:
    """Read a verification outcome: a boolean, a status string or an object."""
    if value is None:
        return None
    if isinstance(value, bool):
        return WebhookCheck(ok=value)
    if isinstance(value, str):
        lowered = value.lower()
        passed = lowered in ("ok", "success", "succeeded", "passed", "verified", "true")
        failed = lowered in ("fail", "failed", "error", "false")
        verdict = True if passed else (False if failed else None)
        return WebhookCheck(ok=verdict, description=value)
    if not isinstance(value, dict):
        return None
    nested = value.get("verification")
    if isinstance(nested, dict | bool | str):
        return parse_check(nested)
    status = _first(value, "status_code", "http_status", "response_code", "code")
    status_code = status if isinstance(status, int) and not isinstance(status, bool) else None
    flag = _first(value, "success", "ok", "verified", "passed")
    ok: bool | None = flag if isinstance(flag, bool) else None
    if ok is None and isinstance(value.get("status"), str):
        ok = parse_check(value["status"]).ok  # type: ignore[union-attr]
    if ok is None and status_code is not None:
        ok = 200 <= status_code < 300
    detail = _first(value, "description", "message", "error", "reason", "detail")
    return WebhookCheck(
        ok=ok,
        status_code=status_code,
        description=detail if isinstance(detail, str) else "",
        raw=value,
    )


# -- the client ---------------------------------------------------------------------------


class _Retry(Exception):
    """A transient failure worth retrying."""

    def __init__(
        self,
        error_code: int,
        description: str,
        retry_after: float | None,
        *,
        maybe_delivered: bool = False,
        zalo_answered: bool = True,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        # The request may have reached Zalo (timeout, dropped connection, unreadable 200).
        self.maybe_delivered = maybe_delivered
        self.zalo_answered = zalo_answered


class ZaloClient:
    """Async client for the Zalo Bot API with retries on 429 and transient errors.

    ``bot_names`` are the names people type after ``@`` to address the bot in a group
    (its Zalo display name); a leading mention is stripped from group texts.
    """

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
        bot_names: Iterable[str] = (),
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
        self.bot_names = tuple(bot_names)

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
            self._session = aiohttp.ClientSession(trace_configs=[write_trace()])
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
            raise _Retry(0, "timeout", None, maybe_delivered=True, zalo_answered=False) from None
        except aiohttp.ClientError as exc:
            # str(exc) may contain the URL, hence the token: keep only the type.
            never_connected = isinstance(exc, aiohttp.ClientConnectorError)
            raise _Retry(
                0,
                f"connection error ({type(exc).__name__})",
                None,
                maybe_delivered=not never_connected,
                zalo_answered=False,
            ) from None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if status == 200:
                raise _Retry(
                    0, "malformed response", None, maybe_delivered=True, zalo_answered=False
                )
            if status == 429 or status >= 500:
                raise _Retry(
                    status,
                    f"HTTP {status}",
                    _retry_after(None, retry_after_header),
                    zalo_answered=False,
                )
            # A 4xx without a JSON body (a proxy page, say): not Zalo speaking.
            return status, {
                "ok": False,
                "error_code": status,
                "description": f"HTTP {status}",
                "_not_zalo": True,
            }
        if body.get("ok") is not True:
            code = body.get("error_code")
            error_code = code if isinstance(code, int) and not isinstance(code, bool) else status
            verdict = classify_error(error_code, method)
            if verdict in (Verdict.RETRY, Verdict.RATE_LIMITED) and error_code not in (0, 200):
                if error_code not in DOCUMENTED_CODES and not 500 <= error_code < 600:
                    log.warning(
                        "zalo %s answered an undocumented error code %s: %s",
                        method,
                        error_code,
                        _description(body, status),
                    )
                raise _Retry(
                    error_code, _description(body, status), _retry_after(body, retry_after_header)
                )
        return status, body

    async def _call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        chat_id: str | None = None,
        timeout: float | None = None,
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
                    raise ZaloAPIError(
                        retry.error_code,
                        retry.description,
                        method,
                        zalo_answered=retry.zalo_answered,
                        retry_after=retry.retry_after,
                    ) from None
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
            if body.get("ok") is not True:
                code = body.get("error_code")
                error_code = (
                    code if isinstance(code, int) and not isinstance(code, bool) else status
                )
                description = _description(body, status)
                error = ZaloAPIError(
                    error_code, description, method, zalo_answered=not body.get("_not_zalo")
                )
                if error.verdict not in (Verdict.NO_UPDATE,):
                    log.warning(
                        "zalo %s refused (chat %s): %s %s",
                        method,
                        chat_id or "-",
                        error_code,
                        description,
                    )
                raise error
            return body.get("result")

    # -- API methods -----------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        """Return the bot's account info; fails with ``ZaloAPIError`` (401) on a bad token."""
        result = await self._call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_updates(self, timeout: int = 30) -> ZaloUpdate | None:
        """Long-poll for ONE update; return ``None`` when nothing came (408)."""
        try:
            result = await self._call(
                "getUpdates", {"timeout": str(timeout)}, timeout=timeout + self.timeout
            )
        except ZaloAPIError as error:
            if error.verdict is Verdict.NO_UPDATE:
                return None
            raise
        if result is None:
            return None
        update = parse_update(result, self.bot_names)
        if update is None:
            log.warning("zalo getUpdates returned an update we cannot read")
        return update

    async def set_webhook(self, url: str, secret_token: str) -> WebhookRegistration:
        """Register the webhook URL; Zalo calls it once and says how that went.

        The secret is checked first (:func:`check_webhook_secret`) and the URL must be
        HTTPS, as Zalo requires: both are refused here without calling Zalo. Zalo sends
        ``X-Bot-Api-Secret-Token`` with every call to the URL, the test call included, so
        the web server must already listen with this secret when this is called.
        """
        check_webhook_secret(secret_token)
        if urlsplit(url).scheme != "https":
            raise ValueError("Zalo only calls HTTPS webhook URLs")
        result = await self._call("setWebhook", {"url": url, "secret_token": secret_token})
        data = result if isinstance(result, dict) else {}
        registration = WebhookRegistration(
            url=_as_str(data.get("url")) or url,
            updated_at=_parse_date(data.get("updated_at")),
            verification=parse_check(data.get("verification")),
        )
        check = registration.verification
        if check is not None and check.ok is False:
            log.warning(
                "zalo could not call the webhook it saved: status %s %s",
                check.status_code,
                check.description,
            )
        return registration

    async def delete_webhook(self) -> None:
        """Remove the webhook so ``getUpdates`` works again."""
        await self._call("deleteWebhook")

    async def get_webhook_info(self) -> WebhookInfo | None:
        """Return the webhook Zalo has on record, or ``None`` when none is set (404)."""
        try:
            result = await self._call("getWebhookInfo")
        except ZaloAPIError as error:
            if error.error_code == 404 and error.zalo_answered:
                return None
            raise
        data = result if isinstance(result, dict) else {}
        url = _as_str(data.get("url"))
        if not url:
            return None
        return WebhookInfo(url=url, updated_at=_parse_date(data.get("updated_at")))

    async def test_webhook(self) -> WebhookCheck:
        """Ask Zalo to call the registered webhook now and say how it went.

        Zalo allows this a limited number of times a day: beyond that it answers 426,
        raised as ``ZaloAPIError`` whose verdict is ``Verdict.QUOTA``.
        """
        result = await self._call("testWebhook")
        return parse_check(result) or WebhookCheck(ok=None, raw=_as_dict(result))

    async def send_message(
        self, chat_id: str, text: str, parse_mode: ParseMode | None = None
    ) -> list[dict[str, Any]]:
        """Send ``text`` in as many messages of ≤ 2,000 UTF-16 units as it needs, in order.

        With ``parse_mode`` ("markdown" or "html") Zalo renders bold, lists and sizes; a
        piece Zalo refuses with 400 is sent again as plain text, and so are the rest, so
        a person always gets the words.
        """
        pieces = split_message(text)
        if not pieces:
            raise ValueError("cannot send an empty message")
        results: list[dict[str, Any]] = []
        mode = parse_mode
        for piece in pieces:
            if parse_mode is not None and (mode is None or not _balanced(piece)):
                # Markup refused earlier, or cut in half by the split: the words alone.
                results.append(await self._send_text(chat_id, plain_text(piece), None))
                continue
            try:
                results.append(await self._send_text(chat_id, piece, mode))
            except ZaloAPIError as error:
                if mode is None or error.verdict is not Verdict.REJECTED:
                    raise
                log.warning("zalo refused %s markup (chat %s): sending plain text", mode, chat_id)
                mode = None
                results.append(await self._send_text(chat_id, plain_text(piece), None))
        return results

    async def _send_text(
        self, chat_id: str, text: str, parse_mode: ParseMode | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if parse_mode is not None:
            params["parse_mode"] = parse_mode
        result = await self._call("sendMessage", params, chat_id=chat_id)
        return result if isinstance(result, dict) else {}

    async def send_photo(
        self, chat_id: str, photo_url: str, caption: str | None = None
    ) -> list[dict[str, Any]]:
        """Send an image by URL; a caption of ≤ 2,000 UTF-16 units goes with it.

        A longer caption is sent first as text (split as needed), then the photo alone,
        so nothing is cut off. Returns the results of every call, in order.
        """
        caption = unicodedata.normalize("NFC", caption).strip() if caption else ""
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        results: list[dict[str, Any]] = []
        if caption and zalo_length(caption) <= TEXT_LIMIT:
            params["caption"] = caption
        elif caption:
            results.extend(await self.send_message(chat_id, caption))
        result = await self._call("sendPhoto", params, chat_id=chat_id)
        results.append(result if isinstance(result, dict) else {})
        return results

    async def send_voice(
        self, chat_id: str, voice_url: str, *, chat_type: ChatType | None = None
    ) -> dict[str, Any]:
        """Send a voice note by the URL of an ``.aac`` file, to a private chat only.

        Zalo does not deliver voice notes to groups (the call may still answer ok), so a
        group chat is refused here, as is a URL that is not http(s) or not ``.aac``.
        """
        if chat_type == "GROUP":
            raise ValueError("Zalo delivers voice notes to private chats only")
        parts = urlsplit(voice_url)
        if parts.scheme not in ("http", "https") or not parts.path.lower().endswith(".aac"):
            raise ValueError("a Zalo voice note must be an http(s) URL of an .aac file")
        result = await self._call(
            "sendVoice", {"chat_id": chat_id, "voice_url": voice_url}, chat_id=chat_id
        )
        return result if isinstance(result, dict) else {}

    async def send_sticker(self, chat_id: str, sticker: str) -> dict[str, Any]:
        """Send a sticker by its Zalo sticker id (from stickers.zaloapp.com)."""
        result = await self._call(
            "sendSticker", {"chat_id": chat_id, "sticker": sticker}, chat_id=chat_id
        )
        return result if isinstance(result, dict) else {}

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show "typing…" in the chat (``upload_photo`` is announced as coming soon)."""
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
