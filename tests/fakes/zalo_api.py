"""A fake Zalo Bot API server on 127.0.0.1 that speaks the real HTTP protocol.

Methods are POSTed as JSON to ``<origin>/bot<token>/<method>`` (the real host is
``https://bot-api.zaloplatforms.com``). Answers are ``{"ok": true, "result": ...}``;
failures are usually HTTP 200 with ``{"ok": false, "error_code", "description"}``.
``getUpdates`` returns ONE update per call, or HTTP 408 once its ``timeout`` ran out.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.telegram_api import Failure, FakeHTTPServer, SentCall

TEXT_LIMIT = 2000


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

    def __init__(self, error_code: int, description: str, status: int = 200) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.status = status


class FakeZaloAPI(FakeHTTPServer):
    """A local Zalo Bot API: records what the bot sends and feeds it events."""

    def __init__(self, token: str | None = None, bot_id: str = "1459232241454765289") -> None:
        super().__init__()
        self.token = token
        self.bot_info: dict[str, Any] = {
            "id": bot_id,
            "account_name": "bot.tocns",
            "account_type": "BASIC",
            "can_join_groups": False,
        }
        self.events: deque[dict[str, Any]] = deque()
        self.webhook: dict[str, Any] = {"url": "", "updated_at": now_ms()}
        self.display_names: dict[str, str] = {}
        self.rejected_text_too_long = 0
        self._message_ids = itertools.count(1)
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda p: self.bot_info,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": lambda p: dict(self.webhook),
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)

    @property
    def base_url(self) -> str:
        """Return the value for ``TOCNS_ZALO_BASE_URL`` (methods at ``/bot<token>/<m>``)."""
        return self.origin

    # -- test helpers: incoming side -------------------------------------------------------

    def _next_message_id(self) -> str:
        return f"{next(self._message_ids):020x}"

    def push_event(self, event: dict[str, Any]) -> None:
        """Queue a raw event; it is returned as-is when it already has the ``ok`` wrapper."""
        self.events.append(event)
        self._changed.notify()

    def _message(self, user_id: str, display_name: str | None, **content: Any) -> dict[str, Any]:
        name = display_name or self.display_names.get(user_id, "Người dùng")
        self.display_names[user_id] = name
        return {
            "from": {"id": user_id, "display_name": name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "message_id": self._next_message_id(),
            "date": now_ms(),
            **content,
        }

    def push_text(self, user_id: str, text: str, display_name: str | None = None) -> str:
        """Queue a ``message.text.received`` event and return its message id."""
        message = self._message(user_id, display_name, text=text)
        self.push_event({"event_name": "message.text.received", "message": message})
        return str(message["message_id"])

    def push_image(
        self,
        user_id: str,
        url: str,
        caption: str | None = None,
        display_name: str | None = None,
    ) -> str:
        """Queue a ``message.image.received`` event and return its message id."""
        content: dict[str, Any] = {"photo_url": url}
        if caption is not None:
            content["caption"] = caption
        message = self._message(user_id, display_name, **content)
        self.push_event({"event_name": "message.image.received", "message": message})
        return str(message["message_id"])

    def push_sticker(self, user_id: str, sticker: str = "0e078a2fb66a5f34067b") -> str:
        """Queue a ``message.sticker.received`` event and return its message id."""
        message = self._message(user_id, None, sticker=sticker)
        self.push_event({"event_name": "message.sticker.received", "message": message})
        return str(message["message_id"])

    # -- HTTP layer ------------------------------------------------------------------------

    @staticmethod
    def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
        return web.json_response(body, status=status)

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.counts[method] += 1
        if self.token is not None and request.match_info["token"] != self.token:
            return self._answer({"ok": False, "error_code": 401, "description": "Unauthorized"})
        body = await request.read()
        try:
            params = json.loads(body) if body.strip() else {}
        except ValueError:
            return self._answer({"ok": False, "error_code": 400, "description": "Invalid JSON"})
        if not isinstance(params, dict):
            params = {}
        params.update(request.query)
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
            return web.json_response(error, status=failure.status, headers=headers)

        try:
            if method == "getUpdates":
                result = await self._get_updates(params, request)
                if result is None:
                    return self._answer(
                        {"ok": False, "error_code": 408, "description": "Request timeout"},
                        status=408,
                    )
                if "ok" in result:  # pushed with its wrapper
                    self._record(call, ok=True)
                    return self._answer(result)
            else:
                handler = self._handlers.get(method)
                if handler is None:
                    raise ZaloError(404, "Method not found")
                result = handler(params)
        except ZaloError as exc:
            self._record(call, ok=False)
            return self._answer(
                {"ok": False, "error_code": exc.error_code, "description": exc.description},
                status=exc.status,
            )
        call.result = result
        self._record(call, ok=True)
        if result is None:
            return self._answer({"ok": True})
        return self._answer({"ok": True, "result": result})

    def fail_with(self, method: str, error_code: int, description: str, times: int = 1) -> None:
        """Answer the next ``times`` calls with HTTP 200 ``{ok: false, error_code, ...}``."""
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
        if len(text) > TEXT_LIMIT:
            self.rejected_text_too_long += 1
            raise ZaloError(400, f"text length must be between 1 and {TEXT_LIMIT} characters")
        return self._sent_message()

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat_id(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise ZaloError(400, "photo must be an image URL")
        caption = params.get("caption")
        if caption is not None and (not isinstance(caption, str) or len(caption) > TEXT_LIMIT):
            raise ZaloError(400, f"caption length must be between 1 and {TEXT_LIMIT} characters")
        return self._sent_message()

    def _send_sticker(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat_id(params)
        if not params.get("sticker"):
            raise ZaloError(400, "sticker is required")
        return self._sent_message()

    def _send_chat_action(self, params: dict[str, Any]) -> None:
        self._chat_id(params)
        if params.get("action") not in ("typing", "upload_photo"):
            raise ZaloError(400, "action is invalid")
        return None

    def _set_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url = params.get("url")
        secret = params.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise ZaloError(400, "url must be an HTTPS URL")
        if not isinstance(secret, str) or not (8 <= len(secret) <= 256):
            raise ZaloError(400, "secret_token must be 8 to 256 characters")
        self.webhook = {"url": url, "updated_at": now_ms(), "secret_token": secret}
        return {"url": url, "updated_at": self.webhook["updated_at"]}

    def _delete_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook = {"url": "", "updated_at": now_ms()}
        return dict(self.webhook)


def _description(status: int) -> str:
    return {
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Error")
