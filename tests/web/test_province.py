"""The province tier (#18): a province officer reads every commune of their province.

A small province of three communes whose figures and plans are known: Xã An Khang
reports everything and has no task late, Xã Bình Yên has two tasks past their deadline
and half its villages reported, Xã Cẩm Sơn one late task and no report this month.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from sqlmodel import Session, select

from bot.admin.province_officers import add_officer
from bot.cli import main
from bot.services import Services
from bot.web.exports import INDICATOR_HEADERS
from bot.web.xlsx import QUOC_HIEU, TIEU_NGU
from db.models import (
    AuditEntry,
    Commune,
    Evidence,
    Person,
    PersonRole,
    Plan,
    Tally,
    Task,
    Unit,
    Village,
    VillageDenominator,
)
from tests.helpers import add_person
from tests.web.conftest import Seeded, SignIn, form_token, submit_login

PROVINCE = "Tỉnh Ba Xã"
AN, BINH, CAM = "Xã An Khang", "Xã Bình Yên", "Xã Cẩm Sơn"
OUTSIDER = "Xã Ngoài Tỉnh"


@dataclass
class Province:
    communes: dict[str, int]  # name -> id
    officer: int
    tasks: dict[str, list[int]]


def _commune(
    session: Session,
    name: str,
    province: str,
    today: dt.date,
    *,
    villages: list[tuple[str, int | None]],  # (name, this month's vneid count or None)
    late_tasks: int,
    pending: int = 0,
) -> tuple[int, list[int]]:
    """A commune with villages of 1000 people, this month's vneid counts and a plan."""
    commune = Commune(slug=re.sub(r"\W+", "-", name.lower()), name=name, province=province)
    session.add(commune)
    session.flush()
    assert commune.id is not None
    period = today.replace(day=1)
    for position, (village_name, count) in enumerate(villages):
        village = Village(commune_id=commune.id, name=village_name, position=position)
        session.add(village)
        session.flush()
        assert village.id is not None
        session.add(
            VillageDenominator(
                village_id=village.id,
                valid_from=dt.date(2020, 1, 1),
                population=1000,
                adults=800,
                aged15=850,
                households=250,
                businesses=10,
            )
        )
        if count is not None:
            session.add(Tally(village_id=village.id, period=period, code="vneid", value=count))
    unit = Unit(commune_id=commune.id, name=f"Công an {name}")
    session.add(unit)
    plan = Plan(commune_id=commune.id, slug="ke-hoach", title=f"Kế hoạch {name}")
    session.add(plan)
    session.flush()
    assert plan.id is not None
    tasks = []
    for number in range(late_tasks):
        task = Task(
            plan_id=plan.id,
            number=f"{number + 1}",
            position=number,
            text=f"Việc trễ hạn {number + 1} của {name}",
            lead_unit_id=unit.id,
            due=today - dt.timedelta(days=10 + number),
        )
        session.add(task)
        session.flush()
        assert task.id is not None
        tasks.append(task.id)
        if number < pending:
            session.add(Evidence(task_id=task.id, kind="link", url="https://example.vn/a"))
    return commune.id, tasks


@pytest.fixture
def province(services: Services, seeded: Seeded) -> Province:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        communes, tasks = {}, {}
        for name, villages, late, pending in (
            (AN, [("Thôn An 1", 900), ("Thôn An 2", 700)], 0, 0),  # 80 %
            (BINH, [("Thôn Bình 1", 400), ("Thôn Bình 2", None)], 2, 1),  # 20 %
            (CAM, [("Thôn Cẩm 1", None)], 1, 0),  # no figure: 0 %
        ):
            communes[name], tasks[name] = _commune(
                session, name, PROVINCE, today, villages=villages, late_tasks=late, pending=pending
            )
        communes[OUTSIDER], _ = _commune(
            session, OUTSIDER, "Tỉnh Khác", today, villages=[("Thôn Ngoài", 999)], late_tasks=1
        )
        officer = add_officer(session, "Cán Bộ Tỉnh", PROVINCE, services.clock())
        assert officer.id is not None
        session.commit()
        return Province(communes, officer.id, tasks)


def table_rows(html: str) -> list[tuple[str, str]]:
    """(rank, commune) of each row of the province table, in order."""
    return re.findall(
        r'<tr>\s*<td class="num-col">([^<]*)</td>\s*<td class="commune">'
        r'<a href="/province/communes/\d+">([^<]+)</a>',
        html,
    )


