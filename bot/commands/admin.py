"""``tocns admin``: commune setup from a file, people import, invite codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.commands.base import (
    CliArgs,
    CommandTree,
    open_services,
    print_json,
    refuse,
    require_commune,
)
from bot.core.errors import UserError
from bot.i18n import N_, Translator
from bot.text import fold

ROLE_CHOICES = ("team", "leader", "unit", "office", "commune_leader", "admin")

MSG_NO_FILE = N_("File not found: {path}")
MSG_UNREADABLE = N_("Could not read the file {path}: {reason}")
MSG_CANNOT_OPEN = N_("Could not open the file {path} ({reason}).")
MSG_SETUP_PROBLEMS = N_("The file has {count} errors; nothing was saved. Fix them and run again:")
MSG_SETUP_SAVED = N_("Saved {commune}: {villages} villages, {units} units.")
MSG_PEOPLE_PROBLEMS = N_(
    "The file has {count} errors; nobody was imported. Fix them and run again:"
)
MSG_PEOPLE_IMPORTED = N_(
    "Imported: {created} new people, {updated} updated, "
    "{identities} Telegram/Zalo accounts registered in advance."
)
MSG_NEED_VILLAGE = N_('Team members and leaders need --village, for example: --village "Xóm 3"')
MSG_NO_VILLAGE = N_('There is no village "{village}". The villages: {names}')
MSG_NEED_UNIT = N_('Unit officers need --unit, for example: --unit "Công an xã"')
MSG_NO_UNIT = N_('There is no unit "{unit}".')
MSG_CODE = N_("Invite code: {code}")
MSG_ROLE = N_("Role: {role}")
MSG_ROLE_AT = N_("Role: {role} – {place}")
MSG_EXPIRES = N_("Expires: {expires} (one use)")
MSG_SEND = N_("The person sends to the bot: /lienket {code}")
MSG_OPEN = N_("Or opens on Telegram: {link}")


def _print_problems(t: Translator, problems: list[Any], heading_id: str) -> None:
    """The problems of a file, one a line, after a heading."""
    print(t.gettext(heading_id, count=len(problems)))
    for problem in problems:
        print(f"  - {problem.text(t)}")


def _problems_json(t: Translator, problems: list[Any]) -> dict[str, Any]:
    """``problems`` (the texts) and ``problem_details`` (message ids, params, where)."""
    return {
        "problems": [problem.text(t) for problem in problems],
        "problem_details": [problem.to_json(t) for problem in problems],
    }


def _file_outcome(
    args: CliArgs, problems: list[Any], counts: dict[str, Any], problems_id: str, done_id: str
) -> int:
    """What a file did: JSON with --json, else its problems or ``done_id`` with the counts.

    Exits 1 when the file had problems (nothing was saved).
    """
    if args.json:
        print_json({**counts, **_problems_json(args.t, problems)})
    elif problems:
        _print_problems(args.t, problems, problems_id)
    else:
        print(args.t.gettext(done_id, **counts))
    return 1 if problems else 0


def _reason(error: OSError) -> str:
    return str(error.strerror or error)


def cmd_setup(args: CliArgs) -> int:
    """Create or update the commune, its villages (with denominators) and units from a file."""
    # Imported here, as everything that needs the database (see bot/commands/base.py).
    from sqlmodel import Session

    from bot.admin.setup import apply_setup, read_setup_file

    t = args.t
    path = Path(args.file)
    if not path.is_file():
        return refuse(t.gettext(MSG_NO_FILE, path=path), args.json)
    try:
        data = read_setup_file(path)
    except UserError as error:
        return refuse(
            t.gettext(MSG_UNREADABLE, path=path, reason=error.render(t)),
            args.json,
            message_id=error.message_id,
            params=error.params,
        )
    except OSError as error:  # permissions, a directory…: the system's words
        return refuse(t.gettext(MSG_CANNOT_OPEN, path=path, reason=_reason(error)), args.json)
    services = open_services(args.settings, sample=False)
    today = services.today()
    with Session(services.engine) as session:
        result = apply_setup(session, data, today=today)
        if result.problems:
            session.rollback()
        else:
            session.commit()
    counts = {"commune": result.commune, "villages": result.villages, "units": result.units}
    return _file_outcome(args, result.problems, counts, MSG_SETUP_PROBLEMS, MSG_SETUP_SAVED)


def cmd_people_import(args: CliArgs) -> int:
    """Import people from a CSV file (all rows or none)."""
    from sqlmodel import Session

    from bot.admin.people import import_people
    from bot.admin.setup import MSG_NOT_UTF8

    t = args.t
    path = Path(args.file)
    if not path.is_file():
        return refuse(t.gettext(MSG_NO_FILE, path=path), args.json)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:  # e.g. Excel's "CSV (Comma delimited)" in Windows-1258
        return refuse(
            t.gettext(MSG_UNREADABLE, path=path, reason=t.gettext(MSG_NOT_UTF8)),
            args.json,
            message_id=MSG_NOT_UTF8,
            params={},
        )
    except OSError as error:
        return refuse(t.gettext(MSG_CANNOT_OPEN, path=path, reason=_reason(error)), args.json)
    services = open_services(args.settings)
    with Session(services.engine) as session:
        _, commune_id = require_commune(session, args)
        result = import_people(session, commune_id, raw)
        if result.problems:
            session.rollback()
        else:
            session.commit()
    counts = {
        "created": result.created,
        "updated": result.updated,
        "identities": result.identities,
    }
    return _file_outcome(args, result.problems, counts, MSG_PEOPLE_PROBLEMS, MSG_PEOPLE_IMPORTED)


def cmd_invite(args: CliArgs) -> int:
    """Create a one-time invite code and print it with its Telegram deep link."""
    from sqlmodel import Session, select

    from bot.admin.invites import InviteError, create_invite, deep_link, parse_duration
    from bot.admin.setup import find_unit
    from db.models import Village

    t = args.t
    try:
        ttl = parse_duration(args.expires)
    except InviteError as error:
        print(t.gettext(error.message_id, **error.params))
        return 1
    services = open_services(args.settings)
    now = services.clock()
    with Session(services.engine) as session:
        _, commune_id = require_commune(session, args)
        village_id = unit_id = None
        place = ""
        if args.role in ("team", "leader"):
            if not args.village:
                print(t.gettext(MSG_NEED_VILLAGE))
                return 1
            villages = session.exec(select(Village).where(Village.commune_id == commune_id)).all()
            village = next((v for v in villages if fold(v.name) == fold(args.village)), None)
            if village is None:
                names = ", ".join(v.name for v in villages)
                print(t.gettext(MSG_NO_VILLAGE, village=args.village, names=names))
                return 1
            village_id, place = village.id, village.name
        elif args.role == "unit":
            if not args.unit:
                print(t.gettext(MSG_NEED_UNIT))
                return 1
            unit = find_unit(session, commune_id, args.unit)
            if unit is None:
                print(t.gettext(MSG_NO_UNIT, unit=args.unit))
                return 1
            unit_id, place = unit.id, unit.name
        code = create_invite(
            session,
            commune_id=commune_id,
            role=args.role,
            now=now,
            village_id=village_id,
            unit_id=unit_id,
            ttl=ttl,
        )
        session.commit()
    link = deep_link(services.settings.telegram_bot_username, code)
    expires = (now + ttl).astimezone(services.tz)
    if args.json:
        print_json(
            {
                "code": code,
                "link": link,
                "role": args.role,
                "place": place,
                "expires_at": expires.isoformat(),
            }
        )
        return 0
    print(t.gettext(MSG_CODE, code=code))
    if place:
        print(t.gettext(MSG_ROLE_AT, role=args.role, place=place))
    else:
        print(t.gettext(MSG_ROLE, role=args.role))
    print(t.gettext(MSG_EXPIRES, expires=t.datetime(expires)))
    print(t.gettext(MSG_SEND, code=code))
    print(t.gettext(MSG_OPEN, link=link))
    return 0


def register(tree: CommandTree) -> None:
    """Add the ``admin`` command group."""
    _ = tree.t.gettext
    admin = tree.group("admin", N_("commune setup, people, invite codes"))
    setup = admin.command(
        "setup", cmd_setup, N_("set up the commune, villages and units from YAML or CSV")
    )
    setup.add_argument("file", help=_("YAML or CSV file"))
    setup.add_argument("--json", action="store_true", help=_("print JSON"))
    people = admin.group("people", N_("people: import"))
    people_import = people.command("import", cmd_people_import, N_("import people from a CSV file"))
    people_import.add_argument(
        "file", help=_("CSV: name, roles, village or unit, telegram_id, zalo_id")
    )
    people_import.add_argument(
        "--commune", metavar="SLUG", help=_("the commune (default: the first)")
    )
    people_import.add_argument("--json", action="store_true", help=_("print JSON"))
    invite = admin.command("invite", cmd_invite, N_("create a one-time invite code"))
    invite.add_argument("--role", required=True, choices=ROLE_CHOICES)
    invite.add_argument("--village", help=_("for team members and leaders"))
    invite.add_argument("--unit", help=_("for unit officers"))
    invite.add_argument(
        "--expires", default="7d", help=_("how long the code is valid: 7d, 12h, 30m")
    )
    invite.add_argument("--commune", metavar="SLUG", help=_("the commune (default: the first)"))
    invite.add_argument("--json", action="store_true", help=_("print JSON"))
