"""A fake Telegram Bot API server on 127.0.0.1 that speaks the real HTTP protocol.

python-telegram-bot talks to it unchanged through ``base_url`` / ``base_file_url``::

    async with FakeTelegramAPI() as fake:
        bot = telegram.Bot(token, base_url=fake.base_url, base_file_url=fake.base_file_url)

PTB POSTs ``application/x-www-form-urlencoded`` or ``multipart/form-data`` to
``<base_url><token>/<method>``; every non-string parameter (ints, reply markup, command
lists) arrives JSON-encoded, strings arrive raw. Plain JSON bodies and GET query strings are
accepted as well. Answers follow https://core.telegram.org/bots/api#making-requests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")

# Parameters whose values PTB sends as raw strings: never JSON-decode them, or a text
# such as "123" or "true" would change type.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "file_id",
        "language_code",
        "action",
        "data",
        "photo",
        "document",
        "emoji",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "name",
        "title",
        "description",
        "short_description",
    }
)
_READ_ONLY_METHODS = frozenset(
    {"getUpdates", "getMe", "getFile", "getWebhookInfo", "getMyCommands"}
)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass(frozen=True)
class UploadedFile:
    """A file received in a multipart upload."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class SentCall:
    """One recorded API call: method, decoded parameters, uploaded files and our answer."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    result: Any = None
    at: float = 0.0

    @property
    def chat_id(self) -> Any:
        """Return the ``chat_id`` parameter, if any."""
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """Return the text (or caption) that was sent, if any."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """Return the decoded reply markup, if any."""
        value = self.params.get("reply_markup")
        return value if isinstance(value, dict) else None

    @property
    def button_texts(self) -> list[str]:
        """Return the texts of all inline keyboard buttons, row by row."""
        markup = self.reply_markup or {}
        return [b.get("text", "") for row in markup.get("inline_keyboard", []) for b in row]

    @property
    def callback_data(self) -> list[str]:
        """Return the callback data of all inline keyboard buttons, row by row."""
        markup = self.reply_markup or {}
        return [
            b["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]


@dataclass
class Failure:
    """An injected failure for the next ``times`` calls of a method."""

    status: int
    times: int
    retry_after: int | None = None
    description: str | None = None
    malformed: bool = False
    error_code: int | None = None  # for HTTP 200 {"ok": false} answers (Zalo)
    stall: float = 0.0  # answer normally, but only after this many seconds


class Notifier:
    """Wake coroutines waiting for 'something changed' (a call recorded, an update queued)."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """Wake every waiter."""
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self, timeout: float) -> None:
        """Wait until the next notification or ``timeout`` seconds."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(fut)

    async def wait_until(
        self, predicate: Callable[[], T], timeout: float, describe: Callable[[], str]
    ) -> T:
        """Return the first truthy ``predicate()`` value; fail the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout}s; {describe()}")
            await self.wait(remaining)


class FakeHTTPServer:
    """Start/stop plumbing shared by the fakes: an aiohttp app on 127.0.0.1, random port."""

    def __init__(self) -> None:
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.calls: list[SentCall] = []
        self.sent: list[SentCall] = []
        self.failed: list[SentCall] = []
        self._sent_by_chat: dict[str, list[SentCall]] = {}
        self._sent_by_method: dict[str, list[SentCall]] = {}
        self.counts: Counter[str] = Counter()
        self.failures: dict[str, deque[Failure]] = {}
        self._changed = Notifier()
        self._closing = False

    @property
    def origin(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start listening on a random local port."""
        self._closing = False
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Release pending long polls and stop the server."""
        self._closing = True
        self._changed.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- failure injection -------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an HTTP error."""
        self.failures.setdefault(method, deque()).append(
            Failure(
                status=status,
                times=times,
                retry_after=retry_after if status == 429 else None,
                description=description,
            )
        )

    def malformed_next(self, method: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 200 and a non-JSON body."""
        self.failures.setdefault(method, deque()).append(
            Failure(status=200, times=times, malformed=True)
        )

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Handle the next ``times`` calls of ``method`` normally, but answer ``seconds`` late.

        A client that gives up first has still had its request carried out: the case where
        retrying would do it twice.
        """
        self.failures.setdefault(method, deque()).append(
            Failure(status=200, times=times, stall=seconds)
        )

    async def _stalled(self, method: str) -> Failure | None:
        """The injected failure for this call, after sleeping through any stall."""
        failure = self._take_failure(method)
        if failure is not None and failure.stall:
            await asyncio.sleep(failure.stall)
            return None
        return failure

    def _take_failure(self, method: str) -> Failure | None:
        queue = self.failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.popleft()
        return failure

    # -- waiting -------------------------------------------------------------------------

    def _record(self, call: SentCall, ok: bool) -> None:
        self.calls.append(call)
        if ok:
            if call.method not in _READ_ONLY_METHODS:
                self.sent.append(call)
                self._sent_by_chat.setdefault(str(call.chat_id), []).append(call)
                self._sent_by_method.setdefault(call.method, []).append(call)
        else:
            self.failed.append(call)
        self._changed.notify()

    def sent_to(self, chat_id: int | str, method: str | None = None) -> list[SentCall]:
        """Return the recorded successful calls addressed to ``chat_id``."""
        calls = self._sent_by_chat.get(str(chat_id), [])
        return [c for c in calls if method is None or c.method == method]

    def texts_to(self, chat_id: int | str) -> list[str]:
        """Return the texts and captions sent to ``chat_id``, in order."""
        return [c.text for c in self.sent_to(chat_id) if c.text is not None]

    def reset_sent(self) -> None:
        """Forget recorded calls and counters (not users, updates or files)."""
        self.calls.clear()
        self.sent.clear()
        self.failed.clear()
        self.counts.clear()
        self._sent_by_chat.clear()
        self._sent_by_method.clear()

    def _describe(self) -> str:
        tail = ", ".join(f"{c.method}({c.chat_id}: {c.text!r})" for c in self.sent[-5:])
        return f"{len(self.sent)} calls sent, last: [{tail}]"

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (re-checked after every call) and return it."""
        return await self._changed.wait_until(predicate, timeout, self._describe)

    async def wait_sent(
        self,
        count: int = 1,
        chat_id: int | str | None = None,
        method: str | None = None,
        timeout: float = 5.0,
    ) -> list[SentCall]:
        """Wait until at least ``count`` matching calls were sent; return all matching calls."""

        def matching() -> list[SentCall]:
            if chat_id is not None:
                calls = self.sent_to(chat_id, method)
            elif method is not None:
                calls = self._sent_by_method.get(method, [])
            else:
                calls = self.sent
            return list(calls) if len(calls) >= count else []

        return await self.wait_for(matching, timeout)


class RateLimiter:
    """Sliding one-second windows: global and per chat, like Telegram's flood control."""

    def __init__(
        self, per_second: int | None, per_chat_per_second: int | None, clock: Callable[[], float]
    ) -> None:
        self.per_second = per_second
        self.per_chat_per_second = per_chat_per_second
        self.clock = clock
        self._global: deque[float] = deque()
        self._chats: dict[str, deque[float]] = {}

    @staticmethod
    def _wait_needed(window: deque[float], limit: int, now: float) -> float:
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) < limit:
            return 0.0
        return 1.0 - (now - window[0])

    def check(self, chat_id: Any) -> int:
        """Return 0 and count the call if allowed, else the ``retry_after`` seconds."""
        now = self.clock()
        wait = 0.0
        if self.per_second is not None:
            wait = self._wait_needed(self._global, self.per_second, now)
        chat_window: deque[float] | None = None
        if self.per_chat_per_second is not None and chat_id is not None:
            chat_window = self._chats.setdefault(str(chat_id), deque())
            wait = max(wait, self._wait_needed(chat_window, self.per_chat_per_second, now))
        if wait > 0:
            return max(1, math.ceil(wait))
        if self.per_second is not None:
            self._global.append(now)
        if chat_window is not None:
            chat_window.append(now)
        return 0


