"""A small XLSX writer shared by the report files: styles, title, header, rows, bytes.

openpyxl is imported on the first workbook only (it is big to load). Every text cell is
written as a string, with Excel's quote prefix when it starts like a formula, so no text
from the database ever becomes a live formula in a report.
"""

from __future__ import annotations

import functools
import io
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from bot.text import formula_like

if TYPE_CHECKING:
    from openpyxl import Workbook

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@functools.cache
def xl() -> SimpleNamespace:
    """openpyxl and our cell styles, imported on the first export (it is big to load)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="999999")
    return SimpleNamespace(
        Workbook=Workbook,
        Alignment=Alignment,
        Font=Font,
        get_column_letter=get_column_letter,
        border=Border(left=thin, right=thin, top=thin, bottom=thin),
        head_fill=PatternFill("solid", fgColor="DDE7F3"),
        wrap=Alignment(wrap_text=True, vertical="top"),
    )


def workbook_bytes(workbook: Workbook) -> bytes:
    """The saved workbook, ready to send."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def put(sheet: object, row: int, column: int, value: object) -> Any:
    """Write one cell; a text is always a string cell, never a formula."""
    cell = sheet.cell(row=row, column=column)  # type: ignore[attr-defined]
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if formula_like(value):
            cell.quotePrefix = True
    return cell


def title(sheet: object, lines: list[str], width: int, first: int = 1) -> int:
    """Write centred title lines from row ``first``; return the next free row."""
    for row, text in enumerate(lines, first):
        cell = put(sheet, row, 1, text)
        cell.font = xl().Font(bold=row == first, size=13 if row == first else 11)
        cell.alignment = xl().Alignment(horizontal="center", wrap_text=True)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)  # type: ignore[attr-defined]
    return first + len(lines) + 1


QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"


def official_heading(sheet: object, authority: str, width: int, left: int = 2) -> int:
    """Write the heading block of an administrative document: the issuing body on the
    left ("UBND XÃ …"), the national motto on the right; return the next free row."""
    rows = ((authority, QUOC_HIEU), ("", TIEU_NGU))
    for row, (left_text, right_text) in enumerate(rows, 1):
        for text, start, end in ((left_text, 1, left), (right_text, left + 1, width)):
            cell = put(sheet, row, start, text)
            cell.font = xl().Font(bold=True, underline="single" if text == TIEU_NGU else None)
            cell.alignment = xl().Alignment(horizontal="center", wrap_text=True)
            sheet.merge_cells(start_row=row, start_column=start, end_row=row, end_column=end)  # type: ignore[attr-defined]
    return len(rows) + 2


def print_setup(sheet: object, header_row: int) -> None:
    """Print on landscape A4, every column on the page width, the header on every page."""
    setup = sheet.page_setup  # type: ignore[attr-defined]
    setup.orientation = "landscape"
    setup.paperSize = 9  # A4 (ECMA-376 paper size code)
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[attr-defined]
    sheet.print_title_rows = f"{header_row}:{header_row}"  # type: ignore[attr-defined]
    sheet.print_options.horizontalCentered = True  # type: ignore[attr-defined]
    margins = sheet.page_margins  # type: ignore[attr-defined]
    margins.left = margins.right = 0.4
    margins.top = margins.bottom = 0.6


def header(sheet: object, row: int, headers: list[str], widths: list[int]) -> None:
    """Write a bold, shaded header row with column widths, and freeze the rows above it."""
    for column, (text, width) in enumerate(zip(headers, widths, strict=True), 1):
        cell = put(sheet, row, column, text)
        cell.font = xl().Font(bold=True)
        cell.fill = xl().head_fill
        cell.border = xl().border
        cell.alignment = xl().Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[xl().get_column_letter(column)].width = width  # type: ignore[attr-defined]
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)  # type: ignore[attr-defined]


def table_row(sheet: object, row: int, values: list[object], bold: bool = False) -> None:
    """Write one bordered, wrapped row of values."""
    for column, value in enumerate(values, 1):
        cell = put(sheet, row, column, value)
        cell.border = xl().border
        cell.alignment = xl().wrap
        if bold:
            cell.font = xl().Font(bold=True)
