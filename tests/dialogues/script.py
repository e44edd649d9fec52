"""The dialogue file format: who talks, in which commune state, and what they type.

A dialogue file (``cases/<role>/<feature>.yaml``) holds defaults for its dialogues and a
list of dialogues; see ``tests/dialogues/README.md`` for the format, written for people
who do not program. This module only reads and validates the files; ``runner.py`` plays
them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

CASES = Path(__file__).parent / "cases"
CHANNELS = ("console", "telegram", "zalo")
ROLES = ("resident", "team", "leader", "officer", "office", "commune_leader", "admin")
# The role names of the file format and the roles an invite code gives.
INVITE_ROLES = {
    "team": "team",
    "leader": "leader",
    "officer": "unit",
    "office": "office",
    "commune_leader": "commune_leader",
    "admin": "admin",
}
DEFAULT_VILLAGE = "Xóm 3"
DEFAULT_UNIT = "Phòng Văn hóa - Xã hội"
VN = dt.timezone(dt.timedelta(hours=7))
# Tuesday 10 March 2026, 09:00 in Vietnam (the suite's usual "now", see tests/conftest.py).
DEFAULT_NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=VN)

# The items of issue #13 a dialogue may be expected to fail on (`xfail: "#13: <item>"`).
ISSUE_ITEMS = {
    "choice numbers": "a number in a label collides with the choice number; own numbers open",
    "input inside a flow": "digits, ok, cảm ơn, hướng dẫn or a stray word are not guide questions",
    "draft never lost": "corrections edit the draft; what will be recorded is shown first",
    "percentages and number words": "20%, hai trăm, 1,200 and a code without a number",
    "guided report advice": "the guided /baocao gives advice that fits the step",
    "unlinked person reporting": "a report from somebody not linked says how to link",
    "flagged values visible": "a confirmed drop or jump stays marked until cleared",
    "word targets": "targets written as words (Đạt, Liên thông)",
    "announcement audiences": "/thongbao offers audiences that exist, with counts",
    "dates and periods in words": "tháng 12/2026, quý IV/2026; household businesses are not people",
    "greeting by name": "the greeting uses the person's name or none",
    "thanks gets a short answer": "cảm ơn gets a short Không có gì ạ",
    "guides fit a small phone": "summary first, pages with Tiếp, no team notes, no bấm without buttons",
    "short start and help": "/start and /trogiup show at most 6 items for the person's roles",
    "tocns chat --role": "tocns chat --as NAME --role ROLE tries one role",
    "README example without warning": "the README's example report works on the sample data",
}
# The items of issue #15 (search) a dialogue may be expected to fail on (`xfail: "#15: …"`).
SEARCH_ITEMS = {
    "confident on correct answers": "a plain question for one guide opens it without asking",
}
_ACTIONS = ("type", "pick", "photo")
_CHECK_KEYS = ("expect", "avoid", "max_lines", "max_choices", "max_items", "unanswered")
_TURN_KEYS = {*_ACTIONS, *_CHECK_KEYS, *CHANNELS, "on", "at", "note"}
_PERSONA_KEYS = {"role", "name", "village", "unit", "locale"}
_DIALOGUE_KEYS = {
    "name",
    "who",
    "state",
    "turns",
    "channels",
    "xfail",
    "xfail_on",
    "covers",
    "launch",
    "unanswered",
    "note",
}
_STATE_KEYS = {"history", "date", "others"}
_FILE_KEYS = {"about", "who", "state", "channels", "unanswered", "dialogues"}


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when PyYAML has it


class ScriptError(ValueError):
    """A dialogue file that does not follow the format (a mistake in the test, not the bot)."""


def fold(text: str) -> str:
    """Lower-case, without diacritics (đ → d), whitespace collapsed: for loose comparisons."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    plain = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(plain.replace("đ", "d").split())


@dataclass(frozen=True)
class Persona:
    """Somebody talking to the bot, set up through the real code (invite codes, /thon)."""

    roles: tuple[str, ...] = ("resident",)
    name: str | None = "Nguyễn Văn An"
    village: str | None = None
    unit: str | None = None
    locale: str = "vi"

    def describe(self) -> str:
        place = self.village or self.unit
        roles = "+".join(self.roles)
        return f"{self.name or '(no name)'} ({roles}{', ' + place if place else ''})"


