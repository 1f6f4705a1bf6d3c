"""Control what is generated: business rules every synthetic row satisfies.

Rules are declared in Python (``schema.rules = [Inequality("ship_date", ">=", "order_date")]``) or in
the schema JSON (``"rules": [{"rule": "inequality", "left": "ship_date", "op": ">=", "right":
"order_date"}]``); ``suggest_rules`` proposes those that hold on every row of a table.
"""

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
