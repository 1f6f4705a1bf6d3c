"""Control what is generated: business rules every synthetic row satisfies.

Rules are declared in Python (``schema.rules = [Inequality("ship_date", ">=", "order_date")]``) or in
the schema JSON (``"rules": [{"rule": "inequality", "left": "ship_date", "op": ">=", "right":
"order_date"}]``); ``suggest_rules`` proposes those that hold on every row of a table.

Names are imported on first use: a schema reads its rules through this package while
``mirage.schema`` and ``mirage.engines`` may still be loading, so the package itself imports nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mirage.control._rules import (
        AllowedCombinations,
        Format,
        Formula,
        Inequality,
        Predicate,
        Range,
        Rule,
        Unique,
        rule_from_dict,
    )
    from mirage.control._suggest import suggest_rules

_LAZY = {
    "AllowedCombinations": "mirage.control._rules",
    "Format": "mirage.control._rules",
    "Formula": "mirage.control._rules",
    "Inequality": "mirage.control._rules",
    "Predicate": "mirage.control._rules",
    "Range": "mirage.control._rules",
    "Rule": "mirage.control._rules",
    "Unique": "mirage.control._rules",
    "rule_from_dict": "mirage.control._rules",
    "suggest_rules": "mirage.control._suggest",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mirage.control' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "AllowedCombinations",
    "Format",
    "Formula",
    "Inequality",
    "Predicate",
    "Range",
    "Rule",
    "Unique",
    "rule_from_dict",
    "suggest_rules",
]