@dataclass(frozen=True)
class Pattern:
    """One thing to look for in an answer: plain text, loose text (``~``) or a regex (``re:``)."""

    source: str

    @property
    def kind(self) -> str:
        if self.source.startswith("re:"):
            return "regex"
        if self.source.startswith("~"):
            return "loose"
        return "text"

    def found_in(self, answer: str) -> bool:
        if self.kind == "regex":
            return re.search(self.source[3:].strip(), answer, re.MULTILINE) is not None
        if self.kind == "loose":
            return fold(self.source[1:]) in fold(answer)
        return self.source in answer


@dataclass(frozen=True)
class Checks:
    """What an answer must and must not contain, and how big it may be."""

    expect: tuple[Pattern, ...] = ()
    avoid: tuple[Pattern, ...] = ()
    max_lines: int | None = None  # lines of any one message (Telegram and Zalo)
    max_choices: int | None = None  # choices (buttons or numbered choices) offered
    max_items: int | None = None  # choices plus listed commands ("/start – …" lines)
    unanswered: bool | None = None  # whether this turn may be logged as unanswered

    def merged(self, other: Checks) -> Checks:
        """These checks and ``other``'s (channel-specific ones add to the common ones)."""
        return Checks(
            expect=self.expect + other.expect,
            avoid=self.avoid + other.avoid,
            max_lines=other.max_lines if other.max_lines is not None else self.max_lines,
            max_choices=other.max_choices if other.max_choices is not None else self.max_choices,
            max_items=other.max_items if other.max_items is not None else self.max_items,
            unanswered=other.unanswered if other.unanswered is not None else self.unanswered,
        )

    @property
    def empty(self) -> bool:
        return self == Checks()


@dataclass(frozen=True)
class Turn:
    """One thing the person does, and the checks on the bot's answer."""

    action: str  # "type" | "pick" | "photo"
    value: str
    checks: Checks = Checks()
    per_channel: Mapping[str, Checks] = field(default_factory=dict)
    on: tuple[str, ...] = CHANNELS
    at: dt.datetime | None = None

    def checks_on(self, channel: str) -> Checks:
        extra = self.per_channel.get(channel)
        return self.checks.merged(extra) if extra is not None else self.checks

    def describe(self) -> str:
        if self.action == "pick":
            return f"(picks {self.value})"
        if self.action == "photo":
            return f"(sends a photo{': ' + self.value if self.value else ''})"
        return self.value


@dataclass(frozen=True)
class Other:
    """Somebody else who acts before the dialogue starts (part of the commune's state)."""

    who: Persona
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class State:
    """The sample commune as the dialogue needs it."""

    history: bool = False  # four months of invented past tallies (as `make run` loads)
    now: dt.datetime = DEFAULT_NOW
    others: tuple[Other, ...] = ()


@dataclass(frozen=True)
class Dialogue:
    """A scripted conversation, played on each of its channels."""

    file: str  # relative to cases/, without .yaml
    name: str
    who: Persona
    turns: tuple[Turn, ...]
    state: State = State()
    channels: tuple[str, ...] = CHANNELS
    xfail: str | None = None
    xfail_on: tuple[str, ...] = CHANNELS
    covers: str | None = None  # the issue item a passing dialogue checks (was its xfail)
    launch: str | None = None  # console only: a `tocns chat …` command line to run
    line: int = 0

    def __repr__(self) -> str:
        return f"<dialogue {self.id}>"

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", fold(self.name)).strip("-")
        return f"{self.file}::{slug}"

    def expected_to_fail_on(self, channel: str) -> bool:
        return self.xfail is not None and channel in self.xfail_on


# ------------------------------------------------------------------ reading


def _as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str | int | float):
        return [value]
    raise ScriptError(f"{what}: expected a text or a list, got {value!r}")


def _channels(value: Any, what: str) -> tuple[str, ...]:
    channels = tuple(str(c) for c in _as_list(value, what))
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown or not channels:
        raise ScriptError(f"{what}: channels are {', '.join(CHANNELS)}; got {value!r}")
    return channels


def _unknown(data: Mapping[str, Any], allowed: set[str], what: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ScriptError(f"{what}: unknown key(s) {', '.join(extra)}")


def _time(value: Any, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(9, 0), VN)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError as error:
        raise ScriptError(f"{what}: write a date like 2026-03-10 09:00, got {value!r}") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN)


