"""The ``tocns`` command line: every command group, in the reader's language.

The groups are listed once, in ``bot.commands.command_groups``; this module builds the
parser from them, reads the settings, sets up logging and renders the errors a person
can act on (``bot.errors.ReadableError``) in their language.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.commands import command_groups
from bot.commands.base import CliArgs, CommandTree, Refused, TocnsParser
from bot.errors import ReadableError
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator, translator
from bot.logs import setup_logging
from bot.settings import Settings

MSG_DESCRIPTION = N_(
    "tocns – assistant for the community digital technology teams (Telegram, Zalo, dashboard)."
)
MSG_COMMANDS = N_("commands:")
MSG_COMMAND = N_("COMMAND")
MSG_BAD_SETTINGS = N_(
    "The configuration is not valid (TOCNS_… environment variables or the .env file): {details}"
)


def build_parser(t: Translator | None = None) -> TocnsParser:
    """The full command tree; every command is listed by ``tocns --help``."""
    t = t or translator(DEFAULT_LOCALE)
    parser = TocnsParser(prog="tocns", description=t.gettext(MSG_DESCRIPTION), t=t)
    sub = parser.add_subparsers(dest="command", metavar=t.gettext(MSG_COMMAND))
    tree = CommandTree(sub, t)
    for register in command_groups():
        register(tree)
    epilog_lines = [t.gettext(MSG_COMMANDS)]
    for name, choice in sub.choices.items():
        nested = [a for a in choice._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            for child in nested[0].choices:
                epilog_lines.append(f"  tocns {name} {child}")
        else:
            epilog_lines.append(f"  tocns {name}")
    parser.epilog = "\n".join(epilog_lines)
    return parser


def requested_locale(argv: Sequence[str]) -> str | None:
    """The language asked for with ``--lang`` anywhere on the line, if a known one."""
    for index, arg in enumerate(argv):
        value = None
        if arg == "--lang" and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        if value in SUPPORTED_LOCALES:
            return value
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tocns`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    settings: Settings | None = None
    problem: ValidationError | None = None
    try:
        settings = Settings()
    except ValidationError as error:  # said after parsing: "--help" still works
        problem = error
    locale = requested_locale(argv) or (settings.locale if settings else DEFAULT_LOCALE)
    t = translator(locale)
    parser = build_parser(t)
    args = parser.parse_args(argv, namespace=CliArgs())
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    if settings is None:
        assert problem is not None
        details = "; ".join(str(e.get("msg", "")) for e in problem.errors())
        print(t.gettext(MSG_BAD_SETTINGS, details=details), file=sys.stderr)
        return 2
    args.t, args.settings = t, settings
    setup_logging(settings, quiet=True)  # `tocns run` sets its own level
    try:
        result: int = handler(args)
    except Refused:  # it has said why
        return 1
    except ReadableError as error:
        print(error.render(t), file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
