"""The shape STYLE.md asks for, checked from the source: how the modules of bot/ depend on
each other, and what none of them may do.

- The import graph of bot/ has no cycle (top-level and in-function imports; imports under
  ``if TYPE_CHECKING:`` are for the type checker only and do not count).
- No module appends to another module's list (or dict, or set) at import time: the
  parent asks its children (``bot.commands.command_groups``, ``bot.handlers.FEATURES``).
- Handlers import no channel; pure modules import no framework, not even through
  another tocns module; the web imports no chat handler.
- tocns modules are imported at the top of a module, except the few in ``LAZY_IMPORTS``,
  each there for a measured cost.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"

FRAMEWORKS = frozenset(
    {"telegram", "aiohttp", "sqlmodel", "sqlalchemy", "apscheduler", "alembic", "httpx", "jinja2"}
)
# What `tocns --help` must not load (about 50 MB and 2 s of CPU with the chat features).
HEAVY = FRAMEWORKS | {"matplotlib", "numpy", "PIL", "qrcode", "openpyxl"}
MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "register"})

# ------------------------------------------------------------------ what stays in functions

CLI_START = (
    "`tocns --help` builds the parser of every command group: command modules import the "
    "database layer, the chat features and the web only when a command runs "
    "(`tocns --help` 39 MB / 0.5 s CPU; `import bot.app` 86 MB / 1.9 s)"
)
CHANNELS = (
    "every CLI command that opens the database imports bot.app; python-telegram-bot and the "
    "Zalo client would add 10 MB and ~0.5 s CPU to each (import bot.app: 86 MB / 1.9 s; "
    "with both channels: 96 MB / 2.5 s), so bot.app imports a channel when it starts it"
)
MATPLOTLIB = (
    "matplotlib and numpy (+47 MB resident) stay out of the bot process: charts are drawn in "
    "a helper process that exits when idle (bot/charts/process.py, BENCHMARKS.md footprint)"
)

LAZY_IMPORTS: dict[str, dict[str, str]] = {
    "bot/app.py": {
        "bot.channels.telegram": CHANNELS,
        "bot.channels.zalo": CHANNELS,
        "bot.channels.zalo_client": CHANNELS,
    },
    "bot/charts/process.py": {"bot.charts.draw": MATPLOTLIB},
    "bot/commands/admin.py": {
        "bot.admin.invites": CLI_START,
        "bot.admin.people": CLI_START,
        "bot.admin.setup": CLI_START,
        "db.models": CLI_START,
    },
    "bot/commands/base.py": {"bot.app": CLI_START, "bot.core.people": CLI_START},
    "bot/commands/province.py": {
        "bot.admin.province_officers": CLI_START,
        "bot.admin.province_setup": CLI_START,
        "bot.web.auth": CLI_START,
    },
    "bot/commands/doctor.py": {
        "bot.channels.zalo_client": CHANNELS,
        "bot.channels.zalo_doctor": CHANNELS,
    },
    "bot/commands/feedback.py": {
        "bot.feedback.apikeys": CLI_START,
        "bot.feedback.queues": CLI_START,
        "bot.feedback.store": CLI_START,
        "db.models": CLI_START,
    },
    "bot/commands/guides.py": {"bot.content.qr": CLI_START, "bot.content.questions": CLI_START},
    "bot/commands/maintenance.py": {"bot.maintenance": CLI_START},
    "bot/commands/plans.py": {
        "bot.plans.imports": CLI_START,
        "bot.plans.store": CLI_START,
        "db.models": CLI_START,
    },
    "bot/commands/reminders.py": {
        "bot.reminders.broadcasts": CLI_START,
        "bot.reminders.outbox_admin": CLI_START,
        "bot.reminders.planner": CLI_START,
    },
    "bot/commands/run.py": {
        "bot.admin.sample": CLI_START,
        "bot.app": CLI_START,
        "bot.channels.console": CLI_START,
        "bot.core.dispatcher": CLI_START,
        "bot.web.auth": CLI_START,
        "db.engine": CLI_START,
    },
    "bot/commands/tallies.py": {"bot.tallies.store": CLI_START},
    "bot/commands/web.py": {
        "bot.core.people": CLI_START,
        "bot.web.auth": CLI_START,
        "bot.web.exports": CLI_START,
        "db.models": CLI_START,
    },
}
# Import cycles still to untangle (none).
KNOWN_CYCLES: list[set[str]] = []

# Modules of plain functions over plain data (STYLE.md: "pure logic has no framework import").
PURE = [
    "bot/text.py",
    "bot/dates.py",
    "bot/errors.py",
    "bot/tallies/parser.py",
    "bot/tallies/codes.py",
    "bot/tallies/validation.py",
    "bot/plans/deadline.py",
    "bot/plans/target.py",
    "bot/plans/status.py",
    "bot/content/search.py",
    "bot/reminders/policy.py",
    "bot/reminders/ratelimit.py",
    "bot/feedback/deadlines.py",
    "bot/charts/spec.py",
    "bot/core/flows.py",
    "bot/channels/textsplit.py",
]


# ------------------------------------------------------------------ reading the source


@dataclass
class ModuleInfo:
    name: str
    path: Path
    top: set[str] = field(default_factory=set)  # modules imported at import time
    lazy: set[str] = field(default_factory=set)  # modules imported inside functions
    imported_names: set[str] = field(default_factory=set)  # names imported from tocns modules
    mutations: list[str] = field(default_factory=list)  # module-level mutations of those names


def is_module(name: str) -> bool:
    """Whether a dotted name is a module or package of this repository."""
    base = ROOT / Path(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _ours(module: str) -> bool:
    return module.split(".")[0] in ("bot", "db")


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Reader(ast.NodeVisitor):
    def __init__(self, info: ModuleInfo) -> None:
        self.info = info
        self.depth = 0  # inside a function

    def _imported(self, module: str, names: list[str]) -> None:
        """Record ``module``, or the submodules named (``from bot.reminders import messages``)."""
        submodules = [f"{module}.{name}" for name in names if is_module(f"{module}.{name}")]
        for imported in submodules or [module]:
            (self.info.lazy if self.depth else self.info.top).add(imported)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_Lambda = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name, [])
            if not self.depth and _ours(alias.name):
                self.info.imported_names.add((alias.asname or alias.name).split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        self._imported(node.module, [alias.name for alias in node.names])
        if not self.depth and _ours(node.module):
            self.info.imported_names.update(alias.asname or alias.name for alias in node.names)

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value
        if (
            not self.depth
            and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in MUTATORS
            and _root_name(call.func.value) in self.info.imported_names
        ):
            self.info.mutations.append(f"line {node.lineno}: {ast.unparse(node)}")
        self.generic_visit(node)

    def _assigned(self, node: ast.stmt, targets: list[ast.expr]) -> None:
        for target in targets:
            if (
                not self.depth
                and isinstance(target, ast.Subscript | ast.Attribute)
                and _root_name(target) in self.info.imported_names
            ):
                self.info.mutations.append(f"line {node.lineno}: {ast.unparse(node)}")

    def visit_Assign(self, node: ast.Assign) -> None:
        self._assigned(node, node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if not self.depth and _root_name(node.target) in self.info.imported_names:
            self.info.mutations.append(f"line {node.lineno}: {ast.unparse(node)}")
        self.generic_visit(node)


def read_module(path: Path, source: str | None = None) -> ModuleInfo:
    info = ModuleInfo(module_name(path), path)
    _Reader(info).visit(ast.parse(source if source is not None else path.read_text("utf-8")))
    return info


@functools.cache
def modules() -> dict[str, ModuleInfo]:
    found = {}
    for path in sorted([*BOT.rglob("*.py"), *(ROOT / "db").glob("*.py")]):
        info = read_module(path)
        found[info.name] = info
    return found


def _with_packages(imported: set[str]) -> set[str]:
    """The modules themselves and their packages (importing a.b.c runs a/__init__, a/b/__init__)."""
    result: set[str] = set()
    for name in imported:
        parts = name.split(".")
        result.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return result


def graph(*, lazy: bool) -> dict[str, set[str]]:
    """Which tocns modules each module of bot/ imports (at import time, or also in functions)."""
    known = modules()
    edges = {}
    for name, info in known.items():
        imported = _with_packages(info.top | (info.lazy if lazy else set()))
        edges[name] = {
            other
            for other in imported
            if other in known and other != name and not name.startswith(other + ".")
        }
    return edges


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def third_party_at_import(name: str) -> set[str]:
    """Top-level packages a module loads when imported, through other tocns modules too."""
    edges = graph(lazy=False)
    seen: set[str] = set()
    todo, libraries = [name], set[str]()
    while todo:
        current = todo.pop()
        if current in seen or current not in modules():
            continue
        seen.add(current)
        libraries.update(
            m.split(".")[0] for m in modules()[current].top if m.split(".")[0] not in ("bot", "db")
        )
        todo.extend(edges[current])
    return libraries


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ------------------------------------------------------------------ the rules


def test_import_graph_has_no_cycle() -> None:
    found = cycles(graph(lazy=True))
    assert [sorted(c) for c in found if c not in KNOWN_CYCLES] == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_module_changes_another_modules_data_at_import_time() -> None:
    offenders = {
        _relative(info.path): info.mutations for info in modules().values() if info.mutations
    }
    assert offenders == {}


def test_import_time_registration_is_recognised() -> None:
    old_style = (
        "from bot.cli import EXTRA_COMMANDS\n"
        "from bot.app import SAMPLE_HOOKS, HOOKS\n"
        "def register(sub): ...\n"
        "EXTRA_COMMANDS.append(register)\n"
        "if register not in SAMPLE_HOOKS:\n"
        "    SAMPLE_HOOKS.append(register)\n"
        "HOOKS['x'] = register\n"
    )
    info = read_module(BOT / "example.py", old_style)
    assert info.mutations == [
        "line 4: EXTRA_COMMANDS.append(register)",
        "line 6: SAMPLE_HOOKS.append(register)",
        "line 7: HOOKS['x'] = register",
    ]


def test_handlers_do_not_import_channels() -> None:
    offenders = {}
    for name, info in modules().items():
        if not name.startswith("bot.handlers"):
            continue
        bad = {
            m
            for m in info.top | info.lazy
            if m.split(".")[0] in ("telegram", "aiohttp") or m.startswith("bot.channels")
        }
        bad |= third_party_at_import(name) & {"telegram", "aiohttp"}
        if bad:
            offenders[_relative(info.path)] = bad
    assert offenders == {}


def test_pure_modules_have_no_framework_import() -> None:
    offenders = {}
    for relative in PURE:
        name = module_name(ROOT / relative)
        info = modules()[name]
        direct = {m.split(".")[0] for m in info.top | info.lazy} & FRAMEWORKS
        through = third_party_at_import(name) & FRAMEWORKS
        if direct or through:
            offenders[relative] = direct | through
    assert offenders == {}


def test_web_imports_no_chat_handler() -> None:
    offenders = {
        _relative(info.path): {m for m in info.top | info.lazy if m.startswith("bot.handlers")}
        for name, info in modules().items()
        if name.startswith("bot.web")
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_in_function_imports_are_the_allow_listed_ones() -> None:
    found = {
        _relative(info.path): {m for m in info.lazy if m in modules()}
        for info in modules().values()
    }
    assert {path: lazy for path, lazy in found.items() if lazy} == {
        path: set(imports) for path, imports in LAZY_IMPORTS.items()
    }


def test_command_modules_defer_only_what_is_heavy() -> None:
    light = {
        (path, module)
        for path, imports in LAZY_IMPORTS.items()
        for module, reason in imports.items()
        if reason == CLI_START and not third_party_at_import(module) & HEAVY
    }
    assert light == set(), "import these at the top of the module"


def test_cli_help_loads_nothing_heavy() -> None:
    code = (
        "import sys; from bot.cli import build_parser; build_parser().format_help(); "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} | set(sys.modules))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert loaded & (HEAVY | {"bot.app", "bot.handlers", "db.models"}) == set()


def test_cli_lists_every_command() -> None:
    from bot.cli import build_parser

    help_text = build_parser().format_help()
    for command in (
        "tocns run",
        "tocns chat",
        "tocns db upgrade",
        "tocns guides search",
        "tocns backup",
        "tocns outbox retry",
    ):
        assert command in help_text
