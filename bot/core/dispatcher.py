"""The conversation core: one update in, replies out, in one database transaction.

Channels call ``Dispatcher.handle_async``; everything the bot decides happens here
and in the feature handlers, never in a channel adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, delete, insert, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col

from bot.core.context import Context
from bot.core.messages import Choice, Incoming, Reply
from bot.core.people import identify, load_chat
from bot.core.picks import ascii_digits, lone_amount, not_in_list
from bot.errors import ReadableError
from bot.i18n import N_, translator
from bot.services import Services
from bot.text import clean, fold
from db.models import ConversationState, ProcessedUpdate, Role
from db.types import utcnow

log = logging.getLogger(__name__)

MAX_TEXT = 4000  # longer messages are cut: nobody types more, and it bounds the work
DB_ATTEMPTS = 3
ANSWERED_RETRY_SECONDS = 1.0  # "replies sent" marks the database refused are written again
ANSWERED_RETRIES = 300  # ... for about five minutes
PRUNE_EVERY = 1000
# A polled update the database cannot take is handled again (``handle_patiently``):
POLL_RETRY_FIRST = 1.0  # seconds after the first failure, doubling ...
POLL_RETRY_MAX = 30.0  # ... up to this
POLL_RETRY_FOR = 600.0  # given up (confirmed, "busy" reply) after about this long ...
POLL_RETRIES_WHILE_UP = 5  # ... or after this many failures while other updates get through
POLL_NOTE_AFTER = 5.0  # still not handled after this long: the person hears it will be
PROCESSED_RETENTION = dt.timedelta(days=7)  # platforms redeliver within hours at most
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# Words that act as commands when typed alone (Zalo users rarely type a slash).
PLAIN_COMMANDS = {
    "menu": "menu",
    "huy": "huy",
    "huy bo": "huy",
    "huy di": "huy",
    "thoi": "huy",
    "thoi khong": "huy",
    "thoi khoi": "huy",
    "thoi huy": "huy",
    "dung lai": "huy",
    "khong bao nua": "huy",
    "khong bao cao nua": "huy",
    "thoi khong bao nua": "huy",
    "stop": "huy",
    "tro giup": "trogiup",
    "help": "help",
    "bat dau": "start",
}
# … and words that do only outside a flow: inside one they are an answer to its step.
PLAIN_COMMANDS_OUTSIDE_FLOWS = {
    "huong dan": "huongdan",
    "danh sach huong dan": "huongdan",
}
_BARE_NUMBER = re.compile(r"^\s*[-+]?(\d{1,9})\s*[.)]?\s*$")
# "dừng" (stop) with its accents: without them it reads like "đúng" (right), an answer.
STOP_WORDS = frozenset({"dừng", "dừng lại", "dừng nhé"})

APOLOGY = N_(
    "Sorry, something went wrong and I could not do that. "
    "Please try again in a few minutes, or type /menu to start again."
)
BUSY = N_(
    "The system is busy right now. Please wait about a minute and send your message again. "
    "Everything you sent before is kept."
)
KEPT = N_(
    "The system is busy right now. Your message is kept: I will answer it as soon as I can, "
    "there is no need to send it again."
)
STALE_CHOICE = N_("This option is no longer available. Type /menu to start again.")
UNKNOWN_COMMAND = N_("I don't know the command /{name}. Type /trogiup to see what I can do.")
NOT_ALLOWED = N_(
    "This command is for registered team members and officers. "
    "If you have an invite code, send /lienket followed by the code."
)
NOT_YOUR_ROLE = N_(
    "The command /{name} is not part of your role. Type /trogiup to see the commands you can use."
)
UNSUPPORTED = N_("I can only read text messages for now. Please type your question, or type /menu.")


@dataclass
class Handled:
    """A handled update: its replies, and what to run once its transaction is committed."""

    replies: list[Reply]
    after_commit: list[Callable[[], None]]

    def finish(self) -> list[Reply]:
        """Run the after-commit callbacks (once) and give the replies."""
        callbacks, self.after_commit = self.after_commit, []
        for callback in callbacks:
            callback()
        return self.replies


@dataclass
class Delivery:
    """A webhook call waiting for its update: unanswered, the platform sends it again.

    While ``waiting``, an update the core gives up on because the database stays
    unavailable gets no "busy" reply: ``deferred`` is set instead, the call answers 503
    and the platform's redelivery is answered once the database is back. Polling uses
    it too (``Dispatcher.handle_patiently``): the deferred update is not confirmed and
    is handled again.
    """

    waiting: bool = True
    deferred: bool = False


DELIVERY: ContextVar[Delivery | None] = ContextVar("tocns_delivery", default=None)
"""Set around the handling of an update that may be deferred: by a webhook route, and
by ``Dispatcher.handle_patiently`` for each attempt at a polled update."""


# Built once and run on the connection (Core, not the ORM's bulk paths, which cost more
# than the statement): they run for every update (see bench/bench_updates.py).
_PROCESSED = ProcessedUpdate.__table__  # type: ignore[attr-defined]
MARK_PROCESSED = insert(_PROCESSED)
STORE_REPLIES = update(_PROCESSED).where(
    _PROCESSED.c.channel == bindparam("key_channel"),
    _PROCESSED.c.update_key == bindparam("key"),
)  # values: chat_id, replies
MARK_ANSWERED = (
    update(_PROCESSED)
    .where(
        _PROCESSED.c.channel == bindparam("key_channel"),
        _PROCESSED.c.update_key.in_(bindparam("keys", expanding=True)),
        _PROCESSED.c.answered_at.is_(None),
    )
    .values(answered_at=bindparam("now"))
)
DUPLICATE_RUN = 10  # this many "already processed" updates in a row is not a redelivery
_KEY_LENGTH = 120  # ProcessedUpdate.update_key


def bot_identity(services: Services, channel: str) -> str:
    """The id of the bot an update came to: the numeric prefix of its token ("" if none).

    Telegram and Zalo bot tokens both read ``<bot id>:<secret>`` (the id getMe reports).
    """
    token = getattr(services.settings, f"{channel}_token", None)
    if token is None:
        return ""
    prefix = token.get_secret_value().partition(":")[0]
    return prefix if prefix.isdigit() else ""


def processed_key(bot: str, update_key: str) -> str:
    """The dedupe key of an update: the platform's id for it, qualified by the bot's id.

    Update ids are only unique per bot: after a token change, or with a test bot on the
    same database, a bare id would match an old bot's update and be dropped.
    """
    key = f"{bot}:{update_key}" if bot else update_key
    if len(key) > _KEY_LENGTH:
        key = f"{bot}:sha256:{hashlib.sha256(update_key.encode()).hexdigest()}"
    return key


class Dispatcher:
    """Routes one incoming message to the right handler and returns its replies."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._handled = 0
        # SQLite has one writer at a time: concurrent write transactions from worker threads
        # only wait on each other (busy sleeps, retries), so they are serialised here.
        self._write_lock = threading.Lock() if services.engine.dialect.name == "sqlite" else None
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._bots = {channel: bot_identity(services, channel) for channel in ("telegram", "zalo")}
        self._duplicates: dict[str, int] = {}  # channel → "already processed" in a row
        self._answered: dict[str, list[str]] = {}  # channel → keys whose replies were sent
        self._answering: asyncio.Task[None] | None = None
        self._patient: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._reached = 0.0  # time.monotonic() when an update last got through the database
        self._sending: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def handle_async(self, message: Incoming) -> list[Reply]:
        """Handle a message, one at a time per chat, never waiting for the database on the loop."""
        key = (message.channel, message.chat_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:
            unsure: list[Handled] = []
            replies = self._handle_quick(message, unsure) if self._write_lock else None
            if replies is None:
                replies = await asyncio.to_thread(self._handle, message, unsure)
            if replies is None:  # the database stayed unavailable: nothing was done
                delivery = DELIVERY.get()
                if delivery is not None and delivery.waiting:
                    log.warning(
                        "update %s deferred: the database is unavailable", message.update_key
                    )
                    delivery.deferred = True
                    return []
                replies = [self._busy(message)]
            else:
                self._reached = time.monotonic()
            for reply in replies:
                if reply.chart is not None and reply.image is None:
                    # Drawn after the transaction, outside the database lock.
                    reply.image = await self.services.charts.render(reply.chart)
            return replies

    def sending(self, message: Incoming) -> asyncio.Lock:
        """Held while one update's replies go out, so a chat gets them in the order handled.

        Replies are sent after the chat's lock is released, and two updates' sends would
        otherwise race ("50 (sửa từ 45)" arriving before "45"). Take it right after the
        update is handled, before anything awaits: the chat's next update, handled after
        this one, then waits for this one's replies to be out.
        """
        key = (message.channel, message.chat_id)
        lock = self._sending.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._sending[key] = lock
        return lock

    async def handle_patiently(
        self, message: Incoming, note: Callable[[Reply], Awaitable[None]]
    ) -> list[Reply]:
        """Handle a polled update, again and again while the database is unavailable.

        The channel confirms the update to the platform only once this returns, so
        nothing the person sent is lost to an outage: each attempt that finds the
        database unavailable is deferred (``Delivery``), and the update is handled
        again after 1 s, 2 s, 4 s ... up to 30 s between attempts. Still not handled
        after ``POLL_NOTE_AFTER``, the person gets one note (``note``) that the message
        is kept; then the real answer. A chat's later updates wait behind it, in order.
        Bounded, so that one update cannot hold the platform's offset for ever: after
        ``POLL_RETRY_FOR``, or sooner when other updates get through the database
        meanwhile (then it is this update, not an outage), it is given up, logged
        (ids only) and answered "busy, send again".
        """
        key = (message.channel, message.chat_id)
        lock = self._patient.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._patient[key] = lock
        async with lock:
            loop = asyncio.get_running_loop()
            started = loop.time()
            since = time.monotonic()
            wait, attempts, while_up, noted = POLL_RETRY_FIRST, 0, 0, False
            while True:
                delivery = Delivery()
                token = DELIVERY.set(delivery)
                try:
                    replies = await self.handle_async(message)
                finally:
                    DELIVERY.reset(token)
                if not delivery.deferred:
                    return replies
                attempts += 1
                if self._reached > since:  # others got through since the last attempt
                    while_up += 1
                since = time.monotonic()
                elapsed = loop.time() - started
                if elapsed + wait > POLL_RETRY_FOR or while_up >= POLL_RETRIES_WHILE_UP:
                    log.error(
                        "update given up after %d attempts (%s) channel=%s chat=%s update=%s",
                        attempts,
                        "other updates got through" if while_up else "the database stayed away",
                        message.channel,
                        message.chat_id,
                        message.update_key,
                    )
                    return [self._busy(message)]
                if not noted and elapsed >= POLL_NOTE_AFTER:
                    noted = True
                    await note(Reply(text=translator(self._locale_hint(message)).gettext(KEPT)))
                await asyncio.sleep(wait)
                wait = min(wait * 2, POLL_RETRY_MAX)

    async def answered(self, message: Incoming) -> None:
        """The channel has sent the update's replies: they need not be sent again.

        Marks are written at once, in one small transaction for all that came while the
        previous one was being written. A process killed before its marks are written
        sends those replies a second time after the restart, never none.
        """
        if not message.update_key:
            return
        self._answered.setdefault(message.channel, []).append(self._processed_key(message))
        if self._answering is None or self._answering.done():
            self._answering = asyncio.get_running_loop().create_task(self._write_answered())

    async def _write_answered(self) -> None:
        await asyncio.sleep(0)  # the marks of the other replies sent in this turn join
        failures = 0
        while self._answered:
            marks, self._answered = self._answered, {}
            try:
                if not self._set_answered_quick(marks):
                    await asyncio.to_thread(self._set_answered, marks)
                failures = 0
            except Exception:  # noqa: BLE001 - kept and written again: see below
                # The database is away (an outage): keep the marks and try again every
                # second, so the replies already sent are not sent again once it is back
                # (``bot.core.unanswered``). Given up after a few minutes: at worst the
                # replies are then sent a second time, never lost.
                failures += 1
                count = sum(len(keys) for keys in marks.values())
                if failures > ANSWERED_RETRIES:
                    log.warning("could not mark %d updates answered", count, exc_info=True)
                    failures = 0
                    continue
                if failures == 1:
                    log.warning("could not mark %d updates answered; retrying", count)
                for channel, keys in marks.items():
                    self._answered[channel] = keys + self._answered.get(channel, [])
                await asyncio.sleep(ANSWERED_RETRY_SECONDS)

    async def flush_answered(self) -> None:
        """Write the pending answered marks now (on stop)."""
        if self._answering is not None:
            # Not for ever while the database is away: what is left is written below or,
            # failing that, the replies are sent again later.
            await asyncio.wait({self._answering}, timeout=ANSWERED_RETRY_SECONDS * 5)
            self._answering.cancel()
        marks, self._answered = self._answered, {}
        if marks:
            await asyncio.to_thread(self._set_answered, marks)

    def _set_answered_quick(self, marks: dict[str, list[str]]) -> bool:
        """SQLite: write the marks on the event loop if that needs no waiting, as updates
        are (``_handle_quick``); False if it would have to wait."""
        if self._write_lock is None or not self._write_lock.acquire(blocking=False):
            return False
        try:
            self._write_marks(marks, self.services.quick_engine)
            return True
        except OperationalError:
            return False
        finally:
            self._write_lock.release()

    def _set_answered(self, marks: dict[str, list[str]]) -> None:
        with self._write_lock or contextlib.nullcontext():
            self._write_marks(marks, self.services.engine)

    def _write_marks(self, marks: dict[str, list[str]], engine: Engine) -> None:
        now = utcnow()
        with engine.begin() as connection:
            for channel, keys in marks.items():
                connection.execute(
                    MARK_ANSWERED, {"key_channel": channel, "keys": keys, "now": now}
                )

    def handle(self, message: Incoming) -> list[Reply]:
        """Handle one message in its own transaction, waiting for the database; never raises."""
        replies = self._handle(message, [])
        return [self._busy(message)] if replies is None else replies

    def _busy(self, message: Incoming) -> Reply:
        return Reply(text=translator(self._locale_hint(message)).gettext(BUSY))

    def _handle_quick(self, message: Incoming, unsure: list[Handled]) -> list[Reply] | None:
        """SQLite: one attempt on the event loop that never waits; None if it would have to.

        SQLite has one writer at a time and an update is a few milliseconds of CPU-bound
        work: handing it to a thread only adds GIL hand-offs (a dedicated thread measured
        48 reports/s against 100+ inline in bench/bench_reports.py). But the loop must not
        wait for a lock another process holds (a CLI import, a backup): then the update
        goes to a thread that waits and retries (``_handle``), and the bot stays responsive.
        """
        assert self._write_lock is not None
        if not self._write_lock.acquire(blocking=False):  # a thread is waiting on the database
            return None
        try:
            return self._handle_once(message, unsure, self.services.quick_engine)
        except OperationalError:
            log.info("database busy: update %s handled off the event loop", message.update_key)
            return None
        except Exception:
            return self._crashed(message, self.services.quick_engine)
        finally:
            self._write_lock.release()

    def _handle(self, message: Incoming, unsure: list[Handled]) -> list[Reply] | None:
        # None: the database stayed unavailable through every attempt.
        # ``unsure``: the outcome of an attempt whose COMMIT failed; the server may have
        # committed before the connection broke, and then the retry finds the update processed.
        engine = self.services.engine
        for attempt in range(1, DB_ATTEMPTS + 1):
            try:
                if self._write_lock is None:
                    return self._handle_once(message, unsure, engine)
                with self._write_lock:
                    return self._handle_once(message, unsure, engine)
            except OperationalError:
                log.warning(
                    "database unavailable (attempt %d) channel=%s chat=%s update=%s",
                    attempt,
                    message.channel,
                    message.chat_id,
                    message.update_key,
                    exc_info=attempt == DB_ATTEMPTS,
                )
                if attempt < DB_ATTEMPTS:
                    time.sleep(0.2 * 2**attempt)
            except Exception:
                return self._crashed(message, engine)
        return None

    def _crashed(self, message: Incoming, engine: Engine) -> list[Reply]:
        """A handler bug: log it, never see the update again, and apologise."""
        log.exception(
            "handler failed channel=%s chat=%s update=%s",
            message.channel,
            message.chat_id,
            message.update_key,
        )
        self._mark_processed(message, engine)
        return [Reply(text=translator(self._locale_hint(message)).gettext(APOLOGY))]

    def _processed_key(self, message: Incoming) -> str:
        assert message.update_key
        return processed_key(self._bots.get(message.channel, ""), message.update_key)

    def _count_duplicate(self, message: Incoming, duplicate: bool) -> None:
        """Warn loudly when updates keep arriving as "already processed"."""
        run = self._duplicates.get(message.channel, 0)
        if not duplicate:
            if run >= DUPLICATE_RUN:
                log.warning("%s: the run of %d duplicate updates ended", message.channel, run)
            self._duplicates[message.channel] = 0
            return
        self._duplicates[message.channel] = run = run + 1
        if run == DUPLICATE_RUN:
            log.error(
                "%s: %d updates in a row were already processed and are being ignored "
                "(bot id %r). Did the bot's token change, or does another bot share this "
                "database? People get no answer while this lasts.",
                message.channel,
                run,
                self._bots.get(message.channel, ""),
            )

    def _locale_hint(self, message: Incoming) -> str:
        return self.services.settings.locale

    def _mark_processed(self, message: Incoming, engine: Engine) -> None:
        if not message.update_key:
            return
        try:
            with Session(engine) as session:
                session.add(
                    ProcessedUpdate(
                        channel=message.channel, update_key=self._processed_key(message)
                    )
                )
                session.commit()
        except Exception:  # noqa: BLE001 - best effort; the failure is already logged
            log.warning("could not mark update %s processed", message.update_key, exc_info=True)

    def _handle_once(self, message: Incoming, unsure: list[Handled], engine: Engine) -> list[Reply]:
        with Session(engine) as session:
            if message.update_key:
                try:
                    session.connection().execute(
                        MARK_PROCESSED,
                        {
                            "channel": message.channel,
                            "update_key": self._processed_key(message),
                            "processed_at": utcnow(),
                        },
                    )
                except IntegrityError:
                    session.rollback()
                    if unsure:  # our own earlier attempt did commit: answer as it would have
                        log.info("update %s was committed before the error", message.update_key)
                        return unsure[-1].finish()
                    log.info("duplicate update %s ignored", message.update_key)
                    self._count_duplicate(message, True)
                    return []
                self._count_duplicate(message, False)
            chat = load_chat(
                session,
                message.channel,
                message.person_chat_id,
                message.display_name,
                self.services.settings.locale,
                message.state_chat_id,
                private=message.person_chat_private,
            )
            person, identity, state = chat.person, chat.identity, chat.state
            if state is None:
                state = ConversationState(channel=message.channel, chat_id=message.state_chat_id)
                session.add(state)
            before = _state_snapshot(state)
            assert person.id is not None
            ctx = Context(
                session=session,
                message=message,
                person=person,
                identity=identity,
                state=state,
                roles=chat.roles,
                loaded_village=chat.village,
                services=self.services,
                now=self.services.clock(),
                t=translator(person.locale),
            )
            try:
                replies = self._route(ctx)
            except ReadableError as error:  # UserError and every domain error a person reads
                session.rollback()
                return self._readable_error(message, error, engine)
            add_hints(ctx, replies)
            if state not in session.deleted and not sa_inspect(state).was_deleted:
                offered = [reply.choices for reply in replies if reply.choices]
                state.choices = (
                    [{"label": c.label, "value": c.value} for c in offered[-1]] if offered else []
                )
                if _state_snapshot(state) != before:  # most messages change nothing: skip the write
                    flag_modified(state, "data")
                    state.updated_at = utcnow()
                    session.add(state)
            if message.update_key and replies:
                # Kept until the channel has sent them (``answered``): see bot.core.unanswered.
                session.connection().execute(
                    STORE_REPLIES,
                    {
                        "key_channel": message.channel,
                        "key": self._processed_key(message),
                        "chat_id": message.chat_id,
                        "replies": [r.to_dict() for r in replies],
                    },
                )
            handled = Handled(replies, ctx.after_commit)
            try:
                session.commit()
            except OperationalError:
                unsure.append(handled)
                raise
            self._handled += 1
            if self._handled % PRUNE_EVERY == 0:
                self._prune_processed(engine)
            return handled.finish()

    def _readable_error(
        self, message: Incoming, error: ReadableError, engine: Engine
    ) -> list[Reply]:
        """Answer a domain error in the person's language after rolling back, still recording
        the delivery."""
        self._mark_processed(message, engine)
        with Session(engine) as session:
            person, _identity = identify(
                session,
                message.channel,
                message.person_chat_id,
                message.display_name,
                self.services.settings.locale,
                private=message.person_chat_private,
            )
            session.commit()
            locale = person.locale
        return [Reply(text=error.render(translator(locale)))]

    def _prune_processed(self, engine: Engine) -> None:
        """Forget delivery ids old enough that no platform will redeliver them."""
        cutoff = utcnow() - PROCESSED_RETENTION
        with Session(engine) as session:
            session.execute(
                delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < cutoff)
            )
            session.commit()

    # ------------------------------------------------------------ routing

    def _route(self, ctx: Context) -> list[Reply]:
        registry = self.services.registry
        message = ctx.message
        for first in registry.first_handlers:  # group chats, stickers, voice notes
            replies = first(ctx)
            if replies is not None:
                return replies
        if message.unsupported:
            return [ctx.reply(UNSUPPORTED)]
        text = clean(message.text or "")[:MAX_TEXT]
        value = message.choice or self._match_offered(ctx, text)
        if value is None and message.choice is None and text and not text.startswith("/"):
            picked = self._pick_typed(ctx, text)
            if isinstance(picked, list):
                return picked
            value = picked
        if value is not None:
            name, _, argument = value.partition(":")
            typed = registry.typed_actions.get(name)
            if typed is None:
                return [ctx.reply(STALE_CHOICE)]
            try:
                data = typed.data.unpack(argument)
            except (ValueError, TypeError):
                return [ctx.reply(STALE_CHOICE)]
            return typed.handler(ctx, data)
        in_flow = bool(ctx.state.flow and ctx.state.step)
        command = self._command(text, in_flow=in_flow)
        if command is not None:
            name, argument = command
            entry = registry.commands.get(name)
            if entry is None:
                return [ctx.reply(UNKNOWN_COMMAND, name=name[:32])]
            if entry.roles is not None and not ctx.has_role(*entry.roles):
                if any(role != Role.RESIDENT for role in ctx.roles):
                    # Registered, with another role: an invite code would not help.
                    return [ctx.reply(NOT_YOUR_ROLE, name=name[:32])]
                return [ctx.reply(NOT_ALLOWED)]
            return entry.handler(ctx, argument)
        if in_flow:
            step = registry.steps.get((ctx.state.flow or "", ctx.state.step or ""))
            if step is not None:
                return step(ctx, text)
            ctx.finish()
        number = _BARE_NUMBER.match(text)
        if number and not message.attachment:
            # A number alone is never a question: a pick from a list, or nothing.
            return not_in_list(ctx, ascii_digits(number.group(0).strip()))
        amount = lone_amount(text)
        if amount is not None and not message.attachment:
            # "20%", "hai trăm", "45 người": a figure without its code, never a question.
            return not_in_list(ctx, amount, pick=False)
        for handler in registry.text_handlers:
            replies = handler(ctx, text)
            if replies is not None:
                return replies
        return [ctx.reply(UNSUPPORTED)]

    def _pick_typed(self, ctx: Context, text: str) -> str | list[Reply] | None:
        """Typed text read by the list's own picker: an entry's own number or name."""
        pickers = self.services.registry.pickers
        seen: set[str] = set()
        for offered in ctx.state.choices:
            prefix = str(offered["value"]).partition(":")[0]
            if prefix in seen or prefix not in pickers:
                continue
            seen.add(prefix)
            picked = pickers[prefix](ctx, text)
            if picked is not None:
                return picked
        return None

    @staticmethod
    def _command(text: str, *, in_flow: bool = False) -> tuple[str, str] | None:
        if text.startswith("/"):
            head, _, argument = text[1:].partition(" ")
            name = head.split("@", 1)[0]
            return fold(name), argument.strip()
        folded = " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())
        if folded in PLAIN_COMMANDS:
            return PLAIN_COMMANDS[folded], ""
        if " ".join(text.lower().split()) in STOP_WORDS:
            return "huy", ""
        if not in_flow and folded in PLAIN_COMMANDS_OUTSIDE_FLOWS:
            return PLAIN_COMMANDS_OUTSIDE_FLOWS[folded], ""
        return None

    @staticmethod
    def _match_offered(ctx: Context, text: str) -> str | None:
        """Map a typed number or option text to the value of a choice offered last."""
        offered = [Choice(str(c["label"]), str(c["value"])) for c in ctx.state.choices]
        if not offered or not text:
            return None
        number = _NUMBER.match(text)
        if number:
            index = int(number.group(1)) - 1
            return offered[index].value if 0 <= index < len(offered) else None
        wanted = _plain(text)
        for choice in offered:
            if wanted and _plain(choice.label) == wanted:
                return choice.value
        return None


CHOICE_HINT = N_("Type a number from 1 to {last} to choose.")
CHOICE_HINT_ONE = N_("Type 1 to choose.")


def add_hints(ctx: Context, replies: list[Reply]) -> None:
    """Tell people on channels without buttons how to pick a choice."""
    for reply in replies:
        if reply.choices and not reply.hint:
            last = len(reply.choices)
            reply.hint = ctx._(CHOICE_HINT, last=last) if last > 1 else ctx._(CHOICE_HINT_ONE)


def _state_snapshot(state: ConversationState) -> str:
    return json.dumps(
        [state.flow, state.step, state.data, state.choices], sort_keys=True, default=str
    )


def _plain(label: str) -> str:
    """Fold a label and drop emoji and punctuation, so "👍 Có" matches "co"."""
    return " ".join(re.sub(r"[^\w\s]", " ", fold(label)).split())
