"""How the web package is wired: typed keys, no import cycles, no chat handler, imports on top."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
WEB = BOT / "web"


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """Modules imported at run time (``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def web_modules() -> dict[str, set[str]]:
    modules = {module_name(p): runtime_imports(p) for p in sorted(WEB.rglob("*.py"))}
    return {name: {m for m in imports if m in modules} for name, imports in modules.items()}


def test_keys_import_nothing_of_the_app() -> None:
    imports = runtime_imports(WEB / "keys.py")
    assert {m for m in imports if m.startswith(("bot", "db"))} == set()


def test_no_import_cycle_in_the_web_package() -> None:
    graph = web_modules()
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        for target in graph.get(node, ()):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif len(path) < 30:
                walk(target, [*path, target])

    for name in graph:
        walk(name, [name])
    assert cycles == []


def test_route_modules_do_not_import_each_other_or_the_factory() -> None:
    graph = web_modules()
    offenders = {
        name: {m for m in imports if m.startswith("bot.web.routes.") or m == "bot.web.server"}
        for name, imports in graph.items()
        if name.startswith("bot.web.routes.")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_web_imports_no_chat_handler() -> None:
    offenders = {
        module_name(p): {m for m in runtime_imports(p) if m.startswith("bot.handlers")}
        for p in WEB.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_tocns_imports_are_at_the_top() -> None:
    """Imports inside functions are kept for third-party modules only (openpyxl is big)."""
    inside = []
    for path in [*sorted(WEB.rglob("*.py")), BOT / "audit.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for child in ast.walk(node):
                names = []
                if isinstance(child, ast.Import):
                    names = [a.name for a in child.names]
                elif isinstance(child, ast.ImportFrom) and child.module:
                    names = [child.module]
                inside += [
                    f"{module_name(path)}: {n}" for n in names if n.split(".")[0] in ("bot", "db")
                ]
    assert inside == []
