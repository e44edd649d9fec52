"""Commune setup from a file: the commune, its villages with denominators, its units.

YAML (``commune:``, ``villages:``, ``units:``) or CSV (one row per village or unit,
column ``loai`` = ``thon``/``village`` or ``don_vi``/``unit``). Loading is
idempotent: running it again updates names and adds new denominators.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from bot.core.errors import UserError
from bot.i18n import N_
from bot.text import clean, fold
from db.models import AuditEntry, Commune, Unit, UnitAlias, Village, VillageDenominator

DENOMINATORS = ("population", "adults", "aged15", "households", "businesses")
UNIT_NAME_MAX = 300  # Unit.name, UnitAlias.alias and UnitAlias.folded
SAMPLE_FILE = Path(__file__).resolve().parent.parent / "content" / "sample" / "commune.yaml"


@dataclass
class SetupResult:
    commune: str
    villages: int = 0
    units: int = 0
    problems: list[str] = field(default_factory=list)


def read_setup_file(path: Path) -> dict[str, Any]:
    """Read a YAML or CSV setup file into the YAML structure."""
    raw = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return _from_csv(raw)
    data = yaml.safe_load(raw)
    if not isinstance(data, dict):
        raise UserError(N_("The setup file must describe a commune, its villages and units."))
    return data


def _from_csv(raw: str) -> dict[str, Any]:
    rows = list(csv.DictReader(io.StringIO(raw)))
    commune: dict[str, Any] = {}
    villages, units = [], []
    for row in rows:
        # Cells beyond the header come as a list under the key None: they are ignored.
        row = {
            fold(k).replace(" ", "_"): (v or "").strip()
            for k, v in row.items()
            if k is not None and not isinstance(v, list)
        }
        kind = fold(row.get("loai", ""))
        if kind in ("xa", "commune"):
            commune = {
                "slug": row.get("ma", ""),
                "name": row.get("ten", ""),
                "province": row.get("tinh", ""),
            }
        elif kind in ("thon", "village", "xom", "ap"):
            village: dict[str, Any] = {"name": row.get("ten", ""), "kind": row.get("kieu", "thôn")}
            for key, column in zip(
                DENOMINATORS,
                ("dan_so", "truong_thanh", "tu_15_tuoi", "so_ho", "ho_kinh_doanh"),
                strict=True,
            ):
                village[key] = row.get(column, "")
            village["valid_from"] = row.get("ap_dung_tu", "")
            villages.append(village)
        elif kind in ("don_vi", "unit"):
            aliases = [a.strip() for a in row.get("ten_khac", "").split("|") if a.strip()]
            units.append({"name": row.get("ten", ""), "aliases": aliases})
    return {"commune": commune, "villages": villages, "units": units}


INT_MAX = 2**31 - 1  # the database's integer columns


def _int(value: Any, where: str, problems: list[str]) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        if isinstance(value, int | float):
            number = int(value)  # 1200.0 is 1200 (the "." rule below is for "1.200" text)
        else:
            number = int(str(value).replace(".", "").strip())
    except (ValueError, OverflowError):
        problems.append(f"{where}: '{_short(value)}' is not a whole number")
        return 0
    if number < 0:
        problems.append(f"{where}: must not be negative")
    elif number > INT_MAX:
        problems.append(f"{where}: {_short(value)} is too large")
        return 0
    return number


def _str(value: Any, limit: int) -> str:
    """A text field of the file, cleaned and cut to its column (an empty field is "")."""
    return "" if value is None else clean(str(value))[:limit].strip()


def _short(value: Any) -> str:
    """A value quoted in a problem: cleaned and short enough to read."""
    text = clean(str(value))
    return text if len(text) <= 60 else text[:60] + "…"


def _aliases(value: Any) -> list[str]:
    """Other names of a unit: a list, or one text with names separated by "|"."""
    if isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, list):
        return []
    return [name for name in (_str(v, UNIT_NAME_MAX) for v in value) if name]


def apply_setup(session: Session, data: dict[str, Any], *, today: dt.date) -> SetupResult:
    """Validate everything, then create or update the commune, villages and units."""
    info = data.get("commune") or {}
    result = SetupResult(commune="")
    if not isinstance(info, dict):
        result.problems.append("commune: expected its name, slug and province")
        info = {}
    name = _str(info.get("name"), 200)
    slug = _str(info.get("slug"), 80) or fold(name).replace(" ", "-")[:80].strip("-")
    result.commune = name
    if not name:
        result.problems.append("commune: name is required")
    elif not slug:
        result.problems.append("commune: slug is required")
    villages = data.get("villages") or []
    units = data.get("units") or []
    for section, value in (("villages", villages), ("units", units)):
        if not isinstance(value, list):
            result.problems.append(f"{section}: expected a list")
    villages = villages if isinstance(villages, list) else []
    units = units if isinstance(units, list) else []
    parsed_units: list[tuple[str, list[str]]] = []
    for index, unit in enumerate(units, 1):
        uname = _str(unit.get("name"), UNIT_NAME_MAX) if isinstance(unit, dict) else ""
        if not uname or not fold(uname):
            result.problems.append(f"units row {index}: name is required")
            continue
        parsed_units.append((uname, _aliases(unit.get("aliases"))))
    parsed_villages = []
    for index, village in enumerate(villages, 1):
        where = f"villages row {index}"
        if not isinstance(village, dict):
            result.problems.append(f"{where}: expected a village (name, population…)")
            continue
        vname = _str(village.get("name"), 200)
        if not vname:
            result.problems.append(f"{where}: name is required")
        numbers = {
            key: _int(village.get(key, 0), f"{where} {key}", result.problems)
            for key in DENOMINATORS
        }
        if numbers["adults"] > numbers["population"] or numbers["aged15"] > numbers["population"]:
            result.problems.append(f"{where}: adults and aged 15+ cannot exceed the population")
        valid_from = village.get("valid_from") or today
        if isinstance(valid_from, dt.datetime):
            valid_from = valid_from.date()
        elif not isinstance(valid_from, dt.date):
            try:
                valid_from = dt.date.fromisoformat(str(valid_from).strip())
            except ValueError:
                result.problems.append(
                    f"{where}: valid_from '{_short(valid_from)}' is not a date (YYYY-MM-DD)"
                )
                valid_from = today
        kind = _str(village.get("kind"), 40) or "thôn"
        parsed_villages.append((vname, kind, valid_from, numbers))
    if result.problems:
        return result
    commune = session.exec(select(Commune).where(Commune.slug == slug)).first()
    if commune is None:
        commune = Commune(slug=slug, name=name)
    commune.name = name
    commune.province = _str(info.get("province"), 200) or None
    commune.is_sample = bool(info.get("sample", False))
    session.add(commune)
    session.flush()
    assert commune.id is not None
    for position, (vname, kind, valid_from, numbers) in enumerate(parsed_villages):
        village_row = session.exec(
            select(Village).where(Village.commune_id == commune.id, Village.name == vname)
        ).first()
        if village_row is None:
            village_row = Village(commune_id=commune.id, name=vname)
        village_row.kind, village_row.position = kind, position
        session.add(village_row)
        session.flush()
        assert village_row.id is not None
        denominator = session.exec(
            select(VillageDenominator).where(
                VillageDenominator.village_id == village_row.id,
                VillageDenominator.valid_from == valid_from,
            )
        ).first() or VillageDenominator(village_id=village_row.id, valid_from=valid_from, **numbers)
        for key, value in numbers.items():
            setattr(denominator, key, value)
        session.add(denominator)
        result.villages += 1
    for uname, aliases in parsed_units:
        ensure_unit(session, commune.id, uname, aliases)
        result.units += 1
    session.add(
        AuditEntry(
            commune_id=commune.id,
            actor_name="CLI",
            action="commune.setup",
            entity="commune",
            entity_id=str(commune.id),
            new={"villages": result.villages, "units": result.units},
        )
    )
    return result


def ensure_unit(session: Session, commune_id: int, name: str, aliases: list[str]) -> Unit:
    """Find a unit by its name or any alias, creating it if needed, and record aliases."""
    name = name[:UNIT_NAME_MAX]
    unit = find_unit(session, commune_id, name)
    if unit is None:
        unit = Unit(commune_id=commune_id, name=name)
        session.add(unit)
        session.flush()
    assert unit.id is not None
    for alias in [name, *aliases]:
        folded = fold(str(alias))[:UNIT_NAME_MAX]
        if not folded:
            continue
        exists = session.exec(
            select(UnitAlias).where(UnitAlias.commune_id == commune_id, UnitAlias.folded == folded)
        ).first()
        if exists is None:
            session.add(
                UnitAlias(
                    commune_id=commune_id,
                    unit_id=unit.id,
                    alias=clean(str(alias))[:UNIT_NAME_MAX],
                    folded=folded,
                )
            )
    session.flush()
    return unit


def find_unit(session: Session, commune_id: int, name: str) -> Unit | None:
    """A unit by canonical name or by any recorded spelling (diacritics and case ignored)."""
    folded = fold(name)[:UNIT_NAME_MAX]
    alias = session.exec(
        select(UnitAlias).where(UnitAlias.commune_id == commune_id, UnitAlias.folded == folded)
    ).first()
    if alias is not None:
        return session.get(Unit, alias.unit_id)
    for unit in session.exec(select(Unit).where(Unit.commune_id == commune_id)).all():
        if fold(unit.name)[:UNIT_NAME_MAX] == folded:
            return unit
    return None


def load_sample(session: Session, *, today: dt.date) -> SetupResult:
    """Load the bundled sample commune (clearly marked as sample data)."""
    return apply_setup(session, read_setup_file(SAMPLE_FILE), today=today)
