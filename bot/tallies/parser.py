"""Read a one-line tally report ("vneid 45 cks 12", "bc định danh 120 chu ky so 33").

The text is folded character by character (lower case, no diacritics, đ → d) while
keeping a map back to the original characters, so errors can quote exactly what the
person typed. One precompiled scanner splits the folded text into labels (codes and
aliases), numbers, filler words ("người", "là"…), unknown words and separators; a
small state machine pairs each label with the number after it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.errors import ReadableError
from bot.i18n import N_
from bot.tallies.codes import folded_aliases
from bot.text import fold, shorten

MAX_VALUE = 10_000_000
_MAX_DIGITS = len(str(MAX_VALUE))
_MAX_QUOTE = 40  # longest piece of the person's text quoted back in an error

MSG_UNKNOWN_LABEL = N_(
    "I don't understand “{label}”. Use the codes: vneid, cks, ssk, tknh, dvc, kns, ttktm. "
    "Example: vneid 45 cks 12"
)
MSG_NEGATIVE = N_(
    "The number for “{label}” cannot be negative ({number}). "
    "Send the count of people, for example: {label} 45"
)
MSG_NOT_INTEGER = N_(
    "The number for “{label}” must be a whole number ({number}). "
    "Send the count of people, for example: {label} 45"
)
MSG_CONFLICTING_DUPLICATE = N_(
    "“{code}” appears twice with different numbers ({first} and {second}). "
    "Send it once with the right number."
)
MSG_MISSING_NUMBER = N_(
    "“{label}” has no number. Write the number right after it, for example: {label} 45"
)
MSG_TOO_LARGE = N_(
    "The number for “{label}” is too large ({number}). The most allowed is {limit}. "
    "Check the number and send it again."
)
MSG_EMPTY = N_("I found nothing to record. Write a code and a number, for example: vneid 45 cks 12")
MSG_PERCENT = N_(
    "“{label}” is a count of people, not a percentage ({number}). "
    "Send the number of people, for example: {label} 45"
)
MSG_MISSING_LABEL = N_(
    "The number {number} has no code in front of it. "
    "Write the code first, for example: vneid 45 cks 12"
)

KINDS = (
    "unknown_label",
    "negative",
    "not_integer",
    "conflicting_duplicate",
    "missing_number",
    "too_large",
    "empty",
    "missing_label",
    "percent",
)

MESSAGES: dict[str, str] = {
    "unknown_label": MSG_UNKNOWN_LABEL,
    "negative": MSG_NEGATIVE,
    "not_integer": MSG_NOT_INTEGER,
    "conflicting_duplicate": MSG_CONFLICTING_DUPLICATE,
    "missing_number": MSG_MISSING_NUMBER,
    "too_large": MSG_TOO_LARGE,
    "empty": MSG_EMPTY,
    "missing_label": MSG_MISSING_LABEL,
    "percent": MSG_PERCENT,
}


class TallyParseError(ReadableError, ValueError):
    """A tally message that cannot be recorded, with a translatable explanation.

    ``kind`` (one of ``KINDS``) says what is wrong, for tests and logs.
    """

    def __init__(self, kind: str, message_id: str, **params: Any) -> None:
        super().__init__(message_id, **params)
        self.kind = kind


def _error(kind: str, **params: Any) -> TallyParseError:
    return TallyParseError(kind, MESSAGES[kind], **params)


# --- folding with a map back to the original text ---------------------------------


@functools.lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch.isspace():
        return " "
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
        return ""
    decomposed = unicodedata.normalize("NFD", ch.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").replace("đ", "d")


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """Fold like ``bot.text.fold`` (without collapsing spaces) and map each folded char back."""
    pieces: list[str] = []
    positions: list[int] = []
    for index, ch in enumerate(text):
        folded = ch if ("a" <= ch <= "z" or "0" <= ch <= "9" or ch == " ") else _fold_char(ch)
        if folded:
            pieces.append(folded)
            positions.extend([index] * len(folded))
    return "".join(pieces), positions


# --- the scanner -------------------------------------------------------------------

_LETTER = r"[^\W\d_]"
_VNEID_SUFFIX = r"(?:\s*(?:muc|m)\s*2(?!\d))?"


def _alias_pattern(alias: str, code: str) -> str:
    body = r"\s*".join(re.escape(word) for word in alias.split())
    if code == "vneid" and not alias.endswith("muc 2"):
        body += _VNEID_SUFFIX
    return body


_ALIASES = folded_aliases()
_ALIAS_ORDER = sorted(_ALIASES, key=len, reverse=True)
_ALIAS_RE = "|".join(_alias_pattern(alias, _ALIASES[alias]) for alias in _ALIAS_ORDER)

_FILLERS = (
    "nguoi dan",
    "nguoi",
    "ng",
    "truong hop",
    "ho kinh doanh",
    "ho",
    "la",
    "duoc",
    "co",
    "dat",
    "va",
    "voi",
)
_FILLER_RE = "|".join(r"\s+".join(map(re.escape, f.split())) for f in _FILLERS)

# A minus sign counts as a sign only when it is not glued to a word or a number
# ("vneid -1" is negative; "vneid-45" and "10-12" use the dash as a separator).
_NUMBER_RE = r"(?:(?<![^\s:=;,(\[])[-−–](?=\d))?\d+(?:[.,]\d+)*"

# Numbers written in words, folded: "hai tram nam muoi" (250), "mot nghin hai tram" (1200).
_DIGIT_WORDS = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "lam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
_SCALE_WORDS = {"muoi": 10, "tram": 100, "nghin": 1000, "ngan": 1000, "trieu": 1_000_000}
_SKIP_WORDS = {"linh", "le"}
_NUMBER_WORD = "|".join(sorted({*_DIGIT_WORDS, *_SCALE_WORDS, *_SKIP_WORDS}, key=len, reverse=True))
_NUMBER_WORDS_RE = rf"(?:{_NUMBER_WORD})(?:\s+(?:{_NUMBER_WORD}))*"
_PERCENT_RE = r"\s*(?:%|phan\s*tram)"

_SCANNER = re.compile(
    rf"(?<!{_LETTER})(?P<alias>{_ALIAS_RE})(?!{_LETTER})"
    rf"|(?P<number>{_NUMBER_RE})(?P<percent>{_PERCENT_RE})?"
    rf"|(?<!{_LETTER})(?P<words>{_NUMBER_WORDS_RE})(?!{_LETTER})(?P<wpercent>{_PERCENT_RE})?"
    rf"|(?<!{_LETTER})(?P<filler>{_FILLER_RE})(?!{_LETTER})"
    rf"|(?P<word>{_LETTER}+)"
)
_PREFIX = re.compile(r"^[\W_]*(?:bc|bao\s*cao)(?!" + _LETTER + r")")
# What people say around their figures: "tôi báo vneid 30 nhé", "em gửi số liệu: …, ạ".
# Only the reading skips these; whether a message is a tally at all is told as before.
_CHATTER_HEAD = re.compile(
    r"^[\W_]*(?:(?:toi|em|minh|anh|chi|con|chau|to)\s+)?(?:xin\s+)?"
    r"(?:bc|bao\s*cao|bao|gui)(?:\s+(?:so\s*lieu|so))?(?!" + _LETTER + r")"
)
_CHATTER_TAIL = re.compile(
    r"(?:[\W_]*(?<![^\W\d_])(?:nhe|nha|nhen|a|ha|cam\s+on|nhe\s+a|a\s+nhe)(?!" + _LETTER + r"))+"
    r"[\W_]*$"
)
_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+|[1-9]\d{0,2}(?:,\d{3})+")
_ALIAS_ONLY = re.compile(rf"(?<!{_LETTER})(?:{_ALIAS_RE})(?!{_LETTER})")
# A number in words counts only where a figure would end: "vneid hai tram cks 12" is a
# tally, "cập nhật vneid sau sáp nhập" ("after", folded like "sáu") is a question.
_AFTER_NUMBER_WORDS = (
    rf"(?!{_LETTER})(?=[\s:=,;.\-]*(?:$|[^\w\s]|\d|(?:{_ALIAS_RE}|{_FILLER_RE})(?!{_LETTER})))"
)
_ALIAS_THEN_NUMBER = re.compile(
    rf"(?<!{_LETTER})(?:{_ALIAS_RE})[\s:=,;.\-]*(?:{_FILLER_RE})?[\s:=,;.\-]*"
    rf"(?:\d|(?:{_NUMBER_WORDS_RE}){_AFTER_NUMBER_WORDS})"
)
_QUESTION_WORDS = re.compile(
    r"(?<!\w)(?:sao|the nao|gi|nao|bao nhieu|o dau|huong dan|cach|tai sao|khong|chua|hoi"
    r"|giup|duoc khong|can)(?!\w)"
)


def _value_of(raw: str, label: str) -> int:
    """Turn a number token into a count, or raise the matching error."""
    if raw[0] in "-−–":
        raise _error("negative", label=label, number=shorten(raw, _MAX_QUOTE))
    if ("," in raw or "." in raw) and not _THOUSANDS.fullmatch(raw):
        raise _error("not_integer", label=label, number=shorten(raw, _MAX_QUOTE))
    plain = raw.replace(".", "").replace(",", "").lstrip("0") or "0"
    if len(plain) > _MAX_DIGITS:
        raise _error("too_large", label=label, number=shorten(raw, _MAX_QUOTE), limit="10.000.000")
    value = int(plain)
    if value > MAX_VALUE:
        raise _error("too_large", label=label, number=shorten(raw, _MAX_QUOTE), limit="10.000.000")
    return value


def words_value(words: str) -> int | None:
    """The number written in (folded) Vietnamese words, up to the millions; None if not one."""
    total = 0  # thousands and millions already closed
    group = 0  # the hundreds, tens and units being read
    digit: int | None = None
    for word in words.split():
        if word in _SKIP_WORDS:
            continue
        if word in _DIGIT_WORDS:
            if digit is not None:
                return None  # "hai ba": two digits in a row is not a number
            digit = _DIGIT_WORDS[word]
            continue
        scale = _SCALE_WORDS.get(word)
        if scale is None:
            return None  # not a number word at all
        if scale < 1000:
            group += (1 if digit is None else digit) * scale
        else:
            group += digit or 0
            total += (group or 1) * scale
            group = 0
        digit = None
    return total + group + (digit or 0)


@dataclass(frozen=True)
class ParsedTally:
    """A tally message read: counts, and the figures written as percentages instead."""

    values: dict[str, int]
    percents: dict[str, float]


def parse_tally(text: str) -> dict[str, int]:
    """Read a tally message into {code: count} in order of appearance, or raise TallyParseError.

    A percentage is refused here ("percent"); ``parse_tally_parts`` gives it to callers that
    can turn it into a count.
    """
    parsed = parse_tally_parts(text)
    if parsed.percents:
        code, value = next(iter(parsed.percents.items()))
        raise _error("percent", label=code, number=f"{value:g}%")
    return parsed.values


def parse_tally_parts(text: str) -> ParsedTally:
    """Read a tally message into its counts and its percentages, or raise TallyParseError."""
    folded, positions = _fold_with_map(text)

    def original(start: int, end: int) -> str:
        if start >= end:
            return ""
        return shorten(text[positions[start] : positions[end - 1] + 1], _MAX_QUOTE)

    start = 0
    prefix = _PREFIX.match(folded) or _CHATTER_HEAD.match(folded)
    if prefix:
        start = prefix.end()
    tail = _CHATTER_TAIL.search(folded, start)
    end = tail.start() if tail else len(folded)

    values: dict[str, int] = {}
    percents: dict[str, float] = {}
    written: dict[str, str] = {}  # each code's first number as typed, quoted in errors
    pending: tuple[str, str] | None = None  # (code, label as typed)
    unknown: tuple[int, int] | None = None  # span of unknown words not yet explained

    for match in _SCANNER.finditer(folded, start, end):
        kind = match.lastgroup
        if kind == "filler":
            continue
        if kind == "word" or (kind == "words" and pending is None):
            if pending is not None:  # "vneid abc": the code is there, its number is not
                raise _error("missing_number", label=pending[1])
            unknown = (unknown[0] if unknown else match.start(), match.end())
            continue
        if unknown is not None:
            raise _error("unknown_label", label=original(*unknown))
        if kind == "alias":
            if pending is not None:
                raise _error("missing_number", label=pending[1])
            code = _ALIASES[_canonical_alias(match.group())]
            pending = (code, original(match.start(), match.end()))
            continue
        # a number, in digits or in words, maybe a percentage
        if pending is None:
            raise _error("missing_label", number=original(match.start(), match.end()))
        code, label = pending
        typed = original(match.start(), match.end())
        if match.group("percent") or match.group("wpercent"):
            raw = match.group("number") or ""
            share = (
                float(raw.replace(",", "."))
                if raw
                else float(words_value(match.group("words")) or 0)
            )
            if raw and raw.count(".") + raw.count(",") > 1:
                raise _error("not_integer", label=label, number=typed)
            percents.setdefault(code, share)
            pending = None
            continue
        if kind == "words":
            worded = words_value(match.group("words"))
            if worded is None:
                raise _error("not_integer", label=label, number=typed)
            value = worded
            if value > MAX_VALUE:
                raise _error("too_large", label=label, number=typed, limit="10.000.000")
        else:
            value = _value_of(match.group("number"), label)
        if code in values and values[code] != value:
            raise _error("conflicting_duplicate", code=code, first=written[code], second=typed)
        values.setdefault(code, value)
        written.setdefault(code, typed)
        pending = None

    if unknown is not None:
        raise _error("unknown_label", label=original(*unknown))
    if pending is not None:  # the code comes last: its number may follow in a message
        raise _error("missing_number", label=pending[1], code=pending[0])
    if not values and not percents:
        raise _error("empty")
    return ParsedTally(values, percents)


@functools.lru_cache(maxsize=1024)
def _canonical_alias(matched: str) -> str:
    """Map a matched alias written with odd spacing or a "mức 2" suffix to its table key."""
    spaced = " ".join(matched.split())
    if spaced in _ALIASES:
        return spaced
    squeezed = spaced.replace(" ", "")
    for alias in _ALIAS_ORDER:
        if squeezed.startswith(alias.replace(" ", "")):
            return alias
    return _ALIAS_ORDER[-1]  # pragma: no cover - the scanner only matches known aliases


def looks_like_tally(text: str) -> bool:
    """Tell cheaply whether a free-text message is a tally attempt rather than a question."""
    folded = fold(text[:500])
    if not folded or "?" in folded:
        return False
    if _PREFIX.match(folded):
        return True
    if not _ALIAS_THEN_NUMBER.search(folded):
        return False
    return not _QUESTION_WORDS.search(_ALIAS_ONLY.sub(" ", folded))


_CODE_ONLY = re.compile(rf"^[\W_]*(?:{_ALIAS_RE})(?!{_LETTER})(?:\s+{_LETTER}+){{0,2}}[\W_]*$")


def names_code_only(text: str) -> bool:
    """Whether the text is a code without its number ("vneid", "vneid abc"), not a question."""
    folded = fold(text[:200])
    if not folded or "?" in folded or not _CODE_ONLY.match(folded):
        return False
    return not _QUESTION_WORDS.search(_ALIAS_ONLY.sub(" ", folded))
