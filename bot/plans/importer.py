"""Importing a commune plan (kế hoạch) from YAML, XLSX or CSV.

Every format is read into the same structure (the YAML one: ``plan``, ``units``,
``indicators``, ``tasks``, ``monitoring``), then validated as a whole — required
fields, every deadline and target read with the parsers, budgets, dates, duplicate
numbers, tally codes — collecting every problem with its sheet and row. Only a plan
without problems is written, in the caller's transaction. Re-importing updates the
plan in place by (plan slug, row number): progress, evidence and history stay, and
rows no longer in the file become inactive. Unit names are normalised through the
plan's ``units:`` aliases and the commune's known units; the result lists every raw
name with the unit it was mapped to, for review. See ``bot/content/plans/TEMPLATE.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from bot import audit
from bot.admin.setup import ensure_unit, find_unit
from bot.i18n import N_, Translator, translator
from bot.plans.deadline import Deadline, DeadlineParseError, parse_deadline
from bot.plans.target import Target, TargetParseError, parse_target
from bot.tallies.codes import CODES
from bot.text import clean, fold
from db.models import Indicator, IndicatorTarget, Person, Plan, Task, Unit

PLANS_DIR = Path(__file__).resolve().parent.parent / "content" / "plans"
EXTENSIONS = (".yaml", ".yml", ".xlsx", ".csv")

SHEET_PLAN = "Kế hoạch"
SHEET_UNITS = "Đơn vị"
SHEET_INDICATORS = "Chỉ tiêu"
SHEET_TASKS = "Nhiệm vụ"
SHEET_GUIDE = "Hướng dẫn"
KIND_COLUMN = "Loại"

# Template columns, in order (the target columns are "Chỉ tiêu <year>", one per year).
INDICATOR_COLUMNS = (
    "TT",
    "Nhóm",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Chỉ tiêu 2026",
    "Chỉ tiêu 2030",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Kết quả/sản phẩm",
    "Mã số liệu",
)
TASK_COLUMNS = (
    "TT",
    "Nhóm",
    "Nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Kết quả/sản phẩm",
    "Kinh phí (triệu đồng)",
    "Thời gian hoàn thành",
    "Ngày bắt đầu",
)
PLAN_FIELDS = (
    ("slug", "Mã kế hoạch"),
    ("commune", "Xã"),
    ("province", "Tỉnh"),
    ("title", "Tên kế hoạch"),
    ("number", "Số hiệu"),
    ("issued", "Ngày ban hành"),
    ("period", "Giai đoạn"),
    ("source", "Nguồn"),
)
UNIT_COLUMNS = ("Tên đơn vị", "Tên khác")

MSG_WHERE = N_("{sheet}, row {row}: {problem}")
MSG_WHERE_SHEET = N_("{sheet}: {problem}")
MSG_FILE_TYPE = N_("The file type “{ext}” is not supported. Use .yaml, .xlsx or .csv.")
MSG_FILE_UNREADABLE = N_("The file cannot be read: {error}")
MSG_FILE_SHAPE = N_("The file does not describe a plan (plan, units, indicators, tasks).")
MSG_NO_SHEETS = N_("The workbook has neither a “Chỉ tiêu” nor a “Nhiệm vụ” sheet.")
MSG_NO_COLUMN = N_("The column “{column}” is missing.")
MSG_UNKNOWN_COLUMN = N_("The column “{column}” is not part of the template and was ignored.")
MSG_UNKNOWN_KIND = N_("The type “{value}” is unknown. Use Kế hoạch, Đơn vị, Chỉ tiêu or Nhiệm vụ.")
MSG_NO_SLUG = N_("The plan has no short name (Mã kế hoạch), e.g. trung-hoi.")
MSG_BAD_SLUG = N_(
    "The short name “{value}” may only use letters a-z, digits and dashes, e.g. trung-hoi."
)
MSG_NO_TITLE = N_("The plan has no title (Tên kế hoạch).")
MSG_BAD_DATE = N_("“{value}” in {column} is not a date. Write it as 15/03/2026.")
MSG_NO_NUMBER = N_("The number (TT) is missing.")
MSG_DUPLICATE = N_("The number {number} is used twice (first on row {first}).")
MSG_NO_TEXT = N_("The text of row {number} is missing.")
MSG_BAD_BUDGET = N_(
    "The budget “{value}” is not a number of million đồng (write e.g. 150 or 1.500,5)."
)
MSG_NEGATIVE_BUDGET = N_("The budget cannot be negative.")
MSG_BAD_YEAR = N_("“{value}” is not a year for a target (write e.g. 2026).")
MSG_BAD_TALLY = N_("Unknown tally code “{code}”. Use one of: {codes}.")
MSG_BAD_TARGET = N_("Target {year}: {problem}")
MSG_BAD_DEADLINE = N_("Completion time: {problem}")
MSG_NO_UNIT_NAME = N_("A unit has no name.")
MSG_NO_COMMUNE = N_("There is no commune “{slug}”. Set up the commune first (tocns admin setup).")

TALLY_CODES = tuple(code.code for code in CODES)


# ------------------------------------------------------------------ problems and results


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan file, located by sheet and row."""

    sheet: str
    row: int | None
    message_id: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, t: Translator | None = None) -> str:
        """The problem in words, e.g. "Nhiệm vụ, dòng 12: ..."."""
        t = t or translator("vi")
        message = t.gettext(self.message_id, **self.params)
        if not self.sheet:
            return message
        if self.row is None:
            return t.gettext(MSG_WHERE_SHEET, sheet=self.sheet, problem=message)
        return t.gettext(MSG_WHERE, sheet=self.sheet, row=self.row, problem=message)

    def to_json(self, t: Translator | None = None) -> dict[str, Any]:
        """{"sheet", "row", "message"} for --json output."""
        return {"sheet": self.sheet, "row": self.row, "message": self.text(t)}


