"""mirage.evaluation has no import cycle, counting imports inside functions and TYPE_CHECKING blocks."""

from __future__ import annotations

import ast
from pathlib import Path

import mirage.evaluation

PACKAGE = "mirage.evaluation"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts)) if parts else PACKAGE


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Every module name an import statement may load, relative imports resolved."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, base]) if base else ".".join(anchor)
    # ``from package import name`` loads the package, and the submodule when ``name`` is one
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph() -> dict[str, set[str]]:
    root = Path(mirage.evaluation.__file__).parent
    files = {_module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            name for node in ast.walk(tree) for name in _imported(node, module, path.name == "__init__.py")
        }
        graph[module] = {name for name in names if name in files and name != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_sees_function_level_imports() -> None:
    graph = import_graph()
    assert "mirage.evaluation._html" in graph["mirage.evaluation._report"]  # inside Report.to_html
    assert "mirage.evaluation._evaluate" in graph["mirage.evaluation"]


def test_find_cycle_reports_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_mirage_evaluation_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_html_page_does_not_import_the_report() -> None:
    html = import_graph()["mirage.evaluation._html"]
    assert "mirage.evaluation._report" not in html
    assert "mirage.evaluation._evaluate" not in html


# each shared helper is defined in its one home module and nowhere else in the package
HOMES = {
    "mirage.evaluation._stats": {
        "z_value",
        "wilson_centre",
        "wilson_interval",
        "roc_auc",
        "hanley_mcneil_interval",
        "is_finite_number",
    },
    "mirage.evaluation._columns": {
        "learned_columns",
        "scored_columns",
        "require_columns",
        "require_present",
        "category_keys",
        "as_numbers",
        "numeric_values",
        "canonical_strings",
    },
}
# the names these helpers had in the modules that each kept a copy
FORMER_COPIES = {"_z", "_wilson", "binary_auc", "_number"}


def test_shared_helpers_have_one_home() -> None:
    root = Path(mirage.evaluation.__file__).parent
    homes = {name: module for module, names in HOMES.items() for name in names}
    for path in root.rglob("*.py"):
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        strays = sorted(name for name in defined if homes.get(name, module) != module)
        assert not strays, f"{module} defines {strays}, whose home is elsewhere"
        assert not defined & FORMER_COPIES, f"{module} keeps a copy: {sorted(defined & FORMER_COPIES)}"
