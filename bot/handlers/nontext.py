"""Messages without text: stickers, voice notes, and what protected people send.

Zalo sends a protected person's message (a child's account, someone with a disability
or who cannot read) as ``message.unsupported.received``, without its content: they get
a kind answer and who can help in person, never "I can only read text". A voice note
gets a warm word and the menu as numbers, and is counted (never kept) so officers see
how many people try voice. A sticker or a 👍 right after a guide is a thank-you.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.context import Context
from bot.core.messages import Reply
from bot.core.registry import Registry
from bot.handlers.guides import FeedbackChoice
from bot.handlers.start import menu_choices
from bot.i18n import N_
from bot.text import clean
from db.models import MessageKindCount

log = logging.getLogger(__name__)

THUMBS_UP = frozenset({"👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "👌", "🙏", "❤️", "♥️"})
COUNTED_KINDS = frozenset({"voice", "protected"})

VOICE = N_(
    "Thank you for your voice message! I can only read typed text, so I could not listen "
    "to it. Type a few words, or choose a number from the menu:"
)
PROTECTED = N_(
    "Hello! I could not see what you sent. You can pick a number from the menu below, "
    "or ask the community digital technology team of your village to help you in person."
)
PROTECTED_VILLAGE = N_(
    "Hello! I could not see what you sent. You can pick a number from the menu below, "
    "or ask the community digital technology team of {village} to help you in person."
)
STICKER = N_("😊 Thank you! Type your question whenever you need, or choose from the menu:")
OTHER = N_("I can only read text messages for now. Please type your question, or type /menu.")


def register(registry: Registry) -> None:
    """Register the answers to stickers, voice notes and protected people's messages."""

    @registry.first
    def without_text(ctx: Context) -> list[Reply] | None:
        """Answer a message without text; a thank-you after a guide goes to its 👍."""
        message = ctx.message
        thanks = message.kind == "sticker" or (
            message.text is not None and clean(message.text) in THUMBS_UP
        )
        if thanks:
            helpful = _offered_thanks(ctx)
            if helpful is not None:
                action = ctx.services.registry.typed_actions[FeedbackChoice.prefix]
                return action.handler(ctx, helpful)
        if not message.unsupported:
            return None
        if message.kind in COUNTED_KINDS:
            count_message(ctx.session, ctx.today, message.channel, message.kind)
        if message.kind == "voice":
            return [ctx.reply(VOICE, menu_choices(ctx))]
        if message.kind == "protected":
            village = ctx.village
            if village is not None:
                return [ctx.reply(PROTECTED_VILLAGE, menu_choices(ctx), village=village.name)]
            return [ctx.reply(PROTECTED, menu_choices(ctx))]
        if message.kind == "sticker":
            return [ctx.reply(STICKER, menu_choices(ctx))]
        return [ctx.reply(OTHER)]


def _offered_thanks(ctx: Context) -> FeedbackChoice | None:
    """The 👍 choice offered last (after a guide), if one was offered."""
    for choice in ctx.state.choices:
        name, _, argument = str(choice.get("value", "")).partition(":")
        if name != FeedbackChoice.prefix:
            continue
        try:
            data = FeedbackChoice.unpack(argument)
        except (ValueError, TypeError):
            continue
        if data.helpful:
            return data
    return None


def count_message(session: Session, day: dt.date, channel: str, kind: str) -> None:
    """Add one to the day's count of a kind of message (no content, no sender)."""
    bump = (
        update(MessageKindCount)
        .where(
            col(MessageKindCount.day) == day,
            col(MessageKindCount.channel) == channel,
            col(MessageKindCount.kind) == kind,
        )
        .values(count=col(MessageKindCount.count) + 1)
    )
    if session.execute(bump).rowcount:  # type: ignore[attr-defined]
        return
    try:
        with session.begin_nested():
            session.add(MessageKindCount(day=day, channel=channel, kind=kind, count=1))
    except IntegrityError:  # another chat counted the first one at the same moment
        session.execute(bump)


def message_counts(session: Session, since: dt.date) -> dict[tuple[str, str], int]:
    """How many messages of each (channel, kind) came since a day, for officers."""
    rows = session.exec(select(MessageKindCount).where(col(MessageKindCount.day) >= since)).all()
    totals: dict[tuple[str, str], int] = {}
    for row in rows:
        totals[(row.channel, row.kind)] = totals.get((row.channel, row.kind), 0) + row.count
    return totals
