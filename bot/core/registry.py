"""What each feature handles: commands, button actions, flow steps and free text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bot.core.flows import Action, Step

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.messages import Reply

Replies = list["Reply"]
CommandHandler = Callable[["Context", str], Replies]
StepHandler = Callable[["Context", str], Replies]
TextHandler = Callable[["Context", str], "Replies | None"]
FirstHandler = Callable[["Context"], "Replies | None"]
A = TypeVar("A", bound=Action)
TypedActionHandler = Callable[["Context", Any], Replies]
# What a person typed after a list, read as one of its entries: the value of the choice
# it means, a reply (e.g. which numbers are valid), or None when it means none of them.
Picker = Callable[["Context", str], "str | Replies | None"]


@dataclass(frozen=True)
class TypedAction:
    """A choice handler with the data class its values unpack into."""

    data: type[Action]
    handler: TypedActionHandler


@dataclass(frozen=True)
class Command:
    """A slash command with its Vietnamese name first, then aliases."""

    names: tuple[str, ...]
    handler: CommandHandler
    description: str  # English msgid, shown in the command list
    roles: frozenset[str] | None = None  # None: everyone
    published: bool = True  # listed with setMyCommands and in /trogiup


@dataclass
class Registry:
    """Everything the bot can handle, filled by each feature's ``register`` function."""

    commands: dict[str, Command] = field(default_factory=dict)
    ordered_commands: list[Command] = field(default_factory=list)
    typed_actions: dict[str, TypedAction] = field(default_factory=dict)
    steps: dict[tuple[str, str], StepHandler] = field(default_factory=dict)
    text_handlers: list[TextHandler] = field(default_factory=list)
    first_handlers: list[FirstHandler] = field(default_factory=list)
    pickers: dict[str, Picker] = field(default_factory=dict)

    def command(
        self,
        *names: str,
        description: str,
        roles: frozenset[str] | None = None,
        published: bool = True,
    ) -> Callable[[CommandHandler], CommandHandler]:
        """Register a command under all its names."""

        def decorator(handler: CommandHandler) -> CommandHandler:
            entry = Command(names, handler, description, roles, published)
            for name in names:
                if name in self.commands:
                    raise ValueError(f"command /{name} registered twice")
                self.commands[name] = entry
            self.ordered_commands.append(entry)
            return handler

        return decorator

    def on_choice(
        self, data: type[A]
    ) -> Callable[[Callable[[Context, A], Replies]], Callable[[Context, A], Replies]]:
        """Register the handler of choices packed from ``data`` (an ``Action`` subclass)."""

        def decorator(
            handler: Callable[[Context, A], Replies],
        ) -> Callable[[Context, A], Replies]:
            if data.prefix in self.typed_actions:
                raise ValueError(f"action {data.prefix} registered twice")
            self.typed_actions[data.prefix] = TypedAction(data, handler)
            return handler

        return decorator

    def step(self, step: Step) -> Callable[[StepHandler], StepHandler]:
        """Register what a flow does with text typed at one of its steps."""
        key = step.key

        def decorator(handler: StepHandler) -> StepHandler:
            if key in self.steps:
                raise ValueError(f"step {key} registered twice")
            self.steps[key] = handler
            return handler

        return decorator

    def picker(self, data: type[Action]) -> Callable[[Picker], Picker]:
        """Register how typed text picks from a list of ``data`` choices by the entries' own
        numbers or names (a task's number, an indicator's text), not their positions."""

        def decorator(handler: Picker) -> Picker:
            if data.prefix in self.pickers:
                raise ValueError(f"picker for {data.prefix} registered twice")
            self.pickers[data.prefix] = handler
            return handler

        return decorator

    def text(self, handler: TextHandler) -> TextHandler:
        """Register a free-text handler; the first that returns replies wins."""
        self.text_handlers.append(handler)
        return handler

    def first(self, handler: FirstHandler) -> FirstHandler:
        """Register a handler that sees every message before routing (None: route as usual).

        For what changes the rules of a whole conversation: a group chat, where most
        commands and flows are not allowed, and messages without text.
        """
        self.first_handlers.append(handler)
        return handler