class PlanFileError(Exception):
    """A plan file with problems; nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the plan file")
        self.problems = problems


@dataclass(frozen=True)
class UnitMapping:
    """How one unit name written in the file was understood."""

    raw: str
    unit: str
    how: str  # same (the canonical name) | alias (another spelling)
    new: bool = False  # the unit did not exist in the commune before this import

    def to_json(self) -> dict[str, Any]:
        return {"raw": self.raw, "unit": self.unit, "how": self.how, "new": self.new}


@dataclass
class ImportResult:
    """What an import did (or would do, with --dry-run)."""

    plan: str = ""
    title: str = ""
    indicators: int = 0
    tasks: int = 0
    created: bool = False
    deactivated_indicators: int = 0
    deactivated_tasks: int = 0
    units: list[UnitMapping] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    plan_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self, t: Translator | None = None) -> dict[str, Any]:
        """The --json answer: at least {"plan", "indicators", "tasks"}."""
        data: dict[str, Any] = {
            "plan": self.plan,
            "indicators": self.indicators,
            "tasks": self.tasks,
            "created": self.created,
            "deactivated": {
                "indicators": self.deactivated_indicators,
                "tasks": self.deactivated_tasks,
            },
            "units": [mapping.to_json() for mapping in self.units],
        }
        if self.problems:
            data["problems"] = [problem.to_json(t) for problem in self.problems]
        if self.warnings:
            data["warnings"] = [warning.to_json(t) for warning in self.warnings]
        return data


# ------------------------------------------------------------------ reading files


@dataclass
class RawPlan:
    """A plan file read into the YAML structure; rows keep their sheet and row number."""

    plan: dict[str, Any] = field(default_factory=dict)
    units: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    monitoring: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def read_plan_file(path: Path) -> RawPlan:
    """Read a YAML, XLSX or CSV plan file (problems reading it are in ``.problems``)."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            return from_yaml(path.read_text(encoding="utf-8-sig"))
        if suffix == ".xlsx":
            return from_xlsx(path.read_bytes())
        if suffix == ".csv":
            return from_csv(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        return RawPlan(problems=[Problem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
    return RawPlan(problems=[Problem("", None, MSG_FILE_TYPE, {"ext": suffix or path.name})])


def find_plan_file(slug: str, directory: Path = PLANS_DIR) -> Path | None:
    """The bundled plan file for a slug, whatever its extension."""
    for extension in EXTENSIONS:
        candidate = directory / f"{slug}{extension}"
        if candidate.is_file():
            return candidate
    return None


def from_yaml(text: str) -> RawPlan:
    """Read the YAML form."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        # ValueError: a timestamp like 2026-13-45 or an integer too long to read;
        # RecursionError: absurdly deep nesting.
        return RawPlan(problems=[Problem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
    if not isinstance(data, dict):
        return RawPlan(problems=[Problem("", None, MSG_FILE_SHAPE)])
    plan, units, monitoring = (data.get(key) or default for key, default in _YAML_SECTIONS)
    if not (isinstance(plan, dict) and isinstance(units, list) and isinstance(monitoring, dict)):
        return RawPlan(problems=[Problem("", None, MSG_FILE_SHAPE)])
    raw = RawPlan(
        plan=dict(plan),
        units=[dict(u) for u in units if isinstance(u, dict)],
        monitoring=_json_safe(monitoring),
    )
    for key, sheet, target in (
        ("indicators", SHEET_INDICATORS, raw.indicators),
        ("tasks", SHEET_TASKS, raw.tasks),
    ):
        rows = data.get(key) or []
        if not isinstance(rows, list):
            raw.problems.append(Problem(sheet, None, MSG_FILE_SHAPE))
            continue
        for index, row in enumerate(rows, 1):
            if not isinstance(row, dict):
                raw.problems.append(Problem(sheet, index, MSG_FILE_SHAPE))
                continue
            target.append({**row, "_sheet": sheet, "_row": index})
    return raw


_YAML_SECTIONS: tuple[tuple[str, Any], ...] = (("plan", {}), ("units", []), ("monitoring", {}))


def _json_safe(value: Any) -> Any:
    """Free-form YAML (the monitoring notes) as JSON the database accepts: dates and
    other YAML types become text, non-finite numbers become null, text is cleaned."""
    if isinstance(value, dict):
        return {clean(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.date):
        return value.isoformat()
    return clean(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))


def _header_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(header)).strip()


_COMMON = {
    "tt": "number",
    "stt": "number",
    "so tt": "number",
    "so thu tu": "number",
    "number": "number",
    "nhom": "group",
    "linh vuc": "group",
    "group": "group",
    "don vi chu tri": "lead",
    "chu tri": "lead",
    "co quan chu tri": "lead",
    "lead": "lead",
    "don vi phoi hop": "coordinating",
    "phoi hop": "coordinating",
    "co quan phoi hop": "coordinating",
    "coordinating": "coordinating",
    "ghi chu": "",
    "note": "",
}
_INDICATOR_COLUMNS = {
    **_COMMON,
    "nhom chi tieu": "group",
    "chi tieu": "text",
    "ten chi tieu": "text",
    "noi dung chi tieu": "text",
    "noi dung": "text",
    "indicator": "text",
    "text": "text",
    "don vi tinh": "unit",
    "dvt": "unit",
    "unit": "unit",
    "ket qua san pham": "result",
    "ket qua": "result",
    "san pham": "result",
    "result": "result",
    "ma so lieu": "tally_code",
    "ma": "tally_code",
    "tally code": "tally_code",
    "tally_code": "tally_code",
}
_TASK_COLUMNS = {
    **_COMMON,
    "nhom nhiem vu": "group",
    "nhiem vu": "text",
    "ten nhiem vu": "text",
    "noi dung nhiem vu": "text",
    "noi dung": "text",
    "task": "text",
    "text": "text",
    "ket qua san pham": "output",
    "ket qua": "output",
    "san pham": "output",
    "ket qua dau ra": "output",
    "output": "output",
    "kinh phi trieu dong": "budget",
    "kinh phi": "budget",
    "budget": "budget",
    "thoi gian hoan thanh": "deadline",
    "thoi gian": "deadline",
    "thoi han": "deadline",
    "han hoan thanh": "deadline",
    "deadline": "deadline",
    "ngay bat dau": "start",
    "bat dau": "start",
    "start": "start",
}
_TARGET_HEADER = re.compile(r"^(?:chi tieu|muc tieu|target)?\s*(?:nam\s*)?(\d{4})$")
_KINDS = {
    "ke hoach": "plan",
    "plan": "plan",
    "don vi": "unit",
    "unit": "unit",
    "chi tieu": "indicator",
    "indicator": "indicator",
    "nhiem vu": "task",
    "task": "task",
}


def _cell_text(value: Any, number_format: str = "") -> Any:
    """Turn a spreadsheet cell into what the YAML form would hold."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float | int) and not isinstance(value, bool):
        if "%" in number_format:
            return f"{value * 100:g}%"
        return value
    text = clean(str(value))
    return text or None


def _rows_to_dicts(
    sheet: str,
    kind: str,
    header: list[Any],
    rows: list[tuple[int, list[Any]]],
    raw: RawPlan,
) -> list[dict[str, Any]]:
    """Map the columns of a sheet to row dicts (targets gathered by year)."""
    columns = _INDICATOR_COLUMNS if kind == "indicator" else _TASK_COLUMNS
    mapping: list[tuple[str, int | None]] = []
    for title in header:
        key = _header_key(str(title or ""))
        found = _TARGET_HEADER.match(key) if kind == "indicator" else None
        if found:
            mapping.append(("target", int(found.group(1))))
        elif key in columns:
            mapping.append((columns[key], None))
        else:
            if key and key not in ("loai", "type"):
                raw.warnings.append(
                    Problem(sheet, None, MSG_UNKNOWN_COLUMN, {"column": str(title)})
                )
            mapping.append(("", None))
    present = {name for name, _ in mapping}
    for required, title in (
        ("number", "TT"),
        ("text", "Chỉ tiêu" if kind == "indicator" else "Nhiệm vụ"),
    ):
        if required not in present:
            raw.problems.append(Problem(sheet, None, MSG_NO_COLUMN, {"column": title}))
    result: list[dict[str, Any]] = []
    for row_number, values in rows:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        item: dict[str, Any] = {"_sheet": sheet, "_row": row_number}
        targets: dict[int, Any] = {}
        for (name, year), value in zip(mapping, values, strict=False):
            if not name or value is None:
                continue
            if name == "target":
                assert year is not None
                targets[year] = value
            else:
                item[name] = value
        if kind == "indicator":
            item["targets"] = targets
        result.append(item)
    return result


def _plan_fields(rows: list[list[Any]], raw: RawPlan) -> None:
    labels = {_header_key(label): key for key, label in PLAN_FIELDS}
    labels.update({key: key for key, _ in PLAN_FIELDS})
    for values in rows:
        if len(values) < 2 or values[0] is None:
            continue
        key = labels.get(_header_key(str(values[0])))
        if key is not None:
            raw.plan[key] = values[1]


def _unit_rows(rows: list[list[Any]], raw: RawPlan) -> None:
    for values in rows:
        if not values or values[0] is None:
            continue
        aliases = _split_names(values[1]) if len(values) > 1 else []
        raw.units.append({"name": values[0], "aliases": aliases})


def from_xlsx(data: bytes) -> RawPlan:
    """Read the spreadsheet form (sheets Kế hoạch, Đơn vị, Chỉ tiêu, Nhiệm vụ)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds; all mean "unreadable"
        return RawPlan(problems=[Problem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
    raw = RawPlan()
    sheets = {_header_key(name): workbook[name] for name in workbook.sheetnames}

    def rows_of(name: str) -> list[tuple[int, list[Any]]]:
        sheet = sheets.get(_header_key(name))
        if sheet is None:
            return []
        found = []
        for index, row in enumerate(sheet.iter_rows(), 1):
            found.append(
                (
                    index,
                    [
                        _cell_text(cell.value, getattr(cell, "number_format", "") or "")
                        for cell in row
                    ],
                )
            )
        return found

    found_any = False
    try:
        plan_rows = rows_of(SHEET_PLAN)
        _plan_fields([values for _, values in plan_rows[1:]], raw)
        unit_rows = rows_of(SHEET_UNITS)
        _unit_rows([values for _, values in unit_rows[1:]], raw)
        for name, kind, target in (
            (SHEET_INDICATORS, "indicator", raw.indicators),
            (SHEET_TASKS, "task", raw.tasks),
        ):
            if _header_key(name) not in sheets:
                continue
            found_any = True
            rows = rows_of(name)
            if rows:
                target.extend(_rows_to_dicts(name, kind, rows[0][1], rows[1:], raw))
    except Exception as error:  # noqa: BLE001 - sheets are read lazily: a broken one fails here
        return RawPlan(problems=[Problem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
    finally:
        workbook.close()
    if not found_any:
        raw.problems.append(Problem("", None, MSG_NO_SHEETS))
    return raw


def from_csv(text: str) -> RawPlan:
    """Read the one-file CSV form: a "Loại" column says what each row is."""
    try:
        return _from_csv_rows(list(csv.reader(io.StringIO(text, newline=""))))
    except csv.Error as error:  # e.g. a field longer than the csv module accepts
        return RawPlan(problems=[Problem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])


def _from_csv_rows(lines: list[list[str]]) -> RawPlan:
    raw = RawPlan()
    reader = iter(lines)
    try:
        header = next(reader)
    except StopIteration:
        raw.problems.append(Problem("CSV", None, MSG_FILE_SHAPE))
        return raw
    keys = [_header_key(h) for h in header]
    if "loai" not in keys and "type" not in keys:
        raw.problems.append(Problem("CSV", None, MSG_NO_COLUMN, {"column": KIND_COLUMN}))
        return raw
    kind_index = keys.index("loai") if "loai" in keys else keys.index("type")
    field_index = keys.index("truong") if "truong" in keys else None
    value_index = keys.index("gia tri") if "gia tri" in keys else None
    name_index = keys.index("ten don vi") if "ten don vi" in keys else None
    alias_index = keys.index("ten khac") if "ten khac" in keys else None
    grouped: dict[str, list[tuple[int, list[Any]]]] = {"indicator": [], "task": []}
    plan_rows: list[list[Any]] = []
    unit_rows: list[list[Any]] = []
    for line_number, values in enumerate(reader, 2):
        cells = [_cell_text(v) if v is not None else None for v in values]
        cells += [None] * (len(header) - len(cells))
        kind_text = cells[kind_index]
        if kind_text is None:
            if any(c is not None for c in cells):
                raw.problems.append(Problem("CSV", line_number, MSG_UNKNOWN_KIND, {"value": ""}))
            continue
        kind = _KINDS.get(_header_key(str(kind_text)))
        if kind is None:
            raw.problems.append(Problem("CSV", line_number, MSG_UNKNOWN_KIND, {"value": kind_text}))
        elif kind == "plan" and field_index is not None and value_index is not None:
            plan_rows.append([cells[field_index], cells[value_index]])
        elif kind == "unit" and name_index is not None:
            unit_rows.append(
                [cells[name_index], cells[alias_index] if alias_index is not None else None]
            )
        elif kind in grouped:
            grouped[kind].append((line_number, cells))
    _plan_fields(plan_rows, raw)
    _unit_rows(unit_rows, raw)
    # Only the columns that belong to each row type are mapped; the others are blank.
    indicator_header = [h if _keeps(h, "indicator") else "" for h in header]
    task_header = [h if _keeps(h, "task") else "" for h in header]
    if grouped["indicator"]:
        raw.indicators = _rows_to_dicts(
            SHEET_INDICATORS, "indicator", indicator_header, grouped["indicator"], raw
        )
    if grouped["task"]:
        raw.tasks = _rows_to_dicts(SHEET_TASKS, "task", task_header, grouped["task"], raw)
    return raw


def _keeps(header: str, kind: str) -> bool:
    key = _header_key(header)
    if key in ("loai", "type", "truong", "gia tri", "ten don vi", "ten khac"):
        return False
    if kind == "indicator":
        return key in _INDICATOR_COLUMNS or bool(_TARGET_HEADER.match(key))
    return key in _TASK_COLUMNS


# ------------------------------------------------------------------ validation


@dataclass
class IndicatorSpec:
    number: str
    position: int
    group: str | None
    text: str
    unit: str | None
    targets: dict[int, tuple[str, Target]]
    lead: str | None
    coordinating: list[str]
    result: str | None
    tally_code: str | None


@dataclass
class TaskSpec:
    number: str
    position: int
    group: str | None
    text: str
    lead: str | None
    coordinating: list[str]
    output: str | None
    budget: float | None
    deadline: Deadline | None
    start: dt.date | None


@dataclass
class PlanSpec:
    """A validated plan, ready to write."""

    slug: str
    title: str
    commune: str | None
    province: str | None
    number: str | None
    issued: dt.date | None
    period: str | None
    source: str | None
    monitoring: dict[str, Any]
    units: list[tuple[str, list[str]]]
    indicators: list[IndicatorSpec]
    tasks: list[TaskSpec]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean(str(value))
    return text or None


def _split_names(value: Any) -> list[str]:
    """Unit names in a cell: a YAML list, or text separated by ";", "|" or new lines."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items = [str(v) for v in value if v is not None]
    else:
        items = re.split(r"[;|\n]", str(value))
    return [name for name in (clean(item) for item in items) if name]


def parse_date(value: Any) -> dt.date | None:
    """A date from a cell: a date, 2026-03-15, 15/03/2026 or 15-3-2026; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean(str(value))
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})", text)
    if match:
        return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    raise ValueError(text)


def parse_budget(value: Any) -> float | None:
    """A budget in million đồng, written the Vietnamese way (1.500,5) or as a plain number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, int | float):
        return _finite(value)
    text = re.sub(r"\s+", "", clean(str(value)))
    text = re.sub(r"(?i)(trieudong|triệuđồng|trđ|tr)$", "", text)
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "")
    return _finite(float(text))


def _finite(value: float | int) -> float:
    """A budget as a finite float; "inf", "nan", 1e400 or a huge integer are not budgets."""
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(value) from None
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def validate(raw: RawPlan, *, today: dt.date) -> tuple[PlanSpec | None, list[Problem]]:
    """Check everything in a plan file; return the plan or every problem found."""
    problems = list(raw.problems)
    plan = raw.plan
    slug = _text(plan.get("slug")) or ""
    if not slug:
        problems.append(Problem(SHEET_PLAN, None, MSG_NO_SLUG))
    elif not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", slug):
        problems.append(Problem(SHEET_PLAN, None, MSG_BAD_SLUG, {"value": slug}))
    title = _text(plan.get("title")) or ""
    if not title:
        problems.append(Problem(SHEET_PLAN, None, MSG_NO_TITLE))
    issued: dt.date | None = None
    try:
        issued = parse_date(plan.get("issued"))
    except ValueError:
        problems.append(
            Problem(
                SHEET_PLAN,
                None,
                MSG_BAD_DATE,
                {"value": plan.get("issued"), "column": "Ngày ban hành"},
            )
        )
    units: list[tuple[str, list[str]]] = []
    for index, unit in enumerate(raw.units, 1):
        name = _text(unit.get("name"))
        if not name:
            problems.append(Problem(SHEET_UNITS, index, MSG_NO_UNIT_NAME))
            continue
        units.append((name, _split_names(unit.get("aliases"))))
    reference = issued or today
    indicators = _validate_indicators(raw.indicators, problems)
    tasks = _validate_tasks(raw.tasks, reference, problems)
    if problems:
        return None, problems
    spec = PlanSpec(
        slug=slug,
        title=title,
        commune=_text(plan.get("commune")),
        province=_text(plan.get("province")),
        number=_text(plan.get("number")),
        issued=issued,
        period=_text(plan.get("period")),
        source=_text(plan.get("source")),
        monitoring=dict(raw.monitoring),
        units=units,
        indicators=indicators,
        tasks=tasks,
    )
    return spec, []


def _where(row: dict[str, Any]) -> tuple[str, int | None]:
    return str(row.get("_sheet", "")), row.get("_row")


def _number_and_text(
    row: dict[str, Any], seen: dict[str, int | None], problems: list[Problem]
) -> tuple[str, str]:
    sheet, where = _where(row)
    # Cut to the column's size first, so two numbers that only differ beyond it are duplicates.
    number = (_text(row.get("number")) or "")[:40].rstrip()
    if not number:
        problems.append(Problem(sheet, where, MSG_NO_NUMBER))
    elif number in seen:
        problems.append(
            Problem(sheet, where, MSG_DUPLICATE, {"number": number, "first": seen[number]})
        )
    else:
        seen[number] = where
    text = _text(row.get("text")) or ""
    if not text:
        problems.append(Problem(sheet, where, MSG_NO_TEXT, {"number": number or "?"}))
    return number, text


def _validate_indicators(
    rows: list[dict[str, Any]], problems: list[Problem]
) -> list[IndicatorSpec]:
    seen: dict[str, int | None] = {}
    found = []
    for position, row in enumerate(rows):
        sheet, where = _where(row)
        number, text = _number_and_text(row, seen, problems)
        targets: dict[int, tuple[str, Target]] = {}
        raw_targets = row.get("targets") or {}
        if not isinstance(raw_targets, dict):
            problems.append(Problem(sheet, where, MSG_FILE_SHAPE))
            raw_targets = {}
        for year_value, target_value in raw_targets.items():
            written = _text(target_value)
            try:
                year = int(str(year_value).strip())
                if not 1990 <= year <= 2100:
                    raise ValueError(year_value)
            except ValueError:
                problems.append(Problem(sheet, where, MSG_BAD_YEAR, {"value": year_value}))
                continue
            if written is None:
                continue
            try:
                targets[year] = (written, parse_target(written))
            except TargetParseError as error:
                message = translator("vi").gettext(error.message_id, **error.params)
                problems.append(
                    Problem(sheet, where, MSG_BAD_TARGET, {"year": year, "problem": message})
                )
        code = _text(row.get("tally_code"))
        if code is not None:
            code = code.lower()
            if code not in TALLY_CODES:
                problems.append(
                    Problem(
                        sheet, where, MSG_BAD_TALLY, {"code": code, "codes": ", ".join(TALLY_CODES)}
                    )
                )
        found.append(
            IndicatorSpec(
                number=number,
                position=position,
                group=_text(row.get("group")),
                text=text,
                unit=_text(row.get("unit")),
                targets=targets,
                lead=_text(row.get("lead")),
                coordinating=_split_names(row.get("coordinating")),
                result=_text(row.get("result")),
                tally_code=code,
            )
        )
    return found


def _validate_tasks(
    rows: list[dict[str, Any]], reference: dt.date, problems: list[Problem]
) -> list[TaskSpec]:
    seen: dict[str, int | None] = {}
    found = []
    for position, row in enumerate(rows):
        sheet, where = _where(row)
        number, text = _number_and_text(row, seen, problems)
        budget = None
        try:
            budget = parse_budget(row.get("budget"))
            if budget is not None and budget < 0:
                problems.append(Problem(sheet, where, MSG_NEGATIVE_BUDGET))
        except ValueError:
            problems.append(Problem(sheet, where, MSG_BAD_BUDGET, {"value": row.get("budget")}))
        start = None
        try:
            start = parse_date(row.get("start"))
        except ValueError:
            problems.append(
                Problem(
                    sheet,
                    where,
                    MSG_BAD_DATE,
                    {"value": row.get("start"), "column": "Ngày bắt đầu"},
                )
            )
        deadline = None
        written = row.get("deadline")
        if isinstance(written, dt.date):
            written = written.strftime("%d/%m/%Y")
        written = _text(written)
        if written is not None:
            try:
                deadline = parse_deadline(written, reference)
            except DeadlineParseError as error:
                message = translator("vi").gettext(error.message_id, **error.params)
                problems.append(Problem(sheet, where, MSG_BAD_DEADLINE, {"problem": message}))
        found.append(
            TaskSpec(
                number=number,
                position=position,
                group=_text(row.get("group")),
                text=text,
                lead=_text(row.get("lead")),
                coordinating=_split_names(row.get("coordinating")),
                output=_text(row.get("output")),
                budget=budget,
                deadline=deadline,
                start=start,
            )
        )
    return found


# ------------------------------------------------------------------ writing


class _Units:
    """Resolves raw unit names to the commune's units, recording the mapping."""

    def __init__(self, session: Session, commune_id: int, spec: PlanSpec) -> None:
        self.session = session
        self.commune_id = commune_id
        self.before = set(session.exec(select(Unit.id).where(Unit.commune_id == commune_id)).all())
        self.mapping: dict[str, UnitMapping] = {}
        self.ids: dict[str, int] = {}
        for name, aliases in spec.units:
            ensure_unit(session, commune_id, name, aliases)

    def resolve(self, raw: str | None) -> int | None:
        if raw is None:
            return None
        key = fold(raw)
        if key in self.ids:
            return self.ids[key]
        unit = find_unit(self.session, self.commune_id, raw) or ensure_unit(
            self.session, self.commune_id, raw, []
        )
        assert unit.id is not None
        how = "same" if fold(unit.name) == key else "alias"
        self.mapping[key] = UnitMapping(raw, unit.name, how, unit.id not in self.before)
        self.ids[key] = unit.id
        return unit.id


def apply_plan(
    session: Session,
    spec: PlanSpec,
    *,
    commune_id: int,
    now: dt.datetime,
    actor_id: int | None = None,
) -> ImportResult:
    """Create or update the plan in the session (the caller commits or rolls back)."""
    plan = session.exec(
        select(Plan).where(Plan.commune_id == commune_id, Plan.slug == spec.slug)
    ).first()
    created = plan is None
    if plan is None:
        plan = Plan(commune_id=commune_id, slug=spec.slug, title=spec.title, imported_at=now)
    plan.title = spec.title[:1000]
    plan.number, plan.issued, plan.period = (
        _cut(spec.number, 80),
        spec.issued,
        _cut(spec.period, 80),
    )
    plan.source = spec.source[:500] if spec.source else None
    plan.monitoring = spec.monitoring
    session.add(plan)
    session.flush()
    assert plan.id is not None
    units = _Units(session, commune_id, spec)
    result = ImportResult(
        plan=spec.slug,
        title=spec.title,
        created=created,
        plan_id=plan.id,
        indicators=len(spec.indicators),
        tasks=len(spec.tasks),
    )
    _apply_indicators(session, plan.id, spec.indicators, units, result)
    _apply_tasks(session, plan.id, spec.tasks, units, result)
    result.units = list(units.mapping.values())
    audit.record(
        session,
        commune_id=commune_id,
        action="plan.import",
        entity="plan",
        entity_id=plan.id,
        actor=session.get(Person, actor_id) if actor_id is not None else None,
        new={
            "slug": spec.slug,
            "indicators": result.indicators,
            "tasks": result.tasks,
            "deactivated_indicators": result.deactivated_indicators,
            "deactivated_tasks": result.deactivated_tasks,
        },
        at=now,
    )
    session.flush()
    return result


def _apply_indicators(
    session: Session, plan_id: int, specs: list[IndicatorSpec], units: _Units, result: ImportResult
) -> None:
    existing = {
        i.number: i for i in session.exec(select(Indicator).where(Indicator.plan_id == plan_id))
    }
    for spec in specs:
        row = existing.pop(spec.number, None) or Indicator(
            plan_id=plan_id, number=spec.number, text=""
        )
        row.position, row.group, row.text = spec.position, _cut(spec.group, 500), spec.text[:2000]
        row.unit_of_measure = _cut(spec.unit, 80)
        row.lead_unit_id = units.resolve(spec.lead)
        row.coordinating = [
            i for i in (units.resolve(n) for n in spec.coordinating) if i is not None
        ]
        row.result_text, row.tally_code, row.active = _cut(spec.result, 2000), spec.tally_code, True
        session.add(row)
        session.flush()
        assert row.id is not None
        targets = {
            t.year: t
            for t in session.exec(
                select(IndicatorTarget).where(IndicatorTarget.indicator_id == row.id)
            )
        }
        for year, (written, parsed) in spec.targets.items():
            target = targets.pop(year, None) or IndicatorTarget(
                indicator_id=row.id, year=year, raw="", op=""
            )
            target.raw, target.op = written[:500], parsed.op
            target.value = _float(parsed.value)
            target.low, target.high = _float(parsed.low), _float(parsed.high)
            session.add(target)
        for stale in targets.values():
            session.delete(stale)
    for gone in existing.values():
        if gone.active:
            gone.active = False
            session.add(gone)
            result.deactivated_indicators += 1


def _apply_tasks(
    session: Session, plan_id: int, specs: list[TaskSpec], units: _Units, result: ImportResult
) -> None:
    existing = {t.number: t for t in session.exec(select(Task).where(Task.plan_id == plan_id))}
    for spec in specs:
        row = existing.pop(spec.number, None) or Task(plan_id=plan_id, number=spec.number, text="")
        row.position, row.group, row.text = spec.position, _cut(spec.group, 500), spec.text[:4000]
        row.lead_unit_id = units.resolve(spec.lead)
        row.coordinating = [
            i for i in (units.resolve(n) for n in spec.coordinating) if i is not None
        ]
        row.output, row.budget, row.start = _cut(spec.output, 4000), spec.budget, spec.start
        deadline = spec.deadline
        kept_due = row.due if row.kind == "on_event" and row.id is not None else None
        row.deadline_raw = deadline.text[:300] if deadline else None
        row.kind = deadline.kind if deadline else "once"
        row.repeat = deadline.repeat if deadline else None
        row.due = deadline.due if deadline else None
        if row.kind == "on_event" and row.due is None:
            row.due = kept_due  # a deadline an officer set stays until the file gives one
        row.active = True
        session.add(row)
    for gone in existing.values():
        if gone.active:
            gone.active = False
            session.add(gone)
            result.deactivated_tasks += 1
    session.flush()


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else value


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def import_plan(
    session: Session,
    raw: RawPlan,
    *,
    commune_id: int,
    today: dt.date,
    now: dt.datetime,
    actor_id: int | None = None,
) -> ImportResult:
    """Validate a plan file and, only if it has no problem, write it in the session."""
    spec, problems = validate(raw, today=today)
    if spec is None:
        return ImportResult(
            plan=str(raw.plan.get("slug") or ""), problems=problems, warnings=list(raw.warnings)
        )
    result = apply_plan(session, spec, commune_id=commune_id, now=now, actor_id=actor_id)
    result.warnings = list(raw.warnings)
    return result


# ------------------------------------------------------------------ template and export


GUIDE_ROWS = (
    ("Sheet", "Cột", "Ý nghĩa"),
    (SHEET_PLAN, "Mã kế hoạch", "Bắt buộc. Chữ thường không dấu và gạch nối, ví dụ trung-hoi."),
    (SHEET_PLAN, "Tên kế hoạch", "Bắt buộc."),
    (SHEET_PLAN, "Ngày ban hành", "Ngày/tháng/năm, ví dụ 05/03/2026 (có thể để trống)."),
    (SHEET_UNITS, "Tên đơn vị / Tên khác", "Tên chuẩn và các cách viết khác, cách nhau bằng dấu ;"),
    (SHEET_INDICATORS, "TT", "Bắt buộc, không trùng (1, 2, 1.1.1…)."),
    (
        SHEET_INDICATORS,
        "Chỉ tiêu <năm>",
        "Mỗi năm một cột, ví dụ “Chỉ tiêu 2026”: ≥ 70, 100%, Top 20, Đạt…",
    ),
    (SHEET_INDICATORS, "Mã số liệu", "Với chỉ tiêu công dân số: " + ", ".join(TALLY_CODES) + "."),
    (SHEET_INDICATORS + ", " + SHEET_TASKS, "Đơn vị phối hợp", "Nhiều đơn vị cách nhau bằng dấu ;"),
    (SHEET_TASKS, "Kinh phí (triệu đồng)", "Số, ví dụ 150 hoặc 1.500,5 (có thể để trống)."),
    (
        SHEET_TASKS,
        "Thời gian hoàn thành",
        "Như trong kế hoạch: Quý III/2025, Tháng 7/2025, Hàng năm, Thường xuyên…",
    ),
    (SHEET_TASKS, "Ngày bắt đầu", "Ngày/tháng/năm (có thể để trống: tính từ ngày ban hành)."),
)


def _years(raw: RawPlan) -> list[int]:
    years = sorted({int(y) for row in raw.indicators for y in (row.get("targets") or {})})
    return years or [2026, 2030]


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return value


def _indicator_header(years: list[int]) -> list[str]:
    head = list(INDICATOR_COLUMNS[:4])
    tail = list(INDICATOR_COLUMNS[6:])
    return head + [f"Chỉ tiêu {year}" for year in years] + tail


def _indicator_values(row: dict[str, Any], years: list[int]) -> list[Any]:
    targets = {int(y): v for y, v in (row.get("targets") or {}).items()}
    return (
        [row.get("number"), row.get("group"), row.get("text"), row.get("unit")]
        + [targets.get(year) for year in years]
        + [
            row.get("lead"),
            _cell(row.get("coordinating")),
            row.get("result"),
            row.get("tally_code"),
        ]
    )


def _task_values(row: dict[str, Any]) -> list[Any]:
    start = row.get("start")
    return [
        row.get("number"),
        row.get("group"),
        row.get("text"),
        row.get("lead"),
        _cell(row.get("coordinating")),
        row.get("output"),
        row.get("budget"),
        row.get("deadline"),
        start.strftime("%d/%m/%Y") if isinstance(start, dt.date) else start,
    ]


def _plan_value(raw: RawPlan, key: str) -> Any:
    value = raw.plan.get(key)
    return value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else value


def write_xlsx(raw: RawPlan | None, path: Path) -> None:
    """Write a plan in the spreadsheet template (``None``: the empty template)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    raw = raw or RawPlan()
    workbook = Workbook()
    bold = Font(bold=True)
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_PLAN
    sheet.append(["Trường", "Giá trị"])
    for key, label in PLAN_FIELDS:
        sheet.append([label, _plan_value(raw, key)])
    units = workbook.create_sheet(SHEET_UNITS)
    units.append(list(UNIT_COLUMNS))
    for unit in raw.units:
        units.append([unit.get("name"), _cell(unit.get("aliases") or [])])
    years = _years(raw)
    indicators = workbook.create_sheet(SHEET_INDICATORS)
    indicators.append(_indicator_header(years))
    for row in raw.indicators:
        indicators.append(_indicator_values(row, years))
    tasks = workbook.create_sheet(SHEET_TASKS)
    tasks.append(list(TASK_COLUMNS))
    for row in raw.tasks:
        tasks.append(_task_values(row))
    guide = workbook.create_sheet(SHEET_GUIDE)
    for line in GUIDE_ROWS:
        guide.append(list(line))
    for ws in workbook.worksheets:
        for cell in ws[1]:
            cell.font = bold
        for column in ws.columns:
            letter = column[0].column_letter
            ws.column_dimensions[letter].width = 40 if letter in ("B", "C") else 18
            for cell in column[1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def write_csv(raw: RawPlan, path: Path) -> None:
    """Write a plan as the one-file CSV form (column "Loại" says what each row is)."""
    years = _years(raw)
    indicator_header = _indicator_header(years)
    # One header: Loại, Trường, Giá trị, Tên đơn vị, Tên khác, then indicator and task columns
    # (TT, Nhóm, Đơn vị chủ trì, Đơn vị phối hợp and Kết quả/sản phẩm are shared).
    shared = ["TT", "Nhóm", "Đơn vị chủ trì", "Đơn vị phối hợp", "Kết quả/sản phẩm"]
    columns = [KIND_COLUMN, "Trường", "Giá trị", *UNIT_COLUMNS, *shared]
    columns += [c for c in indicator_header if c not in shared]
    columns += [c for c in TASK_COLUMNS if c not in shared and c not in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)

    def emit(values: dict[str, Any]) -> None:
        writer.writerow(["" if values.get(c) is None else values.get(c) for c in columns])

    for key, label in PLAN_FIELDS:
        emit({KIND_COLUMN: SHEET_PLAN, "Trường": label, "Giá trị": _plan_value(raw, key)})
    for unit in raw.units:
        emit(
            {
                KIND_COLUMN: SHEET_UNITS,
                "Tên đơn vị": unit.get("name"),
                "Tên khác": _cell(unit.get("aliases") or []),
            }
        )
    for row in raw.indicators:
        emit(
            {
                KIND_COLUMN: SHEET_INDICATORS,
                **dict(zip(indicator_header, _indicator_values(row, years), strict=True)),
            }
        )
    for row in raw.tasks:
        emit({KIND_COLUMN: SHEET_TASKS, **dict(zip(TASK_COLUMNS, _task_values(row), strict=True))})
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")


def load_sample_plan(services: Any) -> None:
    """Import the configured sample plan into the sample commune (a SAMPLE_HOOKS entry)."""
    import logging

    from bot.core.people import default_commune_id
    from db.models import Commune

    log = logging.getLogger(__name__)
    slug = services.settings.sample_plan
    path = find_plan_file(slug)
    if path is None:
        log.warning("sample plan %s not found in %s", slug, PLANS_DIR)
        return
    now = services.clock()
    today = now.astimezone(services.tz).date()
    with Session(services.engine) as session:
        sample = session.exec(select(Commune.id).where(Commune.is_sample == True)).first()  # noqa: E712
        commune_id = sample if sample is not None else default_commune_id(session)
        if commune_id is None:
            return
        result = import_plan(
            session, read_plan_file(path), commune_id=commune_id, today=today, now=now
        )
        if result.problems:
            session.rollback()
            log.warning(
                "sample plan %s not imported: %s",
                slug,
                "; ".join(p.text() for p in result.problems[:5]),
            )
            return
        session.commit()
    log.info(
        "loaded the sample plan %s (%d indicators, %d tasks)", slug, result.indicators, result.tasks
    )
