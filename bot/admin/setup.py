"""Commune setup from a file: the commune, its villages with denominators, its units.

YAML (``commune:``, ``villages:``, ``units:``) or CSV (one row per village or unit,
column ``loai`` = ``thon``/``village`` or ``don_vi``/``unit``). Loading is
idempotent: running it again updates names and adds new denominators.

Problems are ``SetupProblem`` values (an English message id marked ``N_``, its parameters
and where it is); the CLI translates them (``SetupProblem.text``). The people import uses
the same type.
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

from bot import audit
from bot.core.errors import UserError
from bot.dates import parse_date
from bot.i18n import N_, Translator
from bot.text import clean, fold, shorten
from db.models import Commune, Person, Unit, UnitAlias, Village, VillageDenominator

DENOMINATORS = ("population", "adults", "aged15", "households", "businesses")
UNIT_NAME_MAX = 300  # Unit.name, UnitAlias.alias and UnitAlias.folded
SAMPLE_FILE = Path(__file__).resolve().parent.parent / "content" / "sample" / "commune.yaml"


# Where a problem is (translated with the problem).
MSG_AT_LINE = N_("Line {line}: {problem}")
MSG_AT_VILLAGE = N_("Village {row}: {problem}")
MSG_AT_VILLAGE_NAMED = N_("Village {row} ({name}): {problem}")
MSG_AT_UNIT = N_("Unit {row}: {problem}")
# Reading the file.
MSG_SETUP_SHAPE = N_("The setup file must describe a commune, its villages and units.")
MSG_NOT_UTF8 = N_(
    "The file is not saved as UTF-8, so the Vietnamese letters cannot be read. "
    "In Excel choose Save As → “CSV UTF-8 (Comma delimited)”."
)
MSG_BAD_CSV = N_("The file cannot be read as CSV. Save it from Excel as “CSV UTF-8” and try again.")
MSG_BAD_YAML_AT = N_(
    "The YAML file is broken at line {line}, column {column}. "
    "Check the colons, the indentation and the quotes."
)
MSG_BAD_YAML = N_("The YAML file cannot be read. Check the colons, the indentation and the quotes.")
MSG_BAD_YAML_VALUE = N_(
    "A value in the file cannot be read, often a date that does not exist such as 2026-13-01. "
    "Write dates as year-month-day, e.g. 2026-01-01."
)
# The commune, its villages and units.
MSG_COMMUNE_SHAPE = N_("The commune part must give its name, slug and province.")
MSG_COMMUNE_NO_NAME = N_("The commune has no name. Write it, e.g. “Xã An Bình”.")
MSG_OTHER_COMMUNE = N_(
    "The file is for the commune “{value}”, but you set up “{own}”. Download your own template."
)
MSG_COMMUNE_NO_SLUG = N_("The commune has no short name (slug). Write one, e.g. an-binh.")
MSG_VILLAGES_NOT_LIST = N_("The villages must be a list, one village per item.")
MSG_UNITS_NOT_LIST = N_("The units must be a list, one unit per item.")
MSG_UNIT_NO_NAME = N_("The unit has no name.")
MSG_VILLAGE_SHAPE = N_("Write the village's name and its figures (population, adults…).")
MSG_VILLAGE_NO_NAME = N_("The village has no name.")
MSG_NUMBER_EMPTY = N_("{column} is empty. Write a whole number (0 if there is none).")
MSG_NOT_WHOLE = N_("{column} “{value}” is not a whole number. Write it like 1200.")
MSG_NEGATIVE = N_("{column} cannot be negative ({value}).")
MSG_TOO_LARGE = N_("{column} {value} is too large. Check the figure.")
MSG_OVER_POPULATION = N_(
    "The adults and the people aged 15+ cannot be more than the population ({population})."
)
MSG_BAD_VALID_FROM = N_(
    "The start date “{value}” is not a date. Write it as day/month/year, e.g. 01/01/2026."
)
# The figures of a village, as named in problems (keys of ``DENOMINATORS``).
COLUMN_LABELS = {
    "population": N_("The population"),
    "adults": N_("The number of adults"),
    "aged15": N_("The number of people aged 15+"),
    "households": N_("The number of households"),
    "businesses": N_("The number of household businesses"),
}
SECTION_LABELS = {"villages": (MSG_AT_VILLAGE, MSG_AT_VILLAGE_NAMED), "units": (MSG_AT_UNIT,) * 2}

QUOTE_LIMIT = 60  # characters of a person's value quoted back in a problem
# Rows or sheets a file reader could not place: (line or None, message id, value quoted).
UNKNOWN_KEY = "unknown"
MSG_UNKNOWN_ROW_KIND = N_(
    "The row type “{value}” is unknown. In the column “loai” write xa, thon or don_vi."
)
MSG_NO_ROW_KIND = N_("The row has no type. In the column “loai” write xa, thon or don_vi.")


@dataclass(frozen=True)
class SetupProblem:
    """One thing wrong with an admin file: an English message id, its values and where.

    ``line`` is a line of a people CSV file; ``section`` ("villages" or "units"), ``row``
    (1-based) and ``name`` locate an entry of a setup file. A ``column`` parameter is a key
    of ``COLUMN_LABELS``, named in words when translated. Values are short (``_quoted``).
    """

    message_id: str
    params: dict[str, str | int] = field(default_factory=dict)
    line: int | None = None
    section: str = ""
    row: int | None = None
    name: str = ""

    def text(self, t: Translator) -> str:
        """The problem in words, e.g. "Dòng 3: Không hiểu vai trò “x”. ..."."""
        params: dict[str, Any] = dict(self.params)
        label = COLUMN_LABELS.get(str(params.get("column")))
        if label is not None:
            params["column"] = t.gettext(label)
        message = t.gettext(self.message_id, **params)
        if self.line is not None:
            return t.gettext(MSG_AT_LINE, line=self.line, problem=message)
        if self.section in SECTION_LABELS and self.row is not None:
            plain, named = SECTION_LABELS[self.section]
            if self.name:
                return t.gettext(named, row=self.row, name=self.name, problem=message)
            return t.gettext(plain, row=self.row, problem=message)
        return message

    def to_json(self, t: Translator) -> dict[str, Any]:
        """The machine-readable fields and the translated text, for --json output.

        Only the location fields that are set: ``line`` (people CSV) or ``section``,
        ``row`` and ``name`` (setup file); a problem with the whole file has none.
        """
        where = {"line": self.line, "section": self.section, "row": self.row, "name": self.name}
        return {
            **{key: value for key, value in where.items() if value not in (None, "")},
            "message_id": self.message_id,
            "params": dict(self.params),
            "message": self.text(t),
        }


@dataclass
class SetupResult:
    commune: str
    villages: int = 0
    units: int = 0
    problems: list[SetupProblem] = field(default_factory=list)


def read_setup_file(path: Path) -> dict[str, Any]:
    """Read a YAML or CSV setup file into the YAML structure.

    A file that cannot be read raises ``UserError`` saying what to fix (``OSError`` is
    left to the caller).
    """
    return read_setup_text(path.name, path.read_bytes())


def read_setup_text(name: str, data: bytes) -> dict[str, Any]:
    """Read a YAML or CSV setup file's bytes (by its name's extension); UserError if unreadable."""
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserError(MSG_NOT_UTF8) from error
    if Path(name).suffix.lower() == ".csv":
        try:
            return _from_csv(raw)
        except csv.Error as error:  # e.g. a field longer than the csv module accepts
            raise UserError(MSG_BAD_CSV) from error
    try:
        data = yaml.safe_load(raw)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if mark is None:
            raise UserError(MSG_BAD_YAML) from error
        raise UserError(MSG_BAD_YAML_AT, line=mark.line + 1, column=mark.column + 1) from error
    except yaml.YAMLError as error:
        raise UserError(MSG_BAD_YAML) from error
    except (ValueError, OverflowError) as error:  # a timestamp that is no date: 2026-13-01
        raise UserError(MSG_BAD_YAML_VALUE) from error
    except RecursionError as error:  # nesting deeper than Python's stack
        raise UserError(MSG_BAD_YAML) from error
    if not isinstance(data, dict):
        raise UserError(MSG_SETUP_SHAPE)
    return data


def _from_csv(raw: str) -> dict[str, Any]:
    reader = csv.DictReader(io.StringIO(raw))
    commune: dict[str, Any] = {}
    villages, units = [], []
    unknown: list[tuple[int | None, str, str]] = []
    for row in reader:
        line = reader.line_num
        # Cells beyond the header come as a list under the key None: they are ignored.
        row = {
            fold(k).replace(" ", "_"): (v or "").strip()
            for k, v in row.items()
            if k is not None and not isinstance(v, list)
        }
        written = row.get("loai", "")
        kind = fold(written).replace(" ", "_").replace("-", "_")  # "đơn vị" is don_vi
        if not kind:
            if any(row.values()):
                unknown.append((line, MSG_NO_ROW_KIND, ""))
            continue
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
        else:  # never skipped silently
            unknown.append((line, MSG_UNKNOWN_ROW_KIND, written))
    data: dict[str, Any] = {"commune": commune, "villages": villages, "units": units}
    if unknown:
        data[UNKNOWN_KEY] = unknown
    return data


INT_MAX = 2**31 - 1  # the database's integer columns


def _int(value: Any, column: str, at: dict[str, Any], problems: list[SetupProblem]) -> int:
    """A figure of a village; a problem (located by ``at``) if it is not a whole number ≥ 0."""
    params: dict[str, str | int] = {"column": column, "value": _quoted(value)}
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        if isinstance(value, int | float):
            number = int(value)  # 1200.0 is 1200 (the "." rule below is for "1.200" text)
        else:
            number = int(str(value).replace(".", "").strip())
    except (ValueError, OverflowError):
        empty = value is None or not str(value).strip()
        problems.append(SetupProblem(MSG_NUMBER_EMPTY if empty else MSG_NOT_WHOLE, params, **at))
        return 0
    if number < 0:
        problems.append(SetupProblem(MSG_NEGATIVE, params, **at))
    elif number > INT_MAX:
        problems.append(SetupProblem(MSG_TOO_LARGE, params, **at))
        return 0
    return number


def _str(value: Any, limit: int) -> str:
    """A text field of the file, cleaned and cut to its column (an empty field is "")."""
    return "" if value is None else clean(str(value))[:limit].strip()


def _quoted(value: Any) -> str:
    """A value quoted in a problem: cleaned, at most 60 characters and an ellipsis."""
    return shorten(clean(str(value)), QUOTE_LIMIT + 1)


def _aliases(value: Any) -> list[str]:
    """Other names of a unit: a list, or one text with names separated by "|"."""
    if isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, list):
        return []
    return [name for name in (_str(v, UNIT_NAME_MAX) for v in value) if name]


def apply_setup(
    session: Session,
    data: dict[str, Any],
    *,
    today: dt.date,
    actor: Person | None = None,
    commune_slug: str | None = None,
) -> SetupResult:
    """Validate everything, then create or update the commune, villages and units.

    ``commune_slug``: the file must describe this commune (an admin sets up their own).
    """
    info = data.get("commune") or {}
    result = SetupResult(commune="")
    problems = result.problems
    for line, message_id, value in data.get(UNKNOWN_KEY) or []:
        problems.append(SetupProblem(message_id, {"value": _quoted(value)}, line=line))
    if not isinstance(info, dict):
        problems.append(SetupProblem(MSG_COMMUNE_SHAPE))
        info = {}
    name = _str(info.get("name"), 200)
    slug = _str(info.get("slug"), 80) or fold(name).replace(" ", "-")[:80].strip("-")
    result.commune = name
    if not name:
        problems.append(SetupProblem(MSG_COMMUNE_NO_NAME))
    elif not slug:
        problems.append(SetupProblem(MSG_COMMUNE_NO_SLUG))
    elif commune_slug is not None and slug != commune_slug:
        problems.append(
            SetupProblem(MSG_OTHER_COMMUNE, {"value": _quoted(slug), "own": commune_slug})
        )
    villages = data.get("villages") or []
    units = data.get("units") or []
    if not isinstance(villages, list):
        problems.append(SetupProblem(MSG_VILLAGES_NOT_LIST, section="villages"))
        villages = []
    if not isinstance(units, list):
        problems.append(SetupProblem(MSG_UNITS_NOT_LIST, section="units"))
        units = []
    parsed_villages = []
    for index, village in enumerate(villages, 1):
        if not isinstance(village, dict):
            problems.append(SetupProblem(MSG_VILLAGE_SHAPE, section="villages", row=index))
            continue
        vname = _str(village.get("name"), 200)
        at: dict[str, Any] = {"section": "villages", "row": index, "name": _quoted(vname)}
        if not vname:
            problems.append(SetupProblem(MSG_VILLAGE_NO_NAME, **at))
        numbers = {key: _int(village.get(key, 0), key, at, problems) for key in DENOMINATORS}
        if numbers["adults"] > numbers["population"] or numbers["aged15"] > numbers["population"]:
            problems.append(
                SetupProblem(MSG_OVER_POPULATION, {"population": numbers["population"]}, **at)
            )
        valid_from = village.get("valid_from") or today
        if isinstance(valid_from, dt.datetime):
            valid_from = valid_from.date()
        elif not isinstance(valid_from, dt.date):
            try:
                valid_from = parse_date(valid_from) or today
            except ValueError:
                problems.append(
                    SetupProblem(MSG_BAD_VALID_FROM, {"value": _quoted(valid_from)}, **at)
                )
                valid_from = today
        kind = _str(village.get("kind"), 40) or "thôn"
        parsed_villages.append((vname, kind, valid_from, numbers))
    parsed_units: list[tuple[str, list[str]]] = []
    for index, unit in enumerate(units, 1):
        uname = _str(unit.get("name"), UNIT_NAME_MAX) if isinstance(unit, dict) else ""
        if not uname or not fold(uname):
            problems.append(SetupProblem(MSG_UNIT_NO_NAME, section="units", row=index))
            continue
        parsed_units.append((uname, _aliases(unit.get("aliases"))))
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
    audit.record(
        session,
        commune_id=commune.id,
        action="commune.setup",
        entity="commune",
        entity_id=commune.id,
        actor=actor,
        new={"villages": result.villages, "units": result.units},
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
