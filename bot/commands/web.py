"""``tocns web link``: a dashboard sign-in link; ``tocns export``: the report files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import EXTRA_COMMANDS, print_json


def _find_person(session: Any, wanted: str) -> tuple[Any, str | None]:
    """The person with this id or name (folded, exact or a unique part); else an error text."""
    from sqlmodel import select

    from bot.text import fold
    from db.models import Person

    wanted = wanted.strip()
    if wanted.isdigit():
        person = session.get(Person, int(wanted))
        return (
            (person, None)
            if person is not None
            else (None, f"Không có người nào mang số {wanted}.")
        )
    key = fold(wanted)
    people = list(session.exec(select(Person).order_by(Person.id)).all())  # type: ignore[arg-type]
    exact = [p for p in people if fold(p.display_name) == key]
    found = exact or [p for p in people if key and key in fold(p.display_name)]
    if not found:
        return None, f"Không tìm thấy ai tên “{wanted}”."
    if len(found) > 1:
        names = ", ".join(f"{p.display_name} (số {p.id})" for p in found[:10])
        return None, f"Có nhiều người khớp “{wanted}”: {names}. Hãy dùng số của người đó."
    return found[0], None


def cmd_link(args: argparse.Namespace) -> int:
    """Print a one-time dashboard sign-in link for a person."""
    from sqlmodel import Session

    from bot.app import build_services, prepare_database
    from bot.core.people import roles_of
    from bot.settings import Settings
    from bot.web.access import may_sign_in
    from bot.web.auth import LOGIN_TTL, create_login_link, dashboard_base_url

    services = build_services(Settings())
    prepare_database(services)
    settings = services.settings
    now = services.clock()
    with Session(services.engine) as session:
        person, problem = _find_person(session, args.person)
        if person is None:
            print(problem)
            return 1
        if not may_sign_in(roles_of(session, person.id)):
            print(
                f"{person.display_name} không có vai trò được dùng bảng điều khiển (cán bộ, thành viên tổ, quản trị)."
            )
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
    print(f"Đường dẫn đăng nhập cho {name} (dùng một lần, đến {expires:%H:%M %d/%m/%Y}):")
    print(link)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write a report file: the indicator appendix, the task list or the village figures."""
    from sqlmodel import Session

    from bot.app import build_services, prepare_database
    from bot.core.people import find_commune
    from bot.i18n import translator
    from bot.settings import Settings
    from bot.web.access import Viewer
    from bot.web.auth import dashboard_base_url
    from bot.web.exports import export

    services = build_services(Settings())
    prepare_database(services)
    settings = services.settings
    today = services.today()
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        commune_id = commune.id if commune is not None else None
        if commune_id is None:
            print("Không tìm thấy xã. Hãy chạy: tocns admin setup FILE")
            return 1
        viewer = Viewer(
            person_id=0, name="tocns", commune_id=commune_id, roles=frozenset({"admin"})
        )
        base = dashboard_base_url(
            settings.public_base_url,
            services.web_base_url,
            settings.listen_host,
            settings.listen_port,
        )
        file = export(
            args.kind, session, viewer, translator(settings.locale), today, base, args.plan
        )
    output = Path(args.output)
    try:
        output.write_bytes(file.data)
    except OSError as error:
        print(f"Không ghi được tệp {output}: {error.strerror}")
        return 1
    if args.json:
        print_json({"kind": args.kind, "file": str(output), "bytes": len(file.data)})
    else:
        print(f"Đã ghi {output} ({len(file.data):,} byte).".replace(",", "."))
    return 0


def register(sub: Any, add: Any) -> None:
    """Add the ``web`` group and the ``export`` command."""
    web = sub.add_parser("web", help="dashboard: sign-in links").add_subparsers(
        dest="web_command", metavar="ACTION"
    )
    link = add(web, "link", cmd_link, "print a one-time dashboard sign-in link for a person")
    link.add_argument(
        "--person", required=True, metavar="NAME_OR_ID", help="the person's name or number"
    )
    link.add_argument("--json", action="store_true", help="print JSON")
    export = add(sub, "export", cmd_export, "write a report file: indicators, tasks or tallies")
    export.add_argument("kind", choices=("indicators", "tasks", "tallies"))
    export.add_argument("-o", "--output", required=True, metavar="FILE")
    export.add_argument("--plan", metavar="SLUG", help="the plan (default: the newest)")
    export.add_argument("--commune", metavar="SLUG", help="the commune (default: the first)")
    export.add_argument("--json", action="store_true", help="print JSON")


EXTRA_COMMANDS.append(register)
