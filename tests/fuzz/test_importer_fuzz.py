"""Plan import under hostile input: YAML, CSV, XLSX, dates, budgets, and the database write.

Allowed outcomes:
- ``from_yaml``/``from_csv``/``from_xlsx`` return a ``RawPlan``; whatever is wrong with the
  file is in ``.problems`` (never an exception);
- ``parse_date`` returns a date or ``None``, or raises ``ValueError``;
- ``parse_budget`` returns a finite float or ``None``, or raises ``ValueError``;
- ``validate``/``import_plan`` either accept the plan or return problems whose messages are
  Vietnamese catalog entries; with problems NOTHING is written (checked by committing anyway
  and counting rows); an accepted plan is stored clean (within the columns, no control or
  invisible characters, finite numbers).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func
from sqlmodel import Session, select

from bot.core.people import default_commune_id
from bot.i18n import translator
from bot.plans.imports import (
    PlanProblem,
    RawPlan,
    from_csv,
    from_xlsx,
    from_yaml,
    import_plan,
    validate,
)
from bot.plans.imports.layout import (
    INDICATOR_COLUMNS,
    KIND_COLUMN,
    SHEET_INDICATORS,
    SHEET_PLAN,
    SHEET_TASKS,
    SHEET_UNITS,
    TASK_COLUMNS,
    UNIT_COLUMNS,
)
from bot.plans.imports.validate import parse_budget, parse_date
from bot.services import Services
from bot.text import clean
from db.models import AuditEntry, Indicator, IndicatorTarget, Plan, Task, Unit, UnitAlias
from tests.fuzz.strategies import (
    NASTY,
    NASTY_OR_LONG,
    assert_vietnamese,
    cell,
    is_clean_stored,
)

TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)

SLUGS = ["fuzz-plan", "trung-hoi", "ke-hoach-2026"]
TITLES = ["Kế hoạch chuyển đổi số năm 2026", "Kế hoạch 57"]
NUMBERS = ["1", "2", "3", "1.1", "1.1.1", 4, 5.0, "II.3"]
TARGETS = ["≥ 70", "100%", "Top 20", "Đạt", "70", ">= 50%", "1.000", "80 - 90%", "0,5"]
DEADLINES = [
    "Quý III/2026",
    "Tháng 7/2026",
    "Hàng năm",
    "Thường xuyên",
    "31/12/2026",
    "Năm 2026",
    "Quý IV/9999",
    "Tháng 13/2026",
]
DATES = ["15/03/2026", "2026-03-15", "5-3-2026", "31/02/2026", "0000-01-01", dt.date(2026, 1, 5)]
BUDGETS = ["150", "1.500,5", "1.500", "12 triệu đồng", "-5", "1e400", "nan", "inf", 10**400]
UNITS = ["Công an xã", "UBND xã", "Phòng Văn hóa - Xã hội", "Đoàn Thanh niên", "công an XÃ"]
TALLIES = ["vneid", "cks", "VNEID", "xyz"]
YEARS = [2026, 2030, "2026", 1800, "năm", 99999]


def free(plausible: list[Any]) -> st.SearchStrategy[Any]:
    """Free text a plan may hold anything in (titles, task texts, unit names)."""
    return st.one_of(st.sampled_from(plausible), NASTY_OR_LONG)


def filled(plausible: list[str]) -> st.SearchStrategy[str]:
    """Free text that is not blank once cleaned (a title, a task text, a unit name)."""
    return free(plausible).filter(lambda value: bool(clean(value)))


def structured(plausible: list[Any]) -> st.SearchStrategy[Any]:
    """A value with a format (dates, budgets, targets): mostly plausible, sometimes anything."""
    return st.one_of(st.sampled_from(plausible), st.sampled_from(plausible), cell(plausible))


units_cell = st.one_of(free(UNITS), st.lists(free(UNITS), max_size=3), cell(UNITS))
indicator = st.fixed_dictionaries(
    {"number": structured(NUMBERS), "text": free(TITLES)},
    optional={
        "group": free(TITLES),
        "unit": free(["%", "xã", "người"]),
        "targets": st.one_of(
            st.dictionaries(st.sampled_from(YEARS), structured(TARGETS), max_size=3),
            cell(TARGETS),
        ),
        "lead": free(UNITS),
        "coordinating": units_cell,
        "result": free(TITLES),
        "tally_code": structured(TALLIES),
    },
)
task = st.fixed_dictionaries(
    {"number": structured(NUMBERS), "text": free(TITLES)},
    optional={
        "group": free(TITLES),
        "lead": free(UNITS),
        "coordinating": units_cell,
        "output": free(TITLES),
        "budget": structured(BUDGETS),
        "deadline": structured(DEADLINES),
        "start": structured(DATES),
    },
)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), NASTY, st.dates(), st.datetimes()
)
monitoring = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY, inner, max_size=3),
    max_leaves=8,
)
plan_part = st.fixed_dictionaries(
    {"slug": structured(SLUGS), "title": free(TITLES)},
    optional={
        "number": free(["123/KH-UBND"]),
        "issued": structured(DATES),
        "period": free(["2026-2030"]),
        "source": free(["Phụ lục"]),
        "commune": free(["Xã Trung Hội"]),
    },
)
plan_doc = st.fixed_dictionaries(
    {"plan": plan_part},
    optional={
        "units": st.lists(
            st.fixed_dictionaries({"name": free(UNITS)}, optional={"aliases": units_cell}),
            max_size=3,
        ),
        "indicators": st.lists(indicator, max_size=3),
        "tasks": st.lists(task, max_size=3),
        "monitoring": monitoring,
    },
)


def _numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "number": str(index)} for index, row in enumerate(rows, 1)]


# Plans whose formatted fields are right, so hostile free text reaches the database.
good_doc = st.fixed_dictionaries(
    {
        "plan": st.fixed_dictionaries(
            {"slug": st.sampled_from(SLUGS), "title": filled(TITLES)},
            optional={"number": free(["123/KH-UBND"]), "period": free(["2026-2030"])},
        ),
        "units": st.lists(
            st.fixed_dictionaries({"name": filled(UNITS), "aliases": units_cell}), max_size=2
        ),
        "indicators": st.lists(
            st.fixed_dictionaries(
                {
                    "text": filled(TITLES),
                    "group": free(TITLES),
                    "targets": st.dictionaries(
                        st.sampled_from([2026, 2030]), st.sampled_from(TARGETS), max_size=2
                    ),
                    "lead": free(UNITS),
                    "coordinating": units_cell,
                }
            ),
            max_size=3,
        ).map(_numbered),
        "tasks": st.lists(
            st.fixed_dictionaries(
                {
                    "text": filled(TITLES),
                    "output": free(TITLES),
                    "lead": free(UNITS),
                    "budget": st.sampled_from(BUDGETS[:4]),
                    "deadline": st.sampled_from(DEADLINES[:6]),
                    "start": st.sampled_from(DATES[:3]),
                }
            ),
            max_size=3,
        ).map(_numbered),
        "monitoring": st.dictionaries(NASTY, monitoring, max_size=3),
    }
)
# Documents whose top level is not what a plan looks like.
odd_doc = st.one_of(
    monitoring,
    st.fixed_dictionaries(
        {},
        optional={
            "plan": monitoring,
            "units": monitoring,
            "indicators": monitoring,
            "tasks": monitoring,
            "monitoring": monitoring,
        },
    ),
)
RAW_YAML = [
    "a: 2026-13-45",
    "plan: {issued: 2026-02-30}",
    "a: " + "9" * 5000,
    "plan: abc",
    "units: 5",
    "monitoring: [1, 2]",
    "[" * 3000,
    "a: " + "[" * 2000 + "]" * 2000,
    "tasks: {a: 1}",
    "!!python/object:os.system [ls]",
    "- a\n- b",
    "plan: &a [*a]",
    "\x00",
]


def _to_yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _check_problem(problem: PlanProblem) -> None:
    assert isinstance(problem, PlanProblem)
    assert_vietnamese(problem.message_id, problem.text(translator("vi")))


def _check_spec_clean(raw: RawPlan) -> None:
    spec, problems = validate(raw, today=TODAY)
    event("valid" if spec is not None else "refused")
    if spec is None:
        assert problems, "a refused plan says why"
        for problem in problems:
            _check_problem(problem)
        return
    assert problems == []
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", spec.slug)
    assert spec.title
    for item in [*spec.indicators, *spec.tasks]:
        assert item.number and len(item.number) <= 40 and item.text
    for t in spec.tasks:
        assert t.budget is None or (math.isfinite(t.budget) and t.budget >= 0)


def check_read(raw: RawPlan) -> None:
    """What any reader returns: a RawPlan, its problems in Vietnamese, then a clean validation."""
    assert isinstance(raw, RawPlan)
    for problem in [*raw.problems, *raw.warnings]:
        _check_problem(problem)
    _check_spec_clean(raw)


# ------------------------------------------------------------------ readers (no database)


@settings(max_examples=150, deadline=None)
@given(doc=st.one_of(good_doc, plan_doc, odd_doc))
def test_yaml_plans_never_crash(doc: Any) -> None:
    check_read(from_yaml(_to_yaml(doc)))


@settings(max_examples=60, deadline=None)
@given(text=st.one_of(NASTY_OR_LONG, st.sampled_from(RAW_YAML)))
def test_yaml_text_never_crashes(text: str) -> None:
    check_read(from_yaml(text))


CSV_HEADER = [
    KIND_COLUMN,
    "Trường",
    "Giá trị",
    *UNIT_COLUMNS,
    *dict.fromkeys([*INDICATOR_COLUMNS, *TASK_COLUMNS]),
]
KINDS = [SHEET_PLAN, SHEET_UNITS, SHEET_INDICATORS, SHEET_TASKS, "Loại lạ"]
PLAN_LABELS = ["Mã kế hoạch", "Tên kế hoạch", "Ngày ban hành", "Số hiệu", "Giai đoạn"]


def _csv_text(header: list[Any], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


csv_row = st.tuples(
    st.one_of(st.sampled_from(KINDS), NASTY),
    st.one_of(st.sampled_from(PLAN_LABELS), NASTY),
    st.lists(
        st.one_of(structured(["1", "fuzz-plan", *TARGETS, *DEADLINES, *BUDGETS]), NASTY_OR_LONG),
        max_size=len(CSV_HEADER) + 2,
    ),
).map(lambda parts: [parts[0], parts[1], *parts[2]])
csv_header = st.one_of(
    st.just(CSV_HEADER),
    st.lists(st.one_of(st.sampled_from(CSV_HEADER), NASTY), max_size=8),
)


@settings(max_examples=120, deadline=None)
@given(header=csv_header, rows=st.lists(csv_row, max_size=6))
def test_csv_plans_never_crash(header: list[Any], rows: list[list[Any]]) -> None:
    check_read(from_csv(_csv_text(header, rows)))


@settings(max_examples=40, deadline=None)
@given(
    text=st.one_of(
        NASTY_OR_LONG,
        st.sampled_from(
            [
                "Loại,TT\nNhiệm vụ," + "x" * 200_000,  # beyond the csv module's field limit
                "Loại,TT\rNhiệm vụ,1\r",  # old Mac line ends
                'Loại,TT\n"Nhiệm vụ,1',  # a quote never closed
                "Loại,TT\nNhiệm vụ,\x00",
            ]
        ),
    )
)
def test_csv_text_never_crashes(text: str) -> None:
    check_read(from_csv(text))


def _xlsx_value(value: Any) -> Any:
    """What a spreadsheet cell can hold (openpyxl refuses XML-illegal characters)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:32_000]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**15:
        return str(value)
    return value


