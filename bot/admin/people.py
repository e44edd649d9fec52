"""Import people from a CSV file: name, roles, village or unit, optional chat ids.

Headers may be Vietnamese or English, with or without diacritics ("Họ và tên",
"Vai trò", "Thôn/Xóm", "Đơn vị", "Telegram ID", "Zalo ID"…). Every row is checked
first; if any row has a problem nothing is written (all or nothing). A Telegram or
Zalo id pre-registers the person, so the bot knows them from their first message.
Problems are ``bot.admin.setup.SetupProblem`` values located by line, translated by the CLI.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot import audit
from bot.admin.setup import MSG_BAD_CSV, QUOTE_LIMIT, SetupProblem, find_unit
from bot.communes import villages_of
from bot.core.people import grant
from bot.i18n import N_
from bot.text import clean, fold, shorten
from db.models import ChatIdentity, Person, Role

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

MSG_EMPTY_FILE = N_(
    "The file is empty. The first line must name the columns: "
    "Họ và tên, Vai trò, Thôn/Xóm, Đơn vị, Telegram ID, Zalo ID."
)
MSG_NO_NAME_COLUMN = N_("There is no name column. Add a column “Họ và tên” on the first line.")
MSG_NO_ROLES_COLUMN = N_("There is no role column. Add a column “Vai trò” on the first line.")
MSG_UNKNOWN_ROLE = N_(
    "Unknown role “{role}”. Use: thành viên tổ, tổ trưởng, cán bộ, thường trực, lãnh đạo xã, "
    "quản trị or người dân."
)
MSG_NO_NAME = N_("The name (Họ và tên) is empty.")
MSG_NO_ROLE = N_("No role is given (Vai trò), e.g. thành viên tổ.")
MSG_BAD_CHAT_ID = N_("{channel} ID “{value}” must be digits only (3 to 25), e.g. 5550001.")
MSG_UNKNOWN_VILLAGE = N_("There is no village “{village}” in the commune. The villages: {known}.")
MSG_NO_VILLAGES = N_(
    "There is no village “{village}”: the commune has no villages yet. "
    "Add them first with tocns admin setup."
)
MSG_NEEDS_VILLAGE = N_("Team members and leaders need a village (column “Thôn/Xóm”).")
MSG_UNKNOWN_UNIT = N_(
    "There is no unit “{unit}” in the commune. Check the name, or add the unit with "
    "tocns admin setup."
)
MSG_NEEDS_UNIT = N_("Unit officers need a unit (column “Đơn vị”).")
MSG_DUPLICATE_ID = N_("{channel} ID {value} is also on line {first}: one account, one person.")
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo"}


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
class PeopleImportResult:
    created: int = 0
    updated: int = 0
    identities: int = 0
    problems: list[SetupProblem] = field(default_factory=list)


def _header_key(header: str) -> str | None:
    folded = " ".join(fold(header).replace("_", " ").split())
    for key, names in HEADERS.items():
        if folded in {" ".join(n.replace("_", " ").split()) for n in names}:
            return key
    return None


def read_people_csv(raw: str) -> tuple[list[PersonRow], list[SetupProblem]]:
    """Parse the CSV text (comma or semicolon separated) into rows and problems."""
    raw = raw.lstrip("\ufeff")
    first = raw.splitlines()[0] if raw.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    # newline="": the csv module reads \r, \n and \r\n line ends itself (and \r in quotes).
    reader = csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error:  # e.g. a field longer than the csv module accepts
        return [], [SetupProblem(MSG_BAD_CSV)]
    return _read_rows(lines)


def _read_rows(lines: list[list[str]]) -> tuple[list[PersonRow], list[SetupProblem]]:
    reader = iter(lines)
    problems: list[SetupProblem] = []
    try:
        header = next(reader)
    except StopIteration:
        return [], [SetupProblem(MSG_EMPTY_FILE)]
    keys = [_header_key(h) for h in header]
    if "name" not in keys:
        return [], [SetupProblem(MSG_NO_NAME_COLUMN)]
    if "roles" not in keys:
        return [], [SetupProblem(MSG_NO_ROLES_COLUMN)]
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
                problems.append(
                    SetupProblem(MSG_UNKNOWN_ROLE, {"role": shorten(word, QUOTE_LIMIT + 1)}, line)
                )
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
            problems.append(SetupProblem(MSG_NO_NAME, line=line))
        if not row.roles and not any(p.line == line for p in problems):
            problems.append(SetupProblem(MSG_NO_ROLE, line=line))
        for label, value in (("Telegram", row.telegram_id), ("Zalo", row.zalo_id)):
            if value and not re.fullmatch(r"[0-9]{3,25}", value):  # ASCII digits, not "١٢٣"
                bad_id: dict[str, str | int] = {"channel": label, "value": shorten(value, 41)}
                problems.append(SetupProblem(MSG_BAD_CHAT_ID, bad_id, line))
        rows.append(row)
    return rows, problems


def import_people(session: Session, commune_id: int, raw: str) -> PeopleImportResult:
    """Validate every row, then create or update people with roles and chat ids."""
    result = PeopleImportResult()
    rows, problems = read_people_csv(raw)
    villages = {fold(v.name): v for v in villages_of(session, commune_id)}
    known = shorten(", ".join(v.name for v in villages.values()), 121)
    resolved: list[tuple[PersonRow, int | None, int | None]] = []
    seen_ids: dict[tuple[str, str], int] = {}
    for row in rows:
        village_id = unit_id = None
        if row.village:
            village = villages.get(fold(row.village))
            if village is None:
                params: dict[str, str | int] = {"village": shorten(row.village, QUOTE_LIMIT + 1)}
                if villages:
                    params["known"] = known
                message_id = MSG_UNKNOWN_VILLAGE if villages else MSG_NO_VILLAGES
                problems.append(SetupProblem(message_id, params, row.line))
            else:
                village_id = village.id
        elif Role.TEAM in row.roles or Role.LEADER in row.roles:
            problems.append(SetupProblem(MSG_NEEDS_VILLAGE, line=row.line))
        if row.unit:
            unit = find_unit(session, commune_id, row.unit)
            if unit is None:
                problems.append(
                    SetupProblem(
                        MSG_UNKNOWN_UNIT, {"unit": shorten(row.unit, QUOTE_LIMIT + 1)}, row.line
                    )
                )
            else:
                unit_id = unit.id
        elif Role.UNIT in row.roles:
            problems.append(SetupProblem(MSG_NEEDS_UNIT, line=row.line))
        for channel, chat_id in (("telegram", row.telegram_id), ("zalo", row.zalo_id)):
            if not chat_id:
                continue
            if (channel, chat_id) in seen_ids:
                params = {
                    "channel": CHANNEL_NAMES[channel],
                    "value": chat_id,
                    "first": seen_ids[channel, chat_id],
                }
                problems.append(SetupProblem(MSG_DUPLICATE_ID, params, row.line))
            seen_ids[channel, chat_id] = row.line
        resolved.append((row, village_id, unit_id))
    # In the order of the file (a file-wide problem, without a line, first).
    result.problems = sorted(problems, key=lambda problem: problem.line or 0)
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
    audit.record(
        session,
        commune_id=commune_id,
        action="people.import",
        entity="person",
        new={"created": result.created, "updated": result.updated},
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
