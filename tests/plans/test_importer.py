"""Plan import: the five sample plans, YAML/XLSX/CSV, all-or-nothing, re-import in place."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.cli import main
from bot.core.people import default_commune_id
from bot.i18n import translator
from bot.plans.imports import (
    PLANS_DIR,
    RawPlan,
    from_yaml,
    import_plan,
    read_plan_file,
    validate,
    write_csv,
    write_xlsx,
)
from bot.plans.imports.layout import INDICATOR_COLUMNS, TASK_COLUMNS
from bot.services import Services
from db.models import Evidence, Indicator, IndicatorTarget, Plan, Task, TaskProgress, Unit

TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
# Counted from the seeds' appendices (see bot/content/plans/README.md).
EXPECTED = {
    "trung-hoi": (26, 44),
    "lam-thao": (38, 3),
    "cam-giang": (0, 34),
    "dong-phu": (31, 22),
    "ha-long": (21, 8),
}


def _import(services: Services, raw: RawPlan) -> Any:
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        result = import_plan(session, raw, commune_id=commune_id, today=TODAY, now=NOW)
        if result.ok:
            session.commit()
        return result


def _summary(raw: RawPlan) -> list[tuple[Any, ...]]:
    """What matters of a validated plan, to compare formats."""
    spec, problems = validate(raw, today=TODAY)
    assert problems == []
    assert spec is not None
    rows: list[tuple[Any, ...]] = [
        (
            spec.slug,
            spec.title,
            spec.issued,
            spec.number,
            tuple(spec.units[0][1]) if spec.units else (),
        )
    ]
    for i in spec.indicators:
        targets = tuple(
            sorted((y, raw_text, t.to_json().__repr__()) for y, (raw_text, t) in i.targets.items())
        )
        rows.append(
            (
                i.number,
                i.group,
                i.text,
                i.unit,
                targets,
                i.lead,
                tuple(i.coordinating),
                i.result,
                i.tally_code,
            )
        )
    for t in spec.tasks:
        rows.append(
            (
                t.number,
                t.group,
                t.text,
                t.lead,
                tuple(t.coordinating),
                t.output,
                t.budget,
                t.deadline,
                t.start,
            )
        )
    return rows


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_sample_plans_import_with_the_seed_counts(services: Services, slug: str) -> None:
    raw = read_plan_file(PLANS_DIR / f"{slug}.yaml")
    result = _import(services, raw)
    assert result.problems == []
    assert (result.plan, result.indicators, result.tasks) == (slug, *EXPECTED[slug])
    with Session(services.engine) as session:
        plan = session.exec(select(Plan).where(Plan.slug == slug)).one()
        indicators = session.exec(
            select(func.count()).select_from(Indicator).where(Indicator.plan_id == plan.id)
        ).one()
        tasks = session.exec(
            select(func.count()).select_from(Task).where(Task.plan_id == plan.id)
        ).one()
        assert (indicators, tasks) == EXPECTED[slug]


def test_sample_plan_is_loaded_into_the_sample_commune(services: Services) -> None:
    with Session(services.engine) as session:
        plan = session.exec(select(Plan).where(Plan.slug == "trung-hoi")).one()
        assert plan.commune_id == default_commune_id(session)
        assert len(session.exec(select(Task).where(Task.plan_id == plan.id)).all()) == 44


@pytest.mark.parametrize("slug", sorted(EXPECTED))
@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_xlsx_and_csv_read_the_same_plan_as_yaml(tmp_path: Path, slug: str, extension: str) -> None:
    original = read_plan_file(PLANS_DIR / f"{slug}.yaml")
    path = tmp_path / f"{slug}.{extension}"
    if extension == "xlsx":
        write_xlsx(original, path)
    else:
        write_csv(original, path)
    copied = read_plan_file(path)
    assert copied.problems == []
    assert _summary(copied) == _summary(original)


def test_xlsx_import_into_the_database(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "ha-long.xlsx"
    write_xlsx(read_plan_file(PLANS_DIR / "ha-long.yaml"), path)
    result = _import(services, read_plan_file(path))
    assert (result.problems, result.indicators, result.tasks) == ([], 21, 8)
    with Session(services.engine) as session:
        plan = session.exec(select(Plan).where(Plan.slug == "ha-long")).one()
        budgets = session.exec(select(func.sum(Task.budget)).where(Task.plan_id == plan.id)).one()
        assert budgets == pytest.approx(3277)


def test_template_has_the_documented_sheets_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "mau.xlsx"
    assert main(["plan", "template", "-o", str(path)]) == 0
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Kế hoạch", "Đơn vị", "Chỉ tiêu", "Nhiệm vụ", "Hướng dẫn"]
    assert [c.value for c in workbook["Chỉ tiêu"][1]] == list(INDICATOR_COLUMNS)
    assert [c.value for c in workbook["Nhiệm vụ"][1]] == list(TASK_COLUMNS)
    assert [c.value for c in workbook["Kế hoạch"]["A"]][:5] == [
        "Trường",
        "Mã kế hoạch",
        "Xã",
        "Tỉnh",
        "Tên kế hoạch",
    ]
    # The empty template only lacks the plan's name and title.
    _spec, problems = validate(read_plan_file(path), today=TODAY)
    assert len(problems) == 2


def _error_workbook(path: Path) -> None:
    workbook = Workbook()
    plan = workbook.active
    assert plan is not None
    plan.title = "Kế hoạch"
    plan.append(["Trường", "Giá trị"])
    plan.append(["Mã kế hoạch", "xa-thu"])
    plan.append(["Tên kế hoạch", "Kế hoạch thử"])
    plan.append(["Ngày ban hành", "31/02/2026"])
    indicators = workbook.create_sheet("Chỉ tiêu")
    indicators.append(
        [
            "TT",
            "Nhóm",
            "Chỉ tiêu",
            "Đơn vị tính",
            "Chỉ tiêu năm 2026",
            "Đơn vị chủ trì",
            "Mã số liệu",
        ]
    )
    indicators.append([1, "A", "Tỷ lệ VNeID", "%", "≥ 70%", "Công an xã", "vneid"])
    indicators.append([1, "A", "Trùng số", "%", "80", "Công an xã", None])
    indicators.append([2, "A", "Khoảng ngược", "%", "20-10%", "Công an xã", None])
    indicators.append([3, "A", "Mã lạ", "%", "50", "Công an xã", "xyz"])
    tasks = workbook.create_sheet("Nhiệm vụ")
    tasks.append(list(TASK_COLUMNS))
    tasks.append(
        [
            1,
            "I",
            "Tuyên truyền",
            "Phòng Văn hóa - Xã hội",
            None,
            "Kế hoạch",
            10,
            "Quý II/2026",
            None,
        ]
    )
    tasks.append([None, "I", "Không số", "Công an xã", None, None, None, "Quý II/2026", None])
    tasks.append([3, "I", "Quý sai", "Công an xã", None, None, None, "Quý V/2026", None])
    tasks.append(
        [4, "I", "Tháng sai", "Công an xã", None, None, "nhiều tiền", "Tháng 13/2026", "32/13/2026"]
    )
    tasks.append([5, "I", None, "Công an xã", None, None, None, "Hàng năm", None])
    workbook.save(path)


def test_a_file_with_errors_is_refused_whole(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "loi.xlsx"
    _error_workbook(path)
    result = _import(services, read_plan_file(path))
    where = sorted((p.sheet, p.row) for p in result.problems)
    assert where == [
        ("Chỉ tiêu", 3),  # duplicate number 1
        ("Chỉ tiêu", 4),  # 20-10%
        ("Chỉ tiêu", 5),  # unknown tally code
        ("Kế hoạch", None),  # 31/02/2026
        ("Nhiệm vụ", 3),  # no number
        ("Nhiệm vụ", 4),  # Quý V
        ("Nhiệm vụ", 5),  # budget
        ("Nhiệm vụ", 5),  # Tháng 13
        ("Nhiệm vụ", 5),  # start date
        ("Nhiệm vụ", 6),  # no text
    ]
    texts = [p.text(translator("vi")) for p in result.problems]
    assert "Chỉ tiêu, dòng 3: Số thứ tự 1 bị trùng (đã có ở dòng 2)." in texts
    assert any(t.startswith("Nhiệm vụ, dòng 5: Kinh phí “nhiều tiền”") for t in texts)
    with Session(services.engine) as session:
        assert session.exec(select(Plan).where(Plan.slug == "xa-thu")).first() is None


def test_cli_import_json_and_errors(
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = services.settings
    monkeypatch.setenv("TOCNS_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(settings.data_dir))
    assert main(["plan", "import", str(PLANS_DIR / "dong-phu.yaml"), "--json", "--dry-run"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["plan"], answer["indicators"], answer["tasks"], answer["dry_run"]) == (
        "dong-phu",
        31,
        22,
        True,
    )
    with Session(services.engine) as session:
        assert session.exec(select(Plan).where(Plan.slug == "dong-phu")).first() is None
    assert main(["plan", "import", str(PLANS_DIR / "dong-phu.yaml"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tasks"] == 22
    path = tmp_path / "loi.xlsx"
    _error_workbook(path)
    assert main(["plan", "import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "có 10 lỗi" in out and "Nhiệm vụ, dòng 4:" in out
    assert main(["plan", "list", "--json"]) == 0
    listed = {row["plan"]: row for row in json.loads(capsys.readouterr().out)}
    assert (listed["dong-phu"]["indicators"], listed["dong-phu"]["tasks"]) == (31, 22)


def test_reimport_updates_in_place_and_keeps_history(services: Services) -> None:
    raw = read_plan_file(PLANS_DIR / "trung-hoi.yaml")
    with Session(services.engine) as session:
        plan = session.exec(select(Plan).where(Plan.slug == "trung-hoi")).one()
        task = session.exec(select(Task).where(Task.plan_id == plan.id, Task.number == "1")).one()
        task_id = task.id
        assert task_id is not None
        session.add(TaskProgress(task_id=task_id, percent=40, note="đã họp"))
        session.add(Evidence(task_id=task_id, kind="link", url="https://example.org/a.pdf"))
        session.commit()
    edited = copy.deepcopy(raw)
    edited.tasks[0]["text"] = "Tuyên truyền (sửa lại)"
    removed = edited.tasks.pop(1)["number"]
    edited.tasks.append({**edited.tasks[0], "number": "99", "text": "Nhiệm vụ mới", "_row": 99})
    edited.indicators[0]["targets"] = {"2030": "≥ 95%"}
    result = _import(services, edited)
    assert (result.problems, result.tasks, result.deactivated_tasks, result.created) == (
        [],
        44,
        1,
        False,
    )
    with Session(services.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None and task.text == "Tuyên truyền (sửa lại)"
        assert (
            len(session.exec(select(TaskProgress).where(TaskProgress.task_id == task_id)).all())
            == 1
        )
        assert len(session.exec(select(Evidence).where(Evidence.task_id == task_id)).all()) == 1
        gone = session.exec(
            select(Task).where(Task.plan_id == task.plan_id, Task.number == removed)
        ).one()
        assert gone.active is False
        indicator = session.exec(
            select(Indicator).where(Indicator.plan_id == task.plan_id, Indicator.number == "1")
        ).one()
        targets = session.exec(
            select(IndicatorTarget).where(IndicatorTarget.indicator_id == indicator.id)
        ).all()
        assert [(t.year, t.raw, t.op, t.value) for t in targets] == [(2030, "≥ 95%", ">=", 95.0)]
    again = _import(services, raw)
    assert again.problems == []
    with Session(services.engine) as session:
        active = session.exec(
            select(func.count())
            .select_from(Task)
            .where(Task.plan_id == gone.plan_id, col(Task.active).is_(True))
        ).one()
        assert active == 44  # the removed task is back, the new one inactive


def test_unit_names_are_normalised_with_a_mapping(services: Services) -> None:
    raw = from_yaml(
        """
