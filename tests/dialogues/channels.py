"""The three ways a person reaches the bot, each driven the way a person would use it.

- console: ``bot.channels.console.run_console`` reading typed lines and printing answers;
- Telegram: python-telegram-bot's whole stack (polling, the Application, our adapter)
  against the fake Bot API; a button is pressed with a real callback query;
- Zalo: our Zalo client long-polling the fake Zalo API and our adapter sending the
  answers back as numbered text.

Each driver returns what the person saw for one thing they did, as ``Bubble``s.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import itertools
import queue
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.console import run_console
from bot.channels.zalo import ZaloSender, handle_update
from bot.channels.zalo_client import ZaloClient
from bot.core.dispatcher import Dispatcher
from tests.fakes.telegram_api import FakeTelegramAPI, SentCall
from tests.fakes.zalo_api import FakeZaloAPI

TURN_TIMEOUT = 20.0  # seconds; the slowest turn (a first chart) takes well under one
_NUMBERED = re.compile(r"^\s*(\d{1,2})\.\s+(.*\S)\s*$")
_telegram_users = itertools.count(7_100_000)
_zalo_users = itertools.count(1)


@functools.cache
def photo_bytes() -> bytes:
    """A small real JPEG, as a phone camera would send (evidence photos)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


class HarnessError(RuntimeError):
    """The harness could not play a turn (a timeout, a channel that cannot do it)."""


@dataclass
class Option:
    """A choice the person can see: its label, and how to take it on this channel."""

    label: str
    number: int
    callback: str | None = None  # Telegram: the button's callback data
    message_id: int | None = None  # Telegram: the message the button is on


@dataclass
class Bubble:
    """One message the bot sent (or edited), as the person saw it."""

    text: str
    options: list[Option] = field(default_factory=list)
    kind: str = "message"  # message | edit | photo | document
    buttons: bool = False  # the options are buttons (Telegram), not numbered lines

    def render(self) -> str:
        """The message as text: buttons as ``[label]`` lines after the text."""
        parts = []
        if self.kind == "photo":
            parts.append("[ảnh]")
        elif self.kind == "document":
            parts.append("[tệp]")
        elif self.kind == "edit":
            parts.append("[sửa tin trước]")
        if self.text:
            parts.append(self.text)
        text = "\n".join(parts)
        if self.buttons and self.options:
            text += "\n" + "\n".join(f"[{o.label}]" for o in self.options)
        return text

    @property
    def lines(self) -> int:
        """Non-empty lines as shown on a phone (buttons are not lines)."""
        return sum(1 for line in self.text.splitlines() if line.strip())


def numbered_options(text: str) -> list[Option]:
    """The choices of a numbered text: its last run of lines "1. …", "2. …"."""
    runs: list[list[Option]] = []
    current: list[Option] = []
    for line in text.splitlines():
        match = _NUMBERED.match(line)
        if match and int(match.group(1)) == len(current) + 1:
            current.append(Option(match.group(2), int(match.group(1))))
            continue
        if match and int(match.group(1)) == 1:
            if current:
                runs.append(current)
            current = [Option(match.group(2), 1)]
            continue
        if current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs[-1] if runs else []


class Driver:
    """One person's chat on one channel."""

    channel = ""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.seen: list[Bubble] = []

    async def open(self) -> None:
        """Start the chat (nothing is sent yet)."""

    async def close(self) -> None:
        """End the chat and release what it holds."""

    async def type(self, text: str) -> list[Bubble]:
        raise NotImplementedError

    async def press(self, option: Option) -> list[Bubble]:
        """Take a choice the way this channel does: type its number."""
        return await self.type(str(option.number))

    async def photo(self, caption: str) -> list[Bubble]:
        raise HarnessError(f"a photo cannot be sent on the {self.channel}")

    def options(self) -> list[Option]:
        """The choices offered last."""
        for bubble in reversed(self.seen):
            if bubble.options:
                return bubble.options
        return []

    def _seen(self, bubbles: list[Bubble]) -> list[Bubble]:
        self.seen.extend(bubbles)
        return bubbles


# ------------------------------------------------------------------ console


class _Keyboard:
    """The console's stdin: lines typed by the harness, read by run_console's thread."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()

    def readline(self) -> str:
        return self.lines.get()


class _Screen:
    """The console's stdout: each write of an answer is one reply; "> " asks for more."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.prompted = asyncio.Event()

    def write(self, text: str) -> int:
        if text == "> ":
            self.prompted.set()
        else:
            self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


class ConsoleDriver(Driver):
    """``tocns chat`` in a terminal: run_console with the app's dispatcher."""

    channel = "console"

    def __init__(self, dispatcher: Dispatcher, name: str | None) -> None:
        super().__init__(name)
        self.dispatcher = dispatcher
        self.keyboard = _Keyboard()
        self.screen = _Screen()
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        kwargs: dict[str, Any] = {"stdin": self.keyboard, "stdout": self.screen}
        if self.name is not None:
            kwargs["name"] = self.name
        self.task = asyncio.create_task(run_console(self.dispatcher, **kwargs))
        await self._until_prompt()

    async def _until_prompt(self) -> None:
        assert self.task is not None
        prompt = asyncio.ensure_future(self.screen.prompted.wait())
        done, _pending = await asyncio.wait(
            {prompt, self.task}, timeout=TURN_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if prompt not in done:
            prompt.cancel()
            if self.task in done:
                raise HarnessError(f"the console stopped: {self.task.exception()!r}")
            raise HarnessError(f"no answer on the console within {TURN_TIMEOUT}s")

    async def type(self, text: str) -> list[Bubble]:
        self.screen.writes.clear()
        self.screen.prompted.clear()
        self.keyboard.lines.put(text + "\n")
        await self._until_prompt()
        bubbles = []
        for written in self.screen.writes:
            body = written.rstrip("\n")
            if body:
                bubbles.append(Bubble(body, numbered_options(body)))
        return self._seen(bubbles)

    async def close(self) -> None:
        self.keyboard.lines.put("")  # end of input: run_console returns
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, TURN_TIMEOUT)


