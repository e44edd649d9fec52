"""The data behind every feedback choice (a button on Telegram, a numbered line elsewhere).

Kept apart from the handlers because notifications carry choices too: an answer sent
through the outbox offers "hài lòng / chưa hài lòng" buttons that come back here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.flows import Action


class Verb(enum.StrEnum):
    """What to do with one report."""

    OPEN = "open"
    INFO = "info"  # the resident adds information
    ANSWER = "answer"
    NOTE = "note"
    FIX = "fix"  # a photo of the fix
    BACK = "back"  # the unit hands the report back to the office
    ASK = "ask"  # the unit asks the resident (only when contact is allowed)
    ASSIGN = "assign"
    CLOSE = "close"
    RETURN = "return"


@dataclass(frozen=True)
class ReportChoice(Action, prefix="fb"):
    verb: Verb
    report_id: int


class Draft(enum.StrEnum):
    """Answers while a report is being written."""

    NEW = "new"
    LIST = "list"
    YES = "yes"  # "yes, send a report" after free text
    NO = "no"  # "no, I was asking": the text goes to the guides
    CONTINUE = "continue"
    DISCARD = "discard"
    HERE = "here"  # it happened in my own village
    ELSEWHERE = "elsewhere"
    NO_VILLAGE = "novillage"
    SKIP = "skip"
    DONE = "done"
    CONTACT = "contact"
    ANONYMOUS = "anonymous"
    SEND = "send"
    RESTART = "restart"
    CANCEL = "cancel"


@dataclass(frozen=True)
class DraftChoice(Action, prefix="fbd"):
    answer: Draft


@dataclass(frozen=True)
class CategoryChoice(Action, prefix="fbcat"):
    category_id: int


@dataclass(frozen=True)
class VillageChoice(Action, prefix="fbvil"):
    village_id: int


@dataclass(frozen=True)
class UnitChoice(Action, prefix="fbunit"):
    report_id: int
    unit_id: int


@dataclass(frozen=True)
class RateChoice(Action, prefix="fbrate"):
    report_id: int
    satisfied: bool