plan: {slug: thu-don-vi, title: Kế hoạch thử}
units:
  - name: Văn phòng - Thống kê
    aliases: [Văn phòng thống kê, Văn phòng TK]
tasks:
  - {number: "1", text: Việc một, lead: Văn phòng TK, deadline: Quý II/2026}
  - {number: "2", text: Việc hai, lead: văn phòng thống kê, coordinating: [CA xã, Đơn vị lạ]}
"""
    )
    result = _import(services, raw)
    assert result.problems == []
    mapping = {m.raw: (m.unit, m.how, m.new) for m in result.units}
    assert mapping == {
        "Văn phòng TK": ("Văn phòng - Thống kê", "alias", False),  # the sample plan created it
        "văn phòng thống kê": ("Văn phòng - Thống kê", "alias", False),
        "CA xã": ("Công an xã", "alias", False),
        "Đơn vị lạ": ("Đơn vị lạ", "same", True),
    }
    with Session(services.engine) as session:
        leads = session.exec(
            select(Task.lead_unit_id).join(Plan).where(Plan.slug == "thu-don-vi")
        ).all()
        assert len(set(leads)) == 1
        names = session.exec(
            select(Unit.name).where(col(Unit.name).like("Văn phòng%Thống kê"))
        ).all()
        assert names == ["Văn phòng - Thống kê"]


def test_on_event_deadline_set_by_an_officer_survives_reimport(services: Services) -> None:
    text = """
