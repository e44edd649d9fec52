"""Reading typed text as a list entry by its own number or a piece of its text."""

from __future__ import annotations

import pytest

from bot.core.picks import (
    INDICATOR_WORDS,
    TASK_WORDS,
    Entry,
    looks_like_number,
    named_number,
    pick_entry,
    typed_number,
)

ENTRIES = [
    Entry("1", "Tuyên truyền, phổ biến Nghị quyết 57", "task:11"),
    Entry("9", "Xây dựng chương trình chuyên biệt về khoa học", "task:19"),
    Entry("I.3", "Xây dựng hệ thống tiếp nhận kiến nghị", "task:13"),
]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("9", "9"),
        ("Nhiệm vụ 9", "9"),
        ("nv9", "9"),
        ("số 18.", "18"),
        ("CT 7", "7"),
        ("I.3", "i.3"),
    ],
)
def test_typed_number(text: str, number: str) -> None:
    assert typed_number(text) == number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9", "task:19"),
        ("nhiệm vụ 9", "task:19"),
        ("i.3", "task:13"),
        ("xay dung chuong trinh", "task:19"),
        ("Tuyên truyền", "task:11"),
        ("18", None),  # not one of these entries
        ("xây dựng", None),  # too short to be sure
        ("ok", None),
    ],
)
def test_pick_entry(text: str, value: str | None) -> None:
    assert pick_entry(text, ENTRIES) == value


def test_named_numbers_need_their_word() -> None:
    assert named_number("nhiệm vụ 18", TASK_WORDS)
    assert named_number("NV 18", TASK_WORDS)
    assert not named_number("18", TASK_WORDS)
    assert not named_number("chỉ tiêu 7", TASK_WORDS)
    assert named_number("chỉ tiêu 7", INDICATOR_WORDS)


def test_looks_like_number() -> None:
    assert looks_like_number("99") and looks_like_number("nhiệm vụ 99")
    assert not looks_like_number("cảm ơn") and not looks_like_number("vi")
