"""Tests for reading Vietnamese completion times ("Quý III/2025", "Hàng năm"…)."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import load_catalog, translator
from bot.plans import deadline as deadline_module
from bot.plans.deadline import Deadline, DeadlineParseError, parse_deadline

TODAY = dt.date(2025, 11, 23)
DATA = Path(__file__).parent.parent / "data"
DEV = [json.loads(line) for line in (DATA / "deadlines_dev.jsonl").read_text().splitlines() if line]


def _json(text: str) -> dict:
    return parse_deadline(text, TODAY).to_json()


@pytest.mark.parametrize("example", DEV, ids=[e["text"] for e in DEV])
def test_dev_examples(example: dict) -> None:
    if example.get("error"):
        with pytest.raises(DeadlineParseError):
            parse_deadline(example["text"], TODAY)
    else:
        expected = {k: example[k] for k in ("kind", "due", "repeat")}
        assert _json(example["text"]) == expected


def once(due: str) -> dict:
    return {"kind": "once", "due": due, "repeat": None}


def every(repeat: str, due: str | None = None) -> dict:
    return {"kind": "recurring", "due": due, "repeat": repeat}


ONGOING = {"kind": "ongoing", "due": None, "repeat": None}
ON_EVENT = {"kind": "on_event", "due": None, "repeat": None}

# Every completion time written in the five seed plans, as extracted (OCR slips kept).
SEEDS = [
    # 000 Trung Hội
    ("Hàng năm", every("yearly")),
    ("Khi có đề nghị", ON_EVENT),
    ("Năm 2025", once("2025-12-31")),
    ("Năm 2026", once("2026-12-31")),
    ("Năm 2027", once("2027-12-31")),
    ("Quý II/năm 2025", once("2025-06-30")),
    ("Sai khi tình triển khai", ON_EVENT),
    ("Sau khi tình\ntriển khai", ON_EVENT),
    ("Thường xuyên", ONGOING),
    # 001 Lâm Thao
    ("Năm 2026", once("2026-12-31")),
    # 002 Cẩm Giàng
    ("Giai đoạn 2025-2026", once("2026-12-31")),
    ("Khi có văn bản của cấp trên", ON_EVENT),
    ("Tháng 7,8 /2025", once("2025-08-31")),
    ("Tháng 7/2025", once("2025-07-31")),
    ("Tháng 7/2025,\n\nduy trì hàng năm", every("yearly", "2025-07-31")),
    ("Triển khai theo hướng dẫn của cấp trên", ON_EVENT),
    ("Trong năm 2025", once("2025-12-31")),
    # 003 Đồng Phú has no completion-time column; its plan runs for the year
    ("Năm 2026", once("2026-12-31")),
    # 004 Hà Long
    ("Qúy III//2025", once("2025-09-30")),
    ("Qúy III/2025", once("2025-09-30")),
    ("Thường \n\nxuyên", ONGOING),
    ("Quý IV/2025", once("2025-12-31")),
    ("3 tháng/lần", every("quarterly")),
]

MORE = [
    ("Hằng năm", every("yearly")),
    ("hang nam", every("yearly")),
    ("HÀNG NĂM", every("yearly")),
    ("mỗi năm", every("yearly")),
    ("thường niên", every("yearly")),
    ("1 lần/năm", every("yearly")),
    ("hàng quý", every("quarterly")),
    ("Định kỳ hằng quý", every("quarterly")),
    ("3 tháng 1 lần", every("quarterly")),
    ("ba tháng một lần", every("quarterly")),
    ("4 lần/năm", every("quarterly")),
    ("hàng tháng", every("monthly")),
    ("Định kỳ hàng tháng, quý", every("monthly")),
    ("6 tháng/lần", every("half_yearly")),
    ("sáu tháng một lần", every("half_yearly")),
    ("2 lần/năm", every("half_yearly")),
    ("12 tháng/lần", every("yearly")),
    ("Quý IV hàng năm", every("yearly", "2025-12-31")),
    ("Thuong xuyen", ONGOING),
    ("liên tục", ONGOING),
    ("Duy trì", ONGOING),
    ("hàng ngày", ONGOING),
    ("sau khi tinh trien khai", ON_EVENT),
    ("Khi được giao", ON_EVENT),
    ("Quy III/2025", once("2025-09-30")),
    ("quy 3/2025", once("2025-09-30")),
    ("Quý 3 năm 2025", once("2025-09-30")),
    ("Quý I/2026", once("2026-03-31")),
    ("Quý lll/2025", once("2025-09-30")),
    ("Quý I, II/2026", once("2026-06-30")),
    ("Quý IV", once("2025-12-31")),
    ("tháng VII/2025", once("2025-07-31")),
    ("Tháng 12/2025", once("2025-12-31")),
    ("Tháng 02/2024", once("2024-02-29")),
    ("Tháng 7 - 8/2025", once("2025-08-31")),
    ("Tháng 7 và 8 năm 2025", once("2025-08-31")),
    ("Tháng 12/2025 - Tháng 2/2026", once("2026-02-28")),
    ("07/2025", once("2025-07-31")),
    ("6 tháng đầu năm 2026", once("2026-06-30")),
    ("6 tháng cuối năm 2026", once("2026-12-31")),
    ("nửa đầu năm 2026", once("2026-06-30")),
    ("9 tháng đầu năm 2026", once("2026-09-30")),
    ("trước ngày 15 tháng 02 năm 2026", once("2026-02-15")),
    ("Trước ngày 15/02/2026", once("2026-02-15")),
    ("15/02/2026", once("2026-02-15")),
    ("15-2-2026", once("2026-02-15")),
    ("15.02.2026", once("2026-02-15")),
    ("2026-02-15", once("2026-02-15")),
    ("ngày 15/02", once("2025-02-15")),
    ("trước 30/6/2025", once("2025-06-30")),
    ("Giai đoạn 2025 - 2030", once("2030-12-31")),
    ("từ năm 2025 đến năm 2030", once("2030-12-31")),
    ("2025–2026", once("2026-12-31")),
    ("Đến hết năm 2025", once("2025-12-31")),
    ("Cuối năm 2025", once("2025-12-31")),
    ("Năm 2025 (ưu tiên)", once("2025-12-31")),
    ("  Năm\u200b 2025  ", once("2025-12-31")),
]


@pytest.mark.parametrize(("text", "expected"), SEEDS + MORE, ids=[t for t, _ in SEEDS + MORE])
def test_phrases(text: str, expected: dict) -> None:
    assert _json(text) == expected


@pytest.mark.parametrize(
    ("text", "message_id"),
    [
        ("", deadline_module.MSG_EMPTY),
        ("   ", deadline_module.MSG_EMPTY),
        ("không rõ", deadline_module.MSG_UNREADABLE),
        ("sớm", deadline_module.MSG_UNREADABLE),
        ("Năm 20255", deadline_module.MSG_UNREADABLE),
        ("31/02/2026", deadline_module.MSG_BAD_DATE),
        ("32/01/2026", deadline_module.MSG_BAD_DATE),
        ("15/13/2026", deadline_module.MSG_BAD_DATE),
        ("Tháng 13/2025", deadline_module.MSG_BAD_MONTH),
        ("Tháng 0/2025", deadline_module.MSG_BAD_MONTH),
        ("tháng XIII/2025", deadline_module.MSG_BAD_MONTH),
        ("Quý V/2025", deadline_module.MSG_BAD_QUARTER),
        ("Quý 5/2025", deadline_module.MSG_BAD_QUARTER),
        ("Năm 1800", deadline_module.MSG_BAD_YEAR),
        ("2 tháng/lần", deadline_module.MSG_BAD_REPEAT),
        ("5 lần/năm", deadline_module.MSG_BAD_REPEAT),
        ("Giai đoạn 2026-2025", deadline_module.MSG_BAD_RANGE),
        ("Quý III/2025 " * 200, deadline_module.MSG_UNREADABLE),
    ],
)
def test_errors(text: str, message_id: str) -> None:
    with pytest.raises(DeadlineParseError) as caught:
        parse_deadline(text, TODAY)
    assert caught.value.message_id == message_id
    assert translator("vi").gettext(caught.value.message_id, **caught.value.params)


def test_deadline_keeps_the_text() -> None:
    deadline = parse_deadline("  Quý III/2025 ", TODAY)
    assert deadline == Deadline("once", dt.date(2025, 9, 30), None, "Quý III/2025")


def test_to_json_is_exact() -> None:
    assert json.dumps(parse_deadline("Tháng 7/2025, duy trì hàng năm", TODAY).to_json()) == (
        '{"kind": "recurring", "due": "2025-07-31", "repeat": "yearly"}'
    )


def test_today_defaults_to_the_clock() -> None:
    assert parse_deadline("Quý IV").due == dt.date(dt.date.today().year, 12, 31)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_a_vietnamese_translation() -> None:
    catalog = load_catalog("vi")
    ids = [v for k, v in vars(deadline_module).items() if k.startswith("MSG_")]
    assert len(ids) >= 8
    for message_id in ids:
        message = catalog.get(message_id)
        assert message is not None and message.string, message_id
        assert _placeholders(str(message.string)) == _placeholders(message_id), message_id


# --- properties -------------------------------------------------------------------

_ROMAN = ["I", "II", "III", "IV"]


@given(
    st.integers(1, 4),
    st.integers(2000, 2100),
    st.booleans(),
    st.sampled_from(["/", "//", "/năm ", " năm "]),
)
def test_quarters(quarter: int, year: int, roman: bool, sep: str) -> None:
    written = _ROMAN[quarter - 1] if roman else str(quarter)
    month = quarter * 3
    expected = dt.date(year, month, calendar.monthrange(year, month)[1])
    assert parse_deadline(f"Quý {written}{sep}{year}", TODAY).due == expected


@given(st.integers(1, 12), st.integers(2000, 2100))
def test_months(month: int, year: int) -> None:
    expected = dt.date(year, month, calendar.monthrange(year, month)[1])
    assert parse_deadline(f"Tháng {month}/{year}", TODAY).due == expected


@given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)), st.sampled_from(["/", "-", "."]))
def test_dates_as_written(day: dt.date, sep: str) -> None:
    text = f"{day.day:02d}{sep}{day.month:02d}{sep}{day.year}"
    assert parse_deadline(text, TODAY) == Deadline("once", day, None, text)
    words = f"trước ngày {day.day} tháng {day.month} năm {day.year}"
    assert parse_deadline(words, TODAY).due == day


_TOKENS = st.sampled_from(
    [
        "Quý",
        "Qúy",
        "quy",
        "Tháng",
        "tháng",
        "năm",
        "Năm",
        "ngày",
        "hàng",
        "hằng",
        "lần",
        "Giai đoạn",
        "Thường xuyên",
        "Khi có",
        "Sau khi",
        "duy trì",
        "đầu",
        "cuối",
        "nửa",
        "I",
        "II",
        "III",
        "IV",
        "V",
        "X",
        "lll",
        "/",
        "//",
        "-",
        ",",
        " ",
        "\n",
        "\x00",
        "\u200b",
        "0",
        "1",
        "3",
        "6",
        "7",
        "8",
        "12",
        "13",
        "15",
        "31",
        "2025",
        "2026",
        "99999",
        "👍",
        "{text}",
        "{",
        "'; DROP TABLE task; --",
    ]
)
_FUZZ = st.one_of(
    st.text(),
    st.lists(_TOKENS, max_size=30).map("".join),
    st.lists(_TOKENS, max_size=30).map(" ".join),
)


def _check(text: str) -> None:
    try:
        deadline = parse_deadline(text, TODAY)
    except DeadlineParseError as error:
        assert translator("vi").gettext(error.message_id, **error.params)
    else:
        assert deadline.kind in ("once", "recurring", "ongoing", "on_event")
        assert deadline.repeat in (None, "monthly", "quarterly", "half_yearly", "yearly")
        assert deadline.due is None or isinstance(deadline.due, dt.date)
        json.dumps(deadline.to_json())


@given(_FUZZ)
@settings(max_examples=500)
def test_never_crashes(text: str) -> None:
    _check(text)


@given(st.tuples(_FUZZ, st.integers(100, 1000)).map(lambda pair: pair[0] * pair[1]))
@settings(max_examples=30, deadline=None)
def test_never_crashes_on_long_text(text: str) -> None:
    _check(text)
