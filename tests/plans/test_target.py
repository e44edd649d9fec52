"""Tests for reading Vietnamese indicator targets and judging actual values."""

from __future__ import annotations

import json
import math
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import load_catalog, translator
from bot.plans import target as target_module
from bot.plans.target import (
    TargetParseError,
    TargetSpec,
    completion_rate,
    effective_target,
    is_vacuous,
    parse_target,
    target_met,
)

DATA = Path(__file__).parent.parent / "data"
DEV = [json.loads(line) for line in (DATA / "targets_dev.jsonl").read_text().splitlines() if line]


@pytest.mark.parametrize("example", DEV, ids=[e["text"] for e in DEV])
def test_dev_examples(example: dict) -> None:
    expected = {k: v for k, v in example.items() if k != "text"}
    result = parse_target(example["text"]).to_json()
    assert result == expected
    # 70 prints as 70, not 70.0: the JSON must be exact.
    assert json.dumps(result) == json.dumps(expected)


def at_least(value: float) -> dict:
    return {"op": ">=", "value": value}


ACHIEVED = {"op": "achieved"}

# Every target written in the five seed plans (indicator appendices and section I.1 of 003).
SEEDS = [
    # 000 Trung Hội
    ("Tiếp cận mức tiên tiến ở nhiều lĩnh vực quan trọng", ACHIEVED),
    ("Đạt mức tiên tiến", ACHIEVED),
    ("Đạt", ACHIEVED),
    ("40%", at_least(40)),
    ("100%", at_least(100)),
    ("15%", at_least(15)),
    ("Liên thông", ACHIEVED),
    ("100", at_least(100)),
    ("80", at_least(80)),
    ("70", at_least(70)),
    ("≥30", at_least(30)),
    ("50", at_least(50)),
    ("$\\geq 70$", at_least(70)),
    ("$\\geq 95$", at_least(95)),
    # 001 Lâm Thao
    ("$\\geq 1,1$ và không thấp hơn chỉ tiêu tỉnh giao", at_least(1.1)),
    ("$\\geq 1,5$", at_least(1.5)),
    ("≥ 2", at_least(2)),
    ("≥ 3", at_least(3)),
    ("≥ 90", at_least(90)),
    ("≥ 45", at_least(45)),
    ("≥ 60", at_least(60)),
    ("Top 20", {"op": "rank_top", "value": 20}),
    ("Top 10", {"op": "rank_top", "value": 10}),
    ("10", at_least(10)),
    ("≥ 20", at_least(20)),
    ("≥ 0.79", at_least(0.79)),
    ("> 0.8", {"op": ">", "value": 0.8}),
    ("0", at_least(0)),
    ("2", at_least(2)),
    ("≥ 0.725", at_least(0.725)),
    ("≥ 0.75", at_least(0.75)),
    ("≥ 95", at_least(95)),
    ("≥ 80", at_least(80)),
    ("95", at_least(95)),
    # 003 Đồng Phú (section I.1)
    ("đạt từ 60% dân số trở lên", at_least(60)),
    ("đạt từ 70% trở lên", at_least(70)),
    ("$\\geq 2\\%$ và tăng dần theo yêu cầu phát triển", at_least(2)),
    ("$\\geq 90\\%$", at_least(90)),
    ("$\\geq 80\\%$", at_least(80)),
    ("$\\geq 50\\%$", at_least(50)),
    ("15-17%", {"op": "between", "low": 15, "high": 17}),
    ("90%", at_least(90)),
    ("95%", at_least(95)),
    # 004 Hà Long (indicators and task results)
    ("60%", at_least(60)),
    ("85%", at_least(85)),
    ("52%", at_least(52)),
    ("35%", at_least(35)),
    ("92%", at_least(92)),
    ("Đạt 35% dân có sử dụng chữ ký số", at_least(35)),
    (
        "30-50% hộ kinh doanh ứng dụng TMĐT, thanh toán không dùng tiền mặt",
        {"op": "between", "low": 30, "high": 50},
    ),
]

