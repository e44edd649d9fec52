"""Reading a report message: "bc", a month, a village name, then the figures (pure)."""

from __future__ import annotations

import datetime as dt

from bot.tallies.reading import looks_like_report, read_report, split_period, split_report

TODAY = dt.date(2026, 3, 3)
VILLAGES = ("Xóm 3", "Xóm 5", "Thôn Đồng Tâm", "Xóm Chùa")


def villages() -> tuple[str, ...]:
    return VILLAGES


def test_split_period() -> None:
    today = dt.date(2026, 3, 3)
    assert split_period("tháng 2 vneid 45", today) == (dt.date(2026, 2, 1), "vneid 45")
    assert split_period("T2: cks 12", today) == (dt.date(2026, 2, 1), "cks 12")
    assert split_period("bc Tháng 12/2025, vneid 4", today) == (dt.date(2025, 12, 1), "vneid 4")
    assert split_period("thang 12 vneid 1", today) == (dt.date(2025, 12, 1), "vneid 1")
    assert split_period("tknh 70", today) == (None, "tknh 70")
    assert split_period("tháng 13 vneid 1", today) == (None, "tháng 13 vneid 1")


def test_split_report_strips_bc_a_month_and_villages_in_any_order() -> None:
    assert split_report("bc tháng 2 vneid 45", TODAY).period == dt.date(2026, 2, 1)
    parts = split_report("Báo cáo Xóm 3: T2 cks 12", TODAY, villages)
    assert (parts.period, parts.villages, parts.figures) == (
        dt.date(2026, 2, 1),
        ("Xóm 3",),
        "cks 12",
    )
    parts = split_report("thon dong tam vneid 4", TODAY, villages)
    assert (parts.villages, parts.figures) == (("Thôn Đồng Tâm",), "vneid 4")
    assert split_report("vneid 45", TODAY, villages).villages == ()


def test_village_names_are_only_asked_for_when_needed() -> None:
    asked: list[int] = []

    def counting() -> tuple[str, ...]:
        asked.append(1)
        return VILLAGES

    assert read_report("vneid 45 cks 12", TODAY, counting).values == {"vneid": 45, "cks": 12}
    assert asked == []
    assert read_report("Xóm 5 vneid 1", TODAY, counting).villages == ("Xóm 5",)
    assert asked == [1]


def test_read_report_keeps_the_month_and_villages_when_the_figures_are_wrong() -> None:
    report = read_report("Xóm 5 tháng 2 vneid xyz", TODAY, villages)
    assert report.villages == ("Xóm 5",) and report.period == dt.date(2026, 2, 1)
    assert (
        report.values == {} and report.error is not None and report.error.kind == "missing_number"
    )
    assert read_report("tháng 2 vneid 45", TODAY).values == {"vneid": 45}


def test_looks_like_report_after_a_village_name() -> None:
    # "chùa" alone reads like a question ("chưa"); as the village's name it is not one.
    assert looks_like_report("Xóm Chùa: vneid 10", TODAY, villages)
    assert not looks_like_report("Xóm Chùa: vneid 10", TODAY)
    assert not looks_like_report("cách kích hoạt vneid mức 2?", TODAY, villages)
