"""``tocns province``: set up a province's communes from the official list; add a
province officer (read-only dashboard over every commune of the province)."""

from __future__ import annotations

from pathlib import Path

from bot.commands.admin import (
    MSG_CANNOT_OPEN,
    MSG_NO_FILE,
    _print_problems,
    _problems_json,
    _reason,
)
from bot.commands.base import CliArgs, CommandTree, open_services, print_json, refuse
from bot.errors import ReadableError
from bot.i18n import N_

MSG_PROVINCE_PROBLEMS = N_(
    "The list has {count} errors; no commune was created. Fix them and run again:"
)
MSG_PROVINCE_SAVED = N_("Created {communes} communes with {villages} villages.")
MSG_COMMUNE_INVITE = N_("{code} {name}: admin invite code {invite} (send /lienket {invite})")
MSG_OFFICER_ADDED = N_(
    "Added {name} (number {number}), province officer of {province} ({communes} communes)."
)
MSG_NO_OFFICERS = N_(
    "No province officer yet. Add one: tocns province officer add NAME --province NAME"
)
MSG_OFFICER_LINE = N_("{number}: {name}, {province}, last sign-in {seen}")
MSG_NEVER = N_("never")
MSG_OFFICER_REMOVED = N_(
    "Removed {name} (number {number}) as province officer; {sessions} dashboard sessions ended."
)
MSG_OFFICER_LINK = N_(
    "Sign-in link (one use, until {expires}); later links: tocns web link --person {number}"
)


def cmd_setup(args: CliArgs) -> int:
    """Create the communes and villages of an Excel list, all or nothing; print the invites."""
    # Imported here, as everything that needs the database (see bot/commands/base.py).
    from sqlmodel import Session

    from bot.admin.province_setup import apply_province, read_province_xlsx

    t = args.t
    path = Path(args.file)
    if not path.is_file():
        return refuse(t.gettext(MSG_NO_FILE, path=path), args.json)
    try:
        data = path.read_bytes()
    except OSError as error:  # permissions, a directory…: the system's words
        return refuse(t.gettext(MSG_CANNOT_OPEN, path=path, reason=_reason(error)), args.json)
    listed = read_province_xlsx(data)
    services = open_services(args.settings, sample=False)
    with Session(services.engine) as session:
        result = apply_province(session, listed, province=args.province, now=services.clock())
        if result.problems:
            session.rollback()
        else:
            session.commit()
    if args.json:
        print_json(
            {
                "communes": [
                    {"code": code, "name": name, "admin_invite": invite}
                    for code, name, invite in result.communes
                ],
                "villages": result.villages,
                **_problems_json(t, result.problems),
            }
        )
    elif result.problems:
        _print_problems(t, result.problems, MSG_PROVINCE_PROBLEMS)
    else:
        print(
            t.gettext(MSG_PROVINCE_SAVED, communes=len(result.communes), villages=result.villages)
        )
        for code, name, invite in result.communes:
            print(t.gettext(MSG_COMMUNE_INVITE, code=code, name=name, invite=invite))
    return 1 if result.problems else 0


def cmd_officer_add(args: CliArgs) -> int:
    """Create a province officer and print their first dashboard sign-in link."""
    from sqlmodel import Session

    from bot.admin.province_officers import add_officer, province_communes
    from bot.web.auth import LOGIN_TTL, create_login_link, dashboard_base_url

    t = args.t
    services = open_services(args.settings, sample=False)
    settings = services.settings
    now = services.clock()
    with Session(services.engine) as session:
        try:
            person = add_officer(session, args.name, args.province, now)
        except ReadableError as error:
            session.rollback()
            return refuse(error.render(t), args.json)
        assert person.id is not None and person.province is not None
        person_id, name, province = person.id, person.display_name, person.province
        communes = len(province_communes(session, province))
        base = dashboard_base_url(
            settings.public_base_url,
            services.web_base_url,
            settings.listen_host,
            settings.listen_port,
        )
        link = create_login_link(session, person_id, now, base, via="cli")
        session.commit()
    expires = (now + LOGIN_TTL).astimezone(services.tz)
    if args.json:
        print_json(
            {
                "person_id": person_id,
                "name": name,
                "province": province,
                "communes": communes,
                "link": link,
                "expires_at": expires.isoformat(),
            }
        )
        return 0
    print(
        t.gettext(
            MSG_OFFICER_ADDED, name=name, number=person_id, province=province, communes=communes
        )
    )
    print(t.gettext(MSG_OFFICER_LINK, expires=t.datetime(expires), number=person_id))
    print(link)
    return 0


