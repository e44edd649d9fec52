"""The console channel: the same conversation in a terminal, for trying tocns with no token."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bot.core.dispatcher import Dispatcher
from bot.core.messages import Incoming, Reply
from bot.i18n import N_, Translator, translator

MSG_WELCOME = N_("tocns – type /start to begin, Ctrl+D to leave.")
MSG_IMAGE = N_("[image: {name}]")
MSG_FILE = N_("[file: {name}]")
MSG_MESSAGE_TO = N_("[message to {chat}]")


def render(reply: Reply, t: Translator) -> str:
    """A reply as terminal text: choices as numbered lines, files saved to disk."""
    text = reply.numbered_text()
    lines = [text] if text else []
    if reply.image is not None:
        lines.append(t.gettext(MSG_IMAGE, name=reply.image_name))
    if reply.file is not None:
        lines.append(t.gettext(MSG_FILE, name=reply.file_name))
    return "\n".join(lines)


async def run_console(
    dispatcher: Dispatcher,
    name: str = "Khách",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    files_dir: Path | None = None,
    t: Translator | None = None,
) -> None:
    """Read lines from stdin and print the bot's answers until end of input."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    t = t or translator(dispatcher.services.settings.locale)
    chat_id = f"console:{name}"
    stdout.write(t.gettext(MSG_WELCOME) + "\n")
    stdout.flush()
    loop = asyncio.get_running_loop()
    while True:
        stdout.write("> ")
        stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            stdout.write("\n")
            break
        if not line.strip():
            continue
        replies = await dispatcher.handle_async(
            Incoming(channel="console", chat_id=chat_id, display_name=name, text=line.rstrip("\n"))
        )
        for reply in replies:
            if files_dir is not None:
                for payload, file_name in (
                    (reply.image, reply.image_name),
                    (reply.file, reply.file_name),
                ):
                    if payload is not None:
                        files_dir.mkdir(parents=True, exist_ok=True)
                        (files_dir / file_name).write_bytes(payload)
            stdout.write(render(reply, t) + "\n\n")
        stdout.flush()


class ConsoleSender:
    """Prints outbox messages (``tocns run`` without any chat token)."""

    channel = "console"

    def __init__(self, t: Translator, write: Callable[[str], Any] = print) -> None:
        self.t = t
        self.write = write

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Print one reply with its recipient."""
        heading = self.t.gettext(MSG_MESSAGE_TO, chat=chat_id)
        self.write(f"\n{heading}\n{reply.numbered_text()}\n")