class FakeAPIError(Exception):
    """An error answer of the fake Telegram API (becomes ``{"ok": false, ...}``)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Awaitable[Any]]


class FakeTelegramAPI(FakeHTTPServer):
    """A local Telegram Bot API: records what the bot sends and feeds it updates."""

    def __init__(
        self,
        token: str | None = None,
        bot_id: int = 700000001,
        bot_username: str = "tocns_test_bot",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "tocns",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.clock = clock
        self.users: dict[int, dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes)
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] = {}
        self.blocked: set[int] = set()
        self.rate_limited = 0
        self.limiter: RateLimiter | None = None
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._true,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._true,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getFile": self._get_file,
        }
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

    # -- URLs ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.origin}/bot"

    @property
    def base_file_url(self) -> str:
        """Return PTB's ``base_file_url`` (the token is appended by PTB)."""
        return f"{self.origin}/file/bot"

    # -- test helpers: incoming side -------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> dict[str, Any]:
        """Register (or replace) a Telegram user and return its ``User`` JSON."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def block_user(self, user_id: int) -> None:
        """Make sends to ``user_id`` fail with 403 "bot was blocked by the user"."""
        self.blocked.add(user_id)

    def _user(self, user_id: int) -> dict[str, Any]:
        return self.users.get(user_id) or self.add_user(user_id, f"User{user_id}")

    def _private_chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
        user = self.users.get(chat_id, {})
        chat: dict[str, Any] = {"id": chat_id, "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _incoming_message(self, user_id: int, **content: Any) -> dict[str, Any]:
        user = self._user(user_id)
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._private_chat(user_id),
            "from": user,
            **content,
        }

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw Update dict (its ``update_id`` may repeat, to simulate redelivery)."""
        if "update_id" not in update:
            update = {"update_id": self._next_update_id(), **update}
        update_id = int(update["update_id"])
        self._last_update_id = max(self._last_update_id, update_id)
        self.updates.append(update)
        self._changed.notify()
        return update_id

    def _next_update_id(self) -> int:
        return max(next(self._update_ids), self._last_update_id + 1)

    def push_message(self, user_id: int, **content: Any) -> int:
        """Queue a message update from ``user_id`` with arbitrary Message fields."""
        message = self._incoming_message(user_id, **content)
        return self.push_update({"update_id": self._next_update_id(), "message": message})

    def push_text(self, user_id: int, text: str) -> int:
        """Queue a text message (commands get their ``bot_command`` entity) and return its id."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self.push_message(user_id, **content)

    def push_group_text(
        self, group_id: int, user_id: int, text: str, *, mention: bool = True
    ) -> int:
        """Queue a text written by ``user_id`` in the group ``group_id`` (a negative id).

        With ``mention`` it starts with ``@bot_username``, as people address the bot in a
        group (privacy mode aside, Telegram delivers other group messages too).
        """
        assert group_id < 0, "Telegram group ids are negative"
        if mention:
            text = f"@{self.bot_user['username']} {text}"
        content: dict[str, Any] = {"text": text}
        if mention:
            length = utf16_len(str(self.bot_user["username"])) + 1
            content["entities"] = [{"type": "mention", "offset": 0, "length": length}]
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._private_chat(group_id),
            "from": self._user(user_id),
            **content,
        }
        return self.push_update({"update_id": self._next_update_id(), "message": message})

    def push_callback(self, user_id: int, data: str, message_id: int | None = None) -> int:
        """Queue a button press on ``message_id`` (default: the bot's last message to the user)."""
        if message_id is None:
            mine = [mid for (chat, mid) in self.messages if chat == user_id]
            message_id = max(mine) if mine else next(self._message_ids)
        message = self.messages.get((user_id, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._private_chat(user_id),
            "from": self.bot_user,
            "text": "",
        }
        query = {
            "id": str(next(self._callback_ids)),
            "from": self._user(user_id),
            "chat_instance": f"ci{user_id}",
            "data": data,
            "message": message,
        }
        return self.push_update({"update_id": self._next_update_id(), "callback_query": query})

    def register_file(
        self, file_bytes: bytes, file_path: str | None = None, file_id: str | None = None
    ) -> str:
        """Store bytes for ``getFile`` and download; return the file id."""
        number = next(self._file_ids)
        file_id = file_id or f"FILE{number:06d}"
        self.files[file_id] = (file_path or f"documents/file_{number}", file_bytes)
        return file_id

    def _file_json(self, file_id: str) -> dict[str, Any]:
        return {
            "file_id": file_id,
            "file_unique_id": f"U{file_id}",
            "file_size": len(self.files[file_id][1]),
        }

    def push_document(
        self,
        user_id: int,
        file_bytes: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> int:
        """Queue a document message from ``user_id``; its bytes are downloadable."""
        file_id = self.register_file(file_bytes, f"documents/{file_name}")
        document = {**self._file_json(file_id), "file_name": file_name, "mime_type": mime_type}
        content: dict[str, Any] = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self.push_message(user_id, **content)

    def push_photo(self, user_id: int, file_bytes: bytes, caption: str | None = None) -> int:
        """Queue a photo message from ``user_id``; its bytes are downloadable."""
        file_id = self.register_file(file_bytes, f"photos/file_{len(self.files)}.jpg")
        size = {**self._file_json(file_id), "width": 800, "height": 600}
        content: dict[str, Any] = {"photo": [size]}
        if caption is not None:
            content["caption"] = caption
        return self.push_message(user_id, **content)

    # -- test helpers: limits ------------------------------------------------------------

    def rate_limit(self, per_second: int | None = 30, per_chat_per_second: int | None = 1) -> None:
        """Answer 429 with ``retry_after`` to sends beyond these rates (``None`` disables)."""
        if per_second is None and per_chat_per_second is None:
            self.limiter = None
        else:
            self.limiter = RateLimiter(per_second, per_chat_per_second, self.clock)

    # -- HTTP layer ------------------------------------------------------------------------

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body:
                raw.update(json.loads(body))
            return raw, files
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                raw[name] = _decode_form_value(name, str(value))
        return raw, files

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.counts[method] += 1
        if self.token is not None and request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        try:
            params, files = await self._read_params(request)
        except (ValueError, UnicodeDecodeError):
            return self._error(400, "Bad Request: can't parse request")
        call = SentCall(method, params, files, at=self.clock())

        failure = await self._stalled(method)
        if failure is not None:
            self._record(call, ok=False)
            if failure.malformed:
                return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
            description = failure.description or _default_description(failure.status)
            if failure.status == 429 and failure.description is None:
                description = f"Too Many Requests: retry after {failure.retry_after}"
            return self._error(failure.status, description, failure.retry_after)

        if self.limiter is not None and method not in _READ_ONLY_METHODS:
            retry_after = self.limiter.check(params.get("chat_id"))
            if retry_after:
                self.rate_limited += 1
                self._record(call, ok=False)
                return self._error(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after
                )

        handler = self._handlers.get(method)
        if handler is None:
            self._record(call, ok=False)
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params, files)
        except FakeAPIError as exc:
            self._record(call, ok=False)
            return self._error(exc.status, exc.description, exc.retry_after)
        call.result = result
        self._record(call, ok=True)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if self.token is not None and request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        self.counts["download"] += 1
        for file_path, data in self.files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")

    # -- methods ---------------------------------------------------------------------------

    async def _true(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    async def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if self.webhook.get("url"):
            raise FakeAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset"), 0)
        limit = min(max(_as_int(params.get("limit"), 100), 1), 100)
        timeout = max(_as_float(params.get("timeout"), 0.0), 0.0)
        if offset > 0:
            self.updates = [u for u in self.updates if int(u["update_id"]) >= offset]
        deadline = time.monotonic() + timeout
        while not self.updates and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self._changed.wait(remaining)
            if offset > 0:
                self.updates = [u for u in self.updates if int(u["update_id"]) >= offset]
        if offset < 0:
            return self.updates[offset:][:limit]
        return self.updates[:limit]

    def _check_chat(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise FakeAPIError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int):
            raise FakeAPIError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise FakeAPIError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _outgoing_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._private_chat(chat_id),
            "from": self.bot_user,
        }
        message.update({k: v for k, v in content.items() if v is not None})
        self.messages[(chat_id, message["message_id"])] = message
        return message

    @staticmethod
    def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return markup
        return None

    @staticmethod
    def _check_caption(params: dict[str, Any]) -> str | None:
        caption = params.get("caption")
        if caption is not None and utf16_len(str(caption)) > CAPTION_LIMIT:
            raise FakeAPIError(400, "Bad Request: message caption is too long")
        return caption

    async def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._check_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FakeAPIError(400, "Bad Request: message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise FakeAPIError(400, "Bad Request: message is too long")
        answered = params.get("reply_parameters")
        answered_id = answered.get("message_id") if isinstance(answered, dict) else None
        return self._outgoing_message(
            chat_id,
            text=text,
            entities=params.get("entities"),
            reply_markup=self._inline_markup(params),
            reply_to_message=(
                {
                    "message_id": answered_id,
                    "date": int(time.time()),
                    "chat": self._private_chat(chat_id),
                }
                if answered_id is not None
                else None
            ),
        )

    def _upload(
        self, params: dict[str, Any], files: dict[str, UploadedFile], name: str, default_path: str
    ) -> tuple[str, UploadedFile | None]:
        """Resolve an InputFile parameter to a stored file id (upload, attach:// or file id)."""
        value = params.get(name)
        upload = files.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        if upload is not None:
            path = f"{default_path}/{upload.filename or 'file'}"
            return self.register_file(upload.data, path), upload
        if isinstance(value, str) and value:
            if value not in self.files:
                # A URL or an unknown file id: Telegram would fetch/resolve it.
                self.register_file(b"", f"{default_path}/remote_{len(self.files)}", value)
            return value, None
        raise FakeAPIError(400, f"Bad Request: there is no {name} in the request")

    async def _send_photo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._check_chat(params)
        caption = self._check_caption(params)
        file_id, _ = self._upload(params, files, "photo", "photos")
        size = {**self._file_json(file_id), "width": 800, "height": 600}
        return self._outgoing_message(
            chat_id, photo=[size], caption=caption, reply_markup=self._inline_markup(params)
        )

    async def _send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._check_chat(params)
        caption = self._check_caption(params)
        file_id, upload = self._upload(params, files, "document", "documents")
        document = self._file_json(file_id)
        if upload is not None:
            document["file_name"] = upload.filename
            document["mime_type"] = upload.content_type
        return self._outgoing_message(
            chat_id,
            document={k: v for k, v in document.items() if v is not None},
            caption=caption,
            reply_markup=self._inline_markup(params),
        )

    def _find_message(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("inline_message_id"):
            return None
        key = (_as_int(params.get("chat_id"), 0), _as_int(params.get("message_id"), 0))
        message = self.messages.get(key)
        if message is None:
            raise FakeAPIError(400, "Bad Request: message to edit not found")
        return message

    async def _edit_message_text(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FakeAPIError(400, "Bad Request: message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise FakeAPIError(400, "Bad Request: message is too long")
        message = self._find_message(params)
        if message is None:
            return True
        markup = self._inline_markup(params)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise FakeAPIError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message["text"] = text
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        message = self._find_message(params)
        if message is None:
            return True
        markup = self._inline_markup(params)
        if message.get("reply_markup") == markup:
            raise FakeAPIError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message

    async def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        key = (_as_int(params.get("chat_id"), 0), _as_int(params.get("message_id"), 0))
        if self.messages.pop(key, None) is None:
            raise FakeAPIError(400, "Bad Request: message to delete not found")
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        return scope_type, str(params.get("language_code") or "")

    async def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise FakeAPIError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", ""))
            if (
                not (1 <= len(name) <= 32)
                or not name.replace("_", "").isalnum()
                or (name != name.lower())
            ):
                raise FakeAPIError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(str(command.get("description", ""))) <= 256):
                raise FakeAPIError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        url = params.get("url", "")
        if url and not str(url).startswith("https://"):
            raise FakeAPIError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {k: v for k, v in params.items() if v is not None}
        return True

    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {}
        return True

    async def _get_webhook_info(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if "allowed_updates" in self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            raise FakeAPIError(400, "Bad Request: invalid file_id")
        return {**self._file_json(file_id), "file_path": self.files[file_id][0]}


def _decode_form_value(name: str, value: str) -> Any:
    """Undo PTB's encoding: strings are raw, everything else is JSON."""
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _as_float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _default_description(status: int) -> str:
    return {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }.get(status, "Error")
