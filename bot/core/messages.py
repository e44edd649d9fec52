"""The channel-neutral conversation model: what comes in and what goes out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from bot.charts.spec import ChartSpec

# The longest text one message may carry on each channel (Telegram counts UTF-16 units;
# our texts are Vietnamese, so characters and units coincide).
TEXT_LIMITS = {"telegram": 4096, "zalo": 2000, "console": 2000}


@dataclass(frozen=True)
class Attachment:
    """A photo, document or link a person sent."""

    kind: str  # "photo" | "document" | "link"
    file_id: str = ""
    file_name: str = ""
    mime_type: str = ""
    size: int | None = None
    url: str = ""
    data: bytes | None = None  # the file's bytes, fetched by the channel when small enough


@dataclass(frozen=True)
class Incoming:
    """One message or button press from a person, whatever the channel."""

    channel: str  # "telegram" | "zalo" | "console"
    chat_id: str
    display_name: str = ""
    text: str | None = None
    choice: str | None = None  # an option's value chosen with a button
    attachment: Attachment | None = None
    update_key: str | None = None  # the channel's id of this delivery, for dedupe
    unsupported: bool = False  # a sticker, a voice note...
    kind: str = ""  # what a non-text message was: "sticker" | "voice" | "protected" | ""
    sender_id: str = ""  # in a group: the person who wrote (``chat_id`` is the group)
    # In a group: the channel documents that the sender's user id is also their private
    # chat id with the bot (Telegram). Zalo does not, so a Zalo sender's id is not written
    # to privately until they write privately (``ChatIdentity.private``).
    sender_private: bool = False
    group: bool = False  # written in a group chat: replies go to everyone in it
    message_id: str = ""  # in a group, the message answered (Telegram threads the reply)

    @property
    def person_chat_id(self) -> str:
        """The chat that identifies the person: their own chat id, or in a group their user id.

        Telegram documents that a private chat's id is the user's id, so someone writing in
        a group is the same person as in their private chat with the bot. Zalo's docs show
        ``from.id`` equal to ``chat.id`` in a private chat and say nothing of a group's
        ``from.id``: the same person is assumed for identity and roles (their report in the
        group counts as theirs), but see ``person_chat_private`` for sending to it.
        """
        return (self.sender_id or self.chat_id) if self.group else self.chat_id

    @property
    def person_chat_private(self) -> bool:
        """Whether ``person_chat_id`` is known to be a private chat the bot may write to."""
        return not self.group or (self.sender_private and bool(self.sender_id))

    @property
    def state_chat_id(self) -> str:
        """Where this person's conversation state is kept: per person, and per group.

        A group message never moves the person's private conversation along, and two
        members of one group never share a state.
        """
        if not self.group:
            return self.chat_id
        key = f"{self.chat_id}|{self.person_chat_id}"
        if len(key) <= 64:
            return key
        return "g#" + hashlib.sha256(key.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Choice:
    """An option offered to a person: a button on Telegram, a numbered line elsewhere."""

    label: str
    value: str


@dataclass
class Reply:
    """Something the bot says: text, optional choices, and an optional image or file."""

    text: str = ""
    choices: list[Choice] = field(default_factory=list)
    image: bytes | None = None
    image_name: str = "chart.png"
    image_url: str = ""  # for channels that can only send photos by URL (Zalo)
    chart: ChartSpec | None = None  # drawn into ``image`` after the transaction
    file: bytes | None = None
    file_name: str = ""
    file_url: str = ""  # for channels that cannot send documents (Zalo)
    edit: bool = False  # replace the message the button was on, where the channel can
    hint: str = ""  # how to pick a choice by typing, for channels without buttons

    def to_dict(self) -> dict[str, object]:
        """Serialise the text parts (for the outbox); images and files are not stored."""
        return {
            "text": self.text,
            "choices": [{"label": c.label, "value": c.value} for c in self.choices],
            "hint": self.hint,
            "image_url": self.image_url,
            "file_url": self.file_url,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Reply:
        """Rebuild a reply stored with ``to_dict``."""
        raw_choices = data.get("choices") or []
        assert isinstance(raw_choices, list)
        return cls(
            text=str(data.get("text", "")),
            choices=[Choice(str(c["label"]), str(c["value"])) for c in raw_choices],
            hint=str(data.get("hint", "")),
            image_url=str(data.get("image_url", "")),
            file_url=str(data.get("file_url", "")),
        )

    def numbered_text(self) -> str:
        """The text with its choices as numbered lines (Zalo, console)."""
        if not self.choices:
            return self.text
        lines = [f"{index}. {choice.label}" for index, choice in enumerate(self.choices, 1)]
        parts = [self.text, "\n".join(lines)] if self.text else ["\n".join(lines)]
        if self.hint:
            parts.append(self.hint)
        return "\n\n".join(parts)