def cmd_officer_list(args: CliArgs) -> int:
    """List the province officers, with when each last signed in."""
    from sqlmodel import Session

    from bot.admin.province_officers import last_sign_ins, officers

    t = args.t
    services = open_services(args.settings, sample=False)
    with Session(services.engine) as session:
        listed = officers(session, args.province)
        seen = last_sign_ins(session, [p.id for p in listed if p.id is not None])
        rows = [(p.id, p.display_name, p.province, seen.get(p.id or 0)) for p in listed]
    if args.json:
        print_json(
            [
                {
                    "person_id": number,
                    "name": name,
                    "province": province,
                    "last_sign_in": last.isoformat() if last is not None else None,
                }
                for number, name, province, last in rows
            ]
        )
        return 0
    if not rows:
        print(t.gettext(MSG_NO_OFFICERS))
    for number, name, province, last in rows:
        when = t.datetime(last.astimezone(services.tz)) if last else t.gettext(MSG_NEVER)
        print(t.gettext(MSG_OFFICER_LINE, number=number, name=name, province=province, seen=when))
    return 0


def cmd_officer_remove(args: CliArgs) -> int:
    """Take a province officer's role away and end their sign-ins at once."""
    from sqlmodel import Session

    from bot.admin.province_officers import remove_officer

    t = args.t
    services = open_services(args.settings, sample=False)
    with Session(services.engine) as session:
        try:
            person, ended = remove_officer(session, args.number, services.clock())
        except ReadableError as error:
            session.rollback()
            return refuse(error.render(t), args.json)
        name = person.display_name
        session.commit()
    if args.json:
        print_json({"person_id": args.number, "name": name, "sessions_ended": ended})
    else:
        print(t.gettext(MSG_OFFICER_REMOVED, name=name, number=args.number, sessions=ended))
    return 0


def register(tree: CommandTree) -> None:
    """Add the ``province`` command group."""
    _ = tree.t.gettext
    province = tree.group("province", N_("a province's communes"))
    setup = province.command(
        "setup", cmd_setup, N_("create communes and villages from the official list (Excel)")
    )
    setup.add_argument(
        "file", help=_("Excel file: sheet Xã (Tên xã, Mã xã), sheet Thôn (Mã xã, Tên thôn)")
    )
    setup.add_argument("--province", help=_("the province's name"))
    setup.add_argument("--json", action="store_true", help=_("print JSON"))
    officer = province.group("officer", N_("province officers: read-only over the province"))
    add = officer.command(
        "add", cmd_officer_add, N_("add a province officer and print a sign-in link")
    )
    add.add_argument("name", help=_("the officer's name"))
    add.add_argument("--province", required=True, help=_("the province's name"))
    add.add_argument("--json", action="store_true", help=_("print JSON"))
    listing = officer.command("list", cmd_officer_list, N_("list the province officers"))
    listing.add_argument("--province", help=_("only this province"))
    listing.add_argument("--json", action="store_true", help=_("print JSON"))
    remove = officer.command(
        "remove", cmd_officer_remove, N_("remove a province officer; their sign-ins end at once")
    )
    remove.add_argument(
        "number", type=int, help=_("the officer's number (tocns province officer list)")
    )
    remove.add_argument("--json", action="store_true", help=_("print JSON"))
