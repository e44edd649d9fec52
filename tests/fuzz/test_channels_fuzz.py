"""Channel adapters under hostile payloads: Zalo ``parse_update`` and Telegram ``to_incoming``.

Allowed outcomes:
- ``parse_update(payload)`` returns ``None`` or a well-formed ``ZaloUpdate`` (a printable
  chat id that fits the tables, an update key of at most 120 characters, text or ``None``,
  an aware date or ``None``) and never raises, whatever JSON value it is given;
- ``to_incoming(Update.de_json(data))`` returns ``None`` or an ``Incoming`` from the private
  chat with the text exactly as sent; it never raises on an update python-telegram-bot
  could read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.channels.telegram import DOWNLOAD_LIMIT, to_incoming
from bot.channels.zalo import to_incoming as zalo_to_incoming
from bot.channels.zalo_client import ZaloUpdate, parse_update
from bot.core.messages import Incoming
from tests.fuzz.strategies import NASTY, NASTY_OR_LONG

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**300), max_value=10**300),
    st.floats(),
    NASTY,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY, inner, max_size=3),
    max_leaves=10,
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, json_value)


zalo_id = _maybe(st.one_of(st.from_regex(r"[0-9a-f]{20}", fullmatch=True), st.integers(0, 10**20)))
zalo_message = st.fixed_dictionaries(
    {},
    optional={
        "chat": _maybe(st.fixed_dictionaries({}, optional={"id": zalo_id})),
        "from": _maybe(
            st.fixed_dictionaries(
                {},
                optional={"id": zalo_id, "display_name": _maybe(NASTY_OR_LONG), "name": json_value},
            )
        ),
        "text": _maybe(NASTY_OR_LONG),
        "caption": _maybe(NASTY_OR_LONG),
        "message_id": _maybe(st.from_regex(r"[0-9a-f]{32}", fullmatch=True)),
        "date": _maybe(
            st.one_of(
                st.integers(0, 2 * 10**12),
                st.sampled_from(["1750000000000", "nan", "inf", "-1e30", "abc"]),
            )
        ),
        "photo_url": _maybe(st.just("https://example.com/a.jpg")),
        "photo": json_value,
    },
)
zalo_event = st.fixed_dictionaries(
    {"message": _maybe(zalo_message)},
    optional={
        "event_name": _maybe(
            st.sampled_from(
                ["message.text.received", "message.image.received", "message.sticker.received"]
            )
        )
    },
)
# Events shaped like Zalo's, with hostile text and names.
plausible_zalo_event = st.fixed_dictionaries(
    {
        "event_name": st.sampled_from(["message.text.received", "message.image.received"]),
        "message": st.fixed_dictionaries(
            {
                "chat": st.fixed_dictionaries({"id": zalo_id}),
                "from": st.fixed_dictionaries(
                    {"id": zalo_id, "display_name": _maybe(NASTY_OR_LONG)}
                ),
                "text": _maybe(NASTY_OR_LONG),
                "message_id": _maybe(st.from_regex(r"[0-9a-f]{32}", fullmatch=True)),
                "date": st.integers(0, 2 * 10**12),
            },
            optional={"photo_url": NASTY, "caption": NASTY_OR_LONG},
        ),
    }
)
zalo_payload = st.one_of(
    json_value,
    zalo_event,
    plausible_zalo_event,
    st.fixed_dictionaries({"ok": st.just(True), "result": plausible_zalo_event}),
    st.fixed_dictionaries({"ok": _maybe(st.just(True)), "result": _maybe(zalo_event)}),
)


def _check_zalo(update: ZaloUpdate | None) -> None:
    if update is None:
        return
    assert isinstance(update, ZaloUpdate)
    assert isinstance(update.chat_id, str) and update.chat_id.strip()
    assert len(update.chat_id) <= 64 and update.chat_id.isprintable()
    assert len(update.dedupe_key) <= 120
    assert update.kind in ("text", "image", "sticker", "voice", "unsupported")
    assert update.text is None or isinstance(update.text, str)
    assert update.kind != "text" or isinstance(update.text, str)
    assert isinstance(update.display_name, str) and isinstance(update.user_id, str)
    assert update.date is None or update.date.tzinfo is not None
    assert update.photo_url is None or isinstance(update.photo_url, str)
    incoming = zalo_to_incoming(update)
    assert isinstance(incoming, Incoming) and incoming.chat_id == update.chat_id


@settings(max_examples=400, deadline=None)
@given(payload=zalo_payload)
def test_zalo_parse_update_never_raises(payload: Any) -> None:
    update = parse_update(payload)
    event("update" if update is not None else "none")
    _check_zalo(update)


def test_zalo_date_too_large_for_a_float() -> None:
    """A JSON integer beyond a float's range as the date."""
    payload = {"message": {"chat": {"id": "abc"}, "text": "hi", "date": 10**400}}
    _check_zalo(parse_update(payload))


