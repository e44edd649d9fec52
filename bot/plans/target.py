"""Read an indicator's target as written in Vietnamese plans and judge an actual value.

"≥ 70", "$\\geq 70$", "≥1,1 và không thấp hơn chỉ tiêu tỉnh giao", "> 0.8", "100%",
"Top 20", "15-17%", "đạt từ 60% dân số trở lên", "Đạt", "Liên thông"… A bare number
or percentage means "at least"; a text without a number is a qualitative target
("achieved"). Vietnamese decimal commas ("1,1") and thousands dots ("1.000") are read
the Vietnamese way; LaTeX leftovers from PDF extraction are ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.errors import ReadableError
from bot.i18n import N_
from bot.text import fold, shorten

Op = Literal[">=", ">", "<=", "<", "between", "rank_top", "achieved"]

MSG_EMPTY = N_("The target is empty. Write for example: ≥ 70, 100%, Top 20, 15-17% or Đạt.")
MSG_UNREADABLE = N_(
    "I cannot read the target “{text}”. Write for example: ≥ 70, 100%, Top 20, 15-17% or Đạt."
)
MSG_BAD_RANGE = N_("The range “{text}” goes from a larger to a smaller number. Write it as 15-17%.")
MSG_BAD_RANK = N_("The ranking “{text}” must be a whole number above zero, for example Top 20.")

MAX_LENGTH = 1000
_MAX_QUOTE = 60
_EPSILON = 1e-9


class TargetParseError(ReadableError, ValueError):
    """A target that cannot be read, with a translatable explanation."""


Number = int | float


@dataclass(frozen=True)
class TargetSpec:
    """A parsed target: a comparison with a value, a range, a top-N rank or "achieved"."""

    op: Op
    value: Number | None = None
    low: Number | None = None
    high: Number | None = None

    def to_json(self) -> dict[str, Any]:
        """Return {"op","value"}, {"op","low","high"} or {"op":"achieved"} for the CLI."""
        if self.op == "achieved":
            return {"op": "achieved"}
        if self.op == "between":
            return {"op": "between", "low": self.low, "high": self.high}
        return {"op": self.op, "value": self.value}


# --- reading -------------------------------------------------------------------------

_LATEX: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\\(?:geqslant|geq|ge)(?![a-z])"), "≥"),
    (re.compile(r"\\(?:leqslant|leq|le)(?![a-z])"), "≤"),
    (re.compile(r"\\(?:gt)(?![a-z])"), ">"),
    (re.compile(r"\\(?:lt)(?![a-z])"), "<"),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\\(?:text|mathrm|mathbf)\s*\{([^{}]*)\}"), r"\1"),
    (re.compile(r"\\(?:left|right|,|;|!|quad|qquad)"), " "),
    (re.compile(r"&gt;"), ">"),
    (re.compile(r"&lt;"), "<"),
    (re.compile(r">\s*="), "≥"),
    (re.compile(r"<\s*="), "≤"),
    (re.compile(r"=\s*>"), "≥"),
    (re.compile(r"=\s*<"), "≤"),
    (re.compile(r"[⩾≧]"), "≥"),
    (re.compile(r"[⩽≦]"), "≤"),
    (re.compile(r"[${}]"), " "),
)

# A number: Vietnamese thousands ("1.000", "10 000"), decimal comma or dot ("1,1", "0.8").
_NUM = r"(?<![\d.,])\d+(?:[.,]\d+)*(?:\s\d{3}(?![\d.,]))*"
_NUMBER = re.compile(_NUM)
_RANGE = re.compile(
    rf"(?:tu\s*)?(?P<low>{_NUM})\s*%?\s*(?:-|–|—|~|den|toi)\s*(?P<high>{_NUM})\s*%?"
)
_RANK = re.compile(
    rf"\btop\s*(?:-\s*)?(?P<a>{_NUM})|\b(?:trong\s*)?nhom\s*(?P<b>{_NUM})\s*"
    r"(?:[a-z]+\s*){0,4}?(?:dung dau|dan dau|cao nhat|tot nhat|top)"
    rf"|\bxep\s*(?:hang|thu)\s*(?:thu\s*)?(?:trong\s*)?(?:top\s*)?(?P<c>{_NUM})\s*tro\s*len"
)

# Operator words right before the number, longest first ("không dưới" before "dưới").
_OPERATORS: tuple[tuple[str, Op], ...] = (
    ("khong thap hon", ">="),
    ("khong nho hon", ">="),
    ("khong it hon", ">="),
    ("khong duoi", ">="),
    ("toi thieu", ">="),
    ("it nhat", ">="),
    ("tu", ">="),
    ("khong vuot qua", "<="),
    ("khong cao hon", "<="),
    ("khong lon hon", "<="),
    ("khong nhieu hon", "<="),
    ("khong qua", "<="),
    ("toi da", "<="),
    ("nhieu nhat", "<="),
    ("cao hon", ">"),
    ("lon hon", ">"),
    ("nhieu hon", ">"),
    ("vuot", ">"),
    ("tren", ">"),
    ("hon", ">"),
    ("thap hon", "<"),
    ("nho hon", "<"),
    ("it hon", "<"),
    ("duoi", "<"),
    ("≥", ">="),
    ("≤", "<="),
    (">", ">"),
    ("<", "<"),
)
_OP_OF = dict(_OPERATORS)
_OP_BEFORE = re.compile(
    r"(?:^|(?<=[^a-z]))(?P<op>"
    + "|".join(re.escape(word) for word, _ in sorted(_OPERATORS, key=lambda o: -len(o[0])))
    + r")\s*(?:muc\s*|dat\s*|la\s*|:\s*)?$"
)
_AT_LEAST_AFTER = re.compile(r"^\s*%?\s*(?:[a-z]+\s*){0,4}?tro\s*len\b")
_AT_MOST_AFTER = re.compile(r"^\s*%?\s*(?:[a-z]+\s*){0,4}?tro\s*xuong\b")
_MEANINGLESS = frozenset(
    {
        "khong",
        "khong co",
        "chua co",
        "chua xac dinh",
        "khong ro",
        "n/a",
        "na",
        "none",
        "null",
        "x",
        "-",
        "...",
    }
)


def _normalise(text: str) -> str:
    for pattern, replacement in _LATEX:
        text = pattern.sub(replacement, text)
    return " ".join(fold(text).split())


def _number(raw: str) -> Number:
    """Read "1,1" → 1.1, "0.8" → 0.8, "1.000" → 1000, "10 000" → 10000, "70" → 70."""
    raw = raw.replace(" ", "")
    if re.fullmatch(r"[1-9]\d{0,2}(?:\.\d{3})+", raw):
        value = float(raw.replace(".", ""))
    else:
        head, _, tail = raw.replace(",", ".").partition(".")
        value = float(f"{head}.{tail.replace('.', '')}" if tail else head)
    if not math.isfinite(value):
        raise OverflowError(raw)
    return int(value) if value.is_integer() else value


def parse_target(text: str) -> TargetSpec:
    """Read a Vietnamese target; raise TargetParseError when it cannot be read."""
    if len(text) > MAX_LENGTH:  # a target is a short phrase, never a page
        raise TargetParseError(MSG_UNREADABLE, text=shorten(text, _MAX_QUOTE))
    normal = _normalise(text)
    if not normal or not re.search(r"[^\W_]", normal):
        raise TargetParseError(
            MSG_EMPTY if not normal else MSG_UNREADABLE, text=shorten(text, _MAX_QUOTE)
        )
    if normal in _MEANINGLESS:
        raise TargetParseError(MSG_UNREADABLE, text=shorten(text, _MAX_QUOTE))

    try:
        return _parse(normal, text)
    except OverflowError:  # a number too large to mean anything
        raise TargetParseError(MSG_UNREADABLE, text=shorten(text, _MAX_QUOTE)) from None


def _parse(normal: str, text: str) -> TargetSpec:
    rank = _RANK.search(normal)
    if rank:
        value = _number(rank.group("a") or rank.group("b") or rank.group("c"))
        if not isinstance(value, int) or value < 1:
            raise TargetParseError(MSG_BAD_RANK, text=shorten(text, _MAX_QUOTE))
        return TargetSpec("rank_top", value)

    first = _NUMBER.search(normal)
    if first is None:
        return TargetSpec("achieved")

    span = _RANGE.match(normal, first.start())
    if span:
        low, high = _number(span.group("low")), _number(span.group("high"))
        if low > high:
            raise TargetParseError(MSG_BAD_RANGE, text=shorten(text, _MAX_QUOTE))
        return TargetSpec("between", low=low, high=high)

    value = _number(first.group())
    before = normal[max(0, first.start() - 24) : first.start()]
    after = normal[first.end() : first.end() + 40]
    op_match = _OP_BEFORE.search(before)
    op: Op = _OP_OF[op_match.group("op")] if op_match else ">="
    if _AT_MOST_AFTER.match(after):
        op = "<="
    elif _AT_LEAST_AFTER.match(after) and op in (">", ">="):
        op = ">="
    return TargetSpec(op, value)


def target_met(target: TargetSpec, actual: float | None) -> bool | None:
    """Tell whether an actual value meets a target; None when there is nothing to judge.

    For ``rank_top`` the actual value is the rank (1 is best); for ``achieved`` it is
    1 when done and 0 when not yet.
    """
    if actual is None:
        return None
    if target.op == "achieved":
        return actual >= 1 - _EPSILON
    if target.op == "between":
        if target.low is None or target.high is None:
            return None
        return target.low - _EPSILON <= actual <= target.high + _EPSILON
    if target.value is None:
        return None
    value = float(target.value)
    if target.op == ">=":
        return actual >= value - _EPSILON
    if target.op == ">":
        return actual > value + _EPSILON
    if target.op == "<=":
        return actual <= value + _EPSILON
    if target.op == "<":
        return actual < value - _EPSILON
    return actual <= value + _EPSILON  # rank_top: rank 1 is the best


def completion_rate(target: TargetSpec, actual: float | None) -> float | None:
    """How much of a target an actual value achieves (1.0 = met, may exceed 1); None when
    there is no number to compare.

    "At least" targets (≥, >, and a range from its low end) compare the value with the
    target; "at most" targets and ranks (lower is better) compare the target with the
    value; a yes-or-no target is 1 or 0.
    """
    if actual is None:
        return None
    if target.op == "achieved":
        return 1.0 if actual >= 1 - _EPSILON else 0.0
    goal = target.low if target.op == "between" else target.value
    if goal is None or goal <= 0:
        return None
    if target.op in (">=", ">", "between"):
        return actual / float(goal)
    if target_met(target, actual):
        return 1.0
    return float(goal) / actual if actual > 0 else None


# --- targets written as words ----------------------------------------------------------

# A percentage in an indicator's text, with the operator words written before it:
# "… đạt 90%", "đạt trên 40% trong tổng số", "ít nhất 80 %".
_TEXT_PERCENT = re.compile(
    r"(?:(?:không thấp hơn|không dưới|tối thiểu|ít nhất|trên|từ)\s+)?"
    r"(?<![\d.,])\d+(?:[.,]\d+)?\s*%",
    re.IGNORECASE,
)


def text_target(text: str) -> tuple[str, TargetSpec] | None:
    """The percentage an indicator's text names ("… đạt 90%" → "90%", ≥ 90), if one.

    Only the first percentage counts, and only when the text has a single one: with
    several ("5G phủ sóng 100% khu dân cư; cáp quang tới 100% hộ") none is the target.
    """
    found = list(_TEXT_PERCENT.finditer(text[:MAX_LENGTH]))
    if len(found) != 1:
        return None
    fragment = " ".join(found[0].group().split())
    try:
        spec = parse_target(fragment)
    except TargetParseError:
        return None
    if spec.op not in (">=", ">") or spec.value is None or not 0 < spec.value <= 100:
        return None
    return fragment, spec


def effective_target(raw: str, spec: TargetSpec, indicator_text: str) -> tuple[str, TargetSpec]:
    """The target an indicator is judged by, and how it is shown.

    A target written as a word ("Đạt") takes its number from the indicator's text when
    the text names one ("Tỉ lệ … đạt 90%" → "90%"); otherwise it stays "achieved", a
    yes-or-no question.
    """
    if spec.op != "achieved":
        return raw, spec
    named = text_target(indicator_text)
    return named if named is not None else (raw, spec)


def is_vacuous(spec: TargetSpec) -> bool:
    """A target any value meets ("0", "≥ 0"): a placeholder for a year, not a goal."""
    return spec.op == ">=" and spec.value is not None and spec.value <= 0
