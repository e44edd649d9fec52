"""Hostile input for the fuzz tests: odd Unicode, long texts, injections, plausible values."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from hypothesis import strategies as st

from bot.i18n import load_catalog
from bot.text import strip_invisible

INJECTIONS = [
    "'; DROP TABLE person; --",
    "1' OR '1'='1",
    'Robert"); DELETE FROM task; --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}} ${7*7} {0} {problem} %s %(x)s",
    "\u202eadmin\u202c",
    "\u200b\u200c\u200d\ufeff",
    "\x00\x01\x02\x1b[31m",
    "🙂" * 300,
    "👨‍👩‍👧‍👦🇻🇳",
    "Nguyễn Văn An",
    "Công an xã",
    "\r\n\r\n",
    "   ",
    "",
    "../../etc/passwd",
    "NaN",
    "inf",
    "-1e400",
    "1" * 60,
    "2026-13-45",
    "31/02/2026",
]
# Characters that phones, spreadsheets and copy-paste put in text.
ODD_CHARS = (
    [chr(c) for c in range(0x00, 0x20)]
    + ["\x7f", "\x85", "\xa0", "\u2028", "\u2029"]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\ufeff", "\ufffd", "\u0301", "\u0323", "đ", "Đ", "ư", "ạ", "ễ", "Ỳ"]
    + ["🙂", "🇻🇳", "\U0001d15e", "İ", "ß", "٣", "１", ";", "|", ",", "/", "-", ".", "%", '"']
    + list("abcXYZ0123456789 ")
)

odd_text = st.lists(st.sampled_from(ODD_CHARS), max_size=40).map("".join)
long_text = st.builds(
    lambda piece, size: (piece * size)[:size],
    st.one_of(st.text(min_size=1, max_size=4), st.sampled_from(ODD_CHARS)),
    st.integers(10_000, 14_000),
)
NASTY = st.one_of(
    st.text(max_size=40),
    odd_text,
    st.sampled_from(INJECTIONS),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
)
NASTY_OR_LONG = st.one_of(NASTY, long_text)


def cell(plausible: list[Any]) -> st.SearchStrategy[Any]:
    """A spreadsheet/YAML cell: a plausible value, hostile text, a number, a date or nothing."""
    return st.one_of(
        st.sampled_from(plausible),
        NASTY,
        st.none(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.dates(min_value=dt.date(1, 1, 1)),
        st.booleans(),
    )


def assert_vietnamese(message_id: str, rendered: str) -> None:
    """A message shown to a person is a translated catalog entry, never a traceback or repr."""
    entry = load_catalog("vi").get(message_id)
    assert entry is not None and entry.string, f"no Vietnamese text for {message_id!r}"
    assert rendered.strip()
    assert "Traceback" not in rendered
    assert not rendered.startswith(("<", "PlanProblem(", "SetupProblem(", "{'"))


def is_clean_stored(value: str, limit: int) -> bool:
    """What we store as text: within the column, no control or invisible characters."""
    if len(value) > limit:
        return False
    if strip_invisible(value) != value:
        return False
    return all(unicodedata.category(ch) != "Cs" for ch in value)
