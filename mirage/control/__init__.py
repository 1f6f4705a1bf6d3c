"""Control what is generated: business rules every synthetic row satisfies, rebalanced shares,
fairness, augmentation and edge cases.

Rules are declared in Python (``schema.rules = [Inequality("ship_date", ">=", "order_date")]``) or in
the schema JSON (``"rules": [{"rule": "inequality", "left": "ship_date", "op": ">=", "right":
"order_date"}]``); ``suggest_rules`` proposes those that hold on every row of a table.
``model.sample(n, rebalance=...)`` and ``model.sample(n, fair=...)`` call :func:`sample_rebalanced`
and :func:`sample_fair`; :func:`augment` tops up a minority class of a real table with synthetic rows;
:func:`sample_tails` draws rows past a column's learned quantiles; :func:`parse_where` reads the
``mirage sample --where`` grammar into typed conditions.

Names are imported on first use: a schema reads its rules through this package while
``mirage.schema`` and ``mirage.engines`` may still be loading, so the package itself imports nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mirage.control._augment import SYNTHETIC_FLAG, augment
    from mirage.control._rebalance import sample_fair, sample_rebalanced
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
    from mirage.control._tails import sample_tails
    from mirage.control._where import parse_where

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
    "SYNTHETIC_FLAG": "mirage.control._augment",
    "augment": "mirage.control._augment",
    "sample_fair": "mirage.control._rebalance",
    "sample_rebalanced": "mirage.control._rebalance",
    "sample_tails": "mirage.control._tails",
    "parse_where": "mirage.control._where",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mirage.control' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "SYNTHETIC_FLAG",
    "AllowedCombinations",
    "Format",
    "Formula",
    "Inequality",
    "Predicate",
    "Range",
    "Rule",
    "Unique",
    "augment",
    "parse_where",
    "rule_from_dict",
    "sample_fair",
    "sample_rebalanced",
    "sample_tails",
    "suggest_rules",
]
