"""What the command groups of the ``tocns`` CLI share: the parser, the tree, output helpers.

Every text a person reads (help, messages, argparse's own words) goes through the
gettext catalog (``bot/locales/<locale>/LC_MESSAGES/cli.po``), in Vietnamese unless
``--lang en`` or ``TOCNS_LOCALE=en`` says otherwise.

Command modules import only light modules at their top: ``tocns --help`` builds every
group's parser, and must not load the database layer, the chat handlers or the web
(``tests/test_architecture.py`` checks it). What a command needs for its work it
imports when it runs.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from bot.i18n import N_, SUPPORTED_LOCALES, Translator
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.services import Services
    from db.models import Commune


class CliArgs(argparse.Namespace):
    """The parsed command line, plus what ``main`` adds: the translator and the settings."""

    t: Translator
    settings: Settings


Handler = Callable[[CliArgs], int]

MSG_USAGE = N_("usage: ")
MSG_POSITIONALS = N_("positional arguments")
MSG_OPTIONS = N_("options")
MSG_HELP = N_("show this help message and exit")
MSG_LANG = N_("language of the messages: vi (default) or en")
MSG_ERROR = N_("{prog}: error: {reason}")
MSG_HELP_HINT = N_("Type {prog} --help to see how to use it.")
MSG_ACTION = N_("ACTION")
MSG_ERROR = N_("Error: {error}")
MSG_NO_COMMUNE = N_("No commune found. Run: tocns admin setup FILE")
MSG_NO_SUCH_COMMUNE = N_("There is no commune “{slug}” in the database.")

# argparse's own complaints, read back into message ids (argparse formats them in English).
ARGPARSE_ERRORS = [
    (
        re.compile(r"the following arguments are required: (?P<names>.+)"),
        N_("missing: {names}"),
    ),
    (
        re.compile(
            r"argument (?P<argument>\S+): invalid choice: '?(?P<value>.*?)'? "
            r"\(choose from (?P<choices>.+)\)"
        ),
        N_("{argument}: “{value}” is not one of {choices}"),
    ),
    (
        re.compile(r"argument (?P<argument>\S+): invalid \w+ value: '?(?P<value>.*?)'?$"),
        N_("{argument}: “{value}” is not a valid value"),
    ),
    (
        re.compile(r"argument (?P<argument>\S+): expected one argument"),
        N_("{argument} needs a value"),
    ),
    (re.compile(r"unrecognized arguments: (?P<names>.+)"), N_("not understood: {names}")),
]


def translate_argparse_error(t: Translator, message: str) -> str:
    """One of argparse's English complaints in the reader's language (as is if unknown)."""
    for pattern, message_id in ARGPARSE_ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return t.gettext(message_id, **found.groupdict())
    return message


class _Formatter(argparse.RawDescriptionHelpFormatter):
    usage_prefix = "usage: "

    def add_usage(
        self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None
    ) -> None:
        super().add_usage(usage, actions, groups, self.usage_prefix if prefix is None else prefix)


class TocnsParser(argparse.ArgumentParser):
    """An ArgumentParser that speaks the reader's language, its own words included."""

    def __init__(self, *args: Any, t: Translator, **kwargs: Any) -> None:
        self.t = t
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False  # added below, with its help in the reader's language
        super().__init__(*args, **kwargs)
        self._positionals.title = t.gettext(MSG_POSITIONALS)
        self._optionals.title = t.gettext(MSG_OPTIONS)
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help=t.gettext(MSG_HELP)
        )
        # On every level, so "tocns plan list --lang en" works as well as "tocns --lang en …".
        self.add_argument(
            "--lang", choices=SUPPORTED_LOCALES, default=argparse.SUPPRESS, help=t.gettext(MSG_LANG)
        )

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("parser_class", functools.partial(TocnsParser, t=self.t))
        return super().add_subparsers(**kwargs)

    def _get_formatter(self) -> argparse.HelpFormatter:
        formatter = super()._get_formatter()
        if isinstance(formatter, _Formatter):
            formatter.usage_prefix = self.t.gettext(MSG_USAGE)
        return formatter

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        text = self.t.gettext(
            MSG_ERROR, prog=self.prog, reason=translate_argparse_error(self.t, message)
        )
        hint = self.t.gettext(MSG_HELP_HINT, prog=self.prog)
        self.exit(2, f"{text}\n{hint}\n")


