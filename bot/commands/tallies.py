"""``tocns tally``: parse a one-line report, and this month's reporting completeness."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from bot.cli import EXTRA_COMMANDS, batch_lines, print_json
from bot.i18n import translator


def _parse_one(text: str, today: dt.date, locale: str) -> dict[str, Any]:
    # The reading the chat uses; the commune's village names are not known here.
    from bot.tallies.reading import read_report

    report = read_report(text, today)
    if report.error is not None:
        return {"error": report.error.render(translator(locale))}
    if report.period is None:
        return {"values": report.values}
    return {"period": report.period.strftime("%Y-%m"), "values": report.values}


def cmd_parse(args: argparse.Namespace) -> int:
    """Parse a one-line tally report (or a JSON-lines batch) and print the values."""
    from zoneinfo import ZoneInfo

    from bot.settings import Settings
    from bot.tallies.codes import code_by_name

    settings = Settings()
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    if args.batch:
        for text in batch_lines(args.batch, "text"):
            result = _parse_one(text, today, settings.locale)
            print_json(result)
        return 0
    if args.text is None:
        print('Cần một nội dung báo cáo, ví dụ: tocns tally parse "vneid 45 cks 12"')
        return 1
    result = _parse_one(args.text, today, settings.locale)
    if args.json:
        print_json(result)
    elif "error" in result:
        print(f"Lỗi: {result['error']}")
    else:
        if "period" in result:
            year, month = result["period"].split("-")
            print(f"Tháng {int(month)}/{year}")
        for code, value in result["values"].items():
            print(f"{code} ({code_by_name(code).name}): {value}")
    return 1 if "error" in result else 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print which villages have and have not reported this month."""
    from sqlmodel import Session

    from bot.app import build_services, prepare_database
    from bot.core.people import find_commune
    from bot.dates import month_start
    from bot.settings import Settings
    from bot.tallies.store import commune_view

    services = build_services(Settings())
    prepare_database(services)
    today = services.today()
    if args.month:
        try:
            period = dt.date.fromisoformat(f"{args.month}-01")
        except ValueError:
            print("Tháng phải có dạng YYYY-MM, ví dụ 2026-03")
            return 1
    else:
        period = month_start(today)
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        if commune is None or commune.id is None:
            print("Không tìm thấy xã. Hãy chạy: tocns admin setup FILE")
            return 1
        view = commune_view(session, commune.id, period)
    result = {
        "commune": commune.name,
        "period": period.strftime("%Y-%m"),
        "reported": [v.name for v in view.reported],
        "missing": [v.name for v in view.missing],
        "villages": {
            v.name: {code: item.value for code, item in v.codes.items() if item.value or v.reported}
            for v in view.villages
        },
    }
    if args.json:
        print_json(result)
        return 0
    print(f"{commune.name} – tháng {period.month}/{period.year}")
    print(f"Đã báo cáo: {len(view.reported)}/{len(view.villages)} thôn/xóm")
    if view.reported:
        print("  " + ", ".join(result["reported"]))
    if view.missing:
        print(f"Chưa báo cáo: {', '.join(result['missing'])}")
    return 0


def register(sub: Any, add: Any) -> None:
    """Add the ``tally`` command group."""
    tally = sub.add_parser("tally", help="village tallies: parse, status").add_subparsers(
        dest="tally_command", metavar="ACTION"
    )
    parse = add(tally, "parse", cmd_parse, "parse a one-line tally report")
    parse.add_argument("text", nargs="?", help='for example: "vneid 45 cks 12"')
    parse.add_argument("--json", action="store_true", help="print JSON")
    parse.add_argument(
        "--batch", metavar="FILE", help='JSON lines with a "text" field (- for stdin)'
    )
    status = add(tally, "status", cmd_status, "which villages reported this month")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--commune", metavar="SLUG", help="the commune (default: the first)")
    status.add_argument("--month", metavar="YYYY-MM", help="another month than the current one")


EXTRA_COMMANDS.append(register)