MORE = [
    ("≥ 70", at_least(70)),
    (">= 70", at_least(70)),
    ("=> 70", at_least(70)),
    ("⩾ 70", at_least(70)),
    ("\\ge 70", at_least(70)),
    ("$\\geqslant 70$", at_least(70)),
    ("&gt;= 70", at_least(70)),
    ("$\\ge 70 \\%$", at_least(70)),
    ("trên 70%", {"op": ">", "value": 70}),
    ("đạt trên 70%", {"op": ">", "value": 70}),
    ("hơn 70", {"op": ">", "value": 70}),
    ("tối thiểu 1,1%", at_least(1.1)),
    ("toi thieu 50", at_least(50)),
    ("ít nhất 3 sáng kiến", at_least(3)),
    ("không dưới 90%", at_least(90)),
    ("không thấp hơn 80", at_least(80)),
    ("từ 60% trở lên", at_least(60)),
    ("60% trở lên", at_least(60)),
    ("dưới 5%", {"op": "<", "value": 5}),
    ("< 1", {"op": "<", "value": 1}),
    ("thấp hơn 3", {"op": "<", "value": 3}),
    ("≤ 3", {"op": "<=", "value": 3}),
    ("$\\leq 3$", {"op": "<=", "value": 3}),
    ("<= 4", {"op": "<=", "value": 4}),
    ("tối đa 10", {"op": "<=", "value": 10}),
    ("không quá 2%", {"op": "<=", "value": 2}),
    ("không vượt quá 2%", {"op": "<=", "value": 2}),
    ("5% trở xuống", {"op": "<=", "value": 5}),
    ("top 10 tỉnh", {"op": "rank_top", "value": 10}),
    ("TOP 5", {"op": "rank_top", "value": 5}),
    ("trong nhóm 20 đứng đầu", {"op": "rank_top", "value": 20}),
    ("Nằm trong nhóm 10 địa phương dẫn đầu", {"op": "rank_top", "value": 10}),
    ("từ 15 đến 17%", {"op": "between", "low": 15, "high": 17}),
    ("15 – 17 %", {"op": "between", "low": 15, "high": 17}),
    ("1,5-2,5", {"op": "between", "low": 1.5, "high": 2.5}),
    ("1.000", at_least(1000)),
    ("10 000 người", at_least(10000)),
    ("0,5", at_least(0.5)),
    ("Hoàn thành", ACHIEVED),
    ("Đảm bảo", ACHIEVED),
    ("liên thông", ACHIEVED),
    ("DAT", ACHIEVED),
]


@pytest.mark.parametrize(("text", "expected"), SEEDS + MORE, ids=[t for t, _ in SEEDS + MORE])
def test_phrases(text: str, expected: dict) -> None:
    result = parse_target(text).to_json()
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)


@pytest.mark.parametrize(
    ("text", "message_id"),
    [
        ("", target_module.MSG_EMPTY),
        ("   \n", target_module.MSG_EMPTY),
        ("---", target_module.MSG_UNREADABLE),
        ("không", target_module.MSG_UNREADABLE),
        ("N/A", target_module.MSG_UNREADABLE),
        ("9" * 500, target_module.MSG_UNREADABLE),
        ("17-15%", target_module.MSG_BAD_RANGE),
        ("Top 0", target_module.MSG_BAD_RANK),
        ("Top 2,5", target_module.MSG_BAD_RANK),
        ("≥ 70 " * 300, target_module.MSG_UNREADABLE),
    ],
)
def test_errors(text: str, message_id: str) -> None:
    with pytest.raises(TargetParseError) as caught:
        parse_target(text)
    assert caught.value.message_id == message_id
    assert translator("vi").gettext(caught.value.message_id, **caught.value.params)


# --- target_met -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "actual", "met"),
    [
        (TargetSpec(">=", 70), 70.0, True),
        (TargetSpec(">=", 70), 69.9, False),
        (TargetSpec(">=", 0.725), 0.725, True),
        (TargetSpec(">", 0.8), 0.8, False),
        (TargetSpec(">", 0.8), 0.81, True),
        (TargetSpec("<=", 5), 5, True),
        (TargetSpec("<=", 5), 5.1, False),
        (TargetSpec("<", 5), 5, False),
        (TargetSpec("<", 5), 4.9, True),
        (TargetSpec("between", low=15, high=17), 16, True),
        (TargetSpec("between", low=15, high=17), 17, True),
        (TargetSpec("between", low=15, high=17), 17.5, False),
        (TargetSpec("rank_top", 20), 20, True),
        (TargetSpec("rank_top", 20), 21, False),
        (TargetSpec("rank_top", 20), 1, True),
        (TargetSpec("achieved"), 1, True),
        (TargetSpec("achieved"), 0, False),
        (TargetSpec(">=", 70), None, None),
        (TargetSpec("achieved"), None, None),
    ],
)
def test_target_met(target: TargetSpec, actual: float | None, met: bool | None) -> None:
    assert target_met(target, actual) is met


def test_rates_that_round_to_the_target_meet_it() -> None:
    assert target_met(parse_target("≥ 70"), 0.7 * 100) is True


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_a_vietnamese_translation() -> None:
    catalog = load_catalog("vi")
    ids = [v for k, v in vars(target_module).items() if k.startswith("MSG_")]
    assert len(ids) >= 4
    for message_id in ids:
        message = catalog.get(message_id)
        assert message is not None and message.string, message_id
        assert _placeholders(str(message.string)) == _placeholders(message_id), message_id


# --- properties -------------------------------------------------------------------

_OPS = {
    ">=": ["≥ {}", "≥{}", "$\\geq {}$", "tối thiểu {}", "ít nhất {}", "không dưới {}", "{}"],
    ">": ["> {}", "trên {}", "hơn {}"],
    "<=": ["≤ {}", "tối đa {}", "không quá {}", "$\\leq {}$"],
    "<": ["< {}", "dưới {}"],
}


