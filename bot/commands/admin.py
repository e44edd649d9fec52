"""``tocns admin``: commune setup from a file, people import, invite codes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli import EXTRA_COMMANDS, print_json

ROLE_CHOICES = ("team", "leader", "unit", "office", "commune_leader", "admin")


def _services(sample: bool = True) -> Any:
    from bot.app import build_services, prepare_database
    from bot.settings import Settings

    services = build_services(Settings())
    prepare_database(services, sample=sample)
    return services


def _refuse(message: str, as_json: bool, **fields: Any) -> int:
    """Say why nothing was done (as {"error": ...} with --json) and exit 1."""
    if as_json:
        print_json({"error": message, **fields})
    else:
        print(message)
    return 1


def _print_problems(problems: list[Any], heading: str) -> None:
    """The problems of a file, in Vietnamese, one a line, after a heading."""
    from bot.i18n import translator

    t = translator("vi")
    print(heading.format(count=len(problems)))
    for problem in problems:
        print(f"  - {problem.text(t)}")


def _problems_json(problems: list[Any]) -> dict[str, Any]:
    """``problems`` (the Vietnamese texts) and ``problem_details`` (message ids, params, where)."""
    from bot.i18n import translator

    t = translator("vi")
    return {
        "problems": [problem.text(t) for problem in problems],
        "problem_details": [problem.to_json(t) for problem in problems],
    }


def cmd_setup(args: argparse.Namespace) -> int:
    """Create or update the commune, its villages (with denominators) and units from a file."""
    from sqlmodel import Session

    from bot.admin.setup import apply_setup, read_setup_file
    from bot.core.errors import UserError
    from bot.i18n import translator

    path = Path(args.file)
    if not path.is_file():
        return _refuse(f"Không tìm thấy tệp {path}", args.json)
    try:
        data = read_setup_file(path)
    except UserError as error:
        message = translator("vi").gettext(error.message_id, **error.params)
        return _refuse(
            f"Không đọc được tệp {path}: {message}",
            args.json,
            message_id=error.message_id,
            params=error.params,
        )
    except OSError as error:  # permissions, a directory…: the system's words
        return _refuse(f"Không mở được tệp {path} ({error.strerror or error}).", args.json)
    services = _services(sample=False)
    today = services.today()
    with Session(services.engine) as session:
        result = apply_setup(session, data, today=today)
        if result.problems:
            session.rollback()
        else:
            session.commit()
    if args.json:
        print_json(
            {
                "commune": result.commune,
                "villages": result.villages,
                "units": result.units,
                **_problems_json(result.problems),
            }
        )
    elif result.problems:
        _print_problems(result.problems, "Tệp có {count} lỗi, chưa lưu gì. Hãy sửa rồi chạy lại:")
    else:
        print(f"Đã lưu {result.commune}: {result.villages} thôn/xóm, {result.units} đơn vị.")
    return 1 if result.problems else 0


def cmd_people_import(args: argparse.Namespace) -> int:
    """Import people from a CSV file (all rows or none)."""
    from sqlmodel import Session

    from bot.admin.people import import_people
    from bot.admin.setup import MSG_NOT_UTF8
    from bot.core.people import find_commune
    from bot.i18n import translator

    path = Path(args.file)
    if not path.is_file():
        return _refuse(f"Không tìm thấy tệp {path}", args.json)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:  # e.g. Excel's "CSV (Comma delimited)" in Windows-1258
        message = translator("vi").gettext(MSG_NOT_UTF8)
        return _refuse(
            f"Không đọc được tệp {path}: {message}", args.json, message_id=MSG_NOT_UTF8, params={}
        )
    except OSError as error:
        return _refuse(f"Không mở được tệp {path} ({error.strerror or error}).", args.json)
    services = _services()
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None or commune.id is None:
            return _refuse("Không tìm thấy xã. Hãy chạy: tocns admin setup FILE", args.json)
        result = import_people(session, commune.id, raw)
        if result.problems:
            session.rollback()
        else:
            session.commit()
    if args.json:
        print_json(
            {
                "created": result.created,
                "updated": result.updated,
                "identities": result.identities,
                **_problems_json(result.problems),
            }
        )
    elif result.problems:
        _print_problems(result.problems, "Tệp có {count} lỗi, chưa nhập ai. Hãy sửa rồi chạy lại:")
    else:
        print(
            f"Đã nhập: {result.created} người mới, {result.updated} người cập nhật, "
            f"{result.identities} tài khoản Telegram/Zalo đăng ký trước."
        )
    return 1 if result.problems else 0


def cmd_invite(args: argparse.Namespace) -> int:
    """Create a one-time invite code and print it with its Telegram deep link."""
    from sqlmodel import Session, select

    from bot.admin.invites import InviteError, create_invite, deep_link, parse_duration
    from bot.admin.setup import find_unit
    from bot.core.people import find_commune
    from bot.i18n import translator
    from bot.text import fold
    from db.models import Village

    try:
        ttl = parse_duration(args.expires)
    except InviteError as error:
        print(translator("vi").gettext(error.message_id, **error.params))
        return 1
    services = _services()
    now = services.clock()
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None or commune.id is None:
            print("Không tìm thấy xã. Hãy chạy: tocns admin setup FILE")
            return 1
        village_id = unit_id = None
        place = ""
        if args.role in ("team", "leader"):
            if not args.village:
                print('Thành viên và tổ trưởng cần --village, ví dụ: --village "Xóm 3"')
                return 1
            villages = session.exec(select(Village).where(Village.commune_id == commune.id)).all()
            village = next((v for v in villages if fold(v.name) == fold(args.village)), None)
            if village is None:
                names = ", ".join(v.name for v in villages)
                print(f'Không có thôn/xóm "{args.village}". Các thôn/xóm: {names}')
                return 1
            village_id, place = village.id, village.name
        elif args.role == "unit":
            if not args.unit:
                print('Cán bộ đơn vị cần --unit, ví dụ: --unit "Công an xã"')
                return 1
            unit = find_unit(session, commune.id, args.unit)
            if unit is None:
                print(f'Không có đơn vị "{args.unit}".')
                return 1
            unit_id, place = unit.id, unit.name
        code = create_invite(
            session,
            commune_id=commune.id,
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
    print(f"Mã mời: {code}")
    print(f"Vai trò: {args.role}" + (f" – {place}" if place else ""))
    print(f"Hết hạn: {expires:%H:%M %d/%m/%Y} (dùng một lần)")
    print(f"Người nhận gửi cho bot: /lienket {code}")
    print(f"Hoặc mở trên Telegram: {link}")
    return 0


def register(sub: Any, add: Any) -> None:
    """Add the ``admin`` command group."""
    admin = sub.add_parser("admin", help="commune setup, people, invite codes").add_subparsers(
        dest="admin_command", metavar="ACTION"
    )
    setup = add(
        admin, "setup", cmd_setup, "set up the commune, villages and units from YAML or CSV"
    )
    setup.add_argument("file", help="YAML or CSV file")
    setup.add_argument("--json", action="store_true", help="print JSON")
    people = admin.add_parser("people", help="people: import").add_subparsers(
        dest="people_command", metavar="ACTION"
    )
    people_import = add(people, "import", cmd_people_import, "import people from a CSV file")
    people_import.add_argument(
        "file", help="CSV: name, roles, village or unit, telegram_id, zalo_id"
    )
    people_import.add_argument("--commune", metavar="SLUG", help="the commune (default: the first)")
    people_import.add_argument("--json", action="store_true", help="print JSON")
    invite = add(admin, "invite", cmd_invite, "create a one-time invite code")
    invite.add_argument("--role", required=True, choices=ROLE_CHOICES)
    invite.add_argument("--village", help="for team members and leaders")
    invite.add_argument("--unit", help="for unit officers")
    invite.add_argument("--expires", default="7d", help="how long the code is valid: 7d, 12h, 30m")
    invite.add_argument("--commune", metavar="SLUG", help="the commune (default: the first)")
    invite.add_argument("--json", action="store_true", help="print JSON")


EXTRA_COMMANDS.append(register)