xlsx_cell = st.one_of(
    structured(["1", "fuzz-plan", *TARGETS, *DEADLINES, *BUDGETS, *UNITS]),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)),
    NASTY_OR_LONG,
)
sheet = st.tuples(
    st.one_of(st.sampled_from([SHEET_PLAN, SHEET_UNITS, SHEET_INDICATORS, SHEET_TASKS]), NASTY),
    st.one_of(
        st.sampled_from([list(INDICATOR_COLUMNS), list(TASK_COLUMNS), ["Trường", "Giá trị"]]),
        st.lists(xlsx_cell, max_size=6),
    ),
    st.lists(st.lists(xlsx_cell, max_size=10), max_size=4),
)


def _xlsx(sheets: list[tuple[str, list[Any], list[list[Any]]]]) -> bytes:
    workbook = Workbook()
    used: set[str] = set()
    for title, header, rows in sheets:
        # Sheet titles: at most 31 characters, none of []:*?/\ and unique.
        name = re.sub(r"[\[\]:*?/\\]", "", ILLEGAL_CHARACTERS_RE.sub("", title))[:31].strip("'")
        if not name or name.lower() in used:
            continue
        used.add(name.lower())
        worksheet = workbook.create_sheet(name)
        for row in [header, *rows]:
            worksheet.append([_xlsx_value(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@settings(max_examples=40, deadline=None)
@given(sheets=st.lists(sheet, max_size=4))
def test_xlsx_plans_never_crash(sheets: list[tuple[str, list[Any], list[list[Any]]]]) -> None:
    check_read(from_xlsx(_xlsx(sheets)))


@settings(max_examples=40, deadline=None)
@given(
    cut=st.floats(0, 1),
    garbage=st.binary(max_size=40),
    member=st.sampled_from(["sheet", "workbook", "styles", "any"]),
)
def test_damaged_xlsx_files_are_refused(cut: float, garbage: bytes, member: str) -> None:
    """A workbook with a damaged part (sheets are read lazily) is refused, never a crash."""
    import zipfile

    data = _xlsx([(SHEET_TASKS, list(TASK_COLUMNS), [["1", "Một việc", "Công an xã"]])])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if member == "any" or member in item.filename:
                content = content[: int(len(content) * cut)] + garbage
            target.writestr(item, content)
    check_read(from_xlsx(out.getvalue()))
    check_read(from_xlsx(data[: int(len(data) * cut)] + garbage))


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(cell(DATES), st.datetimes(), NASTY_OR_LONG))
def test_parse_date_returns_a_date_or_raises_value_error(value: Any) -> None:
    try:
        parsed = parse_date(value)
    except ValueError:
        return
    if value is None or value == "":
        assert parsed is None
    else:
        assert isinstance(parsed, dt.date) and not isinstance(parsed, dt.datetime)


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(cell(BUDGETS), st.sampled_from([10**400, -(10**400)]), NASTY_OR_LONG))
def test_parse_budget_returns_a_finite_number_or_raises_value_error(value: Any) -> None:
    try:
        parsed = parse_budget(value)
    except ValueError:
        return
    if value is None or value == "":
        assert parsed is None
    else:
        assert isinstance(parsed, float) and math.isfinite(parsed)


# ------------------------------------------------------------------ the database write

COUNTED = (Plan, Indicator, IndicatorTarget, Task, Unit, UnitAlias, AuditEntry)


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in COUNTED
    }


