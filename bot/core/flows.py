"""Typed flow steps and button data, after aiogram's ``StatesGroup`` and ``CallbackData``.

A multi-step conversation is a ``Flow`` subclass whose steps are attributes, so a step
name cannot be misspelt in one of two places::

    class ReportFlow(Flow, name="report"):
        period = Step()
        number = Step()

    ctx.begin(ReportFlow.period, values={})
    @registry.step(ReportFlow.number)

The data behind a choice (a Telegram button, a numbered line on Zalo) is a frozen
dataclass deriving from ``Action``, with a short prefix and typed fields::

    @dataclass(frozen=True)
    class ReportAction(Action, prefix="rep"):
        verb: ReportVerb
        value: str = ""

    Choice(label, ReportAction(ReportVerb.PERIOD, "2026-03-01").pack())  # "rep:period:2026-03-01"
    @registry.on_choice(ReportAction)
    def on_report(ctx: Context, data: ReportAction) -> list[Reply]: ...

The prefix also versions buttons still sitting in old chats: a value that no longer
unpacks is answered as a stale choice, never handed to a handler half-parsed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import typing
from typing import Any, ClassVar, Self

# Telegram's callback_data holds 1-64 bytes; Zalo and the console have no limit, but one
# rule for every channel keeps a choice valid wherever it was offered.
MAX_PACKED_BYTES = 64
SEPARATOR = ":"


class Step:
    """One step of a ``Flow``; its name is the attribute it is assigned to."""

    owner: type[Flow]
    name: str

    def __set_name__(self, owner: type[Flow], name: str) -> None:
        self.owner = owner
        self.name = name

    @property
    def flow(self) -> str:
        """The name of the flow this step belongs to (as stored in the database)."""
        return self.owner.name

    @property
    def key(self) -> tuple[str, str]:
        """(flow, step) as stored in ``ConversationState``."""
        return (self.owner.name, self.name)

    def __repr__(self) -> str:
        return f"<Step {self.owner.name}.{self.name}>"


class Flow:
    """A multi-step conversation; subclasses declare their steps as ``Step()`` attributes."""

    name: ClassVar[str]

    def __init_subclass__(cls, *, name: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not name or SEPARATOR in name:
            raise ValueError(f"bad flow name {name!r}")
        cls.name = name

    @classmethod
    def steps(cls) -> tuple[Step, ...]:
        """Every step of the flow, in declaration order."""
        return tuple(value for value in vars(cls).values() if isinstance(value, Step))

    @classmethod
    def step_named(cls, name: str | None) -> Step | None:
        """The step stored under ``name``, if this flow has one."""
        value = vars(cls).get(name or "")
        return value if isinstance(value, Step) else None


class Action:
    """Base of typed choice data: ``prefix:field1:field2…``; subclass as a frozen dataclass.

    Fields may be ``str``, ``int``, ``bool``, ``datetime.date``, an ``Enum`` with string
    values, or ``X | None`` of those (``None`` packs as an empty field). Only the last
    field may contain the separator.
    """

    prefix: ClassVar[str]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or SEPARATOR in prefix:
            raise ValueError(f"bad action prefix {prefix!r}")
        cls.prefix = prefix

    def pack(self) -> str:
        """The choice value for this data; raises ``ValueError`` if it cannot fit a button."""
        parts = [self.prefix]
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        for index, field in enumerate(fields):
            encoded = _encode(getattr(self, field.name))
            if SEPARATOR in encoded and index < len(fields) - 1:
                raise ValueError(f"{type(self).__name__}.{field.name} contains {SEPARATOR!r}")
            parts.append(encoded)
        # Trailing fields left at their default are not written ("rep:ok", not "rep:ok:"),
        # but the separator always is ("bc-send:"): the values offered before typed choices.
        while len(parts) > 1 and _is_default(
            fields[len(parts) - 2], getattr(self, fields[len(parts) - 2].name)
        ):
            parts.pop()
        packed = self.prefix + SEPARATOR + SEPARATOR.join(parts[1:])
        if len(packed.encode("utf-8")) > MAX_PACKED_BYTES:
            raise ValueError(f"{type(self).__name__} packs to more than {MAX_PACKED_BYTES} bytes")
        return packed

    @classmethod
    def unpack(cls, argument: str) -> Self:
        """Rebuild the data from what follows ``prefix:``; ``ValueError`` if it does not fit."""
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        hints = _hints(typing.cast(type, cls))
        raw = argument.split(SEPARATOR, max(len(fields) - 1, 0)) if fields else []
        if argument == "" and fields:
            raw = [""]
        values: dict[str, Any] = {}
        for index, field in enumerate(fields):
            if index < len(raw):
                values[field.name] = _decode(hints[field.name], raw[index])
            elif field.default is dataclasses.MISSING and (
                field.default_factory is dataclasses.MISSING
            ):
                raise ValueError(f"{cls.__name__}: missing {field.name}")
        if len(raw) > len(fields):
            raise ValueError(f"{cls.__name__}: too many parts")
        return cls(**values)


def _is_default(field: dataclasses.Field[Any], value: Any) -> bool:
    return field.default is not dataclasses.MISSING and value == field.default


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _encode(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _decode(hint: Any, raw: str) -> Any:
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else ()
    if options:
        if raw == "" and type(None) in options:
            return None
        (hint,) = [option for option in options if option is not type(None)]
    if hint is str:
        return raw
    if hint is bool:
        if raw not in ("0", "1"):
            raise ValueError(f"not a flag: {raw!r}")
        return raw == "1"
    if hint is int:
        if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 18:
            raise ValueError(f"not a number: {raw!r}")
        return int(raw)
    if hint is dt.date:
        return dt.date.fromisoformat(raw)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(raw)
    raise TypeError(f"unsupported action field type {hint!r}")


_UnionType = type(int | None)
