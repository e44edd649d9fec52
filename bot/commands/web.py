"""``tocns web link``: a dashboard sign-in link; ``tocns export``: the report files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.base import (
    CliArgs,
    CommandTree,
    open_services,
    print_json,
    require_commune,
)
from bot.i18n import N_, Translator
from bot.text import fold
from bot.web.access import Viewer, may_sign_in

if TYPE_CHECKING:
    from sqlmodel import Session

    from db.models import Person

MSG_NO_NUMBER = N_("There is nobody with the number {number}.")
MSG_NO_NAME = N_("Nobody found with the name “{name}”.")
MSG_SEVERAL = N_("Several people match “{name}”: {names}. Use the person's number.")
MSG_NAME_AND_NUMBER = N_("{name} (number {number})")
MSG_NO_DASHBOARD_ROLE = N_(
    "{name} has no role that may use the dashboard (officer, team member, admin)."
)
MSG_LINK = N_("Sign-in link for {name} (one use, until {expires}):")
MSG_NOT_WRITTEN = N_("Could not write the file {file}: {reason}")
MSG_WRITTEN = N_("Wrote {file} ({size} bytes).")


def _find_person(session: Session, t: Translator, wanted: str) -> tuple[Person | None, str]:
    """The person with this id or name (folded, exact or a unique part); else why not."""
    from sqlmodel import col, select

    from db.models import Person

    wanted = wanted.strip()
    if wanted.isdigit():
        person = session.get(Person, int(wanted))
        if person is None:
            return None, t.gettext(MSG_NO_NUMBER, number=wanted)
        return person, ""
    key = fold(wanted)
    people = list(session.exec(select(Person).order_by(col(Person.id))).all())
    exact = [p for p in people if fold(p.display_name) == key]
    found = exact or [p for p in people if key and key in fold(p.display_name)]
    if not found:
        return None, t.gettext(MSG_NO_NAME, name=wanted)
    if len(found) > 1:
        names = ", ".join(
            t.gettext(MSG_NAME_AND_NUMBER, name=p.display_name, number=p.id) for p in found[:10]
        )
        return None, t.gettext(MSG_SEVERAL, name=wanted, names=names)
    return found[0], ""


def cmd_link(args: CliArgs) -> int:
    """Print a one-time dashboard sign-in link for a person."""
    # Imported here, as everything that needs the database (see bot/commands/base.py).
    from sqlmodel import Session

    from bot.core.people import roles_of
    from bot.web.auth import LOGIN_TTL, create_login_link, dashboard_base_url

    t = args.t
    services = open_services(args.settings)
    settings = services.settings
    now = services.clock()
    with Session(services.engine) as session:
        person, problem = _find_person(session, t, args.person)
        if person is None or person.id is None:
            print(problem)
            return 1
        if not may_sign_in(roles_of(session, person.id)):
            print(t.gettext(MSG_NO_DASHBOARD_ROLE, name=person.display_name))
            return 1
        base = dashboard_base_url(
            settings.public_base_url,
            services.web_base_url,
            settings.listen_host,
            settings.listen_port,
        )
        person_id, name = person.id, person.display_name
        link = create_login_link(session, person_id, now, base, via="cli")
        session.commit()
    expires = (now + LOGIN_TTL).astimezone(services.tz)
    if args.json:
        print_json(
            {"person_id": person_id, "name": name, "link": link, "expires_at": expires.isoformat()}
        )
        return 0
    print(t.gettext(MSG_LINK, name=name, expires=t.datetime(expires)))
    print(link)
    return 0


def cmd_export(args: CliArgs) -> int:
    """Write a report file: the indicator appendix, the task list or the village figures."""
    from sqlmodel import Session

    from bot.web.auth import dashboard_base_url
    from bot.web.exports import export

    t = args.t
    services = open_services(args.settings)
    settings = services.settings
    today = services.today()
    with Session(services.engine) as session:
        _, commune_id = require_commune(session, args)
        viewer = Viewer(
            person_id=0, name="tocns", commune_id=commune_id, roles=frozenset({"admin"})
        )
        base = dashboard_base_url(
            settings.public_base_url,
            services.web_base_url,
            settings.listen_host,
            settings.listen_port,
        )
        file = export(args.kind, session, viewer, t, today, base, args.plan, args.year)
    output = Path(args.output)
    try:
        output.write_bytes(file.data)
    except OSError as error:
        print(t.gettext(MSG_NOT_WRITTEN, file=output, reason=error.strerror))
        return 1
    if args.json:
        print_json({"kind": args.kind, "file": str(output), "bytes": len(file.data)})
    else:
        print(t.gettext(MSG_WRITTEN, file=output, size=t.number(len(file.data))))
    return 0


def register(tree: CommandTree) -> None:
    """Add the ``web`` group and the ``export`` command."""
    _ = tree.t.gettext
    web = tree.group("web", N_("dashboard: sign-in links"))
    link = web.command("link", cmd_link, N_("print a one-time dashboard sign-in link for a person"))
    link.add_argument(
        "--person", required=True, metavar="NAME_OR_ID", help=_("the person's name or number")
    )
    link.add_argument("--json", action="store_true", help=_("print JSON"))
    export = tree.command(
        "export", cmd_export, N_("write a report file: indicators, tasks or tallies")
    )
    export.add_argument("kind", choices=("indicators", "tasks", "tallies"))
    export.add_argument(
        "-o", "--output", required=True, metavar="FILE", help=_("where to write it")
    )
    export.add_argument("--plan", metavar="SLUG", help=_("the plan (default: the newest)"))
    export.add_argument(
        "--year",
        type=int,
        metavar="YYYY",
        help=_("the year the indicator appendix reports on (default: this year)"),
    )
    export.add_argument("--commune", metavar="SLUG", help=_("the commune (default: the first)"))
    export.add_argument("--json", action="store_true", help=_("print JSON"))
