"""Reading what a person types after a list as one of its entries, by the entry's own
number ("9", "nhiệm vụ 9", "số 9") or by a piece of its text ("xây dựng chương trình").

A list's choices are numbered by position; plan tasks and indicators also carry their
own numbers, which people know from the plan. Lists show only one of the two on a
line, and these functions let the entry's own number work as well (``Registry.picker``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.messages import Choice, Reply
from bot.i18n import N_
from bot.tallies.parser import words_value
from bot.text import fold
from db.models import Role

NOT_IN_LIST = N_("There is no {number} in the list. Type a number from 1 to {last}.")
NOT_IN_LIST_ONE = N_("There is no {number} in the list. Type 1 to choose.")
LONE_NUMBER = N_(
    "I am not sure what {number} is for. Type your question in words, or type /menu to see "
    "what I can do."
)

LONE_NUMBER_TEAM = N_(
    "I am not sure what {number} is for. To report a figure, type its code and the count, "
    "for example: vneid 45. Or type /baocao to choose from a list."
)
LONE_NUMBER_RESIDENT = N_(
    "I am not sure what {number} is for. You can type your question in words, or send "
    "feedback with /phananh. Type /menu to see everything."
)
REPORT_HINT = N_("To report a figure, type its code and the count, for example: vneid 45.")

MIN_TEXT = 8  # shorter typed text is too likely to be a word of some other entry
# Words that may come before an entry's own number: "nhiệm vụ 9", "chỉ tiêu số 7", "nv9".
_NUMBER_WORDS = re.compile(
    r"^(?:(?:nhiem\s*vu|nv|chi\s*tieu|ct|task|indicator|so|muc|no)\s*)*"
    r"(?:so\s*)?(?P<number>[0-9ivxlcdm]+(?:[.\-][0-9a-z]+)*)\s*[.)]?$"
)


@dataclass(frozen=True)
class Entry:
    """One entry of a list: its own number, its text and the choice value that opens it."""

    number: str
    text: str
    value: str


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s.\-]", " ", fold(text)).split())


def typed_number(text: str) -> str | None:
    """The entry number typed ("9", "Nhiệm vụ 9", "CT 7", "số I.3"), folded; None if none."""
    match = _NUMBER_WORDS.match(_plain(text))
    if match is None:
        return None
    number = match.group("number").strip(".-")
    return number if any(ch.isdigit() for ch in number) or len(number) <= 4 else None


def pick_entry(text: str, entries: Sequence[Entry]) -> str | None:
    """The value of the entry ``text`` names, by its own number or a piece of its text."""
    number = typed_number(text)
    if number is not None:
        for entry in entries:
            if _plain(entry.number).strip(".") == number:
                return entry.value
        if any(ch.isdigit() for ch in number):
            return None
    wanted = _plain(text)
    if len(wanted) < MIN_TEXT:
        return None
    # Only a piece of text that names one entry: two that start alike are not a pick.
    starting = [e for e in entries if _plain(e.text).startswith(wanted)]
    if starting:
        return starting[0].value if len(starting) == 1 else None
    containing = [e for e in entries if wanted in _plain(e.text)]
    return containing[0].value if len(containing) == 1 else None


_NAMED = re.compile(
    r"^(?P<word>nhiem\s*vu|nv|chi\s*tieu|ct)\s*(?:so\s*)?(?P<number>[0-9]+(?:[.\-][0-9a-z]+)*)\s*[.)]?$"
)
TASK_WORDS = frozenset({"nhiemvu", "nv"})
INDICATOR_WORDS = frozenset({"chitieu", "ct"})


def named_number(text: str, words: frozenset[str]) -> bool:
    """Whether the text names an entry by kind and number ("nhiệm vụ 18", "CT 7")."""
    match = _NAMED.match(_plain(text))
    return match is not None and match.group("word").replace(" ", "") in words


def looks_like_number(text: str) -> bool:
    """Whether the text is an entry number (with or without "nhiệm vụ", "số"…)."""
    number = typed_number(text)
    return number is not None and any(ch.isdigit() for ch in number)


def offered_choices(ctx: Context) -> list[Choice]:
    """The choices offered by the bot's last message in this chat."""
    return [Choice(str(c["label"]), str(c["value"])) for c in ctx.state.choices]


_AMOUNT = re.compile(
    r"^[-+]?\d{1,9}(?:[.,]\d{1,3})*\s*(?:%|phan tram|nguoi dan|nguoi|ng|ho dan|ho|ca nhan)?$"
)
_NOT_AMOUNT_WORDS = frozenset({"khong", "tu", "sau", "nam", "ba", "bay", "tam", "lam"})


def ascii_digits(text: str) -> str:
    """Unicode digits ("２０", "٢٠") as ASCII ones ("20")."""
    return "".join(str(int(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def lone_amount(text: str) -> str | None:
    """A figure typed alone ("20%", "45 người", "hai trăm"), as typed; None if it is not one."""
    folded = " ".join(re.sub(r"[^\w\s%.,+\-]", " ", fold(ascii_digits(text[:60]))).split())
    if not folded:
        return None
    if _AMOUNT.match(folded):
        return ascii_digits(text.strip())
    words = folded.replace("phan tram", "").split()
    if (
        words
        and words_value(" ".join(words)) is not None
        and not (len(words) == 1 and words[0] in _NOT_AMOUNT_WORDS)
    ):
        return text.strip()
    return None


def not_in_list(ctx: Context, number: str, *, pick: bool = True) -> list[Reply]:
    """A typed number that picks nothing: which numbers are valid, with the list again.

    ``pick=False``: a figure that cannot be a pick ("20%", "hai trăm"): what to type instead.
    """
    offered = offered_choices(ctx) if pick else []
    reporter = ctx.has_role(Role.TEAM, Role.LEADER)
    if not offered:
        if reporter:
            return [ctx.reply(LONE_NUMBER_TEAM, number=number)]
        if ctx.has_role(Role.RESIDENT) or not ctx.roles:
            return [ctx.reply(LONE_NUMBER_RESIDENT, number=number)]
        return [ctx.reply(LONE_NUMBER, number=number)]
    last = len(offered)
    message = NOT_IN_LIST if last > 1 else NOT_IN_LIST_ONE
    reply = ctx.reply(message, offered, number=number, last=last)
    if reporter and not ctx.state.flow:
        reply.text += "\n" + ctx._(REPORT_HINT)
    return [reply]
