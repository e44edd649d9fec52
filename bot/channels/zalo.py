"""Zalo adapter: Zalo Bot API updates in, core replies out as text and photo links."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.channels.base import Blocked, DeliveryUnknown, RetryLater, TransientError
from bot.channels.zalo_client import (
    Verdict,
    ZaloAPIError,
    ZaloClient,
    ZaloNetworkError,
    ZaloUpdate,
    parse_update,
)
from bot.core import inbox
from bot.core.dispatcher import Dispatcher
from bot.core.messages import Attachment, Incoming, Reply
from bot.services import Services
from bot.web.media import link_expiry, media_url, save_media

log = logging.getLogger(__name__)


# Zalo events without text, as the core's ``Incoming.kind``.
_KINDS = {"sticker": "sticker", "voice": "voice", "unsupported": "protected"}


def to_incoming(update: ZaloUpdate) -> Incoming:
    """Translate a Zalo update into the channel-neutral model.

    In a group, the person is ``from.id`` and replies go to the group (``chat.id``).
    Zalo documents ``from.id == chat.id`` only for private chats, so a group sender's id
    is not marked as a private chat (``sender_private`` stays False): the outbox writes
    to it only once the person has written to the bot privately.
    ``message.unsupported.received`` is what Zalo sends for a protected person's message
    (a child, someone with a disability or who cannot read): kind "protected".
    """
    attachment = None
    if update.photo_url:
        attachment = Attachment(kind="photo", url=update.photo_url, file_name="photo.jpg")
    text = update.text
    unsupported = update.kind == "unsupported" or (not text and attachment is None)
    return Incoming(
        channel="zalo",
        chat_id=str(update.chat_id),
        display_name=update.display_name or "",
        text=text,
        attachment=attachment,
        update_key=update.dedupe_key,
        unsupported=unsupported,
        kind=_KINDS.get(update.kind, "") if unsupported else "",
        sender_id=str(update.user_id) if update.is_group else "",
        group=update.is_group,
    )


# A short line ending with a colon, followed by a numbered or bulleted line: a heading
# ("Các bước:") that Zalo's markdown can make bold for an older reader.
_HEADING = re.compile(r"^([^\n:]{2,40}:)(?=\n\s*(?:\d+[.)]|[-•]) )", re.M)
# Characters that mean something in markdown: a text holding any is sent as it is.
_MARKDOWN_SIGNS = re.compile(r"[*_~`{}#\[\]]")


def zalo_markdown(text: str) -> str | None:
    """The text with its list headings in bold, or None when markdown would not help.

    A text that already holds markdown signs (a star in a phone menu path, an
    underscore in a link) is left plain, so that Zalo never eats a character of it.
    """
    if _MARKDOWN_SIGNS.search(text) or not _HEADING.search(text):
        return None
    return _HEADING.sub(r"**\1**", text)


class ZaloSender:
    """Sends core replies over Zalo: numbered choices, photos and files by URL."""

    def __init__(self, client: ZaloClient, services: Services) -> None:
        self.client = client
        self.services = services

    @property
    def _media_dir(self) -> Path:
        return self.services.settings.data_dir / "media"

    def _public_url(self, payload: bytes, suffix: str) -> str:
        base = self.services.settings.public_base_url
        if not base:
            return ""
        expires = link_expiry(self.services.settings, self.services.clock())
        return media_url(base, save_media(self._media_dir, payload, suffix, expires_at=expires))

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Send one reply in as few messages as Zalo's limits allow.

        A photo carries the text as its caption when it fits (one message, not two);
        list headings are bold through ``parse_mode`` markdown, with the client's
        plain-text fallback if Zalo refuses the markup.
        """
        text = reply.numbered_text()
        if reply.file is not None or reply.file_url:
            link = reply.file_url or self._public_url(
                reply.file or b"", Path(reply.file_name).suffix
            )
            if link:
                text = f"{text}\n{link}" if text else link
        photo = reply.image_url
        if not photo and reply.image is not None:
            photo = self._public_url(reply.image, Path(reply.image_name).suffix or ".png")
        if photo:
            await self.client.send_photo(chat_id, photo, caption=text or None)
            return
        if text:
            markdown = zalo_markdown(text)
            if markdown is not None:
                await self.client.send_message(chat_id, markdown, parse_mode="markdown")
            else:
                await self.client.send_message(chat_id, text)


