"""Text folding shared by every parser and by guide search.

Vietnamese residents type with or without diacritics, in any case; every parser
compares folded text so "Chữ Ký Số", "chu ky so" and "CHU KY SO" are one thing.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Zero-width and bidi control characters that phones insert and that must never
# change what a message means.
_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)


def strip_invisible(text: str) -> str:
    """Remove zero-width and bidi control characters, other control codes and lone surrogates."""
    text = text.translate(_INVISIBLE)
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )


@functools.lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ → d) and collapse whitespace.

    Cached: the same labels, names and keywords are folded for every message.
    """
    text = unicodedata.normalize("NFD", strip_invisible(text).lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.replace("đ", "d").replace("Đ", "d")
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def clean(text: str) -> str:
    """Normalise user input for storage: NFC, no control characters, trimmed."""
    return unicodedata.normalize("NFC", strip_invisible(text)).strip()


def shorten(text: str | None, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters with "…".

    The one way tocns shortens a text it quotes (a task's name in a list, a value in a
    problem report): whitespace is collapsed first so a cut never leaves a dangling line.
    """
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    head, space, _tail = cut.rpartition(" ")
    if space and len(head) >= limit // 2:  # a word boundary not too far back
        cut = head
    return cut.rstrip(" ,;:.-") + "…"


# What a spreadsheet may read as the start of a formula (with full-width variants).
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")


def formula_like(text: str) -> bool:
    """Whether Excel, LibreOffice or Google Sheets could run this text as a formula."""
    return bool(text) and (
        text[0] in FORMULA_STARTS or text.lstrip(" \u00a0\u3000")[:1] in FORMULA_STARTS
    )
