"""Everything a handler sees for one update: the person, their chat, one DB session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.core.flows import Flow, Step
from bot.core.messages import Choice, Incoming, Reply
from bot.i18n import Translator
from bot.text import fold
from db.models import ChatIdentity, ConversationState, Person, Village

# Names channels and our console give accounts that have none (folded).
PLACEHOLDER_NAMES = frozenset(
    {"khach", "guest", "nguoi dung", "nguoi dung zalo", "user", "zalo user", "unknown"}
)

if TYPE_CHECKING:
    from bot.services import Services


@dataclass
class Context:
    """One unit of work: the handler reads and writes through ``session`` only."""

    session: Session
    message: Incoming
    person: Person
    identity: ChatIdentity
    state: ConversationState
    roles: frozenset[str]
    services: Services
    now: dt.datetime  # aware UTC, from the injected clock
    t: Translator
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    loaded_village: Village | None = None  # came with the chat's query (see load_chat)

    @property
    def person_id(self) -> int:
        assert self.person.id is not None
        return self.person.id

    @property
    def tz(self) -> ZoneInfo:
        return self.services.tz

    @property
    def today(self) -> dt.date:
        """Today's date in the commune's time zone."""
        return self.now.astimezone(self.tz).date()

    def _(self, message: str, **params: Any) -> str:
        """Translate a message id into this person's language."""
        return self.t.gettext(message, **params)

    @property
    def village(self) -> Village | None:
        """The person's own village (team members, residents who said where they live)."""
        wanted = self.person.village_id
        if wanted is None:
            return None
        if self.loaded_village is None or self.loaded_village.id != wanted:
            self.loaded_village = self.session.get(Village, wanted)
        return self.loaded_village

    @property
    def call_name(self) -> str:
        """What to call the person in a greeting: their given name, or "" if we have none.

        Vietnamese names end with the given name ("Nguyễn Văn An" → "An"); placeholders a
        channel shows for nameless accounts ("Khách", "Người dùng") are no name at all.
        """
        name = " ".join(self.person.display_name.split()) if self.person.display_name else ""
        if not name or fold(name) in PLACEHOLDER_NAMES:
            return ""
        return name.split(" ")[-1]

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    # --- flows whose state lives in the database

    def begin(self, step: Step, **data: Any) -> None:
        """Start a multi-step flow at ``step`` (replacing any other)."""
        self.state.flow, self.state.step = step.key
        self.state.data = dict(data)

    def goto(self, step: Step, **data: Any) -> None:
        """Move the current flow to another step, merging data."""
        if step.flow != self.state.flow:
            raise ValueError(f"{step!r} is not a step of flow {self.state.flow!r}")
        self.state.step = step.name
        self.state.data = {**self.state.data, **data}

    def in_flow(self, flow: type[Flow]) -> bool:
        """Whether the person is in the middle of ``flow``."""
        return self.state.flow == flow.name

    def at(self, step: Step) -> bool:
        """Whether the person is at ``step`` of its flow."""
        return (self.state.flow, self.state.step) == step.key

    def finish(self) -> None:
        """Leave the current flow."""
        self.state.flow, self.state.step, self.state.data = None, None, {}

    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    def reply(self, message: str, choices: list[Choice] | None = None, **params: Any) -> Reply:
        """A translated text reply with optional choices."""
        return Reply(text=self._(message, **params), choices=list(choices or []))
