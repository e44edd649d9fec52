"""Telegram adapter: python-telegram-bot 22 updates in, core replies out. No business logic."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeAlias

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ContextTypes, ExtBot, JobQueue, TypeHandler

from bot.channels.base import Blocked, DeliveryUnknown, RetryLater, TransientError
from bot.channels.http import NEVER_LEFT, AiohttpRequest
from bot.channels.textsplit import split_text
from bot.core.dispatcher import Dispatcher
from bot.core.messages import Attachment, Incoming, Reply
from bot.i18n import translator
from bot.services import Services

log = logging.getLogger(__name__)

TelegramApplication: TypeAlias = Application[
    ExtBot[None],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]
"""python-telegram-bot's Application as tocns builds it (default context, job queue)."""

TELEGRAM_LIMIT = 4096
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # also the Bot API's own getFile limit


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's choices as one inline button per row."""
    if not reply.choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(choice.label, callback_data=choice.value[:64])]
            for choice in reply.choices
        ]
    )


async def send_reply(
    bot: Any,
    chat_id: int | str,
    reply: Reply,
    edit_message_id: int | None = None,
    reply_to: int | None = None,
) -> None:
    """Send one reply: text in chunks (buttons on the last), then its image and file.

    ``reply_to`` (in a group) makes the first message an answer to the person's message,
    so everyone sees whom the bot answers without it naming anybody.
    """
    markup = keyboard(reply)
    threading = (
        {"reply_parameters": ReplyParameters(reply_to, allow_sending_without_reply=True)}
        if reply_to is not None
        else {}
    )
    if reply.text:
        chunks = split_text(reply.text, TELEGRAM_LIMIT)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            if edit_message_id is not None and index == 0 and len(chunks) == 1:
                try:
                    await bot.edit_message_text(
                        chat_id=chat_id, message_id=edit_message_id, text=chunk, reply_markup=markup
                    )
                    continue
                except BadRequest:
                    pass  # too old to edit, or unchanged: send a new message instead
            await bot.send_message(
                chat_id=chat_id,
                text=chunk,
                reply_markup=markup if last else None,
                **(threading if index == 0 else {}),
            )
    if reply.image is not None:
        await _send_image(bot, chat_id, reply, None if reply.text else markup)
    elif reply.image_url:
        await bot.send_photo(chat_id=chat_id, photo=reply.image_url)
    if reply.file is not None:
        await bot.send_document(
            chat_id=chat_id, document=InputFile(reply.file, filename=reply.file_name)
        )


# Telegram keeps what a bot uploaded: an image sent before (the same /tiendo chart to
# many people on a deadline day) goes again by its file_id, without uploading it again.
_PHOTO_IDS: OrderedDict[tuple[str, bytes], str] = OrderedDict()
PHOTO_ID_CACHE = 256


async def _send_image(
    bot: Any, chat_id: int | str, reply: Reply, markup: InlineKeyboardMarkup | None
) -> None:
    assert reply.image is not None
    key = (f"{bot.base_url}|{bot.token}", hashlib.sha256(reply.image).digest())
    known = _PHOTO_IDS.get(key)
    if known is not None:
        try:
            await bot.send_photo(chat_id=chat_id, photo=known, reply_markup=markup)
            _PHOTO_IDS.move_to_end(key)
            return
        except BadRequest:  # refused before sending anything: upload it instead
            _PHOTO_IDS.pop(key, None)
    message = await bot.send_photo(
        chat_id=chat_id,
        photo=InputFile(reply.image, filename=reply.image_name),
        reply_markup=markup,
    )
    sizes = getattr(message, "photo", None)
    if sizes:
        _PHOTO_IDS[key] = sizes[-1].file_id
        while len(_PHOTO_IDS) > PHOTO_ID_CACHE:
            _PHOTO_IDS.popitem(last=False)


GROUP_TYPES = ("group", "supergroup")


