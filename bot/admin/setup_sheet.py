"""The commune set-up as an Excel workbook: the template to fill, and reading it back.

Sheets with Vietnamese headers: "Xã" (one row: code, name, province), "Thôn" (one row per
village with its five denominators and the date they apply from) and "Đơn vị" (one row
per unit, other spellings separated by "|"). Reading gives the structure of a YAML setup
file, checked by ``bot.admin.setup.apply_setup`` like every other format; a sheet or a
row type the template does not know is a problem, never skipped.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from sqlmodel import Session, col, select

from bot.admin.setup import DENOMINATORS, UNKNOWN_KEY, read_setup_text
from bot.i18n import N_
from bot.text import fold, formula_like
from db.models import Commune, Unit, UnitAlias, Village, VillageDenominator

SHEET_COMMUNE = "Xã"
SHEET_VILLAGES = "Thôn"
SHEET_UNITS = "Đơn vị"
COMMUNE_HEADERS = ("Mã xã", "Tên xã", "Tỉnh")
VILLAGE_HEADERS = (
    "Tên thôn",
    "Kiểu",
    "Dân số",
    "Người trưởng thành",
    "Từ 15 tuổi",
    "Số hộ",
    "Hộ kinh doanh",
    "Áp dụng từ",
)
UNIT_HEADERS = ("Tên đơn vị", "Tên khác")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MSG_UNREADABLE = N_("The file cannot be opened as an Excel workbook (.xlsx).")
MSG_UNKNOWN_SHEET = N_(
    "The sheet “{value}” is not part of the template. Use the sheets Xã, Thôn and Đơn vị."
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def current_setup(session: Session, commune_id: int) -> dict[str, Any] | None:
    """The commune as set up today, in the structure of a setup file (None: no commune).

    Applying it again changes nothing; a form changes one entry and applies the whole,
    so every rule of ``apply_setup`` holds and the villages keep their order.
    """
    commune = session.get(Commune, commune_id)
    if commune is None:
        return None
    villages = []
    for village in session.exec(
        select(Village).where(Village.commune_id == commune.id).order_by(col(Village.position))
    ).all():
        latest = session.exec(
            select(VillageDenominator)
            .where(VillageDenominator.village_id == village.id)
            .order_by(col(VillageDenominator.valid_from).desc())
        ).first()
        entry: dict[str, Any] = {"name": village.name, "kind": village.kind}
        for key in DENOMINATORS:
            entry[key] = getattr(latest, key) if latest else None
        entry["valid_from"] = latest.valid_from.isoformat() if latest else ""
        villages.append(entry)
    units = []
    for unit in session.exec(
        select(Unit).where(Unit.commune_id == commune.id).order_by(col(Unit.name))
    ).all():
        aliases = [
            a.alias
            for a in session.exec(select(UnitAlias).where(UnitAlias.unit_id == unit.id))
            if fold(a.alias) != fold(unit.name)
        ]
        units.append({"name": unit.name, "aliases": aliases})
    return {
        "commune": {
            "slug": commune.slug,
            "name": commune.name,
            "province": commune.province or "",
            "sample": commune.is_sample,
        },
        "villages": villages,
        "units": units,
    }


def write_setup_xlsx(session: Session, commune_id: int | None) -> bytes:
    """The template, filled with the commune's current villages and units (or empty)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    commune_sheet = workbook.active
    assert commune_sheet is not None
    commune_sheet.title = SHEET_COMMUNE
    villages_sheet = workbook.create_sheet(SHEET_VILLAGES)
    units_sheet = workbook.create_sheet(SHEET_UNITS)
    for sheet, headers in (
        (commune_sheet, COMMUNE_HEADERS),
        (villages_sheet, VILLAGE_HEADERS),
        (units_sheet, UNIT_HEADERS),
    ):
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for index in range(len(headers)):
            sheet.column_dimensions[chr(ord("A") + index)].width = 22
    data = current_setup(session, commune_id) if commune_id else None
    if data is not None:
        info = data["commune"]
        commune_sheet.append([info["slug"], info["name"], info["province"]])
        for village in data["villages"]:
            numbers = [village[key] for key in DENOMINATORS]
            villages_sheet.append(
                [village["name"], village["kind"], *numbers, village["valid_from"]]
            )
        for unit in data["units"]:
            units_sheet.append([unit["name"], " | ".join(unit["aliases"])])
    # Every cell is text as typed: a name starting with "=" stays a name.
    for sheet in (commune_sheet, villages_sheet, units_sheet):
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                    cell.quotePrefix = formula_like(cell.value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_setup_xlsx(data: bytes) -> dict[str, Any]:
    """The YAML structure of a filled template; unknown sheets are listed under UNKNOWN_KEY."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds; all mean "unreadable"
        return {UNKNOWN_KEY: [(None, MSG_UNREADABLE, "")]}
    commune: dict[str, Any] = {}
    villages: list[dict[str, Any]] = []
    units: list[dict[str, Any]] = []
    unknown: list[tuple[int | None, str, str]] = []
    try:
        for name in workbook.sheetnames:
            rows = [
                [_text(v) if not isinstance(v, dt.date) else v for v in row]
                for row in workbook[name].iter_rows(min_row=2, values_only=True)
            ]
            rows = [row for row in rows if any(v not in ("", None) for v in row)]
            key = fold(name)
            if key == fold(SHEET_COMMUNE):
                for row in rows[:1]:
                    row = [*row, "", "", ""]
                    commune = {"slug": row[0], "name": row[1], "province": row[2]}
            elif key == fold(SHEET_VILLAGES):
                for row in rows:
                    row = [*row, *[""] * 8]
                    village: dict[str, Any] = {"name": row[0], "kind": row[1] or "thôn"}
                    for index, denominator in enumerate(DENOMINATORS):
                        village[denominator] = row[2 + index]
                    village["valid_from"] = row[7] or None
                    villages.append(village)
            elif key == fold(SHEET_UNITS):
                for row in rows:
                    row = [*row, "", ""]
                    aliases = [a.strip() for a in str(row[1]).split("|") if a.strip()]
                    units.append({"name": row[0], "aliases": aliases})
            else:
                unknown.append((None, MSG_UNKNOWN_SHEET, name))
    finally:
        workbook.close()
    data_out: dict[str, Any] = {"commune": commune, "villages": villages, "units": units}
    if unknown:
        data_out[UNKNOWN_KEY] = unknown
    return data_out


def read_setup_upload(name: str, data: bytes) -> dict[str, Any]:
    """An uploaded set-up file: the Excel template, or a YAML or CSV file (UserError if broken)."""
    if name.lower().endswith(".xlsx"):
        return read_setup_xlsx(data)
    return read_setup_text(name, data)
