"""The ``mirage`` package has no import cycle: modules are layered, persistence above the engines.

The graph is built from the source (every ``import`` statement, at module level and inside
functions alike; those under ``if TYPE_CHECKING:`` never run and are left out), so that an import
moved into a function to dodge a cycle at start-up still counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import mirage

ROOT = Path(mirage.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str = "mirage") -> dict[str, Path]:
    root = ROOT.parent.joinpath(*package.split("."))
    return {module_name(path): path for path in root.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, type_checking: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child) and not type_checking:
            for other in child.orelse:
                yield from _imports(other, type_checking)
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        yield from _imports(child, type_checking)


def imported(name: str, path: Path, known: set[str], type_checking: bool = False) -> set[str]:
    """The ``mirage`` modules that ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8")), type_checking):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` imports the module; ``from module import name`` the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        found.update(t for t in targets if t in known and t != name)
    return found


def import_graph(package: str = "mirage", *, type_checking: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports; ``type_checking``: count the imports under
    ``if TYPE_CHECKING:`` too (a stricter layering than the one that runs)."""
    found = modules(package)
    known = set(found)
    return {name: imported(name, path, known, type_checking) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_function_level_imports() -> None:
    graph = import_graph()
    assert "mirage.model_file" in graph["mirage._api"]  # imported inside mirage.load
    assert "mirage.engines._base" in graph["mirage.engines.cart"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_persistence_sits_above_the_engines() -> None:
    graph = import_graph()
    engines = [name for name in graph if name.startswith("mirage.engines")]
    assert not [name for name in engines if "mirage.model_file" in graph[name]]