@given(
    st.sampled_from(sorted(_OPS)),
    st.data(),
    st.one_of(st.integers(0, 100_000), st.decimals(0, 1000, places=2).map(float)),
    st.booleans(),
)
def test_round_trip(op: str, data: st.DataObject, value: float, percent: bool) -> None:
    template = data.draw(st.sampled_from(_OPS[op]))
    number = value if isinstance(value, int) or not float(value).is_integer() else int(value)
    # Vietnamese writing: decimal comma, thousands not grouped.
    written = str(number).replace(".", ",") + ("%" if percent else "")
    parsed = parse_target(template.format(written))
    assert parsed.op == op
    assert parsed.value == pytest.approx(number)


_TOKENS = st.sampled_from(
    [
        "≥",
        "≤",
        ">",
        "<",
        "=",
        "$",
        "\\geq",
        "\\ge",
        "\\leq",
        "\\%",
        "{",
        "}",
        "%",
        "Top",
        "top",
        "nhóm",
        "đứng đầu",
        "trên",
        "dưới",
        "tối thiểu",
        "không",
        "quá",
        "trở lên",
        "trở xuống",
        "từ",
        "đến",
        "-",
        "–",
        ",",
        ".",
        " ",
        "\n",
        "\x00",
        "\u200b",
        "0",
        "1",
        "1,1",
        "0.8",
        "15",
        "17",
        "100",
        "1.000",
        "99999999999999999999",
        "Đạt",
        "👍",
        "'; DROP TABLE indicator; --",
        "{text}",
    ]
)
_FUZZ = st.one_of(
    st.text(),
    st.lists(_TOKENS, max_size=30).map("".join),
    st.lists(_TOKENS, max_size=30).map(" ".join),
)


def _check(text: str) -> None:
    try:
        target = parse_target(text)
    except TargetParseError as error:
        assert translator("vi").gettext(error.message_id, **error.params)
    else:
        data = target.to_json()
        json.dumps(data, allow_nan=False)
        for key in ("value", "low", "high"):
            if key in data:
                assert isinstance(data[key], int | float) and math.isfinite(data[key])
        if target.op == "between":
            assert target.low is not None and target.high is not None
            assert target.low <= target.high
        if target.op == "rank_top":
            assert isinstance(target.value, int) and target.value >= 1
        target_met(target, 1.0)


@given(_FUZZ)
@settings(max_examples=500)
def test_never_crashes(text: str) -> None:
    _check(text)


@given(st.tuples(_FUZZ, st.integers(100, 1000)).map(lambda pair: pair[0] * pair[1]))
@settings(max_examples=30, deadline=None)
def test_never_crashes_on_long_text(text: str) -> None:
    _check(text)


@pytest.mark.parametrize(
    ("text", "shown", "expected"),
    [
        ("Tỉ lệ sử dụng dịch vụ công trực tuyến của người dân đạt 90%.", "90%", (">=", 90)),
        ("Tỉ lệ doanh nghiệp đổi mới sáng tạo đạt trên 40% trong tổng số", "trên 40%", (">", 40)),
        ("Tỷ lệ hộ có cáp quang ít nhất 85,5 %", "ít nhất 85,5 %", (">=", 85.5)),
    ],
)
def test_a_word_target_takes_the_percentage_of_the_indicators_text(
    text: str, shown: str, expected: tuple[str, float]
) -> None:
    raw, spec = effective_target("Đạt", parse_target("Đạt"), text)
    assert raw == shown and (spec.op, spec.value) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Quản lý nhà nước trên môi trường số, cơ sở dữ liệu kết nối thông suốt",
        "Sóng 5G phủ sóng 100% khu dân cư; cáp quang tới 100% hộ gia đình",  # two: neither
        "Giảm 250% chi phí",  # not a share
    ],
)
def test_a_word_target_without_one_percentage_stays_yes_or_no(text: str) -> None:
    assert effective_target("Liên thông", parse_target("Liên thông"), text) == (
        "Liên thông",
        TargetSpec("achieved"),
    )


def test_a_number_target_ignores_the_text_and_zero_is_vacuous() -> None:
    assert effective_target("≥ 70", parse_target("≥ 70"), "đạt 90%")[1].value == 70
    assert is_vacuous(parse_target("0")) and not is_vacuous(parse_target("≤ 0"))
    assert not is_vacuous(parse_target("Đạt")) and not is_vacuous(parse_target("2"))


def test_completion_rate_compares_the_value_with_the_target() -> None:
    assert completion_rate(parse_target("≥ 60%"), 54) == pytest.approx(0.9)
    assert completion_rate(parse_target("≥ 60%"), 75) == pytest.approx(1.25)
    assert completion_rate(parse_target("15-17%"), 12) == pytest.approx(0.8)
    assert completion_rate(parse_target("Top 20"), 25) == pytest.approx(0.8)  # lower is better
    assert completion_rate(parse_target("Top 20"), 3) == 1.0
    assert completion_rate(parse_target("Đạt"), 1) == 1.0
    assert completion_rate(parse_target("Đạt"), 0) == 0.0
    assert completion_rate(parse_target("≥ 60%"), None) is None
    assert completion_rate(parse_target("0"), 5) is None  # nothing to divide by
