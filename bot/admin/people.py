"""Import people from a CSV file: name, roles, village or unit, optional chat ids.

Headers may be Vietnamese or English, with or without diacritics ("Họ và tên",
"Vai trò", "Thôn/Xóm", "Đơn vị", "Telegram ID", "Zalo ID"…). Every row is checked
first; if any row has a problem nothing is written (all or nothing). A Telegram or
Zalo id pre-registers the person, so the bot knows them from their first message.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot.admin.setup import find_unit
from bot.core.people import grant
from bot.text import clean, fold
from db.models import AuditEntry, ChatIdentity, Person, Role, Village

HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("ho va ten", "ho ten", "ten", "name", "full name", "display name"),
    "roles": ("vai tro", "vai_tro", "chuc vu", "role", "roles"),
    "village": ("thon", "xom", "thon xom", "thon/xom", "thon / xom", "ap", "khu pho", "village"),
    "unit": ("don vi", "co quan", "phong ban", "unit"),
    "telegram": ("telegram", "telegram id", "id telegram", "telegram_id"),
    "zalo": ("zalo", "zalo id", "id zalo", "zalo_id"),
}
ROLE_WORDS: dict[str, str] = {
    "nguoi dan": Role.RESIDENT,
    "dan": Role.RESIDENT,
    "resident": Role.RESIDENT,
    "thanh vien": Role.TEAM,
    "thanh vien to": Role.TEAM,
    "thanh vien to cns": Role.TEAM,
    "to cns": Role.TEAM,
    "to cong nghe so": Role.TEAM,
    "team": Role.TEAM,
    "to truong": Role.LEADER,
    "to truong to cns": Role.LEADER,
    "leader": Role.LEADER,
    "can bo": Role.UNIT,
    "can bo don vi": Role.UNIT,
    "unit": Role.UNIT,
    "thuong truc": Role.OFFICE,
    "co quan thuong truc": Role.OFFICE,
    "office": Role.OFFICE,
    "lanh dao": Role.COMMUNE_LEADER,
    "lanh dao xa": Role.COMMUNE_LEADER,
    "commune leader": Role.COMMUNE_LEADER,
    "commune_leader": Role.COMMUNE_LEADER,
    "quan tri": Role.ADMIN,
    "admin": Role.ADMIN,
}


@dataclass(frozen=True)
class PersonRow:
    line: int
    name: str
    roles: tuple[str, ...]
    village: str
    unit: str
    telegram_id: str
    zalo_id: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    identities: int = 0
    problems: list[str] = field(default_factory=list)


def _header_key(header: str) -> str | None:
    folded = " ".join(fold(header).replace("_", " ").split())
    for key, names in HEADERS.items():
        if folded in {" ".join(n.replace("_", " ").split()) for n in names}:
            return key
    return None


def read_people_csv(raw: str) -> tuple[list[PersonRow], list[str]]:
    """Parse the CSV text (comma or semicolon separated) into rows and problems."""
    raw = raw.lstrip("\ufeff")
    first = raw.splitlines()[0] if raw.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    # newline="": the csv module reads \r, \n and \r\n line ends itself (and \r in quotes).
    reader = csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error as error:  # e.g. a field longer than the csv module accepts
        return [], [f"the file cannot be read as CSV: {error}"]
    return _read_rows(lines)


def _read_rows(lines: list[list[str]]) -> tuple[list[PersonRow], list[str]]:
    reader = iter(lines)
    problems: list[str] = []
    try:
        header = next(reader)
    except StopIteration:
        return [], ["the file is empty"]
    keys = [_header_key(h) for h in header]
    if "name" not in keys:
        return [], ["no name column (expected 'Họ và tên' or 'name')"]
    if "roles" not in keys:
        return [], ["no roles column (expected 'Vai trò' or 'roles')"]
    rows: list[PersonRow] = []
    for line, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        values = {key: clean(cell) for key, cell in zip(keys, cells, strict=False) if key}
        roles: list[str] = []
        for word in re.split(r"[|,;/+]", values.get("roles", "")):
            if not word.strip():
                continue
            role = ROLE_WORDS.get(" ".join(fold(word).split()))
            if role is None:
                problems.append(f"line {line}: unknown role '{word.strip()[:60]}'")
            elif role not in roles:
                roles.append(role)
        row = PersonRow(
            line=line,
            name=values.get("name", "")[:200].strip(),
            roles=tuple(roles),
            village=values.get("village", ""),
            unit=values.get("unit", ""),
            telegram_id=values.get("telegram", "").replace(" ", ""),
            zalo_id=values.get("zalo", "").replace(" ", ""),
        )
        if not row.name:
            problems.append(f"line {line}: the name is empty")
        if not row.roles and not any(p.startswith(f"line {line}:") for p in problems):
            problems.append(f"line {line}: no role given")
        for label, value in (("Telegram", row.telegram_id), ("Zalo", row.zalo_id)):
            if value and not re.fullmatch(r"[0-9]{3,25}", value):  # ASCII digits, not "١٢٣"
                problems.append(f"line {line}: {label} id '{value[:40]}' must be digits only")
        rows.append(row)
    return rows, problems


def import_people(session: Session, commune_id: int, raw: str) -> ImportResult:
    """Validate every row, then create or update people with roles and chat ids."""
    result = ImportResult()
    rows, result.problems = read_people_csv(raw)
    villages = {
        fold(v.name): v
        for v in session.exec(select(Village).where(Village.commune_id == commune_id))
    }
    resolved: list[tuple[PersonRow, int | None, int | None]] = []
    seen_ids: dict[tuple[str, str], int] = {}
    for row in rows:
        village_id = unit_id = None
        if row.village:
            village = villages.get(fold(row.village))
            if village is None:
                result.problems.append(f"line {row.line}: unknown village '{row.village[:60]}'")
            else:
                village_id = village.id
        elif Role.TEAM in row.roles or Role.LEADER in row.roles:
            result.problems.append(f"line {row.line}: team members and leaders need a village")
        if row.unit:
            unit = find_unit(session, commune_id, row.unit)
            if unit is None:
                result.problems.append(f"line {row.line}: unknown unit '{row.unit[:60]}'")
            else:
                unit_id = unit.id
        elif Role.UNIT in row.roles:
            result.problems.append(f"line {row.line}: unit officers need a unit")
        for channel, chat_id in (("telegram", row.telegram_id), ("zalo", row.zalo_id)):
            if not chat_id:
                continue
            if (channel, chat_id) in seen_ids:
                result.problems.append(
                    f"line {row.line}: {channel} id {chat_id} is also on line {seen_ids[channel, chat_id]}"
                )
            seen_ids[channel, chat_id] = row.line
        resolved.append((row, village_id, unit_id))
    if result.problems:
        return result
    for row, village_id, unit_id in resolved:
        person = _existing(session, commune_id, row, village_id, unit_id)
        if person is None:
            person = Person(commune_id=commune_id, display_name=row.name[:200])
            result.created += 1
        else:
            person.display_name = row.name[:200]
            result.updated += 1
        person.village_id = village_id if village_id is not None else person.village_id
        person.unit_id = unit_id if unit_id is not None else person.unit_id
        session.add(person)
        session.flush()
        assert person.id is not None
        for role in (Role.RESIDENT, *row.roles):
            grant(session, person.id, role)
        for channel, chat_id in (("telegram", row.telegram_id), ("zalo", row.zalo_id)):
            if not chat_id:
                continue
            identity = session.exec(
                select(ChatIdentity).where(
                    ChatIdentity.channel == channel, ChatIdentity.chat_id == chat_id
                )
            ).first()
            if identity is None:
                session.add(ChatIdentity(person_id=person.id, channel=channel, chat_id=chat_id))
                result.identities += 1
            elif identity.person_id != person.id:
                identity.person_id = person.id  # the chat wrote first; it belongs to this person
                session.add(identity)
                result.identities += 1
        session.flush()
    session.add(
        AuditEntry(
            commune_id=commune_id,
            actor_name="CLI",
            action="people.import",
            entity="person",
            new={"created": result.created, "updated": result.updated},
        )
    )
    return result


def _existing(
    session: Session, commune_id: int, row: PersonRow, village_id: int | None, unit_id: int | None
) -> Person | None:
    """The person a row describes if already known: by chat id, else by name and place."""
    for channel, chat_id in (("telegram", row.telegram_id), ("zalo", row.zalo_id)):
        if not chat_id:
            continue
        identity = session.exec(
            select(ChatIdentity).where(
                ChatIdentity.channel == channel, ChatIdentity.chat_id == chat_id
            )
        ).first()
        if identity is not None:
            person = session.get(Person, identity.person_id)
            # A chat that wrote first is a bare resident: reuse it as this person.
            if person is not None:
                return person
    return session.exec(
        select(Person).where(
            Person.commune_id == commune_id,
            Person.display_name == row.name,
            Person.village_id == village_id,
            Person.unit_id == unit_id,
        )
    ).first()
