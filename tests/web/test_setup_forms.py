"""The commune set-up on the web: the Excel template, checked first, saved all or nothing."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlmodel import Session, col, select

from bot.admin.setup import find_unit
from bot.services import Services
from db.models import AuditEntry, Commune, Unit, Village, VillageDenominator
from tests.helpers import add_person
from tests.web.conftest import Seeded, SignIn, form_token, post_form

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STAGED = re.compile(r'name="staged" value="([^"]+)"')


def _commune(services: Services) -> Commune:
    with Session(services.engine) as session:
        return session.exec(select(Commune)).one()


def _admin(services: Services) -> int:
    return add_person(services, name="Quản Trị Xã", roles=("admin",))


async def test_the_template_round_trips_through_excel(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(_admin(services))
    page = await (await client.get("/setup")).text()
    assert "Tải mẫu Excel" in page and "Xóm 3" in page
    response = await client.get("/setup/template.xlsx")
    assert response.status == 200 and response.content_type == XLSX
    book = load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["Xã", "Thôn", "Đơn vị"]
    villages = book["Thôn"]
    assert [c.value for c in villages[1]][:3] == ["Tên thôn", "Kiểu", "Dân số"]
    row = next(r for r in villages.iter_rows(min_row=2) if r[0].value == "Xóm 3")
    row[2].value, row[7].value = 1500, "2027-01-01"
    book["Đơn vị"].append(["Hội Nông dân xã", "HND | Hội ND"])
    buffer = io.BytesIO()
    book.save(buffer)
    checked = await post_form(
        client, "/setup", "/setup/check", {"file": ("thiet-lap.xlsx", buffer.getvalue(), XLSX)}
    )
    html = await checked.text()
    assert checked.status == 200, html
    assert "Không có lỗi" in html
    with Session(services.engine) as session:
        assert find_unit(session, _commune(services).id or 0, "HND") is None  # a dry run
    staged = STAGED.search(html)
    assert staged
    response = await client.post(
        "/setup/apply",
        data={"csrf": form_token(html), "staged": staged.group(1)},
        allow_redirects=False,
    )
    assert response.status == 303
    with Session(services.engine) as session:
        unit = find_unit(session, _commune(services).id or 0, "hnd")
        assert unit is not None and unit.name == "Hội Nông dân xã"
        xom3 = session.exec(select(Village).where(Village.name == "Xóm 3")).one()
        latest = session.exec(
            select(VillageDenominator)
            .where(VillageDenominator.village_id == xom3.id)
            .order_by(col(VillageDenominator.valid_from).desc())
        ).first()
        assert latest is not None and latest.population == 1500
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "commune.setup")).all()
        assert [e.actor_name for e in entry][-1] == "Quản Trị Xã"
    shown = await (await client.get("/setup?done=applied")).text()
    assert "Đã lưu thiết lập" in shown and "Hội Nông dân xã" in shown and "1.500" in shown


async def test_unknown_row_types_and_bad_figures_are_problems_nothing_is_saved(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    commune = _commune(services)
    client = await sign_in(_admin(services))
    csv = (
        "loai,ma,ten,tinh,kieu,dan_so,truong_thanh,tu_15_tuoi,so_ho,ho_kinh_doanh,ap_dung_tu,ten_khac\n"
        f"xa,{commune.slug},{commune.name},{commune.province or ''},,,,,,,,\n"
        "đơn vị,,Đoàn Thanh niên xã,,,,,,,,,ĐTN\n"
        "thôn,,Xóm Mới,,thôn,100,200,50,30,2,2027-01-01,\n"
        "tổ dân phố,,Tổ 9,,,,,,,,,\n"
    ).encode()
    response = await post_form(
        client, "/setup", "/setup/check", {"file": ("xa.csv", csv, "text/csv")}
    )
    html = await response.text()
    assert response.status == 400
    assert "Dòng 5: Không hiểu loại dòng “tổ dân phố”" in html
    assert "Thôn/xóm thứ 1 (Xóm Mới): Số người trưởng thành" in html
    assert 'name="staged"' not in html
    # "đơn vị" is read as a unit (before, it was skipped silently): fixed, it imports.
    fixed = b"\n".join(csv.splitlines()[:3]) + b"\n"
    ok = await post_form(client, "/setup", "/setup/check", {"file": ("xa.csv", fixed, "text/csv")})
    assert ok.status == 200 and "0 thôn và 1 đơn vị" in await ok.text()
    other = fixed.replace(commune.slug.encode(), b"xa-khac", 1)
    refused = await post_form(
        client, "/setup", "/setup/check", {"file": ("xa.csv", other, "text/csv")}
    )
    assert refused.status == 400 and "xa-khac" in await refused.text()
    with Session(services.engine) as session:
        assert session.exec(select(Unit).where(Unit.name == "Đoàn Thanh niên xã")).first() is None
        assert session.exec(select(Village).where(Village.name == "Xóm Mới")).first() is None


async def test_setup_is_for_admins_and_checks_csrf(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    admin = await sign_in(_admin(services))
    forged = await admin.post("/setup/apply", data={"csrf": "nope", "staged": "x" * 43})
    assert forged.status == 403
    office = await sign_in(seeded.office)
    assert (await office.get("/setup")).status == 403
    assert (await office.get("/setup/template.xlsx")).status == 403
    response = await post_form(office, "/", "/setup/check", {"file": ("a.csv", b"x", "text/csv")})
    assert response.status == 403


async def test_a_village_figures_and_a_unit_are_changed_in_forms(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(_admin(services))
    figures = {
        "village": "Xóm 3",
        "population": "1600",
        "adults": "1200",
        "aged15": "1300",
        "households": "400",
        "businesses": "25",
        "valid_from": "2027-01-01",
    }
    bad = await post_form(client, "/setup", "/setup/village", {**figures, "adults": "1.200,5"})
    assert bad.status == 400 and "Viết một số nguyên" in await bad.text()
    over = await post_form(client, "/setup", "/setup/village", {**figures, "adults": "9000"})
    assert over.status == 400 and "không được lớn hơn dân số" in await over.text()
    response = await post_form(client, "/setup", "/setup/village", figures)
    assert response.status == 303
    with Session(services.engine) as session:
        villages = session.exec(select(Village).order_by(col(Village.position))).all()
        xom3 = next(v for v in villages if v.name == "Xóm 3")
        latest = session.exec(
            select(VillageDenominator)
            .where(VillageDenominator.village_id == xom3.id)
            .order_by(col(VillageDenominator.valid_from).desc())
        ).first()
        assert latest is not None and (latest.population, latest.businesses) == (1600, 25)
        assert [v.name for v in villages][:3] == ["Xóm 1", "Xóm 2", "Xóm 3"]  # order kept
        assert session.exec(select(Commune)).one().is_sample  # still marked sample data
    response = await post_form(
        client, "/setup", "/setup/unit", {"unit_name": "Công an xã", "aliases": "CAX | Công an"}
    )
    assert response.status == 303
    with Session(services.engine) as session:
        unit = find_unit(session, _commune(services).id or 0, "cax")
        assert unit is not None and unit.name == "Công an xã"
