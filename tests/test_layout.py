"""The house stays walkable: no import circle, each concern in one place, files one can hold in
one's head. Read from the source (ast), so a violation names the file and line."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "digest"
MAX_LINES = 550  # "about 500": past this a module is two modules


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module, line) of every import of a digest module in `path`, inside functions too (a
    lazy import is still a dependency); imports only for type checking do not count."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            found.extend((f"{node.module}.{a.name}", node.lineno) for a in node.names)
        elif isinstance(node, ast.Import):
            found.extend((a.name, node.lineno) for a in node.names)
    return [(name, line) for name, line in found if name.startswith("digest")]


def test_no_import_circle() -> None:
    modules = _modules()
    graph = {
        name: {dep for dep, _ in _imports(path) if dep in modules} for name, path in modules.items()
    }
    # A package's __init__ importing its own submodules is how packages work, not a circle.
    for name in graph:
        graph[name] = {d for d in graph[name] if d != name and not d.startswith(name + ".")}
    seen: set[str] = set()
    stack: list[str] = []

    def visit(node: str) -> None:
        if node in stack:
            cycle = [*stack[stack.index(node) :], node]
            raise AssertionError("import circle: " + " → ".join(cycle))
        if node in seen:
            return
        stack.append(node)
        for dep in sorted(graph[node]):
            visit(dep)
        stack.pop()
        seen.add(node)

    for name in sorted(graph):
        visit(name)


def test_only_the_pipeline_commands_import_the_cron_job() -> None:
    importers = {
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for name, path in _modules().items()
        for dep, line in _imports(path)
        if dep == "digest.daily" and name != "digest.daily"
    }
    allowed = {"digest/cli/daily.py", "digest/cli/publish.py"}
    assert {i.split(":")[0] for i in importers} <= allowed, importers


def test_only_config_reads_the_environment() -> None:
    readers = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "config.py" and path.parent == PACKAGE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "os.environ" in line or "getenv(" in line:
                readers.append(f"{path.relative_to(PACKAGE.parent)}:{number}")
    assert readers == []


def test_no_module_is_too_long_to_hold_in_ones_head() -> None:
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
