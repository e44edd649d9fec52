"""Tests for the tally codes and the one-line tally parser."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import load_catalog, translator
from bot.tallies import parser
from bot.tallies.codes import CODE_NAMES, CODES, code_by_name, resolve_label
from bot.tallies.parser import (
    KINDS,
    MAX_VALUE,
    TallyParseError,
    looks_like_tally,
    parse_tally,
)
from bot.text import fold

DATA = Path(__file__).parent.parent / "data"
DEV = [json.loads(line) for line in (DATA / "tallies_dev.jsonl").read_text().splitlines() if line]


# --- codes ------------------------------------------------------------------------


def test_seven_codes_in_order() -> None:
    assert CODE_NAMES == ("vneid", "cks", "ssk", "tknh", "dvc", "kns", "ttktm")


def test_denominators() -> None:
    expected = {
        "vneid": "population",
        "cks": "adults",
        "ssk": "population",
        "tknh": "aged15",
        "dvc": "adults",
        "kns": "population",
        "ttktm": "businesses",
    }
    assert {c.code: c.denominator for c in CODES} == expected


def test_code_by_name() -> None:
    assert code_by_name("cks").name == "Chữ ký số"
    assert code_by_name(" VNEID ").name == "VNeID mức 2"
    with pytest.raises(KeyError):
        code_by_name("xyz")


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Chữ Ký Số", "cks"),
        ("chu ky so", "cks"),
        ("định danh", "vneid"),
        ("tài khoản định danh", "vneid"),
        ("định danh điện tử", "vneid"),
        ("VNID", "vneid"),
        ("sổ sức khỏe", "ssk"),
        ("sổ sức khoẻ", "ssk"),
        ("SSKĐT", "ssk"),
        ("tài khoản ngân hàng", "tknh"),
        ("ngân hàng", "tknh"),
        ("dịch vụ công", "dvc"),
        ("kỹ năng số", "kns"),
        ("thanh toán không dùng tiền mặt", "ttktm"),
        ("không tiền mặt", "ttktm"),
    ],
)
def test_resolve_label(label: str, code: str) -> None:
    found = resolve_label(label)
    assert found is not None
    assert found.code == code


def test_resolve_unknown_label() -> None:
    assert resolve_label("xyz") is None


def test_aliases_are_unambiguous() -> None:
    seen: dict[str, str] = {}
    for code in CODES:
        for alias in (code.code, *code.aliases):
            assert seen.setdefault(fold(alias), code.code) == code.code


# --- the dev examples -------------------------------------------------------------


@pytest.mark.parametrize("example", DEV, ids=[e["text"] for e in DEV])
def test_dev_examples(example: dict) -> None:
    if example.get("error"):
        with pytest.raises(TallyParseError):
            parse_tally(example["text"])
    else:
        assert parse_tally(example["text"]) == example["values"]


# --- more accepted forms ----------------------------------------------------------

ACCEPTED = [
    ("vneid 45 cks 12", {"vneid": 45, "cks": 12}),
    ("VNeID: 45, chữ ký số: 12", {"vneid": 45, "cks": 12}),
    ("bc định danh 120 chu ky so 33", {"vneid": 120, "cks": 33}),
    ("Báo cáo: vneid 5", {"vneid": 5}),
    # what people say around their figures
    ("tôi báo vneid 30 người nhé", {"vneid": 30}),
    ("em gửi số liệu: vneid 45, cks 12 ạ", {"vneid": 45, "cks": 12}),
    ("Em báo cáo vneid 3 cks 2 nhé, cảm ơn!", {"vneid": 3, "cks": 2}),
    ("BC\nvneid 5\ncks 6", {"vneid": 5, "cks": 6}),
    ("CKS12", {"cks": 12}),
    ("vneid45cks12", {"vneid": 45, "cks": 12}),
    ("VNeID mức 2: 45", {"vneid": 45}),
    ("vneid muc 2 45", {"vneid": 45}),
    ("vneid m2 45", {"vneid": 45}),
    ("kns 1.234", {"kns": 1234}),
    ("kns 1.234.567", {"kns": 1_234_567}),
    ("kns 10.000.000", {"kns": 10_000_000}),
    ("kns 0", {"kns": 0}),
    ("kns 007", {"kns": 7}),
    ("tknh = 70 ; dvc = 15", {"tknh": 70, "dvc": 15}),
    ("tknh=70;dvc=15", {"tknh": 70, "dvc": 15}),
    (
        "Sổ Sức Khỏe: 3\nNgân hàng = 4; thanh toán không dùng tiền mặt 5",
        {"ssk": 3, "tknh": 4, "ttktm": 5},
    ),
    ("so suc khoe 3, ngan hang 4, khong tien mat 5", {"ssk": 3, "tknh": 4, "ttktm": 5}),
    ("tài khoản định danh điện tử 7", {"vneid": 7}),
    ("dinhdanh 4", {"vneid": 4}),
    ("vneid 45 người, cks 12 người", {"vneid": 45, "cks": 12}),
    ("vneid là 45 và cks được 12", {"vneid": 45, "cks": 12}),
    ("ttktm 5 hộ kinh doanh", {"ttktm": 5}),
    ("vneid-45", {"vneid": 45}),
    ("vneid - 45", {"vneid": 45}),
    ("vneid 45.", {"vneid": 45}),
    ("cks 5 chữ ký số 5", {"cks": 5}),
    ("kỹ năng số 30 kĩ năng số 30", {"kns": 30}),
    (
        "VNEID 1 CKS 2 SSK 3 TKNH 4 DVC 5 KNS 6 TTKTM 7",
        dict(zip(CODE_NAMES, range(1, 8), strict=True)),
    ),
    ("dịch vụ công trực tuyến 9", {"dvc": 9}),
    ("ví điện tử 11", {"tknh": 11}),
    ("vneid\u200b 45", {"vneid": 45}),
    ("\u202bvneid 45\u202c", {"vneid": 45}),
    ("vneid 45 👍", {"vneid": 45}),
    ("**vneid**: 45", {"vneid": 45}),
    ("vneid ٤٥", {"vneid": 45}),
    ("cks 12 vneid 45", {"cks": 12, "vneid": 45}),
    ("vneid 1,200", {"vneid": 1200}),
    ("vneid hai trăm", {"vneid": 200}),
    ("ssk một nghìn hai trăm", {"ssk": 1200}),
    ("kns hai tram nam muoi", {"kns": 250}),
    ("cks mười lăm", {"cks": 15}),
    ("cks hai mươi tư", {"cks": 24}),
    ("ssk ba trăm linh năm", {"ssk": 305}),
    ("tài khoản ngân hàng 12", {"tknh": 12}),
]


@pytest.mark.parametrize(("text", "values"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted(text: str, values: dict[str, int]) -> None:
    result = parse_tally(text)
    assert result == values
    assert list(result) == list(values)


# --- errors -----------------------------------------------------------------------

REFUSED = [
    ("xyz 5", "unknown_label", {"label": "xyz"}),
    ("vneid 45 abc", "unknown_label", {"label": "abc"}),
    ("vneid 45 Xóm Ba 12", "unknown_label", {"label": "Xóm Ba"}),
    ("làm sao kích hoạt vneid?", "unknown_label", {"label": "làm sao kích hoạt"}),
    ("vneid -1", "negative", {"label": "vneid", "number": "-1"}),
    ("chữ ký số: -12", "negative", {"label": "chữ ký số", "number": "-12"}),
    ("kns 12,5", "not_integer", {"label": "kns", "number": "12,5"}),
    ("kns 12.5", "not_integer", {"label": "kns", "number": "12.5"}),
    ("kns 1.2345", "not_integer", {"label": "kns", "number": "1.2345"}),
    ("kns 1.234,5", "not_integer", {"label": "kns", "number": "1.234,5"}),
    ("cks 10 cks 11", "conflicting_duplicate", {"code": "cks", "first": "10", "second": "11"}),
    (
        "cks 1.000 chữ ký số 999",
        "conflicting_duplicate",
        {"code": "cks", "first": "1.000", "second": "999"},
    ),
    ("vneid", "missing_number", {"label": "vneid"}),
    ("vneid abc", "missing_number", {"label": "vneid"}),
    ("dvc 20%", "percent", {"label": "dvc", "number": "20%"}),
    ("cks hai ba", "not_integer", {"label": "cks", "number": "hai ba"}),
    ("vneid cks 12", "missing_number", {"label": "vneid"}),
    ("cks 12 Sổ sức khỏe", "missing_number", {"label": "Sổ sức khỏe"}),
    ("vneid 10.000.001", "too_large", {"label": "vneid", "number": "10.000.001"}),
    ("vneid 99999999", "too_large", {"label": "vneid", "number": "99999999"}),
    ("", "empty", {}),
    ("   \n ", "empty", {}),
    ("bc", "empty", {}),
    ("báo cáo: ", "empty", {}),
    ("!!! ...", "empty", {}),
    ("45", "missing_label", {"number": "45"}),
    ("vneid 45 12", "missing_label", {"number": "12"}),
]


@pytest.mark.parametrize(("text", "kind", "params"), REFUSED, ids=[t for t, _, _ in REFUSED])
def test_refused(text: str, kind: str, params: dict) -> None:
    with pytest.raises(TallyParseError) as caught:
        parse_tally(text)
    error = caught.value
    assert error.kind == kind
    for key, value in params.items():
        assert error.params[key] == value


def test_error_messages_in_vietnamese() -> None:
    with pytest.raises(TallyParseError) as caught:
        parse_tally("xyz 5")
    error = caught.value
    text = translator("vi").gettext(error.message_id, **error.params)
    assert text == (
        "Mình chưa hiểu “xyz”. Hãy dùng mã: vneid, cks, ssk, tknh, dvc, kns, ttktm. "
        "Ví dụ: vneid 45 cks 12"
    )


def test_huge_number_is_too_large_and_quoted_short() -> None:
    with pytest.raises(TallyParseError) as caught:
        parse_tally("vneid " + "9" * 100_000)
    assert caught.value.kind == "too_large"
    assert len(caught.value.params["number"]) <= 40


def test_long_unknown_label_is_quoted_short() -> None:
    with pytest.raises(TallyParseError) as caught:
        parse_tally("xin chào " * 1000)
    assert caught.value.kind == "unknown_label"
    assert len(caught.value.params["label"]) <= 40


# --- looks_like_tally -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "vneid 45 cks 12",
        "VNeID: 45, chữ ký số: 12",
        "bc định danh 120 chu ky so 33",
        "báo cáo vneid 5",
        "CKS12",
        "ngân hàng 30",
        "bc",
        "vneid hai trăm cks mười",
        "vneid năm mươi người",
    ],
)
def test_looks_like_tally(text: str) -> None:
    assert looks_like_tally(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "làm sao kích hoạt VNeID mức 2?",
        "làm sao kích hoạt vneid mức 2",
        "chữ ký số là gì",
        "hướng dẫn cài vneid 2 bước",
        "cách mở tài khoản ngân hàng",
        "xin chào",
        "vneid",
        "tôi muốn hỏi về dịch vụ công",
        # Folded, "sau" (after) and "nam" (year) read like the numbers "sáu" and "năm".
        "toi nhan duoc tin nhan cap nhat vneid sau sap nhap nhan qua 100.000",
        "chu ky so nam nay het han chua",
    ],
)
def test_does_not_look_like_tally(text: str) -> None:
    assert not looks_like_tally(text)


# --- translations -----------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_a_vietnamese_translation() -> None:
    catalog = load_catalog("vi")
    assert set(parser.MESSAGES) == set(KINDS)
    for message_id in parser.MESSAGES.values():
        message = catalog.get(message_id)
        assert message is not None and message.string, message_id
        assert _placeholders(str(message.string)) == _placeholders(message_id), message_id


# --- properties -------------------------------------------------------------------

_SEPARATORS_AFTER_LABEL = [" ", ": ", ":", "=", " = ", "\t", "  ", "-", " - ", ": \n"]
_SEPARATORS_BETWEEN = [" ", ", ", ",", "; ", ";", "\n", " \n ", ". ", "", " và "]
_PREFIXES = ["", "bc ", "BC: ", "báo cáo ", "Báo cáo\n", "bc:"]


def _render_number(value: int, dotted: bool) -> str:
    return f"{value:,}".replace(",", ".") if dotted else str(value)


def _style(label: str, style: str) -> str:
    if style == "upper":
        return label.upper()
    if style == "title":
        return label.title()
    if style == "folded":
        return fold(label)
    return label


@st.composite
def tally_messages(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    codes = draw(st.lists(st.sampled_from(CODE_NAMES), unique=True, min_size=1, max_size=7))
    values = {code: draw(st.integers(0, MAX_VALUE)) for code in codes}
    parts = [draw(st.sampled_from(_PREFIXES))]
    for index, code in enumerate(codes):
        tally_code = code_by_name(code)
        label = _style(
            draw(st.sampled_from((tally_code.code, *tally_code.aliases))),
            draw(st.sampled_from(["as is", "upper", "title", "folded"])),
        )
        after = draw(
            st.sampled_from(_SEPARATORS_AFTER_LABEL + ([""] if label[-1].isalpha() else []))
        )
        if index:
            parts.append(draw(st.sampled_from(_SEPARATORS_BETWEEN)))
        parts.append(label + after + _render_number(values[code], draw(st.booleans())))
    return "".join(parts), values


@given(tally_messages())
@settings(max_examples=300)
def test_round_trip(message: tuple[str, dict[str, int]]) -> None:
    text, values = message
    result = parse_tally(text)
    assert result == values
    assert list(result) == list(values)


_TOKENS = st.sampled_from(
    [
        "vneid",
        "cks",
        "ssk",
        "tknh",
        "dvc",
        "kns",
        "ttktm",
        "định danh",
        "chữ ký số",
        "bc",
        "báo cáo",
        "mức 2",
        "người",
        "hộ",
        "-",
        "−",
        "–",
        ":",
        "=",
        ",",
        ";",
        ".",
        " ",
        "\n",
        "\t",
        "\x00",
        "\u200b",
        "\u202e",
        "👍",
        "%",
        "{",
        "}",
        "{label}",
        "'; DROP TABLE tally; --",
        "<script>",
        "1",
        "12",
        "1.234",
        "12,5",
        "-1",
        "99999999",
        "0",
        "٤",
        "xyz",
        "đ",
        "ĐỊNH",
        "Ⅻ",
        "ﬁ",
        "İ",
    ]
)
_FUZZ = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.lists(_TOKENS, max_size=40).map("".join),
    st.lists(st.one_of(_TOKENS, st.text(max_size=3)), max_size=30).map(" ".join),
)


@given(_FUZZ)
@settings(max_examples=500)
def test_never_crashes(text: str) -> None:
    try:
        result = parse_tally(text)
    except TallyParseError as error:
        assert error.kind in KINDS
        rendered = translator("vi").gettext(error.message_id, **error.params)
        assert rendered
    else:
        assert result
        for code, value in result.items():
            assert code in CODE_NAMES
            assert type(value) is int
            assert 0 <= value <= MAX_VALUE
    assert isinstance(looks_like_tally(text), bool)


@given(st.tuples(_FUZZ, st.integers(100, 2000)).map(lambda pair: pair[0] * pair[1]))
@settings(max_examples=30, deadline=None)
def test_never_crashes_on_long_text(text: str) -> None:
    try:
        parse_tally(text)
    except TallyParseError as error:
        assert error.kind in KINDS
    looks_like_tally(text)


def test_percentages_are_kept_apart_from_counts() -> None:
    parsed = parser.parse_tally_parts("ssk 260 dvc 20%")
    assert parsed.values == {"ssk": 260}
    assert parsed.percents == {"dvc": 20.0}
    assert parser.parse_tally_parts("dvc 12,5 phần trăm").percents == {"dvc": 12.5}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("vneid", True), ("vneid abc", True), ("VNeID là gì", False), ("vneid 45", False)],
)
def test_names_code_only(text: str, expected: bool) -> None:
    assert parser.names_code_only(text) is expected