# ------------------------------------------------------------------ Telegram


class TelegramWatch:
    """Knows when the Telegram application has finished with an update.

    A handler in group 1 runs after our adapter (group 0) has handled the update and
    sent every answer: python-telegram-bot runs the groups of one update in order.
    """

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self.done: set[int] = set()
        self.changed = asyncio.Condition()
        application.add_handler(TypeHandler(Update, self._observe), group=1)

    async def _observe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self.changed:
            self.done.add(update.update_id)
            self.changed.notify_all()

    async def wait(self, update_id: int) -> None:
        async with self.changed:
            try:
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: update_id in self.done), TURN_TIMEOUT
                )
            except TimeoutError as error:
                raise HarnessError(
                    f"Telegram did not finish update {update_id} within {TURN_TIMEOUT}s"
                ) from error


class TelegramDriver(Driver):
    """A Telegram user writing to the bot through the fake Bot API."""

    channel = "telegram"

    def __init__(self, fake: FakeTelegramAPI, watch: TelegramWatch, name: str | None) -> None:
        super().__init__(name)
        self.fake = fake
        self.watch = watch
        self.user_id = next(_telegram_users)
        fake.add_user(self.user_id, first_name=name or "", language_code="vi")

    async def _turn(self, push: Callable[[], int]) -> list[Bubble]:
        start = len(self.fake.sent_to(self.user_id))
        update_id = push()
        await self.watch.wait(update_id)
        return self._seen([_telegram_bubble(c) for c in self.fake.sent_to(self.user_id)[start:]])

    async def type(self, text: str) -> list[Bubble]:
        return await self._turn(lambda: self.fake.push_text(self.user_id, text))

    async def press(self, option: Option) -> list[Bubble]:
        if option.callback is None:
            return await self.type(str(option.number))
        callback = option.callback
        return await self._turn(
            lambda: self.fake.push_callback(self.user_id, callback, option.message_id)
        )

    async def photo(self, caption: str) -> list[Bubble]:
        return await self._turn(
            lambda: self.fake.push_photo(self.user_id, photo_bytes(), caption=caption or None)
        )


def _telegram_bubble(call: SentCall) -> Bubble:
    kind = {
        "sendPhoto": "photo",
        "sendDocument": "document",
        "editMessageText": "edit",
        "editMessageReplyMarkup": "edit",
    }.get(call.method, "message")
    result = call.result if isinstance(call.result, dict) else {}
    message_id = result.get("message_id", call.params.get("message_id"))
    options = [
        Option(label, number, data, message_id)
        for number, (label, data) in enumerate(
            zip(call.button_texts, call.callback_data, strict=False), 1
        )
    ]
    return Bubble(call.text or "", options, kind, buttons=True)


# ------------------------------------------------------------------ Zalo


class ZaloDriver(Driver):
    """A Zalo user: our client fetches each message from the fake, our adapter answers."""

    channel = "zalo"

    def __init__(
        self,
        fake: FakeZaloAPI,
        client: ZaloClient,
        sender: ZaloSender,
        dispatcher: Dispatcher,
        name: str | None,
    ) -> None:
        super().__init__(name)
        self.fake = fake
        self.client = client
        self.sender = sender
        self.dispatcher = dispatcher
        self.user_id = f"dlg-zalo-{next(_zalo_users):06d}"

    async def _turn(self, push: Callable[[], object]) -> list[Bubble]:
        start = len(self.fake.sent_to(self.user_id))
        push()
        update = await self.client.get_updates(timeout=int(TURN_TIMEOUT))
        if update is None:
            raise HarnessError("the Zalo client got no update from the fake")
        await handle_update(self.dispatcher, self.sender, update)
        bubbles = []
        for call in self.fake.sent_to(self.user_id)[start:]:
            if call.method == "sendPhoto":
                bubbles.append(Bubble(str(call.params.get("caption") or ""), kind="photo"))
            elif call.method == "sendMessage":
                text = str(call.params.get("text") or "")
                bubbles.append(Bubble(text, numbered_options(text)))
        return self._seen(bubbles)

    async def type(self, text: str) -> list[Bubble]:
        return await self._turn(
            lambda: self.fake.push_text(self.user_id, text, display_name=self.name or "")
        )

    async def photo(self, caption: str) -> list[Bubble]:
        url = "https://photo-stal.zadn.vn/dialogue/evidence.jpg"
        return await self._turn(
            lambda: self.fake.push_image(
                self.user_id, url, caption=caption or None, display_name=self.name or ""
            )
        )