def _assert_stored_clean(session: Session, plan_id: int, commune_id: int) -> None:
    plan = session.get(Plan, plan_id)
    assert plan is not None
    for value, limit in (
        (plan.slug, 80),
        (plan.title, 1000),
        (plan.number, 80),
        (plan.period, 80),
        (plan.source, 500),
    ):
        assert value is None or is_clean_stored(value, limit), value
    for indicator_row in session.exec(select(Indicator).where(Indicator.plan_id == plan_id)):
        for value, limit in (
            (indicator_row.number, 40),
            (indicator_row.text, 2000),
            (indicator_row.group, 500),
            (indicator_row.unit_of_measure, 80),
            (indicator_row.result_text, 2000),
        ):
            assert value is None or is_clean_stored(value, limit), value
        for target in session.exec(
            select(IndicatorTarget).where(IndicatorTarget.indicator_id == indicator_row.id)
        ):
            assert is_clean_stored(target.raw, 500)
            for number in (target.value, target.low, target.high):
                assert number is None or math.isfinite(number)
    for task_row in session.exec(select(Task).where(Task.plan_id == plan_id)):
        for value, limit in (
            (task_row.number, 40),
            (task_row.text, 4000),
            (task_row.group, 500),
            (task_row.output, 4000),
            (task_row.deadline_raw, 300),
        ):
            assert value is None or is_clean_stored(value, limit), value
        assert task_row.budget is None or (math.isfinite(task_row.budget) and task_row.budget >= 0)
    for unit in session.exec(select(Unit).where(Unit.commune_id == commune_id)):
        assert unit.name and is_clean_stored(unit.name, 300), unit.name
    for alias in session.exec(select(UnitAlias).where(UnitAlias.commune_id == commune_id)):
        assert is_clean_stored(alias.alias, 300) and is_clean_stored(alias.folded, 300)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=st.one_of(good_doc, plan_doc))
def test_import_is_all_or_nothing_and_stores_clean_text(services: Services, doc: Any) -> None:
    raw = from_yaml(_to_yaml(doc))
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        before = _counts(session)
        result = import_plan(session, raw, commune_id=commune_id, today=TODAY, now=NOW)
        event("refused" if result.problems else "imported")
        if result.problems:
            for problem in result.problems:
                _check_problem(problem)
            assert not (session.new or session.dirty or session.deleted)
            session.commit()  # even committing writes nothing
            assert _counts(session) == before
            return
        session.commit()
        assert result.plan_id is not None
        _assert_stored_clean(session, result.plan_id, commune_id)
        after = _counts(session)
        assert after["AuditEntry"] == before["AuditEntry"] + 1
        assert after["Plan"] in (before["Plan"], before["Plan"] + 1)
