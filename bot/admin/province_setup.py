"""Set up a province's communes from the official list: a sheet of communes, one of villages.

The workbook has a sheet "Xã" (Tên xã, Mã xã) and a sheet "Thôn" (Mã xã, Tên thôn).
Everything is checked first — every problem named by sheet and row — and applied all
or nothing; each new commune gets a one-time admin invite code.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from bot.admin.invites import create_invite
from bot.admin.setup import MSG_COMMUNE_NO_NAME as MSG_NO_NAME
from bot.admin.setup import MSG_VILLAGE_NO_NAME as MSG_NO_VILLAGE_NAME
from bot.admin.setup_sheet import MSG_UNREADABLE, SHEET_COMMUNE, SHEET_VILLAGES
from bot.i18n import N_, Translator
from bot.text import clean, fold
from db.enums import Role
from db.models import Commune, Village

PROVINCE_COMMUNE_HEADERS = ("Tên xã", "Mã xã")
PROVINCE_VILLAGE_HEADERS = ("Mã xã", "Tên thôn")
NAME_MAX = 200
CODE_MAX = 80

MSG_AT_SHEET_ROW = N_("Sheet “{sheet}”, row {row}: {problem}")
MSG_AT_SHEET = N_("Sheet “{sheet}”: {problem}")
MSG_UNKNOWN_SHEET = N_("The sheet “{value}” is not part of the list. Use the sheets Xã and Thôn.")
MSG_NO_COMMUNES = N_("The sheet lists no commune.")
MSG_NO_SHEET = N_("The workbook has no sheet “{sheet}”.")
MSG_NO_CODE = N_("The commune has no code (mã xã).")
MSG_CODE_TWICE = N_("The code {code} is also on row {first}.")
MSG_CODE_EXISTS = N_("The commune with code {code} is already set up.")
MSG_UNKNOWN_CODE = N_("No commune has the code {code} in the sheet “{sheet}”.")
MSG_VILLAGE_TWICE = N_("The village “{name}” is also on row {first}.")
MSG_TOO_LONG = N_("The text is too long (at most {limit} characters).")


@dataclass(frozen=True)
class ProvinceProblem:
    """One thing wrong with the list: an English message id, its values, sheet and row."""

    message_id: str
    params: dict[str, str | int] = field(default_factory=dict)
    sheet: str = ""
    row: int | None = None

    def text(self, t: Translator) -> str:
        message = t.gettext(self.message_id, **self.params)
        if self.row is not None:
            return t.gettext(MSG_AT_SHEET_ROW, sheet=self.sheet, row=self.row, problem=message)
        if self.sheet:
            return t.gettext(MSG_AT_SHEET, sheet=self.sheet, problem=message)
        return message

    def to_json(self, t: Translator) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "message_id": self.message_id,
            "params": dict(self.params),
            "message": self.text(t),
        }


@dataclass
class ProvinceList:
    """The rows as read: (sheet row number, cells as text)."""

    communes: list[tuple[int, str, str]] = field(default_factory=list)  # row, name, code
    villages: list[tuple[int, str, str]] = field(default_factory=list)  # row, code, name
    problems: list[ProvinceProblem] = field(default_factory=list)


@dataclass
class ProvinceResult:
    communes: list[tuple[str, str, str]] = field(default_factory=list)  # code, name, invite
    villages: int = 0
    problems: list[ProvinceProblem] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(str(value))


def read_province_xlsx(data: bytes) -> ProvinceList:
    """The communes and villages of the official list (problems for what cannot be read)."""
    from openpyxl import load_workbook

    out = ProvinceList()
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds; all mean "unreadable"
        out.problems.append(ProvinceProblem(MSG_UNREADABLE))
        return out
    seen: set[str] = set()
    try:
        for name in workbook.sheetnames:
            key = fold(name)
            if key not in (fold(SHEET_COMMUNE), fold(SHEET_VILLAGES)):
                out.problems.append(ProvinceProblem(MSG_UNKNOWN_SHEET, {"value": name}))
                continue
            seen.add(key)
            target = out.communes if key == fold(SHEET_COMMUNE) else out.villages
            for number, row in enumerate(
                workbook[name].iter_rows(min_row=2, values_only=True), start=2
            ):
                cells = [_cell(v) for v in (*row, None, None)[:2]]
                if any(cells):
                    target.append((number, cells[0], cells[1]))
    finally:
        workbook.close()
    for sheet in (SHEET_COMMUNE, SHEET_VILLAGES):
        if fold(sheet) not in seen:
            out.problems.append(ProvinceProblem(MSG_NO_SHEET, {"sheet": sheet}))
    return out


def check_province(session: Session, listed: ProvinceList) -> list[ProvinceProblem]:
    """Every problem of the list, by sheet and row (none: it can be applied)."""
    problems = list(listed.problems)
    existing = set(session.exec(select(Commune.slug)).all())
    first_row: dict[str, int] = {}
    for row, name, code in listed.communes:
        where = (SHEET_COMMUNE, row)
        if not name:
            problems.append(ProvinceProblem(MSG_NO_NAME, {}, *where))
        if not code:
            problems.append(ProvinceProblem(MSG_NO_CODE, {}, *where))
        for text, limit in ((name, NAME_MAX), (code, CODE_MAX)):
            if len(text) > limit:
                problems.append(ProvinceProblem(MSG_TOO_LONG, {"limit": limit}, *where))
        if not code:
            continue
        if code in first_row:
            problems.append(
                ProvinceProblem(MSG_CODE_TWICE, {"code": code, "first": first_row[code]}, *where)
            )
            continue
        first_row[code] = row
        if code in existing:
            problems.append(ProvinceProblem(MSG_CODE_EXISTS, {"code": code}, *where))
    if not listed.communes and not listed.problems:
        problems.append(ProvinceProblem(MSG_NO_COMMUNES, sheet=SHEET_COMMUNE))
    village_row: dict[tuple[str, str], int] = {}
    for row, code, name in listed.villages:
        where = (SHEET_VILLAGES, row)
        if code not in first_row:
            problems.append(
                ProvinceProblem(MSG_UNKNOWN_CODE, {"code": code, "sheet": SHEET_COMMUNE}, *where)
            )
        if not name:
            problems.append(ProvinceProblem(MSG_NO_VILLAGE_NAME, {}, *where))
            continue
        if len(name) > NAME_MAX:
            problems.append(ProvinceProblem(MSG_TOO_LONG, {"limit": NAME_MAX}, *where))
        key = (code, fold(name))
        if key in village_row:
            problems.append(
                ProvinceProblem(
                    MSG_VILLAGE_TWICE, {"name": name, "first": village_row[key]}, *where
                )
            )
        village_row.setdefault(key, row)
    return problems


def apply_province(
    session: Session, listed: ProvinceList, *, province: str | None, now: dt.datetime
) -> ProvinceResult:
    """Check, then create every commune, its villages and an admin invite (caller commits).

    With any problem nothing is added: the caller rolls back (nothing was flushed).
    """
    result = ProvinceResult(problems=check_province(session, listed))
    if result.problems:
        return result
    ids: dict[str, int] = {}
    for _row, name, code in listed.communes:
        commune = Commune(slug=code, name=name, province=province)
        session.add(commune)
        session.flush()
        assert commune.id is not None
        ids[code] = commune.id
    positions: dict[str, int] = {}
    for _row, code, name in listed.villages:
        positions[code] = positions.get(code, 0) + 1
        session.add(Village(commune_id=ids[code], name=name, position=positions[code]))
        result.villages += 1
    session.flush()
    for _row, name, code in listed.communes:
        invite = create_invite(session, commune_id=ids[code], role=Role.ADMIN, now=now)
        result.communes.append((code, name, invite))
    return result