plan: {slug: su-kien, title: Kế hoạch thử}
tasks:
  - {number: "1", text: Khi có văn bản, lead: Công an xã, deadline: Khi có văn bản của cấp trên}
"""
    assert _import(services, from_yaml(text)).problems == []
    with Session(services.engine) as session:
        task = session.exec(select(Task).join(Plan).where(Plan.slug == "su-kien")).one()
        assert (task.kind, task.due) == ("on_event", None)
        task.due = dt.date(2026, 6, 30)
        session.add(task)
        session.commit()
    assert _import(services, from_yaml(text)).problems == []
    with Session(services.engine) as session:
        task = session.exec(select(Task).join(Plan).where(Plan.slug == "su-kien")).one()
        assert task.due == dt.date(2026, 6, 30)


def test_yaml_errors_are_listed_by_row() -> None:
    raw = from_yaml(
        """
plan: {slug: Sai Mã, title: ""}
indicators:
  - {number: "1", text: A, targets: {"20x6": "70"}}
tasks:
  - {number: "1", text: B, deadline: "abc xyz"}
  - {number: "1", text: C, budget: -5}
"""
    )
    _spec, problems = validate(raw, today=TODAY)
    assert [(p.sheet, p.row) for p in problems] == [
        ("Kế hoạch", None),
        ("Kế hoạch", None),
        ("Chỉ tiêu", 1),
        ("Nhiệm vụ", 1),
        ("Nhiệm vụ", 2),
        ("Nhiệm vụ", 2),
    ]
