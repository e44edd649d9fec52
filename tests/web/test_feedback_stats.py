"""Monthly feedback statistics on the dashboard and in Excel, recounted from the raw rows."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlmodel import Session

from bot.feedback import stats, store
from bot.services import Services
from tests.feedback.conftest import VN, Cast, commune, in_session, person
from tests.feedback.conftest import cast as cast  # noqa: F401 - the fixture
from tests.helpers import add_person
from tests.web.conftest import SignIn
from tests.web.test_feedback import Reports
from tests.web.test_feedback import reports as reports  # noqa: F401 - the fixture


def _handle(services: Services, reports: Reports, cast: Cast) -> None:
    """The rubbish answered on time; the resident satisfied with the road's answer."""
    now = services.clock()

    def work(session: Session) -> None:
        economy = person(session, cast.economy)
        store.answer(session, reports.formula, by=economy, text="Đã thu gom rác.", now=now, tz=VN)
        store.rate(
            session, reports.road, by=person(session, cast.resident), satisfied=True, now=now, tz=VN
        )

    in_session(services, work)


def test_the_month_is_counted_by_unit_and_category(
    services: Services, reports: Reports, cast: Cast
) -> None:
    _handle(services, reports, cast)
    now = services.clock()  # Tuesday 10/03/2026 09:00
    with Session(services.engine) as session:
        march = stats.month_stats(
            session,
            commune(session).id or 0,
            now.astimezone(VN).date().replace(day=1),
            tz=VN,
            now=now,
            only_unit=None,
            no_unit="–",
        )
    total = march.total
    # Road (5 days ago, answered late today), rubbish (yesterday, answered today), scam (today).
    assert (total.received, total.answered, total.on_time, total.closed, total.late) == (
        3,
        2,
        1,
        1,
        0,
    )
    # Working days: Thu 5/3 → Tue 10/3 skips Sunday (4), Mon 9/3 → Tue 10/3 (1).
    assert total.average_days == 2.5
    assert (total.rated, total.satisfied, total.satisfaction) == (1, 1, 1.0)
    by_unit = {name: t.received for name, t in march.by_unit}
    assert by_unit == {"Công an xã": 1, "Phòng Kinh tế": 2}
    by_category = {name: (t.received, t.on_time) for name, t in march.by_category}
    assert by_category == {
        "Hạ tầng – đường, cầu, cống": (1, 0),
        "Môi trường – rác thải, ô nhiễm": (1, 1),
        "An ninh trật tự": (1, 0),
    }
    with Session(services.engine) as session:
        february = stats.month_stats(
            session,
            commune(session).id or 0,
            march.month.replace(month=2),
            tz=VN,
            now=now,
            only_unit=None,
            no_unit="–",
        )
    assert (february.total.received, february.total.late) == (1, 1)  # the street light


async def test_the_statistics_page_and_its_excel_file(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    _handle(services, reports, cast)
    in_session(
        services,
        lambda s: store.update_category(
            s, commune(s).id or 0, "rac", name='=HYPERLINK("http://x","rác")'
        ),
    )
    office = await sign_in(cast.office)
    queue = await (await office.get("/feedback")).text()
    assert 'href="/feedback/stats"' in queue
    page = await office.get("/feedback/stats")
    html = await page.text()
    assert page.status == 200
    assert "Thống kê phản ánh tháng 3/2026" in html
    assert "Phòng Kinh tế" in html and "2,5 ngày làm việc" in html and "1/1" in html
    assert "=HYPERLINK(&#34;" in html or "=HYPERLINK(&quot;" in html  # escaped, as text
    february = await (await office.get("/feedback/stats?month=2026-02")).text()
    assert 'class="is-red"' in february  # the late street light
    assert (await office.get("/feedback/stats?month=2026-13")).status == 400

    response = await office.get("/feedback/stats.xlsx?month=2026-03")
    assert response.status == 200
    assert "thong-ke-phan-anh-2026-03.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    cells = [[c for c in row] for row in sheet.iter_rows()]
    values = [[c.value for c in row] for row in cells]
    assert values[0][0] == "THỐNG KÊ TIẾP NHẬN, XỬ LÝ PHẢN ÁNH, KIẾN NGHỊ CỦA NGƯỜI DÂN"
    units = {row[1]: row[2:] for row in values if row[0] in (1, 2) and row[1] in (
        "Công an xã", "Phòng Kinh tế")}  # fmt: skip
    assert units["Phòng Kinh tế"][:5] == [2, 2, 1, 50.0, 2.5]
    totals = [row for row in values if row[1] == "Tổng cộng"]
    assert len(totals) == 2 and totals[0][2:] == [3, 2, 1, 33.3, 2.5, 1, 0, 1, 1, 100.0]
    [formula] = [c for row in cells for c in row if str(c.value).startswith("=HYPERLINK")]
    assert formula.data_type == "s" and formula.quotePrefix


async def test_a_unit_officer_counts_only_their_unit_and_others_see_nothing(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    police = await sign_in(cast.police)
    html = await (await police.get("/feedback/stats")).text()
    assert "Công an xã" in html and "Phòng Kinh tế" not in html
    sheet = load_workbook(
        io.BytesIO(await (await police.get("/feedback/stats.xlsx")).read())
    ).active
    assert sheet is not None
    names = {row[1] for row in sheet.iter_rows(values_only=True)}
    assert "Công an xã" in names and "Phòng Kinh tế" not in names
    member = add_person(services, name="Tổ Viên", roles=("team",), village="Xóm 3", chat_id="2010")
    team = await sign_in(member)
    assert (await team.get("/feedback/stats")).status == 403
    assert (await team.get("/feedback/stats.xlsx")).status == 403