async def handle_update(
    dispatcher: Dispatcher, sender: ZaloSender, update: ZaloUpdate, *, patient: bool = False
) -> None:
    """Process one Zalo update end to end; failures are logged, never raised.

    ``patient`` (polling): through a database outage the update is handled again until
    the database takes it (``Dispatcher.handle_patiently``), the person told once that
    it is kept; a webhook update is left for Zalo to send again instead.
    """
    if update.sender.is_bot:
        return  # another bot in a group (or an echo of our own message)
    if update.is_group and not sender.services.settings.group_chats:
        return  # group chats are switched off (TOCNS_GROUP_CHATS=false)
    if update.is_group and not update.mentioned and (update.text or "").startswith("@"):
        log.warning(
            "zalo group message starts with an @name that is not the bot's: "
            "set TOCNS_ZALO_BOT_NAMES to the bot's display name (chat=%s)",
            update.chat_id,
        )
    incoming = to_incoming(update)
    pace = dispatcher.services.pace_reply  # the bot's rate, shared by all workers

    async def send(reply: Reply) -> None:
        if pace is not None:
            await pace("zalo", incoming.chat_id, incoming.group)
        await sender.send(incoming.chat_id, reply)

    async def note(reply: Reply) -> None:
        try:
            await send(reply)
        except Exception:  # noqa: BLE001 - the answer itself still follows
            log.warning("zalo busy note not sent chat=%s", incoming.chat_id, exc_info=True)

    try:
        if patient:
            replies = await dispatcher.handle_patiently(incoming, note)
        else:
            replies = await dispatcher.handle_async(incoming)
        if replies:
            async with dispatcher.sending(incoming):  # in the order handled
                for reply in replies:
                    await send(reply)
            await dispatcher.answered(incoming)
    except ZaloAPIError as error:
        log.warning(
            "zalo send failed chat=%s code=%s", incoming.chat_id, error.error_code, exc_info=True
        )
    except Exception:
        log.exception("zalo update failed chat=%s update=%s", incoming.chat_id, incoming.update_key)


Spawn = Callable[[Coroutine[Any, Any, None]], object]
"""Runs a coroutine in the background; the app owns the task and cancels it on stop."""


async def poll_forever(
    dispatcher: Dispatcher,
    client: ZaloClient,
    sender: ZaloSender,
    *,
    spawn: Spawn,
    timeout: int = 30,
) -> None:
    """Long-poll getUpdates (one update per call) until cancelled; each update runs in ``spawn``.

    Zalo hands an update out once, so it is written to the inbox (``bot.core.inbox``)
    before it is handled: what a killed process had fetched is handled on restart.
    Zalo has no offset to hold back: an update fetched while the database is
    unavailable is kept in memory and handled again until the database takes it
    (``handle_update(patient=True)``); with the inbox in that database, a process
    stopped before then loses it (the person was told it is kept, and may resend).
    """
    # Its own thread: the update is safe only once it is in the inbox, so its write must
    # not queue behind the handling of other updates in the shared default executor.
    keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zalo-inbox")
    try:
        await _poll(dispatcher, client, sender, spawn=spawn, timeout=timeout, keeper=keeper)
    finally:
        keeper.shutdown(wait=False)


