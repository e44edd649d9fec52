"""A fake Zalo Bot API server on 127.0.0.1 that speaks the documented protocol.

What the documentation says, and where it was read
===================================================
Sources (read 2026-11; the official site itself cannot be reached from here):

[D] The Zalo Bot Platform docs (bot.zaloplatforms.com/docs, API reference
    docs.zaloplatforms.com/docs/BOT/apis/<method>), as copied in public repositories:
    lamdt1/ckvn-bot ``docs/zalo-bot-doc.md`` (full copy, 8 methods, before sendVoice and
    testWebhook) and XuanNguyenNB/QuanLyThuChi_Bot_Telegram_Zalom ``docs/ZALO_BOT_API.md``
    (copy dated 10/12/2025).
[R] "Zalo Bot REST API – Local Reference for Coding Agents", a public summary "verified
    against official Zalo Bot documentation on 2026-10-02" citing the /docs/BOT/apis/*
    pages (found by the code search; its repository is not named by the index).
[S] A TypeScript Zalo Bot SDK that documents all 11 methods with links to
    /docs/BOT/apis/* (found by the code search, repository not named).
[P] Real webhook payloads captured on 10/09/2026 (the "TaxBridge PoC – API Contract"
    README, §6, found by the code search).
[Y] python-zalo-bot 0.1.9 from PyPI (the SDK the docs link to), read from its wheel.
[O] openclaw/openclaw ``extensions/zalo/src/api.ts`` (a maintained Bot API client).
[A] aio-libs/aiohttp#12301 (3.13.4 rejects duplicate ``Server`` headers), #12240, #12302
    (3.13.5: the duplicate-singleton check is skipped when parsing responses).
[T] /work/shared/PRODUCT.md and issue #14 (the lead's reading of the current docs) for
    facts no stored copy holds: each such fact is marked [T] alone.

Common contract [D]: ``https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>`` (older host
bot-api.zapps.me [Y]); GET or POST; parameters as query string, form-urlencoded, JSON or
multipart; UTF-8; method names case-sensitive; answers ``{ok, result, description,
error_code}``. HTTP 200 can still carry ``ok: false`` [T]. Documented error codes: 400,
401, 403 (labelled an internal error), 404, 408, 426, 429 [T]; -201/-230 belong to the
Official Account API [T].

The 11 methods:
1. getMe – no parameters; result ``{id, account_name, account_type, can_join_groups}`` [D].
2. getUpdates – ``timeout`` (String, seconds, default 30) [D][O]; returns ONE update, the
   same object as a webhook's ``result`` [D][O]; 408 when nothing arrived [O][T]; does not
   work while a webhook is set (use deleteWebhook first) [D]. No offset is documented [R].
3. setWebhook – ``url`` (HTTPS, required), ``secret_token`` (8–256 characters, required,
   sent back in the ``X-Bot-Api-Secret-Token`` header of every call) [D]; result
   ``{url, updated_at}`` [D]; Zalo sends a test request to the URL when it is saved and
   answers with the ``verification`` result [S][T].
4. testWebhook – makes Zalo call the current webhook now, to diagnose WAF/CDN, TLS or
   unreachable endpoints; limited number of calls a day per bot, 426 beyond [S][T]. On
   2026-10-02 it was missing from the navigation of the API reference [R].
5. deleteWebhook – no parameters; result ``{url: "", updated_at}`` [D].
6. getWebhookInfo – no parameters; result ``{url, updated_at}`` [D]; 404 when no webhook
   is set [T].
7. sendMessage – ``chat_id``, ``text`` (1 to 2000 "ký tự") [D]; optional ``parse_mode``
   ``markdown`` or ``html`` and ``text_styles`` runs whose ``start``/``len`` are UTF-16
   code units; ``parse_mode`` wins over ``text_styles`` [R]; markdown renders bold,
   lists and sizes such as ``{big}`` [T]; result ``{message_id, date}`` [D].
8. sendPhoto – ``chat_id``, ``photo`` (image URL), optional ``caption`` (1 to 2000) [D].
9. sendSticker – ``chat_id``, ``sticker`` (an id from stickers.zaloapp.com) [D].
10. sendChatAction – ``chat_id``, ``action``: ``typing``; ``upload_photo`` "coming soon";
    answer ``{ok: true}`` without result [D].
11. sendVoice – ``chat_id``, ``voice_url`` (a URL ending in ``.aac``); private chats only;
    a call to a group may answer ok while nothing is delivered [R][S].
No sendDocument, no buttons, no edits [T].

Events (``event_name``) [D][R]: ``message.text.received`` (``text``),
``message.image.received`` (``photo`` and ``caption`` in the docs [D]; ``photo_url``,
``caption``, ``message_type: CHAT_PHOTO`` in real payloads [P] and in python-zalo-bot,
which reads ``photo_url`` [Y][O]), ``message.sticker.received`` (``sticker``, ``url``)
[D], ``message.voice.received`` (``voice_url``, an .aac on Zalo's CDN, ``message_type:
CHAT_VOICE``) [R][P], ``message.unsupported.received`` – sent instead of the content for
accounts of protected people (children, people with disabilities, people who cannot
read…) [D]. Every message has ``from {id, display_name, is_bot}``, ``chat {id,
chat_type: PRIVATE | GROUP}`` (GROUP in beta), ``message_id`` and ``date`` (epoch ms)
[D][P]; replies go to ``chat.id`` [D]. In groups the bot only receives messages that
@mention it or reply to it [T]. Webhook bodies are ``{ok: true, result: {...}}`` in the
docs [D] but bare ``{event_name, message}`` in real deliveries [P]; a call with an empty
body and no content type has been seen [P]. Zalo's requests carry a ``Java/…``
User-Agent [T]. Zalo's edge has been seen sending two ``Server`` headers [T][A].

How this fake deviates, and why
-------------------------------
- testWebhook's daily limit is ``test_webhook_daily_limit`` (5 by default) and the day
  is reset by ``new_day()``: Zalo does not publish the number.
- The shape of ``verification`` (setWebhook) and of testWebhook's result is not
  published: the fake answers ``{"success", "status_code", "description"}``, nested under
  ``verification``; the client reads several spellings.
- The fake never connects anywhere but this machine: an HTTPS webhook URL is called at
  ``route_webhooks(origin)`` (as if DNS and TLS ended there, over plain HTTP); without a
  route the verification reports the URL unreachable. TLS failures are simulated with
  ``fail_verification("tls")``.
- The verification call has an empty body and no Content-Type (the one real observation
  [P]); ``verification_body`` sends a JSON object instead. The exact Java version in the
  User-Agent is unknown: ``Java/17.0.12`` is used.
- Refusals answer HTTP 200 with ``ok: false`` (``http_status_errors=True`` answers with
  the code as HTTP status instead); getUpdates' 408 is HTTP 408 in both modes. Which Zalo
  uses per code is not documented, so the client is tested against both.
- getUpdates while a webhook is set answers 409: the docs say it "does not work" without
  a code.
- Text limits are counted in UTF-16 code units (the stricter reading of "ký tự", and
  the unit of ``text_styles``).
- ``reject_markup=True`` refuses every ``parse_mode`` with 400: how Zalo answers markup
  it cannot render is not documented.
- Markdown is not parsed, and ``{big}`` is neither checked nor rendered: its grammar is
  documented nowhere we could read. Searched on 2026-12-03 (stored copies only): the
  docs corpus ("zalo bot sendMessage parse_mode markdown big", "zaloplatforms
  sendMessage text_styles markdown html"), the pages corpus ("Zalo Bot Platform markdown
  {big} text formatting", "docs.zaloplatforms.com BOT apis sendMessage parse_mode
  markdown"), the issues corpus ("Zalo Bot API parse_mode markdown supported syntax"),
  the code corpus ("bot.zaloplatforms.com sendMessage parse_mode", "zalo bot sendMessage
  markdown syntax heading big text_styles f_20") and exact strings ``{big}``,
  ``parse_mode``, ``text_styles``, ``bot-api.zaloplatforms.com``. Found: [R] documents
  ``parse_mode`` (``markdown`` | ``html``) and ``text_styles`` codes, among them font
  sizes ``f_13``, ``f_15``, ``f_18``, ``f_20``, but no markdown grammar; [D] (the
  10/12/2025 copy) lists only ``chat_id`` and ``text`` for sendMessage; a Vietnamese
  integration plan citing docs.zaloplatforms.com/docs/BOT/apis/sendMessage (v2.5.0,
  2026-09-03) names ``parse_mode`` and ``text_styles`` and nothing more; ``small``/``big``
  appear only as ``styles`` of an unofficial personal-account API (not the Bot
  Platform). So tocns sends no ``{big}`` (markdown only for bold list headings, with the
  plain-text fallback) and the fake accepts any text under ``parse_mode``. A bigger key
  number would go through ``text_styles`` ``f_20`` (documented) once a real bot shows
  how it renders; ``parse_mode`` wins over ``text_styles``, so not in the same message.
- Unknown ``chat_id`` values are accepted: Zalo's answer for a person who never wrote to
  the bot is not documented (tests inject it with ``fail_with``).
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakes.telegram_api import Failure, FakeHTTPServer, SentCall, utf16_len

TEXT_LIMIT = 2000
JAVA_USER_AGENT = "Java/17.0.12"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
DEFAULT_BOT_NAME = "Bot Tổ CNS"


def now_ms() -> int:
    """Return the current time in epoch milliseconds, as Zalo dates are."""
    return int(time.time() * 1000)


def text_event(
    user_id: str,
    text: str,
    display_name: str = "Người dùng",
    message_id: str = "m0000000000000000001",
    date: int | None = None,
) -> dict[str, Any]:
    """Build a ``message.text.received`` event (without the ``{ok, result}`` wrapper)."""
    return {
        "event_name": "message.text.received",
        "message": {
            "from": {"id": user_id, "display_name": display_name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "text": text,
            "message_id": message_id,
            "date": now_ms() if date is None else date,
        },
    }


class ZaloError(Exception):
    """An error answer of the fake API."""

    def __init__(self, error_code: int, description: str, status: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.status = status


@dataclass(frozen=True)
class WebhookCall:
    """One call the fake made to a registered webhook, and how it went."""

    url: str
    headers: dict[str, str]
    body: bytes
    success: bool
    status_code: int | None
    description: str

    def outcome(self) -> dict[str, Any]:
        """Return the ``verification`` object the fake reports."""
        return {
            "success": self.success,
            "status_code": self.status_code,
            "description": self.description,
        }


class FakeZaloAPI(FakeHTTPServer):
    """A local Zalo Bot API: records what the bot sends and feeds it events."""

    def __init__(
        self,
        token: str | None = None,
        bot_id: str = "1459232241454765289",
        *,
        image_field: str = "photo",
        http_status_errors: bool = False,
        duplicate_server_headers: bool = False,
        test_webhook_daily_limit: int = 5,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_info: dict[str, Any] = {
            "id": bot_id,
            "account_name": "bot.tocns",
            "account_type": "BASIC",
            "can_join_groups": True,
        }
        self.bot_name = DEFAULT_BOT_NAME
        self.events: deque[dict[str, Any]] = deque()
        self.webhook: dict[str, Any] = {"url": "", "updated_at": now_ms()}
        self.display_names: dict[str, str] = {}
        self.groups: set[str] = set()
        self.rejected_text_too_long = 0
        self.undelivered_voice: list[SentCall] = []
        self.webhook_calls: list[WebhookCall] = []
        self.content_types: list[str] = []  # of every method call, to see how clients post
        # Modes (see the module docstring for why each exists).
        self.image_field = image_field  # "photo" as documented, "photo_url" as sent
        self.http_status_errors = http_status_errors
        self.duplicate_server_headers = duplicate_server_headers
        self.reject_markup = False
        self.test_webhook_daily_limit = test_webhook_daily_limit
        self.test_webhook_calls_today = 0
        self.webhook_origin: str | None = None
        self.verification_body: dict[str, Any] | None = None
        self.verification_timeout = 5.0
        self._verification_override: str | int | None = None
        self._http: aiohttp.ClientSession | None = None
        self._message_ids = itertools.count(1)
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda p: self.bot_info,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendVoice": self._send_voice,
            "sendChatAction": self._send_chat_action,
        }
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        self.app.on_response_prepare.append(self._server_headers)

    @property
    def base_url(self) -> str:
        """Return the value for ``TOCNS_ZALO_BASE_URL`` (methods at ``/bot<token>/<m>``)."""
        return self.origin

    async def stop(self) -> None:
        """Stop the server and close the client used for webhook calls."""
        await super().stop()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _server_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        if self.duplicate_server_headers:
            # As Zalo's edge does: aiohttp 3.13.4's strict parser refuses this.
            response.headers.popall("Server", None)
            response.headers.add("Server", "ZaloEdge")
            response.headers.add("Server", "nginx")

    # -- test helpers: incoming side -------------------------------------------------------

    def _next_message_id(self) -> str:
        return f"{next(self._message_ids):020x}"

    def push_event(self, event: dict[str, Any]) -> None:
        """Queue a raw event; it is returned as-is when it already has the ``ok`` wrapper."""
        self.events.append(event)
        self._changed.notify()

    def _message(
        self,
        user_id: str,
        display_name: str | None,
        chat_id: str | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        name = display_name or self.display_names.get(user_id, "Người dùng")
        self.display_names[user_id] = name
        group = chat_id is not None and chat_id != user_id
        return {
            "from": {"id": user_id, "display_name": name, "is_bot": False},
            "chat": {"id": chat_id or user_id, "chat_type": "GROUP" if group else "PRIVATE"},
            "message_id": self._next_message_id(),
            "date": now_ms(),
            **content,
        }

    def _push(self, event_name: str, message: dict[str, Any]) -> str:
        self.push_event({"event_name": event_name, "message": message})
        return str(message["message_id"])

    def push_text(self, user_id: str, text: str, display_name: str | None = None) -> str:
        """Queue a private ``message.text.received`` event and return its message id."""
        return self._push("message.text.received", self._message(user_id, display_name, text=text))

    def push_group_text(
        self,
        group_id: str,
        user_id: str,
        text: str,
        display_name: str | None = None,
        *,
        mention: bool = True,
    ) -> str:
        """Queue a group text; Zalo only delivers those that @mention the bot (or reply)."""
        self.groups.add(group_id)
        if mention:
            text = f"@{self.bot_name} {text}"
        message = self._message(user_id, display_name, chat_id=group_id, text=text)
        return self._push("message.text.received", message)

    def push_image(
        self,
        user_id: str,
        url: str,
        caption: str | None = None,
        display_name: str | None = None,
        *,
        field: str | None = None,
    ) -> str:
        """Queue a ``message.image.received`` event (URL in ``photo``, or ``photo_url``)."""
        content: dict[str, Any] = {field or self.image_field: url}
        if caption is not None:
            content["caption"] = caption
        if (field or self.image_field) == "photo_url":
            content["message_type"] = "CHAT_PHOTO"
        return self._push("message.image.received", self._message(user_id, display_name, **content))

    def push_sticker(
        self,
        user_id: str,
        sticker: str = "0e078a2fb66a5f34067b",
        url: str = "https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=46991",
    ) -> str:
        """Queue a ``message.sticker.received`` event and return its message id."""
        message = self._message(user_id, None, sticker=sticker, url=url)
        return self._push("message.sticker.received", message)

    def push_voice(
        self, user_id: str, url: str = "https://voice-aac-dl.zdn.vn/fake/note.aac"
    ) -> str:
        """Queue a ``message.voice.received`` event and return its message id."""
        message = self._message(user_id, None, voice_url=url, message_type="CHAT_VOICE")
        return self._push("message.voice.received", message)

    def push_unsupported(self, user_id: str, display_name: str | None = None) -> str:
        """Queue what Zalo sends for a protected person's message: no content at all."""
        return self._push("message.unsupported.received", self._message(user_id, display_name))

    # -- test helpers: webhook side --------------------------------------------------------

    def route_webhooks(self, origin: str) -> None:
        """Deliver calls for the registered HTTPS URL to ``origin`` (``http://127.0.0.1:N``)."""
        self.webhook_origin = origin.rstrip("/")

    def fail_verification(self, kind: str | int | None) -> None:
        """Make webhook calls fail: "tls", "timeout", "unreachable", or an HTTP status."""
        self._verification_override = kind

    def new_day(self) -> None:
        """Reset the daily testWebhook counter."""
        self.test_webhook_calls_today = 0

    async def call_webhook(self, body: bytes, content_type: str | None) -> WebhookCall:
        """Call the registered webhook the way Zalo does and record how it went."""
        url = str(self.webhook.get("url") or "")
        headers = {
            "User-Agent": JAVA_USER_AGENT,
            SECRET_HEADER: self.webhook.get("secret_token", ""),
        }
        if content_type:
            headers["Content-Type"] = content_type
        call = await self._call_webhook(url, headers, body)
        self.webhook_calls.append(call)
        self._changed.notify()
        return call

    async def _call_webhook(self, url: str, headers: dict[str, str], body: bytes) -> WebhookCall:
        def outcome(success: bool, status: int | None, description: str) -> WebhookCall:
            return WebhookCall(url, headers, body, success, status, description)

        override = self._verification_override
        if isinstance(override, int):
            return outcome(False, override, f"webhook answered HTTP {override}")
        if override == "tls":
            return outcome(False, None, "SSL handshake failed: certificate verify failed")
        if override == "timeout":
            return outcome(False, None, "Read timed out")
        if override == "unreachable" or self.webhook_origin is None:
            return outcome(False, None, "Connection refused: webhook unreachable")
        parts = urlsplit(url)
        target = (
            self.webhook_origin + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        )
        if self._http is None:
            self._http = aiohttp.ClientSession()
        try:
            async with self._http.post(
                target,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.verification_timeout),
            ) as response:
                await response.read()
                status = response.status
        except TimeoutError:
            return outcome(False, None, "Read timed out")
        except aiohttp.ClientError as error:
            return outcome(False, None, f"Connection refused: {type(error).__name__}")
        ok = 200 <= status < 300
        return outcome(ok, status, "OK" if ok else f"webhook answered HTTP {status}")

    async def deliver(self, event: dict[str, Any], *, wrapped: bool = True) -> WebhookCall:
        """POST an event to the webhook, wrapped ``{ok, result}`` (docs) or bare (real)."""
        body = {"ok": True, "result": event} if wrapped else event
        return await self.call_webhook(json.dumps(body).encode(), "application/json")

    async def _verify(self) -> WebhookCall:
        if self.verification_body is None:
            return await self.call_webhook(b"", None)
        return await self.call_webhook(
            json.dumps(self.verification_body).encode(), "application/json"
        )

    # -- HTTP layer ------------------------------------------------------------------------

    def _answer(self, body: dict[str, Any], status: int = 200) -> web.Response:
        return web.json_response(body, status=status)

    def _error(self, code: int, description: str, status: int | None = None) -> web.Response:
        if status is None:
            status = code if self.http_status_errors and 400 <= code < 600 else 200
        return self._answer({"ok": False, "error_code": code, "description": description}, status)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        """Read parameters from JSON, a form, multipart or the query string, as Zalo does."""
        params: dict[str, Any] = dict(request.query)
        content_type = request.content_type if request.body_exists else ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
            return params
        body = await request.read()
        if body.strip():
            decoded = json.loads(body)  # ValueError → 400
            if isinstance(decoded, dict):
                params.update(decoded)
        return params

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.counts[method] += 1
        self.content_types.append(request.content_type if request.body_exists else "")
        if self.token is not None and request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        try:
            params = await self._params(request)
        except ValueError:
            return self._error(400, "Invalid JSON")
        call = SentCall(method, params, at=time.monotonic())

        failure = await self._stalled(method)
        if failure is not None:
            self._record(call, ok=False)
            if failure.malformed:
                return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
            error: dict[str, Any] = {
                "ok": False,
                "error_code": failure.error_code or failure.status,
                "description": failure.description or _description(failure.status),
            }
            headers = {}
            if failure.retry_after is not None:
                error["parameters"] = {"retry_after": failure.retry_after}
                headers["Retry-After"] = str(failure.retry_after)
            status = failure.status
            if failure.error_code and self.http_status_errors and 400 <= failure.error_code < 600:
                status = failure.error_code
            return web.json_response(error, status=status, headers=headers)

        try:
            if method == "getUpdates":
                result = await self._get_updates(params, request)
                if result is None:
                    return self._error(408, "Request timeout", status=408)
                if "ok" in result:  # pushed with its wrapper
                    self._record(call, ok=True)
                    return self._answer(result)
            elif method == "setWebhook":
                result = await self._set_webhook(params)
            elif method == "testWebhook":
                result = await self._test_webhook(params)
            else:
                handler = self._handlers.get(method)
                if handler is None:
                    raise ZaloError(404, "Method not found")
                result = handler(params)
        except ZaloError as exc:
            self._record(call, ok=False)
            return self._error(exc.error_code, exc.description, exc.status)
        call.result = result
        self._record(call, ok=True)
        if result is None:
            return self._answer({"ok": True})
        return self._answer({"ok": True, "result": result})

    def fail_with(self, method: str, error_code: int, description: str, times: int = 1) -> None:
        """Answer the next ``times`` calls with ``{ok: false, error_code, ...}``.

        HTTP 200 by default; with ``http_status_errors`` the code is the HTTP status.
        """
        self.failures.setdefault(method, deque()).append(
            Failure(status=200, times=times, description=description, error_code=error_code)
        )

    # -- methods ---------------------------------------------------------------------------

    async def _get_updates(
        self, params: dict[str, Any], request: web.Request | None = None
    ) -> dict[str, Any] | None:
        if self.webhook.get("url"):
            raise ZaloError(409, "Webhook is active; call deleteWebhook before getUpdates")
        try:
            timeout = max(float(params.get("timeout", 30)), 0.0)
        except (TypeError, ValueError):
            timeout = 30.0
        deadline = time.monotonic() + timeout
        while not self.events and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self._changed.wait(remaining)
        if not self.events:
            return None
        if request is not None and (request.transport is None or request.transport.is_closing()):
            return None  # the client gave up waiting: keep the update for its next call
        return self.events.popleft()

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> str:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str | int) or chat_id == "":
            raise ZaloError(400, "chat_id is required")
        return str(chat_id)

    def _sent_message(self) -> dict[str, Any]:
        return {"message_id": self._next_message_id(), "date": now_ms()}

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ZaloError(400, "text is required")
        if utf16_len(text) > TEXT_LIMIT:
            self.rejected_text_too_long += 1
            raise ZaloError(400, f"text length must be between 1 and {TEXT_LIMIT} characters")
        parse_mode = params.get("parse_mode")
        if parse_mode is not None:
            if not isinstance(parse_mode, str) or parse_mode.lower() not in ("markdown", "html"):
                raise ZaloError(400, "parse_mode must be markdown or html")
            if self.reject_markup:
                raise ZaloError(400, "Can not parse text with parse_mode")
        return self._sent_message()

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat_id(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise ZaloError(400, "photo must be an image URL")
        caption = params.get("caption")
        if caption is not None and (
            not isinstance(caption, str) or not caption or utf16_len(caption) > TEXT_LIMIT
        ):
            raise ZaloError(400, f"caption length must be between 1 and {TEXT_LIMIT} characters")
        return self._sent_message()

    def _send_sticker(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat_id(params)
        if not params.get("sticker"):
            raise ZaloError(400, "sticker is required")
        return self._sent_message()

    def _send_voice(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        url = params.get("voice_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ZaloError(400, "voice_url must be a URL")
        if not urlsplit(url).path.lower().endswith(".aac"):
            raise ZaloError(400, "voice_url must be an .aac file")
        if chat_id in self.groups:  # documented: may look successful, is not delivered
            self.undelivered_voice.append(SentCall("sendVoice", params))
        return self._sent_message()

    def _send_chat_action(self, params: dict[str, Any]) -> None:
        self._chat_id(params)
        if params.get("action") not in ("typing", "upload_photo"):
            raise ZaloError(400, "action is invalid")
        return None

    async def _set_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url = params.get("url")
        secret = params.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise ZaloError(400, "url must be an HTTPS URL")
        if not isinstance(secret, str) or not (8 <= len(secret) <= 256):
            raise ZaloError(400, "secret_token must be 8 to 256 characters")
        self.webhook = {"url": url, "updated_at": now_ms(), "secret_token": secret}
        check = await self._verify()
        return {
            "url": url,
            "updated_at": self.webhook["updated_at"],
            "verification": check.outcome(),
        }

    async def _test_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.webhook.get("url"):
            raise ZaloError(404, "Webhook not found")
        if self.test_webhook_calls_today >= self.test_webhook_daily_limit:
            raise ZaloError(426, "testWebhook daily limit exceeded")
        self.test_webhook_calls_today += 1
        check = await self._verify()
        return {"url": self.webhook["url"], "verification": check.outcome()}

    def _delete_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook = {"url": "", "updated_at": now_ms()}
        return dict(self.webhook)

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.webhook.get("url"):
            raise ZaloError(404, "Webhook not found")
        return {"url": self.webhook["url"], "updated_at": self.webhook["updated_at"]}


def _description(status: int) -> str:
    return {
        403: "Internal error",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Error")
