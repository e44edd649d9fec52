"""Writing a plan in the spreadsheet template (XLSX) or the one-file CSV form.

``tocns plan template`` writes the empty workbook; ``tocns plan export`` writes a plan
read from any format, so a YAML plan can be edited in Excel and read back unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from bot.plans.imports.layout import (
    INDICATOR_COLUMNS,
    KIND_COLUMN,
    PLAN_FIELDS,
    SHEET_GUIDE,
    SHEET_INDICATORS,
    SHEET_PLAN,
    SHEET_TASKS,
    SHEET_UNITS,
    TALLY_CODES,
    TASK_COLUMNS,
    UNIT_COLUMNS,
)
from bot.plans.imports.read import RawPlan

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
