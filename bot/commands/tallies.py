"""``tocns tally``: parse a one-line report, and this month's reporting completeness."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands.base import (
    CliArgs,
    CommandTree,
    open_services,
    parse_command,
    print_json,
    require_commune,
)
from bot.dates import month_start
from bot.i18n import N_, Translator
from bot.tallies.codes import code_by_name
from bot.tallies.reading import read_report

MSG_NEED_TEXT = N_('A report is needed, for example: tocns tally parse "vneid 45 cks 12"')
MSG_BAD_MONTH = N_("The month must be written YYYY-MM, for example 2026-03")
MSG_HEADING = N_("{commune} – month {month}/{year}")
MSG_REPORTED = N_("Reported: {reported}/{villages} villages")
MSG_MISSING = N_("Not reported yet: {names}")


def _parse_one(t: Translator, text: str, today: dt.date) -> dict[str, Any]:
    # The reading the chat uses; the commune's village names are not known here.
    report = read_report(text, today)
    if report.error is not None:
        return {"error": report.error.render(t)}
    if report.period is None:
        return {"values": report.values}
    return {"period": report.period.strftime("%Y-%m"), "values": report.values}


def cmd_parse(args: CliArgs) -> int:
    """Parse a one-line tally report (or a JSON-lines batch) and print the values."""
    t = args.t
    today = dt.datetime.now(ZoneInfo(args.settings.timezone)).date()

    def describe(result: dict[str, Any]) -> None:
        if "period" in result:
            year, month = result["period"].split("-")
            print(f"Tháng {int(month)}/{year}")
        for code, value in result["values"].items():
            print(f"{code} ({code_by_name(code).name}): {value}")

    return parse_command(args, lambda text: _parse_one(t, text, today), MSG_NEED_TEXT, describe)


def cmd_status(args: CliArgs) -> int:
    """Print which villages have and have not reported this month."""
    # Imported here, as everything that needs the database (see bot/commands/base.py).
    from sqlmodel import Session

    from bot.tallies.store import commune_view

    t = args.t
    services = open_services(args.settings)
    today = services.today()
    if args.month:
        try:
            period = dt.date.fromisoformat(f"{args.month}-01")
        except ValueError:
            print(t.gettext(MSG_BAD_MONTH))
            return 1
    else:
        period = month_start(today)
    with Session(services.engine) as session:
        commune, commune_id = require_commune(session, args)
        view = commune_view(session, commune_id, period)
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
    print(t.gettext(MSG_HEADING, commune=commune.name, month=period.month, year=period.year))
    print(t.gettext(MSG_REPORTED, reported=len(view.reported), villages=len(view.villages)))
    if view.reported:
        print("  " + ", ".join(result["reported"]))
    if view.missing:
        print(t.gettext(MSG_MISSING, names=", ".join(result["missing"])))
    return 0


def register(tree: CommandTree) -> None:
    """Add the ``tally`` command group."""
    _ = tree.t.gettext
    tally = tree.group("tally", N_("village tallies: parse, status"))
    parse = tally.command("parse", cmd_parse, N_("parse a one-line tally report"))
    parse.add_argument("text", nargs="?", help=_('for example: "vneid 45 cks 12"'))
    parse.add_argument("--json", action="store_true", help=_("print JSON"))
    parse.add_argument(
        "--batch", metavar="FILE", help=_('JSON lines with a "text" field (- for stdin)')
    )
    status = tally.command("status", cmd_status, N_("which villages reported this month"))
    status.add_argument("--json", action="store_true", help=_("print JSON"))
    status.add_argument("--commune", metavar="SLUG", help=_("the commune (default: the first)"))
    status.add_argument("--month", metavar="YYYY-MM", help=_("another month than the current one"))
