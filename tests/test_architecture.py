"""The shape STYLE.md asks for, checked: thin channels, pure logic without frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_handlers_do_not_import_channels() -> None:
    offenders = {}
    for path in sorted((BOT / "handlers").glob("*.py")):
        bad = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in ("telegram", "aiohttp") or m.startswith("bot.channels")
        }
        if bad:
            offenders[path.name] = bad
    assert offenders == {}


def test_pure_parsers_have_no_framework_import() -> None:
    frameworks = ("telegram", "aiohttp", "sqlmodel", "sqlalchemy", "apscheduler")
    pure = [
        BOT / "text.py",
        BOT / "tallies" / "parser.py",
        BOT / "tallies" / "codes.py",
        BOT / "plans" / "deadline.py",
        BOT / "plans" / "target.py",
        BOT / "content" / "search.py",
    ]
    for path in pure:
        assert not {m for m in imported_modules(path) if m.split(".")[0] in frameworks}, path.name


def test_cli_lists_every_command() -> None:
    import bot.commands  # noqa: F401
    from bot.cli import build_parser, main  # noqa: F401 - main imports the command groups

    help_text = build_parser().format_help()
    for command in (
        "tocns run",
        "tocns chat",
        "tocns db upgrade",
        "tocns guides search",
        "tocns backup",
    ):
        assert command in help_text