async def _poll(
    dispatcher: Dispatcher,
    client: ZaloClient,
    sender: ZaloSender,
    *,
    spawn: Spawn,
    timeout: int,
    keeper: ThreadPoolExecutor,
) -> None:
    engine = dispatcher.services.engine
    loop = asyncio.get_running_loop()
    for kept_id, payload in await asyncio.to_thread(inbox.kept, engine, "zalo"):
        spawn(_handle_kept(dispatcher, sender, kept_id, parse_update(payload, client.bot_names)))
    backoff = 1.0
    while True:
        try:
            update = await client.get_updates(timeout=timeout)
            backoff = 1.0
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep polling whatever the network does
            log.warning("zalo getUpdates failed; retrying in %.0fs", backoff, exc_info=True)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
            continue
        if update is None:
            continue
        try:
            row_id: int | None = await loop.run_in_executor(
                keeper, inbox.keep, engine, "zalo", update.raw
            )
        except Exception:  # noqa: BLE001 - the database is down: handle it anyway
            log.warning("zalo update %s not kept in the inbox", update.message_id, exc_info=True)
            row_id = None
        spawn(_handle_kept(dispatcher, sender, row_id, update))


async def _handle_kept(
    dispatcher: Dispatcher, sender: ZaloSender, row_id: int | None, update: ZaloUpdate | None
) -> None:
    if update is not None:
        await handle_update(dispatcher, sender, update, patient=True)
    if row_id is not None:
        try:
            await asyncio.to_thread(inbox.forget, dispatcher.services.engine, row_id)
        except Exception:  # noqa: BLE001 - handled again on restart, dropped as a duplicate
            log.warning("zalo inbox row %d not cleared", row_id, exc_info=True)


# --- outbox delivery ------------------------------------------------------------------


class ZaloOutboxSender:
    """The outbox's Zalo sender: ZaloSender with errors mapped for the outbox delivery.

    The Zalo client already retries 429, 403 (an internal error, says the docs) and 5xx
    itself; what is left when it gives up is mapped by its ``Verdict``
    (``bot.channels.zalo_client.classify_error``): ``RetryLater`` when Zalo asked to slow
    down or our token/URL is wrong (kept until an admin fixes it), ``TransientError`` for
    passing failures, ``DeliveryUnknown`` when the message may have gone out, ``Blocked``
    only when Zalo said the chat cannot be reached (404 on a send), and the error itself
    (a permanent failure) for a request Zalo will never accept (400).
    """

    channel = "zalo"

    def __init__(self, sender: ZaloSender) -> None:
        self.sender = sender

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Send one reply, mapping Zalo errors."""
        try:
            await self.sender.send(chat_id, reply)
        except ZaloNetworkError as error:
            if not error.maybe_delivered:  # never reached Zalo: safe to send again
                raise TransientError(error.description) from error
            raise DeliveryUnknown(error.description) from error
        except ZaloAPIError as error:
            verdict = error.verdict
            if verdict is Verdict.RATE_LIMITED:
                raise RetryLater(error.retry_after or 5.0) from error
            if verdict is Verdict.CONFIG:
                raise RetryLater(600.0) from error
            if verdict is Verdict.UNREACHABLE:
                raise Blocked(error.description) from error
            if verdict is Verdict.REJECTED:
                raise
            raise TransientError(f"{error.error_code} {error.description}") from error


async def learn_bot_names(client: ZaloClient, configured: str = "") -> tuple[str, ...]:
    """Tell the client the names people type after "@" for the bot in a group.

    Zalo shows the bot by its display name (getMe's ``display_name`` or ``name`` when
    present, else ``account_name``); ``configured`` adds more, comma-separated. Without
    a name, a group text keeps its mention and reads as a question starting with "@".
    """
    names = [name.strip() for name in configured.split(",") if name.strip()]
    try:
        me = await client.get_me()
    except ZaloAPIError:
        log.warning("zalo getMe failed: group mentions use the configured names only")
        me = {}
    for key in ("display_name", "name", "account_name"):
        value = me.get(key)
        if isinstance(value, str) and value.strip():
            names.append(value.strip())
    client.bot_names = tuple(dict.fromkeys(names))
    return client.bot_names
