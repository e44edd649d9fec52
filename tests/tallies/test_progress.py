"""Progress arithmetic (pure) and the commune view from the database."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from bot.core.people import default_commune_id
from bot.services import Services
from bot.tallies.progress import (
    CodeTarget,
    VillageInput,
    commune_progress,
    pace_of,
    rollup,
    trend_of,
)
from bot.tallies.store import commune_view
from db.models import Indicator, IndicatorTarget, Plan, Tally
from tests.factories import village_id

MARCH = dt.date(2026, 3, 1)
DENOMS = {"population": 1000, "adults": 700, "aged15": 800, "households": 250, "businesses": 10}


def months(*pairs: tuple[int, int]) -> dict[dt.date, int]:
    return {dt.date(2026 if m <= 3 else 2025, m, 1): v for m, v in pairs}


def test_trend_carries_values_forward() -> None:
    series = {dt.date(2025, 10, 1): 10, dt.date(2026, 1, 1): 40}
    assert trend_of(series, MARCH, 5) == (10, 10, 10, 40, 40, 40)
    assert trend_of({}, MARCH, 2) == (None, None, None)
    assert trend_of({dt.date(2026, 2, 1): 5}, MARCH, 2) == (None, 5, 5)


def test_pace_uses_first_known_value() -> None:
    assert pace_of((None, None, 10, 20, 30)) == 10
    assert pace_of((None, 5)) is None


def test_village_rate_gap_projection_and_ranking() -> None:
    a = VillageInput(1, "Xóm 1", DENOMS, {"vneid": {dt.date(2025, 9, 1): 100, MARCH: 400}})
    b = VillageInput(2, "Xóm 2", DENOMS, {"vneid": {dt.date(2026, 2, 1): 600}})
    c = VillageInput(3, "Xóm 3", None, {})
    view = commune_progress([a, b, c], MARCH, {"vneid": CodeTarget(0.7, 2026)})
    first = view.villages[0].codes["vneid"]
    assert (first.value, first.denominator, first.rate) == (400, 1000, 0.4)
    assert first.gap == 300
    assert first.pace == 50  # 100 -> 400 over six months
    assert first.projected == dt.date(2026, 9, 1)
    second = view.villages[1].codes["vneid"]
    assert second.value == 600 and second.projected is None and second.pace == 0
    assert view.villages[2].codes["vneid"].rate is None
    assert view.ranking["vneid"] == [2, 1, 3]
    assert [v.name for v in view.reported] == ["Xóm 1"]
    assert [v.name for v in view.missing] == ["Xóm 2", "Xóm 3"]
    total = view.totals["vneid"]
    assert (total.value, total.denominator) == (1000, 2000)
    assert total.gap == 400
    reached = commune_progress([b], MARCH, {"vneid": CodeTarget(0.5, 2026)}).totals["vneid"]
    assert reached.reached and reached.projected is None


def test_rollup_sums_communes() -> None:
    a = VillageInput(1, "A", DENOMS, {"cks": {MARCH: 70}})
    one = commune_progress([a], MARCH, {})
    totals = rollup([one, one], MARCH)
    assert totals["cks"].value == 140 and totals["cks"].denominator == 1400


def test_commune_view_reads_tallies_and_plan_targets(services: Services) -> None:
    xom3 = village_id(services, "Xóm 3")
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        plan = Plan(commune_id=commune_id, slug="test-plan", title="Kế hoạch thử")
        session.add(plan)
        session.flush()
        assert plan.id is not None
        indicator = Indicator(
            plan_id=plan.id,
            number="99",
            text="Tỷ lệ chữ ký số",
            unit_of_measure="%",
            tally_code="cks",
        )
        session.add(indicator)
        session.flush()
        assert indicator.id is not None
        session.add(
            IndicatorTarget(indicator_id=indicator.id, year=2030, raw="≥ 80", op=">=", value=80)
        )
        session.add(
            IndicatorTarget(indicator_id=indicator.id, year=2026, raw="≥ 50", op=">=", value=50)
        )
        session.add(
            Tally(village_id=xom3, period=dt.date(2024, 1, 1), code="cks", value=10)
        )  # old: carried
        session.add(Tally(village_id=xom3, period=MARCH, code="vneid", value=54))
        session.commit()
        view = commune_view(session, commune_id, MARCH)
    row = next(v for v in view.villages if v.village_id == xom3)
    assert row.reported
    assert row.codes["vneid"].rate == 0.1  # 54 / 540
    assert row.codes["cks"].value == 10
    assert (row.codes["cks"].target, row.codes["cks"].target_year) == (0.5, 2026)
    assert row.codes["cks"].gap == 203 - 10  # ceil(0.5 * 405) = 203
    assert len(view.villages) == 12 and len(view.reported) == 1
