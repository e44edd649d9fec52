"""The overview's SVG charts: each code's rate by month against the target, villages ranked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bot.i18n import translator
from bot.web import charts
from tests.web.conftest import Seeded, SignIn

SVG = re.compile(r"<svg class=\"svg-chart.*?</svg>", re.S)


def test_line_chart_is_a_scalable_accessible_image() -> None:
    t = translator("vi")
    svg = charts.rate_line_svg(
        "rate-x",
        [("T1", 0.1), ("T2", None), ("T3", 0.25), ("T4", None)],
        title="VNeID <mức 2>",
        desc="Tháng 3: 25%.",
        percent=t.percent,
        target=0.8,
        target_label="Mục tiêu 2026: 80%",
    )
    root = ET.fromstring(str(svg))  # well-formed XML, names escaped
    assert root.get("role") == "img" and root.get("viewBox") == "0 0 360 178"
    assert "width" not in root.attrib  # the page's width decides the size
    ns = ""
    assert root.find(f"{ns}title").text == "VNeID <mức 2>"  # type: ignore[union-attr]
    assert root.get("aria-labelledby") == "rate-x-t rate-x-d"
    texts = [e.text for e in root.iter("text")]
    assert "25%" in texts and "Mục tiêu 2026: 80%" in texts and "T4" in texts
    assert len(list(root.iter("circle"))) == 2  # the months with a figure
    assert "<script" not in str(svg)


def test_ranking_chart_marks_the_target_and_the_own_village() -> None:
    t = translator("vi")
    svg = charts.ranking_svg(
        "rank-x",
        [("Xóm 1", 0.9, False), ("Xóm 2", 0.5, True), ("Xóm 3", None, False)],
        title="Xếp hạng",
        desc="3 thôn",
        percent=t.percent,
        target=0.8,
    )
    root = ET.fromstring(str(svg))
    bars = [r for r in root.iter("rect") if "svg-bar" in (r.get("class") or "")]
    assert len(bars) == 2  # no bar for the village without a figure
    assert "svg-good" in (bars[0].get("class") or "")  # above the target
    assert "svg-highlight" in (bars[1].get("class") or "")
    assert [e.text for e in root.iter("text")][-1] == "–"
    assert len([line for line in root.iter("line") if line.get("class") == "svg-target"]) == 1


async def test_overview_draws_every_code_for_the_office(seeded: Seeded, sign_in: SignIn) -> None:
    client = await sign_in(seeded.office)
    html = await (await client.get("/")).text()
    assert "Số liệu từng tháng so với mục tiêu năm" in html
    drawn = SVG.findall(html)
    # seven rate lines, and a ranking for each code
    assert len([s for s in drawn if "svg-line-chart" in s]) == 7
    assert len([s for s in drawn if "svg-ranking" in s]) == 7
    for svg in drawn:
        ET.fromstring(svg)
    vneid = next(s for s in drawn if 'id="rate-vneid-t"' in s)
    assert "VNeID mức 2: tỷ lệ theo tháng năm 2026" in vneid
    assert ">T1<" in vneid and ">T12<" in vneid
    # The figures are in a table next to the chart, as percentages.
    assert "Số liệu theo tháng" in html and "Xếp hạng các thôn" in html
    assert "3/2026" in html and "Xóm 3" in html


async def test_a_team_member_sees_only_their_village_in_the_charts(
    seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.member)
    html = await (await client.get("/")).text()
    drawn = SVG.findall(html)
    assert drawn and all("svg-ranking" not in s for s in drawn)  # no other village shown
    assert "tỷ lệ của thôn theo tháng" in html
    assert "Xóm 1" not in html and "Xếp hạng các thôn" not in html