def addressed_text(text: str, bot_username: str, bot_id: int | None, reply_to: Any) -> str | None:
    """A group text meant for the bot, without its leading @mention; None if not for us.

    In a group the bot answers a message that starts with @its_username, a /command, or
    a reply to one of its own messages, and stays silent on everything else people say.
    """
    stripped = text.lstrip()
    mention = f"@{bot_username}".casefold() if bot_username else ""
    if mention and stripped.casefold().startswith(mention):
        rest = stripped[len(mention) :]
        if not rest or not (rest[0].isalnum() or rest[0] == "_"):
            return rest.lstrip(" \t,:;.-–—").lstrip()
    if stripped.startswith("/"):
        head = stripped.split(maxsplit=1)[0]
        addressee = head.partition("@")[2]
        if addressee and addressee.casefold() != bot_username.casefold():
            return None  # a command for another bot in the group
        return stripped
    author = getattr(reply_to, "from_user", None) if reply_to is not None else None
    if author is not None and bot_id is not None and author.id == bot_id:
        return stripped
    return None


async def to_incoming(update: Update, bot: Bot, *, groups: bool = True) -> Incoming | None:
    """Translate a Telegram update into the channel-neutral model.

    In a group (when ``groups`` is on) the person is ``from`` and replies go to the
    group; only texts addressed to the bot come in, without their @mention.
    """
    key = str(update.update_id)
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        chat_id = str(chat.id) if chat is not None else str(query.from_user.id)
        in_group = chat is not None and chat.type in GROUP_TYPES
        if in_group and not groups:
            return None
        return Incoming(
            channel="telegram",
            chat_id=chat_id,
            display_name=query.from_user.full_name or "",  # None when the first name is empty
            choice=query.data or "",
            update_key=key,
            sender_id=str(query.from_user.id) if in_group else "",
            sender_private=True,  # Telegram: a private chat's id is the user's id
            group=in_group,
        )
    message = update.effective_message
    if message is None or message.chat is None:
        return None
    if message.chat.type in GROUP_TYPES:
        return _group_incoming(message, bot, key) if groups else None
    if message.chat.type != "private":
        return None  # channels: tocns talks to people
    user = message.from_user
    name = (user.full_name or "") if user is not None else ""
    attachment = None
    if message.photo:
        photo = message.photo[-1]
        attachment = await _attachment(
            bot, "photo", photo.file_id, "photo.jpg", "image/jpeg", photo.file_size
        )
    elif message.document is not None:
        doc = message.document
        attachment = await _attachment(
            bot,
            "document",
            doc.file_id,
            doc.file_name or "file",
            doc.mime_type or "",
            doc.file_size,
        )
    text = message.text if message.text is not None else message.caption
    unsupported = text is None and attachment is None
    kind = ""
    if unsupported and message.sticker is not None:
        kind = "sticker"
    elif unsupported and (message.voice is not None or message.video_note is not None):
        kind = "voice"
    return Incoming(
        channel="telegram",
        chat_id=str(message.chat.id),
        display_name=name,
        text=text,
        attachment=attachment,
        update_key=key,
        unsupported=unsupported,
        kind=kind,
    )


def _group_incoming(message: Any, bot: Bot, key: str) -> Incoming | None:
    """A group message addressed to the bot (texts only: files stay private)."""
    user = message.from_user
    if user is None or user.is_bot or message.text is None:
        return None
    try:
        username, bot_id = bot.username, bot.id
    except (RuntimeError, AttributeError):  # bot never initialised (getMe): commands only
        username, bot_id = "", None
    text = addressed_text(message.text, username, bot_id, message.reply_to_message)
    if text is None:
        return None
    return Incoming(
        channel="telegram",
        chat_id=str(message.chat.id),
        display_name=user.full_name or "",
        text=text,
        update_key=key,
        sender_id=str(user.id),
        sender_private=True,  # Telegram: a private chat's id is the user's id
        group=True,
        message_id=str(message.message_id),
    )


async def _attachment(
    bot: Bot, kind: str, file_id: str, name: str, mime: str, size: int | None
) -> Attachment:
    data = None
    if size is not None and size <= DOWNLOAD_LIMIT:
        try:
            telegram_file = await bot.get_file(file_id)
            data = bytes(await telegram_file.download_as_bytearray())
        except TelegramError:
            log.warning("could not download file %s", file_id, exc_info=True)
    return Attachment(
        kind=kind, file_id=file_id, file_name=name, mime_type=mime, size=size, data=data
    )