def read_persona(data: Any, base: Persona, what: str) -> Persona:
    if data is None:
        return base
    if not isinstance(data, dict):
        raise ScriptError(f"{what}: `who` is a mapping (role, name, village, unit, locale)")
    _unknown(data, _PERSONA_KEYS, what)
    roles = (
        tuple(str(r) for r in _as_list(data["role"], what + " role"))
        if "role" in data
        else base.roles
    )
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ScriptError(f"{what}: roles are {', '.join(ROLES)}; got {bad}")
    persona = replace(
        base,
        roles=roles,
        name=data.get("name", base.name),
        village=data.get("village", base.village),
        unit=data.get("unit", base.unit),
        locale=str(data.get("locale", base.locale)),
    )
    if persona.locale not in ("vi", "en"):
        raise ScriptError(f"{what}: locale is vi or en")
    if persona.name is not None:
        persona = replace(persona, name=str(persona.name))
    if any(r in ("team", "leader") for r in roles) and persona.village is None:
        persona = replace(persona, village=DEFAULT_VILLAGE)
    if "officer" in roles and persona.unit is None:
        persona = replace(persona, unit=DEFAULT_UNIT)
    return persona


def read_checks(data: Mapping[str, Any], what: str) -> Checks:
    def patterns(key: str) -> tuple[Pattern, ...]:
        items = _as_list(data.get(key), f"{what} {key}")
        for item in items:
            if isinstance(item, str) and item.startswith("re:"):
                try:
                    re.compile(item[3:].strip())
                except re.error as error:
                    raise ScriptError(f"{what}: bad regex {item!r}: {error}") from error
        return tuple(Pattern(str(item)) for item in items)

    def number(key: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ScriptError(f"{what}: {key} is a whole number")
        return value

    unanswered = data.get("unanswered")
    if unanswered is not None and not isinstance(unanswered, bool):
        raise ScriptError(f"{what}: unanswered is yes or no")
    return Checks(
        expect=patterns("expect"),
        avoid=patterns("avoid"),
        max_lines=number("max_lines"),
        max_choices=number("max_choices"),
        max_items=number("max_items"),
        unanswered=unanswered,
    )


def read_turn(data: Any, what: str) -> Turn:
    if isinstance(data, str):  # a bare line is something typed
        data = {"type": data}
    if not isinstance(data, dict):
        raise ScriptError(f"{what}: a turn is a mapping such as `type: /start`")
    _unknown(data, _TURN_KEYS, what)
    actions = [key for key in _ACTIONS if key in data]
    if len(actions) != 1:
        raise ScriptError(f"{what}: say exactly one of type, pick or photo")
    action = actions[0]
    raw = data[action]
    if action == "type" and not isinstance(raw, str | int | float):
        raise ScriptError(f"{what}: `type` is the text typed (quote it if it is a number)")
    value = "" if raw is None else str(raw)
    if action != "photo" and not value.strip():
        raise ScriptError(f"{what}: `{action}` needs a value")
    per_channel = {}
    for channel in CHANNELS:
        if channel in data:
            extra = data[channel]
            if not isinstance(extra, dict):
                raise ScriptError(f"{what}: `{channel}:` holds checks (expect, avoid…)")
            _unknown(extra, set(_CHECK_KEYS), f"{what} {channel}")
            per_channel[channel] = read_checks(extra, f"{what} {channel}")
    return Turn(
        action=action,
        value=value,
        checks=read_checks(data, what),
        per_channel=per_channel,
        on=_channels(data["on"], what) if "on" in data else CHANNELS,
        at=_time(data["at"], what) if "at" in data else None,
    )


def read_state(data: Any, base: State, what: str) -> State:
    if data is None:
        return base
    if not isinstance(data, dict):
        raise ScriptError(f"{what}: `state` is a mapping (history, date, others)")
    _unknown(data, _STATE_KEYS, what)
    others = list(base.others)
    for index, raw in enumerate(_as_list(data.get("others"), what + " others"), 1):
        if not isinstance(raw, dict) or "who" not in raw:
            raise ScriptError(f"{what} others #{index}: give `who` and `turns`")
        _unknown(raw, {"who", "turns"}, f"{what} others #{index}")
        who = read_persona(raw["who"], Persona(name=None), f"{what} others #{index}")
        if who.name is None:
            who = replace(who, name=f"Người thứ {index + 1}")
        turns = tuple(
            read_turn(t, f"{what} others #{index} turn {n}")
            for n, t in enumerate(_as_list(raw.get("turns"), "turns"), 1)
        )
        others.append(Other(who, turns))
    history = data.get("history", base.history)
    if not isinstance(history, bool):
        raise ScriptError(f"{what}: history is yes or no")
    return State(
        history=history,
        now=_time(data["date"], what) if "date" in data else base.now,
        others=tuple(others),
    )


def read_file(path: Path, root: Path = CASES) -> list[Dialogue]:
    """All dialogues of one file, defaults applied."""
    relative = path.relative_to(root).with_suffix("").as_posix()
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as error:
        raise ScriptError(f"{relative}: not valid YAML: {error}") from error
    if not isinstance(document, dict) or "dialogues" not in document:
        raise ScriptError(f"{relative}: a file has `dialogues:` (and optional defaults)")
    _unknown(document, _FILE_KEYS, relative)
    who = read_persona(document.get("who"), Persona(), relative)
    state = read_state(document.get("state"), State(), relative)
    channels = _channels(document["channels"], relative) if "channels" in document else CHANNELS
    lines = _dialogue_lines(path)
    dialogues = []
    for index, raw in enumerate(document["dialogues"] or []):
        what = f"{relative} dialogue #{index + 1}"
        if not isinstance(raw, dict) or "name" not in raw or "turns" not in raw:
            raise ScriptError(f"{what}: a dialogue has a `name` and `turns`")
        _unknown(raw, _DIALOGUE_KEYS, what)
        what = f"{relative} “{raw['name']}”"
        unanswered = raw.get("unanswered", document.get("unanswered"))
        turns = tuple(
            read_turn(t, f"{what} turn {n}") for n, t in enumerate(_as_list(raw["turns"], what), 1)
        )
        if unanswered is not None:
            if not isinstance(unanswered, bool):
                raise ScriptError(f"{what}: unanswered is yes or no")
            turns = tuple(
                t
                if t.checks.unanswered is not None
                else replace(t, checks=replace(t.checks, unanswered=unanswered))
                for t in turns
            )
        xfail = raw.get("xfail")
        known = {f"#13: {item}" for item in ISSUE_ITEMS} | {f"#15: {i}" for i in SEARCH_ITEMS}
        if xfail is not None and str(xfail) not in known:
            raise ScriptError(
                f"{what}: xfail names an item of issue #13 or #15, one of: "
                + ", ".join(f'"{item}"' for item in sorted(known))
            )
        covers = raw.get("covers")
        if covers is not None and str(covers) not in known:
            raise ScriptError(
                f"{what}: covers names an item of issue #13 or #15, one of: "
                + ", ".join(f'"{item}"' for item in sorted(known))
            )
        dialogue_channels = _channels(raw["channels"], what) if "channels" in raw else channels
        launch = raw.get("launch")
        if launch is not None and dialogue_channels != ("console",):
            raise ScriptError(f"{what}: `launch` dialogues run on the console only")
        dialogue = Dialogue(
            file=relative,
            name=str(raw["name"]),
            who=read_persona(raw.get("who"), who, what),
            turns=turns,
            state=read_state(raw.get("state"), state, what),
            channels=dialogue_channels,
            xfail=str(xfail) if xfail is not None else None,
            xfail_on=_channels(raw["xfail_on"], what) if "xfail_on" in raw else CHANNELS,
            covers=str(covers) if covers is not None else None,
            launch=str(launch) if launch is not None else None,
            line=lines[index] if index < len(lines) else 0,
        )
        names = [dialogue.who.name] + [o.who.name for o in dialogue.state.others]
        if len(set(names)) != len(names):
            raise ScriptError(f"{what}: every person needs a different name")
        dialogues.append(dialogue)
    return dialogues


def _dialogue_lines(path: Path) -> list[int]:
    """Line numbers of the dialogues' `- name:` entries, for messages."""
    return [
        number
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"^\s*-\s+name:", line)
    ]


def all_dialogues(root: Path = CASES) -> Iterator[Dialogue]:
    """Every dialogue under ``cases/``, file by file; ids are unique."""
    seen: dict[str, str] = {}
    for path in sorted(root.rglob("*.yaml")):
        for dialogue in read_file(path, root):
            if dialogue.id in seen:
                raise ScriptError(f"two dialogues are called {dialogue.id}")
            seen[dialogue.id] = dialogue.file
            yield dialogue
