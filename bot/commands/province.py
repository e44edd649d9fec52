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
    _refuse,
)
from bot.commands.base import CliArgs, CommandTree, open_services, print_json
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
        return _refuse(t.gettext(MSG_NO_FILE, path=path), args.json)
    try:
        data = path.read_bytes()
    except OSError as error:  # permissions, a directory…: the system's words
        return _refuse(t.gettext(MSG_CANNOT_OPEN, path=path, reason=_reason(error)), args.json)
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
            return _refuse(error.render(t), args.json)
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
