"""mirage.evaluation has no import cycle, counting imports inside functions and TYPE_CHECKING blocks."""

from __future__ import annotations

import ast
from pathlib import Path

import mirage.evaluation
from tests.test_import_graph import cycles, import_graph, module_name

PACKAGE = "mirage.evaluation"


def evaluation_graph() -> dict[str, set[str]]:
    return import_graph(PACKAGE, type_checking=True)


def test_the_graph_sees_function_level_imports() -> None:
    graph = evaluation_graph()
    assert "mirage.evaluation._html" in graph["mirage.evaluation._report"]  # inside Report.to_html
    assert "mirage.evaluation._evaluate" in graph["mirage.evaluation"]


def test_mirage_evaluation_has_no_import_cycle_even_for_type_checking() -> None:
    assert cycles(evaluation_graph()) == []


def test_the_html_page_does_not_import_the_report() -> None:
    html = evaluation_graph()["mirage.evaluation._html"]
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
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        strays = sorted(name for name in defined if homes.get(name, module) != module)
        assert not strays, f"{module} defines {strays}, whose home is elsewhere"
        assert not defined & FORMER_COPIES, f"{module} keeps a copy: {sorted(defined & FORMER_COPIES)}"