async def test_the_officer_sees_every_commune_of_the_province_and_no_other(
    province: Province, sign_in: SignIn
) -> None:
    client = await sign_in(province.officer)
    home = await client.get("/", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/province"
    page = await client.get("/province")
    assert page.status == 200
    html = await page.text()
    assert {name for _, name in table_rows(html)} == {AN, BINH, CAM}
    assert OUTSIDER not in html and "Xã Mẫu" not in html
    assert "Tỉnh Ba Xã" in html and "Nhiệm vụ cảnh báo đỏ" in html  # Vietnamese labels
    assert 'class="table-wrap" tabindex="0" role="region"' in html  # scrolls on a phone
    assert "<script" not in html
    for name in (AN, BINH, CAM):
        commune = await client.get(f"/province/communes/{province.communes[name]}")
        assert commune.status == 200
        text = await commune.text()
        assert f"<h1>{name}</h1>" in text and "Chỉ xem" in text
        assert f"Kế hoạch {name}" in text
        assert not re.search(r'href="/(tasks|evidence|export|villages|review)', text)
        assert "<form" not in text.replace('<form method="post" action="/logout"', "")
    binh = await (await client.get(f"/province/communes/{province.communes[BINH]}")).text()
    assert "Việc trễ hạn 1 của Xã Bình Yên" in binh and "Thôn Bình 2" in binh
    for path in (f"/province/communes/{province.communes[OUTSIDER]}", "/province/communes/999999"):
        assert (await client.get(path)).status == 404


async def test_the_officer_changes_nothing_and_opens_no_commune_page(
    services: Services, province: Province, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(province.officer)
    token = form_token(await (await client.get("/province")).text())
    assert token  # the sign-out form
    task = province.tasks[BINH][0]
    for path in (
        "/",
        "/villages",
        "/tasks",
        f"/tasks/{task}",
        "/review",
        "/tallies/flagged",
        "/plan",
        "/people",
        "/setup",
        "/announcements",
        "/audit",
        "/export/indicators.xlsx",
        "/export/tasks.xlsx",
        "/export/tallies.csv",
        "/export/tallies.xlsx",
        "/first-run",
    ):
        response = await client.get(path, allow_redirects=False)
        assert response.status in (303, 403), path
    with Session(services.engine) as session:
        flagged = session.exec(select(Tally)).first()
        assert flagged is not None
        flagged.flagged = True  # waiting for the commune's office, not the province's
        session.add(flagged)
        session.commit()
        figure = flagged.id
        evidence = session.exec(select(Evidence).where(Evidence.task_id == task)).one()
        before = len(session.exec(select(AuditEntry)).all())
    for path, data in (
        (f"/tasks/{task}/progress", {"percent": "100", "note": "xong"}),
        (f"/tasks/{task}/edit", {"due": "2030-01-01"}),
        (f"/review/{evidence.id}/approve", {}),
        (f"/tallies/flagged/{figure}/accept", {}),
        (f"/tallies/flagged/{figure}/ask", {}),
        ("/plan/deadlines", {}),
        ("/announcements", {"group": "all", "text": "Xin chào"}),
        ("/people", {"name": "Người mới", "roles": "admin"}),
        ("/setup/village", {"name": "Thôn mới"}),
        ("/first-run", {"name": "Xã mới", "code": "xa-moi"}),
        (f"/province/communes/{province.communes[BINH]}", {}),
        ("/province", {}),
    ):
        response = await client.post(path, data={"csrf": token, **data}, allow_redirects=False)
        assert response.status in (403, 405), path
    with Session(services.engine) as session:
        assert session.get(Evidence, evidence.id).status == "pending"  # type: ignore[union-attr]
        assert session.get(Task, task).due < services.today()  # type: ignore[union-attr,operator]
        assert len(session.exec(select(AuditEntry)).all()) == before
        assert session.get(Tally, figure).flagged  # type: ignore[union-attr]
        assert session.exec(select(Commune).where(Commune.slug == "xa-moi")).first() is None


async def test_a_commune_officer_gets_403_on_the_province_pages(
    services: Services, province: Province, seeded: Seeded, sign_in: SignIn
) -> None:
    for roles in (("office",), ("admin",), ("commune_leader",)):
        person = add_person(services, name=f"Người {roles[0]}", roles=roles)
        client = await sign_in(person)
        for path in (
            "/province",
            "/province/export.xlsx",
            f"/province/communes/{province.communes[AN]}",
        ):
            assert (await client.get(path)).status == 403, (roles, path)
        assert "/province" not in await (await client.get("/")).text()


async def test_the_communes_ranked_by_plan_reports_and_each_rate(
    province: Province, sign_in: SignIn
) -> None:
    client = await sign_in(province.officer)

    async def ranking(by: str) -> list[tuple[str, str]]:
        response = await client.get(f"/province?by={by}" if by else "/province")
        assert response.status == 200
        return table_rows(await response.text())

    # Plan progress: no red task, then one (overdue), then two.
    assert await ranking("") == [("1", AN), ("2", CAM), ("3", BINH)]
    assert await ranking("plan") == [("1", AN), ("2", CAM), ("3", BINH)]
    # Reports: 2/2, 1/2, 0/1.
    assert await ranking("reports") == [("1", AN), ("2", BINH), ("3", CAM)]
    # vneid: 80 %, 20 %, no figure yet (nobody counted: 0 %).
    assert await ranking("vneid") == [("1", AN), ("2", BINH), ("3", CAM)]
    html = await (await client.get("/province?by=vneid")).text()
    assert "80%" in html and "20%" in html and "2/2" in html and "1/2" in html
    assert (await client.get("/province?by=nonsense")).status == 400


async def test_the_workbook_has_a_summary_and_one_sheet_per_commune(
    services: Services, province: Province, sign_in: SignIn
) -> None:
    with Session(services.engine) as session:  # a name that looks like a formula
        commune = session.get(Commune, province.communes[CAM])
        assert commune is not None
        commune.name = "=HYPERLINK(1)"
        session.add(commune)
        session.commit()
    client = await sign_in(province.officer)
    response = await client.get("/province/export.xlsx")
    assert response.status == 200
    assert response.content_type.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames[0] == "Tổng hợp"
    assert len(book.sheetnames) == 4 and OUTSIDER not in book.sheetnames
    assert set(book.sheetnames[1:]) == {AN, BINH, "=HYPERLINK(1)"}
    summary = book["Tổng hợp"]
    rows = list(summary.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == "TT")
    body = rows[start + 1 :]
    assert [row[1] for row in body] == [AN, "=HYPERLINK(1)", BINH]  # plan ranking
    assert [row[4] for row in body] == [0, 1, 2]  # red tasks
    assert [row[6] for row in body] == [0, 0, 1]  # evidence waiting
    assert [(row[7], row[8]) for row in body] == [(2, 2), (0, 1), (1, 2)]
    vneid = rows[start].index("vneid")
    assert body[0][vneid] == pytest.approx(0.8) and body[2][vneid] == pytest.approx(0.2)
    for sheet in book.worksheets:  # no text became a formula
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    binh = [r for r in book[BINH].iter_rows(values_only=True) if any(r)]
    assert any("Kế hoạch Xã Bình Yên" in str(r[0]) for r in binh)
    assert any(r[0] == "vneid" and r[1] == pytest.approx(0.2) for r in binh)
    # Each commune's sheet opens with the heading of the commune's own appendix.
    width = get_column_letter(len(INDICATOR_HEADERS))
    as_of = "(Số liệu đến ngày 10/03/2026)"
    for name in (AN, BINH):
        sheet = book[name]
        assert sheet["A1"].value == "UBND " + name.upper()
        assert (sheet["C1"].value, sheet["C2"].value) == (QUOC_HIEU, TIEU_NGU)
        assert {"A1:B1", f"C1:{width}1", f"C2:{width}2"} <= {
            str(r) for r in sheet.merged_cells.ranges
        }
        column_a = [sheet.cell(row=r, column=1).value for r in range(1, 12)]
        assert column_a[3] == "PHỤ LỤC I: KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU"
        assert str(column_a[4]).startswith("Kế hoạch " + name)  # the commune's plan
        assert column_a[5:7] == [
            "(Kèm theo Báo cáo số ……/BC-UBND ngày …… tháng …… năm …… "
            f"của UBND xã {name.removeprefix('Xã ')})",
            as_of,
        ]
        assert sheet["A9"].value == "TT" and sheet.freeze_panes == "A10"
    assert book["=HYPERLINK(1)"]["A1"].value == "UBND XÃ =HYPERLINK(1)"


def test_a_province_officer_needs_a_known_province(services: Services, seeded: Seeded) -> None:
    from bot.core.errors import UserError

    with Session(services.engine) as session:
        with pytest.raises(UserError):
            add_officer(session, "Cán Bộ", "Tỉnh Không Có", services.clock())
        with pytest.raises(UserError):
            add_officer(session, "  ", PROVINCE, services.clock())


async def test_cli_adds_an_officer_whose_link_signs_in(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOCNS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Xã"
    sheet.append(["Tên xã", "Mã xã"])
    sheet.append(["Xã Đông Sơn", "07001"])
    villages = book.create_sheet("Thôn")
    villages.append(["Mã xã", "Tên thôn"])
    villages.append(["07001", "Thôn 1"])
    path = tmp_path / "tinh.xlsx"
    book.save(path)
    assert main(["province", "setup", str(path), "--province", "Tỉnh Mẫu"]) == 0
    capsys.readouterr()
    assert main(["province", "officer", "add", "Cán Bộ Tỉnh", "--province", "Tỉnh Khác"]) == 1
    assert "Tỉnh Mẫu" in capsys.readouterr().out  # the provinces known
    assert main(["province", "officer", "add", "Cán Bộ Tỉnh", "--province", "Tỉnh Mẫu"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Đã thêm Cán Bộ Tỉnh (số ") and "cán bộ tỉnh Tỉnh Mẫu (1 xã)" in out[0]
    assert "/login/" in out[-1]
    assert (
        main(["province", "officer", "add", "Người Hai", "--province", "Tỉnh Mẫu", "--json"]) == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["province"] == "Tỉnh Mẫu" and answer["communes"] == 1
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    try:
        with Session(engine) as session:
            person = session.get(Person, answer["person_id"])
            assert person is not None and person.commune_id is None
            assert person.province == "Tỉnh Mẫu"
            roles = session.exec(
                select(PersonRole.role).where(PersonRole.person_id == person.id)
            ).all()
            assert roles == ["province"]
    finally:
        engine.dispose()


async def test_cli_lists_and_removes_an_officer_whose_sign_ins_end_at_once(
    services: Services,
    province: Province,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.web.auth import check_session, create_login_link, open_session

    monkeypatch.setenv("TOCNS_DATABASE_URL", services.settings.effective_database_url)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(services.settings.data_dir))
    now = services.clock()
    with Session(services.engine) as session:
        opened = open_session(session, province.officer, now)
        link = create_login_link(session, province.officer, now, "")
        session.commit()
    assert main(["province", "officer", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(o["person_id"], o["province"]) for o in listed] == [(province.officer, PROVINCE)]
    assert main(["province", "officer", "list"]) == 0
    assert f"{province.officer}: Cán Bộ Tỉnh, {PROVINCE}" in capsys.readouterr().out
    assert main(["province", "officer", "remove", str(province.officer)]) == 0
    assert "1 phiên" in capsys.readouterr().out
    with Session(services.engine) as session:
        assert check_session(session, opened.token, now) is None
        roles = session.exec(
            select(PersonRole.role).where(PersonRole.person_id == province.officer)
        ).all()
        assert "province" not in roles
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "person.deactivate")
        ).one()
        assert entry.entity_id == str(province.officer) and entry.commune_id is None
    # the link printed before the removal opens nothing
    token = link.rsplit("/", 1)[-1]
    with Session(services.engine) as session:
        from bot.web.auth import redeem_login_token

        assert redeem_login_token(session, token, now) is None
    assert main(["province", "officer", "list"]) == 0
    assert "Chưa có cán bộ tỉnh" in capsys.readouterr().out
    assert main(["province", "officer", "remove", str(province.officer)]) == 1
    assert "không phải cán bộ tỉnh" in capsys.readouterr().out


async def test_the_officer_lands_on_the_province_page(
    services: Services, province: Province
) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.core.dispatcher import Dispatcher
    from bot.web.auth import create_login_link
    from bot.web.server import build_web_app

    client = TestClient(TestServer(build_web_app(services, Dispatcher(services))))
    await client.start_server()
    try:
        with Session(services.engine) as session:
            link = create_login_link(session, province.officer, services.clock(), "")
            session.commit()
        response = await submit_login(client, link)
        assert response.status == 303 and response.headers["Location"] == "/province"
    finally:
        await client.close()