# ------------------------------------------------------------------ Telegram

user = st.fixed_dictionaries(
    {
        "id": st.integers(1, 2**52),
        "is_bot": st.just(False),
        # Telegram requires a first name (an empty one: see the test below).
        "first_name": NASTY_OR_LONG.filter(bool),
    },
    optional={"last_name": NASTY_OR_LONG, "username": NASTY, "language_code": NASTY},
)
chat = st.fixed_dictionaries(
    {
        "id": st.integers(-(2**52), 2**52),
        "type": st.sampled_from(["private", "private", "group", "supergroup", "channel"]),
    },
    optional={"first_name": NASTY_OR_LONG, "title": NASTY_OR_LONG},
)
document = st.fixed_dictionaries(
    {"file_id": NASTY, "file_unique_id": NASTY},
    optional={
        "file_name": NASTY_OR_LONG,
        "mime_type": NASTY,
        # Sizes that are not downloaded: to_incoming then needs no bot.
        "file_size": st.integers(DOWNLOAD_LIMIT + 1, 2**40),
    },
)
message = st.fixed_dictionaries(
    {"message_id": st.integers(1, 2**31), "date": st.integers(0, 2**32), "chat": chat},
    optional={
        "from": user,
        "text": NASTY_OR_LONG,
        "caption": NASTY_OR_LONG,
        "document": document,
        "sticker": st.fixed_dictionaries(
            {
                "file_id": NASTY,
                "file_unique_id": NASTY,
                "width": st.integers(0, 512),
                "height": st.integers(0, 512),
                "is_animated": st.booleans(),
                "is_video": st.booleans(),
                "type": st.just("regular"),
            }
        ),
    },
)
callback = st.fixed_dictionaries(
    {"id": NASTY, "from": user, "chat_instance": NASTY},
    optional={"data": NASTY_OR_LONG, "message": message},
)
telegram_update = st.one_of(
    st.fixed_dictionaries(
        {"update_id": st.integers(0, 2**31)},
        optional={"message": message, "edited_message": message, "callback_query": callback},
    ),
)


@settings(max_examples=200, deadline=None)
@given(data=telegram_update)
def test_telegram_to_incoming_never_raises(data: dict[str, Any]) -> None:
    try:
        update = Update.de_json(data, None)
    except (KeyError, TypeError, ValueError):
        assume(False)  # python-telegram-bot itself refuses it; it never reaches us
        return
    incoming = asyncio.run(to_incoming(update, None))
    event("incoming" if incoming is not None else "none")
    if incoming is None:
        return
    assert isinstance(incoming, Incoming) and incoming.channel == "telegram"
    assert incoming.chat_id.lstrip("-").isdigit()
    assert incoming.update_key == str(data["update_id"])
    assert isinstance(incoming.display_name, str)
    if "callback_query" in data:
        assert incoming.choice == (data["callback_query"].get("data") or "")
        return
    sent = data.get("message") or data.get("edited_message") or {}
    assert sent["chat"]["type"] == "private"
    expected = sent["text"] if "text" in sent else sent.get("caption")
    assert incoming.text == expected
    assert incoming.unsupported == (expected is None and incoming.attachment is None)


def test_telegram_user_with_an_empty_first_name() -> None:
    """The Bot API does not forbid first_name == ""; display_name must still be text."""
    data = {
        "update_id": 8,
        "callback_query": {
            "id": "1",
            "from": {"id": 5, "is_bot": False, "first_name": ""},
            "chat_instance": "1",
            "data": "menu",
        },
    }
    incoming = asyncio.run(to_incoming(Update.de_json(data, None), None))
    assert incoming is not None and isinstance(incoming.display_name, str)


def test_telegram_date_is_read_as_utc() -> None:
    """The one fixed example: a text message as Telegram sends it."""
    data = {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": 1_750_000_000,
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "An\u202e"},
            "text": "vneid 45 \u200b🙂",
        },
    }
    update = Update.de_json(data, None)
    assert update.effective_message is not None
    assert update.effective_message.date == dt.datetime.fromtimestamp(1_750_000_000, dt.UTC)
    incoming = asyncio.run(to_incoming(update, None))
    assert incoming == Incoming(
        channel="telegram",
        chat_id="42",
        display_name="An\u202e",
        text="vneid 45 \u200b🙂",
        update_key="7",
    )