def build_application(
    services: Services, dispatcher: Dispatcher, *, webhook: bool = False
) -> TelegramApplication:
    """Build the python-telegram-bot Application wired to the conversation core."""
    settings = services.settings
    assert settings.telegram_token is not None
    builder = (
        Application.builder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .concurrent_updates(64)
        # aiohttp, not PTB's httpx: far less CPU per request (``bot.channels.http``).
        .request(
            AiohttpRequest(connection_pool_size=64, read_timeout=settings.telegram_read_timeout)
        )
        .get_updates_request(
            AiohttpRequest(connection_pool_size=1, read_timeout=settings.telegram_read_timeout)
        )
    )
    # No Updater: python-telegram-bot's confirms a batch of updates (the next getUpdates
    # offset) before they are handled, so a killed process would lose them; tocns polls
    # with ``poll_forever`` (confirms once committed) and a webhook answers once handled.
    application = builder.updater(None).build()

    committed = Committed()
    application.bot_data[COMMITTED] = committed

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Committed by the core (``poll_forever`` may confirm it), then its replies sent.

        Polled, an update the database cannot take yet is handled again until it can
        (``Dispatcher.handle_patiently``), so it is not confirmed meanwhile; a webhook
        update is left for Telegram to send again (``TocnsApp._handled_within``).
        """
        try:
            sending = await receive(
                update, context.bot, dispatcher, groups=settings.group_chats, patient=not webhook
            )
        finally:
            committed.done(update.update_id)
        if sending is not None:
            await sending

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error with its traceback and the update id, never the message text."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram error on update %s", update_id, exc_info=context.error)

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


Sending: TypeAlias = Coroutine[Any, Any, None]
"""Sends the replies of an update the core has committed."""


async def receive(
    update: Update, bot: Bot, dispatcher: Dispatcher, *, groups: bool, patient: bool = False
) -> Sending | None:
    """Hand an update to the core (committed on return); what sends its replies, if any.

    ``patient`` (polling): through a database outage, handled again until committed.
    """
    incoming = await to_incoming(update, bot, groups=groups)
    if incoming is None:
        return None
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            log.debug("callback answer failed for update %s", update.update_id)
    if patient:

        async def note(reply: Reply) -> None:
            try:
                await answer(_sender(bot, dispatcher, incoming), incoming.chat_id, reply)
            except TelegramError:
                log.warning("busy note not sent to chat %s", incoming.chat_id, exc_info=True)

        replies = await dispatcher.handle_patiently(incoming, note)
    else:
        replies = await dispatcher.handle_async(incoming)
    if not replies:
        return None
    return _send_replies(update, bot, dispatcher, incoming, replies)


def _sender(bot: Bot, dispatcher: Dispatcher, incoming: Incoming) -> Any:
    """The bot, or the bot waiting for the shared send slots (``Services.pace_reply``)."""
    pace = dispatcher.services.pace_reply
    return bot if pace is None else _PacedBot(bot, pace, incoming.chat_id, incoming.group)


async def _send_replies(
    update: Update, bot: Bot, dispatcher: Dispatcher, incoming: Incoming, replies: list[Reply]
) -> None:
    edit_id = None
    if update.callback_query is not None and update.callback_query.message is not None:
        edit_id = update.callback_query.message.message_id
    reply_to = int(incoming.message_id) if incoming.message_id.isdigit() else None
    sending = _sender(bot, dispatcher, incoming)
    async with dispatcher.sending(incoming):  # taken before any await: see its docstring
        for index, reply in enumerate(replies):
            try:
                await answer(
                    sending,
                    incoming.chat_id,
                    reply,
                    edit_id if reply.edit else None,
                    reply_to if index == 0 else None,
                )
            except Forbidden:
                log.info("chat %s blocked the bot", incoming.chat_id)
                break
    await dispatcher.answered(incoming)


COMMITTED = "tocns.committed"  # the application's ``bot_data`` key of its ``Committed``


# While updates are in hand, getUpdates is asked again at least this often.
HANDLING_POLL_SECONDS = 1.0


class Committed:
    """Updates of a polled batch the core has committed, so the batch can be confirmed."""

    def __init__(self) -> None:
        self._waiting: dict[int, asyncio.Future[None]] = {}

    def expect(self, update_id: int) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        self._waiting[update_id] = future
        return future

    def done(self, update_id: int) -> None:
        future = self._waiting.pop(update_id, None)
        if future is not None and not future.done():
            future.set_result(None)


async def poll_forever(
    application: TelegramApplication,
    *,
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
    timeout: int,
    read_timeout: float,
) -> None:
    """Long-poll getUpdates until cancelled; an update is confirmed once it is committed.

    Telegram confirms updates when getUpdates is next called with a higher ``offset``
    (Bot API, getUpdates); until then it hands them out again. So the offset is kept at
    the oldest update not yet committed, and getUpdates is called again while updates
    are being handled: it returns those (skipped: already in hand) and any new ones,
    which start at once instead of waiting for the slowest update of a batch. A process
    killed mid-update gets every uncommitted update again on restart and the core drops
    what it had committed. Replies are sent meanwhile (``spawn``); those a killed
    process committed but never sent go out from ``bot.core.unanswered``.
    """
    bot = application.bot
    committed: Committed = application.bot_data[COMMITTED]
    handling: dict[int, asyncio.Future[Any]] = {}  # update id -> done once committed
    newest: int | None = None  # the newest update id started
    backoff = 1.0
    while True:
        for update_id in [i for i, done in handling.items() if done.done()]:
            del handling[update_id]
        # Confirm every update older than the oldest one still in hand.
        offset = min(handling, default=None) if handling or newest is None else newest + 1
        try:
            # While updates are in hand Telegram answers at once (they are still
            # unconfirmed), so only an idle poller waits the long-poll timeout.
            wait = 0 if handling else timeout
            updates = await bot.get_updates(
                offset=offset, timeout=wait, read_timeout=wait + read_timeout
            )
            backoff = 1.0
        except asyncio.CancelledError:
            raise
        except RetryAfter as error:
            await asyncio.sleep(_retry_seconds(error))
            continue
        except InvalidToken:
            log.error("telegram refused the bot token: polling stopped")
            return
        except (Conflict, NetworkError, TelegramError) as error:
            # Conflict: a webhook is set, or another process polls the same bot.
            log.warning("telegram getUpdates failed (%s); retrying in %.0fs", error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
            continue
        for update in updates:
            if newest is not None and update.update_id <= newest:
                continue  # in hand, or committed behind an older one still in hand
            newest = update.update_id
            signal = committed.expect(update.update_id)
            task = spawn(application.process_update(update))
            handling[update.update_id] = asyncio.ensure_future(
                asyncio.wait({signal, task}, return_when=asyncio.FIRST_COMPLETED)
            )
        if handling:
            # Poll again once something commits (or after a second): new updates
            # meanwhile wait at most for the quickest update in hand.
            await asyncio.wait(
                handling.values(),
                timeout=HANDLING_POLL_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )


WEBHOOK_ATTEMPTS = 8


async def register_webhook(bot: Bot, url: str, secret: str) -> bool:
    """``setWebhook``, again after a flood wait or a network error (a few times).

    A worker restarting beside others that send at the bot's full rate can get a 429 for
    it; start-up must wait the time Telegram asks, not exit.
    """
    delay = 1.0
    for attempt in range(1, WEBHOOK_ATTEMPTS):
        try:
            done: bool = await bot.set_webhook(url=url, secret_token=secret)
            return done
        except RetryAfter as error:
            wait = min(_retry_seconds(error), 60.0)
        except NetworkError as error:  # TimedOut included
            if isinstance(error, BadRequest):
                raise  # the address itself is refused: waiting will not help
            wait, delay = delay, min(delay * 2, 30.0)
        log.warning("telegram setWebhook not done (attempt %d); again in %.0fs", attempt, wait)
        await asyncio.sleep(wait)
    last: bool = await bot.set_webhook(url=url, secret_token=secret)  # the last: errors raise
    return last


async def publish_commands(application: TelegramApplication, services: Services) -> None:
    """Publish the command list so Telegram shows it in the menu."""
    t = translator(services.settings.locale)
    commands = [
        BotCommand(entry.names[0], t.gettext(entry.description)[:256])
        for entry in services.registry.ordered_commands
        if entry.published
    ]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError:
        log.warning("setMyCommands failed", exc_info=True)


# --- outbox delivery ------------------------------------------------------------------


class _RecordingBot:
    """Delegates to a Bot and remembers the ids of the messages it sent."""

    def __init__(self, bot: Any) -> None:
        self._bot = bot
        self.message_ids: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    async def _record(self, method: str, **kwargs: Any) -> Any:
        message = await getattr(self._bot, method)(**kwargs)
        message_id = getattr(message, "message_id", None)
        if isinstance(message_id, int):
            self.message_ids.append(message_id)
        return message

    async def send_message(self, **kwargs: Any) -> Any:
        return await self._record("send_message", **kwargs)

    async def send_photo(self, **kwargs: Any) -> Any:
        return await self._record("send_photo", **kwargs)

    async def send_document(self, **kwargs: Any) -> Any:
        return await self._record("send_document", **kwargs)


class _PacedBot:
    """Delegates to a Bot; each message sent first waits for a send slot shared by all
    the workers (``Services.pace_reply``), so direct replies count towards the bot's rate
    with the outbox."""

    def __init__(
        self, bot: Any, pace: Callable[[str, str, bool], Awaitable[None]], chat: str, group: bool
    ) -> None:
        self._bot = bot
        self._pace = pace
        self._chat = chat
        self._group = group

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    async def _paced(self, method: str, **kwargs: Any) -> Any:
        await self._pace("telegram", self._chat, self._group)
        return await getattr(self._bot, method)(**kwargs)

    async def send_message(self, **kwargs: Any) -> Any:
        return await self._paced("send_message", **kwargs)

    async def send_photo(self, **kwargs: Any) -> Any:
        return await self._paced("send_photo", **kwargs)

    async def send_document(self, **kwargs: Any) -> Any:
        return await self._paced("send_document", **kwargs)

    async def edit_message_text(self, **kwargs: Any) -> Any:
        return await self._paced("edit_message_text", **kwargs)


def _retry_seconds(error: Any) -> float:
    value = getattr(error, "_retry_after", None)  # a timedelta; the public int is deprecated
    if isinstance(value, dt.timedelta):
        return max(1.0, value.total_seconds())
    return 1.0


def _request_never_left(error: BaseException) -> bool:
    """Whether a network error happened before Telegram could have received the request."""
    cause = error.__cause__
    if isinstance(cause, NEVER_LEFT):
        return True
    # PTB raises NetworkError without a transport cause for 5xx answers: Telegram refused it.
    return (
        cause is None
        and "pool timeout" not in str(error).lower()
        and not isinstance(error, TimedOut)
    )


REPLY_ATTEMPTS = 3
MAX_REPLY_WAIT = 30.0  # a person is waiting: longer flood waits are given up and logged


async def answer(
    bot: Any,
    chat_id: int | str,
    reply: Reply,
    edit_message_id: int | None = None,
    reply_to: int | None = None,
) -> None:
    """Send a reply to someone who just wrote, retrying what Telegram surely did not take.

    A 429 or a request that never reached Telegram is retried with backoff; anything
    after part of the reply went out is not, so nobody receives the same message twice.
    """
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        recorder = _RecordingBot(bot)
        try:
            await send_reply(recorder, chat_id, reply, edit_message_id, reply_to)
            return
        except RetryAfter as error:
            wait = _retry_seconds(error)
            if recorder.message_ids or attempt == REPLY_ATTEMPTS or wait > MAX_REPLY_WAIT:
                raise
            log.info("flood control for chat %s: retrying in %.0fs", chat_id, wait)
            await asyncio.sleep(wait)
        except NetworkError as error:
            if recorder.message_ids or attempt == REPLY_ATTEMPTS or not _request_never_left(error):
                raise
            log.info(
                "telegram unavailable for chat %s (attempt %d): %s",
                chat_id,
                attempt,
                type(error).__name__,
            )
            await asyncio.sleep(0.5 * 2**attempt)


class TelegramSender:
    """Sends outbox replies through a telegram Bot, mapping errors for the outbox delivery."""

    channel = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> list[int]:
        """Send one reply; return the Telegram message ids (proof of delivery)."""
        recorder = _RecordingBot(self.bot)
        try:
            await send_reply(recorder, chat_id, reply)
        except RetryAfter as error:
            if recorder.message_ids:  # part of a multi-part reply went out: never resend
                raise DeliveryUnknown(f"partly sent, then flood control: {error}") from error
            raise RetryLater(_retry_seconds(error)) from error
        except Forbidden as error:
            raise Blocked(str(error)) from error
        except BadRequest as error:
            if "chat not found" in str(error).lower():
                raise Blocked(str(error)) from error
            raise
        except (TimedOut, NetworkError) as error:
            if _request_never_left(error) and not recorder.message_ids:
                raise TransientError(str(error)) from error
            raise DeliveryUnknown(str(error)) from error
        except TelegramError as error:
            if "invalid server response" in str(error).lower():
                raise DeliveryUnknown(str(error)) from error  # answered, but unreadably
            raise
        return recorder.message_ids
