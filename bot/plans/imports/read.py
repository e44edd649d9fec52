"""Reading a plan file (YAML, XLSX or CSV) into one structure, the YAML one.

``plan``, ``units``, ``indicators``, ``tasks`` and ``monitoring``; each row keeps its
sheet and row number so a problem found later can say where it is. Reading never
raises for a bad file: what cannot be read is a problem in ``RawPlan.problems``.
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

from bot.i18n import N_
from bot.plans.imports.layout import (
    KIND_COLUMN,
    PLAN_FIELDS,
    SHEET_INDICATORS,
    SHEET_PLAN,
    SHEET_TASKS,
    SHEET_UNITS,
)
from bot.plans.imports.problems import MSG_FILE_SHAPE, PlanProblem
from bot.text import clean, fold

PLANS_DIR = Path(__file__).resolve().parent.parent.parent / "content" / "plans"
EXTENSIONS = (".yaml", ".yml", ".xlsx", ".csv")

MSG_FILE_TYPE = N_("The file type “{ext}” is not supported. Use .yaml, .xlsx or .csv.")
MSG_FILE_UNREADABLE = N_("The file cannot be read: {error}")
MSG_NO_SHEETS = N_("The workbook has neither a “Chỉ tiêu” nor a “Nhiệm vụ” sheet.")
MSG_NO_COLUMN = N_("The column “{column}” is missing.")
MSG_UNKNOWN_COLUMN = N_("The column “{column}” is not part of the template and was ignored.")
MSG_UNKNOWN_KIND = N_("The type “{value}” is unknown. Use Kế hoạch, Đơn vị, Chỉ tiêu or Nhiệm vụ.")


@dataclass
class RawPlan:
    """A plan file read into the YAML structure; rows keep their sheet and row number."""

    plan: dict[str, Any] = field(default_factory=dict)
    units: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    monitoring: dict[str, Any] = field(default_factory=dict)
    problems: list[PlanProblem] = field(default_factory=list)
    warnings: list[PlanProblem] = field(default_factory=list)


def read_plan_file(path: Path) -> RawPlan:
    """Read a YAML, XLSX or CSV plan file (problems reading it are in ``.problems``)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return RawPlan(problems=[PlanProblem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
    return read_plan_bytes(path.name, data)


def read_plan_bytes(name: str, data: bytes) -> RawPlan:
    """Read an uploaded plan by its file name's extension (.yaml, .xlsx or .csv)."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            return from_yaml(data.decode("utf-8-sig"))
        if suffix == ".xlsx":
            return from_xlsx(data)
        if suffix == ".csv":
            return from_csv(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        return RawPlan(problems=[PlanProblem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
    return RawPlan(problems=[PlanProblem("", None, MSG_FILE_TYPE, {"ext": suffix or name})])


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
        return RawPlan(problems=[PlanProblem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
    if not isinstance(data, dict):
        return RawPlan(problems=[PlanProblem("", None, MSG_FILE_SHAPE)])
    plan, units, monitoring = (data.get(key) or default for key, default in _YAML_SECTIONS)
    if not (isinstance(plan, dict) and isinstance(units, list) and isinstance(monitoring, dict)):
        return RawPlan(problems=[PlanProblem("", None, MSG_FILE_SHAPE)])
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
            raw.problems.append(PlanProblem(sheet, None, MSG_FILE_SHAPE))
            continue
        for index, row in enumerate(rows, 1):
            if not isinstance(row, dict):
                raw.problems.append(PlanProblem(sheet, index, MSG_FILE_SHAPE))
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
                    PlanProblem(sheet, None, MSG_UNKNOWN_COLUMN, {"column": str(title)})
                )
            mapping.append(("", None))
    present = {name for name, _ in mapping}
    for required, title in (
        ("number", "TT"),
        ("text", "Chỉ tiêu" if kind == "indicator" else "Nhiệm vụ"),
    ):
        if required not in present:
            raw.problems.append(PlanProblem(sheet, None, MSG_NO_COLUMN, {"column": title}))
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
        aliases = split_names(values[1]) if len(values) > 1 else []
        raw.units.append({"name": values[0], "aliases": aliases})


def from_xlsx(data: bytes) -> RawPlan:
    """Read the spreadsheet form (sheets Kế hoạch, Đơn vị, Chỉ tiêu, Nhiệm vụ)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds; all mean "unreadable"
        return RawPlan(problems=[PlanProblem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
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
        return RawPlan(problems=[PlanProblem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])
    finally:
        workbook.close()
    if not found_any:
        raw.problems.append(PlanProblem("", None, MSG_NO_SHEETS))
    return raw


def from_csv(text: str) -> RawPlan:
    """Read the one-file CSV form: a "Loại" column says what each row is."""
    try:
        return _from_csv_rows(list(csv.reader(io.StringIO(text, newline=""))))
    except csv.Error as error:  # e.g. a field longer than the csv module accepts
        return RawPlan(problems=[PlanProblem("", None, MSG_FILE_UNREADABLE, {"error": str(error)})])


def _from_csv_rows(lines: list[list[str]]) -> RawPlan:
    raw = RawPlan()
    reader = iter(lines)
    try:
        header = next(reader)
    except StopIteration:
        raw.problems.append(PlanProblem("CSV", None, MSG_FILE_SHAPE))
        return raw
    keys = [_header_key(h) for h in header]
    if "loai" not in keys and "type" not in keys:
        raw.problems.append(PlanProblem("CSV", None, MSG_NO_COLUMN, {"column": KIND_COLUMN}))
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
                raw.problems.append(
                    PlanProblem("CSV", line_number, MSG_UNKNOWN_KIND, {"value": ""})
                )
            continue
        kind = _KINDS.get(_header_key(str(kind_text)))
        if kind is None:
            raw.problems.append(
                PlanProblem("CSV", line_number, MSG_UNKNOWN_KIND, {"value": kind_text})
            )
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


def split_names(value: Any) -> list[str]:
    """Unit names in a cell: a YAML list, or text separated by ";", "|" or new lines."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items = [str(v) for v in value if v is not None]
    else:
        items = re.split(r"[;|\n]", str(value))
    return [name for name in (clean(item) for item in items) if name]
