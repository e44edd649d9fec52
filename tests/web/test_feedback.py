"""The dashboard's feedback pages: the queue and its filters, one report, the Excel file."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.feedback import store
from bot.feedback.photos import StoredPhoto, photo_dir, store_photo
from bot.services import Services
from db.models import FeedbackPhoto, Village
from tests.feedback.conftest import VN, Cast, category, commune, in_session, person
from tests.feedback.conftest import cast as cast  # noqa: F401 - the fixture
from tests.feedback.photos import exif_of, jpeg_with_gps
from tests.helpers import add_person
from tests.web.conftest import SignIn

GPS_IFD = 0x8825
CODE = re.compile(r'href="/feedback/(\d+)">(PA-\d{4})</a>')


@dataclass
class Reports:
    road: int  # Phòng Kinh tế, answered then closed; the resident agreed to be contacted
    light: int  # Phòng Kinh tế, open, late (sent 20 days ago)
    scam: int  # Công an xã, urgent, anonymous, with an internal note
    formula: int  # Phòng Kinh tế, text that looks like a spreadsheet formula


def _submit(
    session: Session, who: int, code: str, text: str, now: dt.datetime, *, contact: bool = False
) -> int:
    report = store.submit(
        session,
        commune=commune(session),
        reporter_id=who,
        new=store.NewReport(
            category_id=category(session, code).id or 0,
            text=text,
            village_id=person(session, who).village_id,
            landmark="cạnh cầu",
            contact_allowed=contact,
        ),
        now=now,
        tz=VN,
    ).report
    assert report.id is not None
    return report.id


@pytest.fixture
def reports(services: Services, cast: Cast) -> Reports:
    now = services.clock()

    def work(session: Session) -> Reports:
        road = _submit(
            session,
            cast.resident,
            "duong",
            "Ổ gà lớn đầu xóm",
            now - dt.timedelta(days=5),
            contact=True,
        )
        light = _submit(
            session, cast.neighbour, "dien", "Đèn đường hỏng", now - dt.timedelta(days=20)
        )
        scam = _submit(
            session,
            cast.neighbour,
            "an_ninh",
            "Có người gọi giả danh công an",
            now - dt.timedelta(hours=3),
        )
        formula = _submit(
            session,
            cast.resident,
            "rac",
            '=HYPERLINK("http://x") rác ùn ứ',
            now - dt.timedelta(days=1),
        )
        economy, office = person(session, cast.economy), person(session, cast.office)
        store.answer(session, road, by=economy, text="Đã vá xong ổ gà.", now=now, tz=VN)
        store.close(session, road, by=office, note="Cảm ơn bà con.", now=now, tz=VN)
        store.add_note(
            session, scam, by=person(session, cast.police), text="Đã xác minh số máy", now=now
        )
        return Reports(road, light, scam, formula)

    return in_session(services, work)


def codes(html: str) -> list[int]:
    return [int(i) for i, _code in CODE.findall(html)]


async def test_the_office_sees_every_report_most_urgent_first(
    reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.office)
    response = await client.get("/feedback")
    html = await response.text()
    assert response.status == 200
    assert '<a href="/feedback" aria-current="page">Phản ánh</a>' in html
    # Urgent first, then late, then the nearest deadline; closed last.
    assert codes(html) == [reports.scam, reports.light, reports.formula, reports.road]
    assert "4 trên 4 phản ánh" in html
    assert "Nguyễn Thị Hoa" not in html and "Trần Văn Nam" not in html


async def test_the_queue_filters(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.office)
    with Session(services.engine) as session:
        xom5 = session.exec(select(Village).where(Village.name == "Xóm 5")).one().id
        police = person(session, cast.police).unit_id

    async def shown(**params: object) -> list[int]:
        response = await client.get("/feedback", params={k: str(v) for k, v in params.items()})
        assert response.status == 200
        return codes(await response.text())

    assert await shown(status="closed") == [reports.road]
    assert await shown(status="open") == [reports.scam, reports.light, reports.formula]
    assert await shown(status="overdue") == [reports.light]
    assert await shown(status="assigned", category="dien") == [reports.light]
    assert await shown(village=xom5) == [reports.scam, reports.light]
    assert await shown(unit=police) == [reports.scam]
    assert await shown(age="2") == [reports.scam, reports.formula]
    assert await shown(age="7") == [reports.scam, reports.formula, reports.road]
    assert await shown(age="older") == []
    for bad in ({"status": "lost"}, {"category": "nope"}, {"age": "3"}, {"village": "x"}):
        response = await client.get("/feedback", params=bad)
        assert response.status == 400, bad


async def test_a_unit_officer_sees_only_their_units_reports(
    reports: Reports, cast: Cast, sign_in: SignIn, services: Services
) -> None:
    client = await sign_in(cast.police)
    html = await (await client.get("/feedback")).text()
    assert codes(html) == [reports.scam]
    assert "1 trên 1 phản ánh" in html
    with Session(services.engine) as session:
        economy_unit = person(session, cast.economy).unit_id
    ignored = await client.get("/feedback", params={"unit": str(economy_unit)})
    assert codes(await ignored.text()) == [reports.scam]  # the unit filter is the office's
    assert (await client.get(f"/feedback/{reports.scam}")).status == 200
    assert (await client.get(f"/feedback/{reports.road}")).status == 403
    assert (await client.get("/feedback/999999")).status == 404
    assert (await client.get("/feedback/abc")).status == 404


async def test_people_without_a_unit_or_overview_role_cannot_open_it(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    member = add_person(services, name="Hoàng Văn Tổ", roles=("team",), village="Xóm 3")
    client = await sign_in(member)
    assert (await client.get("/feedback")).status == 403
    assert (await client.get(f"/feedback/{reports.road}")).status == 403
    assert (await client.get("/feedback/export.xlsx")).status == 403
    assert "/feedback" not in await (await client.get("/")).text()


async def test_a_report_page_shows_its_history_and_hides_who_did_not_agree(
    reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.office)
    road = await (await client.get(f"/feedback/{reports.road}")).text()
    assert "Nguyễn Thị Hoa (đồng ý để cán bộ liên hệ)" in road
    assert "Ổ gà lớn đầu xóm" in road and "cạnh cầu, Xóm 3" in road
    assert "Người phản ánh:" in road  # the history never names the resident
    assert road.count("Nguyễn Thị Hoa") == 1
    assert "Lê Kinh Tế:" in road and "Đã vá xong ổ gà." in road
    assert "Đỗ Văn Phòng:" in road and "Cảm ơn bà con." in road
    scam = await (await client.get(f"/feedback/{reports.scam}")).text()
    assert "ẩn tên (không đồng ý để cán bộ liên hệ)" in scam
    assert "Trần Văn Nam" not in scam
    assert "Đã xác minh số máy" in scam and "chỉ cán bộ xem" in scam


async def test_the_excel_file_follows_the_filters_and_runs_no_formula(
    reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.office)
    response = await client.get("/feedback/export.xlsx", params={"status": "open"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "phan-anh-" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows.index(next(r for r in rows if r[0] == "TT"))
    assert rows[header][:4] == ["TT", "Mã phản ánh", "Ngày nhận", "Lĩnh vực"]
    body = rows[header + 1 :]
    assert [r[1] for r in body] == ["PA-0003", "PA-0002", "PA-0004"]
    formula = next(r for r in body if r[1] == "PA-0004")
    assert formula[6] == '=HYPERLINK("http://x") rác ùn ứ'
    cell = sheet.cell(row=header + 1 + body.index(formula) + 1, column=7)
    assert cell.data_type == "s" and cell.quotePrefix  # text, never a live formula
    late = next(r for r in body if r[1] == "PA-0002")
    assert late[10] == "Có" and isinstance(late[9], dt.datetime)
    flat = repr(rows)
    assert "Nguyễn Thị Hoa" not in flat and "Trần Văn Nam" not in flat
    everything = await client.get("/feedback/export.xlsx")
    sheet = load_workbook(io.BytesIO(await everything.read())).active
    assert sheet is not None
    closed = [[c.value for c in row] for row in sheet.iter_rows() if row[1].value == "PA-0001"]
    assert closed[0][8] == "đã đóng" and closed[0][12] is not None


async def test_a_unit_officers_file_has_only_their_units_reports(
    reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.police)
    response = await client.get("/feedback/export.xlsx")
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    found = [row[1].value for row in sheet.iter_rows() if str(row[1].value).startswith("PA-")]
    assert found == ["PA-0003"]


async def test_no_reports_yet(cast: Cast, sign_in: SignIn) -> None:
    client = await sign_in(cast.office)
    html = await (await client.get("/feedback")).text()
    assert "Không có phản ánh nào khớp với bộ lọc." in html
    with_filter = await client.get("/feedback", params={"status": "closed"})
    assert "Bỏ lọc" in await with_filter.text()


async def test_a_reports_photos_are_served_only_to_who_may_see_it(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    directory = photo_dir(services.settings.data_dir)

    def work(session: Session) -> tuple[int, int]:
        stored = store_photo(directory, jpeg_with_gps())
        report_id = _submit_with_photo(session, cast.resident, stored, services.clock())
        photo = session.exec(select(FeedbackPhoto).where(FeedbackPhoto.report_id == report_id))
        return report_id, photo.one().id or 0

    report_id, photo_id = in_session(services, work)
    office = await sign_in(cast.office)
    page = await (await office.get(f"/feedback/{report_id}")).text()
    address = f"/feedback/{report_id}/photos/{photo_id}"
    assert f'src="{address}"' in page
    sent = await office.get(address)
    assert sent.status == 200 and sent.headers["Content-Type"] == "image/jpeg"
    assert "sandbox" in sent.headers["Content-Security-Policy"]
    data = await sent.read()
    assert GPS_IFD in exif_of(jpeg_with_gps())
    assert data.startswith(b"\xff\xd8") and GPS_IFD not in exif_of(data)  # location removed
    assert (await office.get(f"/feedback/{reports.road}/photos/{photo_id}")).status == 404
    assert (await office.get(f"/feedback/{report_id}/photos/999999")).status == 404
    police = await sign_in(cast.police)
    assert (await police.get(address)).status == 403  # a road report: not the police's


def _submit_with_photo(session: Session, who: int, photo: StoredPhoto, now: dt.datetime) -> int:
    report = store.submit(
        session,
        commune=commune(session),
        reporter_id=who,
        new=store.NewReport(
            category_id=category(session, "duong").id or 0,
            text="Cống vỡ giữa đường",
            photos=(photo,),
        ),
        now=now,
        tz=VN,
    ).report
    assert report.id is not None
    return report.id