class CommandTree:
    """Adds commands and groups of commands to one level of the parser.

    Help texts are message ids (marked with ``N_``), translated here.
    """

    def __init__(self, subparsers: Any, t: Translator) -> None:
        self._subparsers = subparsers
        self.t = t

    def _(self, message_id: str, **params: Any) -> str:
        return self.t.gettext(message_id, **params)

    def command(self, name: str, handler: Handler, help_id: str) -> argparse.ArgumentParser:
        """A command that runs ``handler``; add its arguments to the parser returned."""
        text = self.t.gettext(help_id)
        parser: argparse.ArgumentParser = self._subparsers.add_parser(
            name, help=text, description=text
        )
        parser.set_defaults(handler=handler)
        return parser

    def group(self, name: str, help_id: str) -> CommandTree:
        """A command that has sub-commands (``tocns NAME ACTION``)."""
        text = self.t.gettext(help_id)
        parser = self._subparsers.add_parser(name, help=text, description=text)
        actions = parser.add_subparsers(dest=f"{name}_command", metavar=self.t.gettext(MSG_ACTION))
        return CommandTree(actions, self.t)


CommandGroup = Callable[[CommandTree], None]
"""Adds one feature's commands to the tree (each ``bot/commands/<feature>.py: register``)."""


def print_json(value: Any) -> None:
    """Print one JSON value on one line, keeping Vietnamese letters readable."""
    print(json.dumps(value, ensure_ascii=False))


def batch_lines(path: str, field: str) -> Iterator[str]:
    """The ``field`` of each JSON line of a file (``-`` for standard input)."""
    handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    with handle:
        for line in handle:
            if line.strip():
                yield str(json.loads(line).get(field, ""))


def parse_command(
    args: CliArgs,
    parse: Callable[[str], dict[str, Any]],
    need_id: str,
    describe: Callable[[dict[str, Any]], None],
) -> int:
    """A ``parse-…`` command: every line of ``--batch`` as JSON, or the one text given.

    One text is printed as JSON with ``--json``, else as its error or ``describe``'s
    words; a text that does not read exits 1, as does a missing one (``need_id`` says so).
    """
    if args.batch:
        for text in batch_lines(args.batch, "text"):
            print_json(parse(text))
        return 0
    if args.text is None:
        print(args.t.gettext(need_id))
        return 1
    result = parse(args.text)
    if args.json:
        print_json(result)
    elif "error" in result:
        print(args.t.gettext(MSG_ERROR, error=result["error"]))
    else:
        describe(result)
    return 1 if "error" in result else 0


def open_services(settings: Settings, *, sample: bool = True) -> Services:
    """The services of a one-off command, on a migrated database (with the sample if empty)."""
    # Imported here: it loads the database layer and every chat feature (see the module doc).
    from bot.app import build_services, prepare_database

    services = build_services(settings)
    prepare_database(services, sample=sample)
    return services


def refuse(message: str, as_json: bool, **fields: Any) -> int:
    """Say why nothing was done (as ``{"error": ...}`` with --json) and exit 1."""
    if as_json:
        print_json({"error": message, **fields})
    else:
        print(message)
    return 1


class Refused(Exception):
    """The command has told the person why it does nothing; ``tocns`` exits with 1."""


def require_commune(session: Session, args: CliArgs) -> tuple[Commune, int]:
    """The commune ``--commune`` names (the deployment's own without it) and its id.

    Without one it says so (as ``{"error": ...}`` with ``--json``) and raises ``Refused``.
    """
    from bot.core.people import find_commune

    slug = getattr(args, "commune", None)
    commune = find_commune(session, slug)
    if commune is not None and commune.id is not None:
        return commune, commune.id
    message = (
        args.t.gettext(MSG_NO_SUCH_COMMUNE, slug=slug) if slug else args.t.gettext(MSG_NO_COMMUNE)
    )
    refuse(message, bool(getattr(args, "json", False)))
    raise Refused
