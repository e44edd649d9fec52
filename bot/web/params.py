"""Reading request parameters strictly: one helper for each kind, one error for all.

Ids, months, page numbers and choices are read from ASCII only (``str.isdigit()``
also accepts "٣" and "²"), within what the database and the calendar can hold; anything
else raises ``BadInput``, which the dashboard shows as a Vietnamese 400 or 404 page.
Webhook bodies are JSON with bounded nesting (Python's parser recurses).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping

from bot.errors import ReadableError
from bot.i18n import N_

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER, the type of every id column
MAX_PAGE = 100_000
MAX_TEXT = 200  # slugs and other short keys
FIRST_YEAR = 2000  # no plan or tally before this
JSON_DEPTH = 64

_ID = re.compile(r"[1-9][0-9]{0,9}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_YEAR = re.compile(r"[0-9]{4}")
LAST_YEAR = 2100  # plans set targets up to 2045

MSG_BAD_TITLE = N_("Invalid address")
MSG_BAD_BODY = N_(
    "The address has a value the dashboard cannot read (a month, a number or a filter). "
    "Go back and choose from the page."
)
MSG_NOT_FOUND_TITLE = N_("Not found")
MSG_NOT_FOUND_BODY = N_("This page does not exist or was removed.")


class BadInput(ReadableError):
    """A request parameter that cannot be read; ``status`` is 400, or 404 for a path id."""

    def __init__(self, status: int, name: str) -> None:
        title, body = (
            (MSG_NOT_FOUND_TITLE, MSG_NOT_FOUND_BODY)
            if status == 404
            else (MSG_BAD_TITLE, MSG_BAD_BODY)
        )
        super().__init__(body)
        self.status = status
        self.name = name
        self.title = title
        self.body = body


def parse_id(raw: str, name: str = "id") -> int:
    """A row id from a path: 1 … 2³¹−1 in ASCII digits, no sign, no leading zero (else 404)."""
    if not _ID.fullmatch(raw) or int(raw) > MAX_ID:
        raise BadInput(404, name)
    return int(raw)


def query_id(query: Mapping[str, str], name: str) -> int | None:
    """An optional id from the query string ("" or absent: None; anything odd: 400)."""
    raw = query.get(name, "")
    if raw == "":
        return None
    if not _ID.fullmatch(raw) or int(raw) > MAX_ID:
        raise BadInput(400, name)
    return int(raw)


def parse_month(raw: str, today: dt.date, name: str = "month") -> dt.date | None:
    """A month written YYYY-MM, from 2000 to next year ("" : None; else 400)."""
    if raw == "":
        return None
    match = _MONTH.fullmatch(raw)
    if match is None:
        raise BadInput(400, name)
    year, month = int(match.group(1)), int(match.group(2))
    if not (FIRST_YEAR <= year <= today.year + 1 and 1 <= month <= 12):
        raise BadInput(400, name)
    return dt.date(year, month, 1)


def parse_year(raw: str, name: str = "year") -> int | None:
    """A year written YYYY, from 2000 to 2100 ("": None; else 400)."""
    if raw == "":
        return None
    if not _YEAR.fullmatch(raw) or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        raise BadInput(400, name)
    return int(raw)


def parse_page(raw: str, name: str = "page") -> int:
    """A page number, 1 … 100 000 ("": 1; else 400)."""
    if raw == "":
        return 1
    if not _ID.fullmatch(raw) or int(raw) > MAX_PAGE:
        raise BadInput(400, name)
    return int(raw)


def query_choice(query: Mapping[str, str], name: str, choices: Collection[str]) -> str:
    """One of the allowed values, or "" when absent or empty (anything else: 400)."""
    raw = query.get(name, "")
    if raw != "" and raw not in choices:
        raise BadInput(400, name)
    return raw


def query_text(query: Mapping[str, str], name: str, limit: int = MAX_TEXT) -> str:
    """A short text key such as a plan's slug (too long or with control characters: 400)."""
    raw = query.get(name, "")
    if len(raw) > limit or any(ord(ch) < 32 for ch in raw):
        raise BadInput(400, name)
    return raw


def json_depth_ok(data: bytes, limit: int = JSON_DEPTH) -> bool:
    """Whether no array or object in this JSON text nests deeper than ``limit``."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return True  # cannot be deeper: skip the scan
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return True
