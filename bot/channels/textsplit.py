"""Split long texts into messages that fit a channel's length limit.

Zalo accepts 2000 characters per message, Telegram 4096 UTF-16 code units. Cuts are made
at the last paragraph break, then line break, then sentence end, then space that keeps the
piece reasonably full; a single over-long word is cut hard as a last resort.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["split_text", "utf16_len"]

# A sentence ends with . ! ? … (optionally followed by closing quotes/brackets) and a space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]»”’]*\s")
_SPACE = re.compile(r"\s")
# Cuts that would leave a piece shorter than this share of the limit are skipped in favour
# of a finer boundary, so a newline near the start doesn't produce a tiny message.
_MIN_FILL = 0.5


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units (Telegram's measure)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _max_prefix(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """Return the largest ``i`` such that ``measure(text[:i]) <= limit``."""
    if measure is len:
        return min(len(text), limit)
    total = 0
    for i, ch in enumerate(text):
        total += measure(ch)
        if total > limit:
            return i
    return len(text)


def _last_boundary(window: str, pattern: re.Pattern[str] | str, floor: int) -> int | None:
    """Return the end of the last ``pattern`` match in ``window`` that is at least ``floor``."""
    best: int | None = None
    if isinstance(pattern, str):
        pos = window.rfind(pattern)
        if pos >= 0 and pos + len(pattern) >= floor:
            best = pos + len(pattern)
        return best
    for match in pattern.finditer(window):
        if match.end() >= floor:
            best = match.end()
    return best


def _cut_position(window: str, floor: int) -> int:
    """Choose where to cut ``window`` (which is exactly as long as allowed)."""
    for boundary in ("\n\n", "\n", _SENTENCE_END, _SPACE):
        pos = _last_boundary(window, boundary, floor)
        if pos is not None and window[:pos].strip():
            return pos
    # No boundary late enough: accept any boundary before giving up and cutting a word.
    for boundary in ("\n", _SENTENCE_END, _SPACE):
        pos = _last_boundary(window, boundary, 1)
        if pos is not None and window[:pos].strip():
            return pos
    return len(window)


def split_text(text: str, limit: int, *, utf16: bool = False) -> list[str]:
    """Split ``text`` into non-empty pieces no longer than ``limit``, in order.

    Whitespace at the cut points is dropped; all other characters are kept. With
    ``utf16=True`` lengths are counted in UTF-16 code units, as Telegram does.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    measure: Callable[[str], int] = utf16_len if utf16 else len
    text = text.strip()
    pieces: list[str] = []
    while text:
        if measure(text) <= limit:
            pieces.append(text)
            break
        end = _max_prefix(text, limit, measure)
        window = text[:end]
        cut = _cut_position(window, floor=int(len(window) * _MIN_FILL))
        piece = text[:cut].rstrip()
        if piece:
            pieces.append(piece)
        text = text[cut:].lstrip()
    return pieces
