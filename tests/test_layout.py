"""The layout's rules, checked on the source: no import cycles between our modules, SQL only
in `service/store/` (and the composition root), and a pure core (`models/`, `indexing/`)
that knows nothing of HTTP, SQL or the service."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("service", "models", "indexing")
SQL_ALLOWED = ("service.store", "service.resources")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(path: Path, name: str) -> Iterator[str]:
    """Every module named by an import anywhere in the file (inside functions too: an
    import hidden in a function is still a dependency)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {target for target in _imports(path, name) if target in modules}
        graph[name].discard(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    cycles = _cycles(_graph())
    assert cycles == [], f"import cycles: {cycles}"


def test_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_sql_only_in_the_store() -> None:
    offenders = []
    for name, path in _modules().items():
        if name.startswith(SQL_ALLOWED):
            continue
        if any(t.split(".")[0] == "sqlalchemy" for t in _imports(path, name)):
            offenders.append(name)
    assert offenders == [], f"modules outside service/store importing SQLAlchemy: {offenders}"


def test_the_core_is_pure() -> None:
    forbidden = {"fastapi", "starlette", "sqlalchemy", "service", "uvicorn", "alembic"}
    offenders = []
    for name, path in _modules().items():
        if not name.startswith(("models", "indexing")):
            continue
        bad = {t.split(".")[0] for t in _imports(path, name)} & forbidden
        if bad:
            offenders.append(f"{name}: {sorted(bad)}")
    assert offenders == [], offenders
