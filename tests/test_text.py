"""Text helpers every part shares: folding and shortening."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.text import fold, shorten


def test_fold_strips_diacritics_and_case() -> None:
    assert fold("  Chữ  Ký Số ") == "chu ky so"
    assert fold("ĐỊNH DANH") == "dinh danh"


def test_shorten_keeps_short_text_and_collapses_spaces() -> None:
    assert shorten("Xây  dựng\nkế hoạch", 40) == "Xây dựng kế hoạch"
    assert shorten(None, 10) == ""


def test_shorten_cuts_at_a_word() -> None:
    text = "Xây dựng kế hoạch chuyển đổi số của xã giai đoạn 2026-2030"
    short = shorten(text, 30)
    assert short == "Xây dựng kế hoạch chuyển đổi…"
    assert len(short) <= 30


@given(st.text(), st.integers(min_value=2, max_value=200))
def test_shorten_never_exceeds_the_limit(text: str, limit: int) -> None:
    short = shorten(text, limit)
    assert len(short) <= limit
    if len(" ".join(text.split())) <= limit:
        assert short == " ".join(text.split())
