"""Rules that hold on every row of a table, proposed for the user to accept (``--suggest-rules``).

The search stays cheap: one pass per pair of columns (inequalities between numeric or date columns,
one categorical column determining another) and sums of two or three numeric columns only when the
table has few numeric columns.
"""

from __future__ import annotations

from itertools import combinations, permutations
from typing import Any

import numpy as np
import pandas as pd

from mirage.control._rules import AllowedCombinations, Formula, Inequality, Rule, comparable, numeric_dtype
from mirage.schema._column import Kind

__all__ = ["suggest_rules"]

MIN_ROWS = 10  # a rule seen on fewer rows (both values present) is not worth proposing
MAX_TRIPLE_COLUMNS = 12  # sums of three columns only when the table has at most this many numeric ones
MAX_CATEGORIES = 1_000  # a categorical column with more values is too close to a key to determine others
MIN_OVERLAP = 0.05  # an inequality only when each column has this share of its values in the other's range


def suggest_rules(data: pd.DataFrame, schema: Any) -> list[Rule]:
    """Rules that ``data`` satisfies on 100% of its rows: inequalities between numeric or datetime
    columns whose ranges overlap, sums (``total = a + b`` or ``a + b + c``) and categorical columns
    that determine another (city -> country: their allowed combinations)."""
    learned = [c for c in schema if c.kind.learned]
    ordered = [c for c in learned if c.kind in (Kind.NUMERIC, Kind.DATETIME)]
    values = {c.name: comparable(data[c.name], c).reset_index(drop=True) for c in ordered}
    found: list[Rule] = []
    for a, b in combinations(ordered, 2):
        if a.kind is b.kind:
            found.extend(_inequality(a.name, b.name, values[a.name], values[b.name]))
    targets = [c.name for c in ordered if c.kind is Kind.NUMERIC]
    # numbers learned as categories (tolls of 0, 2.5 or 5) can be parts of a sum, not its result
    parts = targets + [c.name for c in learned if c.kind is Kind.CATEGORICAL and numeric_dtype(c.dtype)]
    numbers = {
        n: pd.to_numeric(data[n], errors="coerce").astype("float64").reset_index(drop=True) for n in parts
    }
    found.extend(_sums(numbers, targets))
    discrete = [c.name for c in learned if c.kind in (Kind.CATEGORICAL, Kind.BOOLEAN)]
    found.extend(_determined(data.reset_index(drop=True), discrete))
    return found


def _inequality(a: str, b: str, x: pd.Series, y: pd.Series) -> list[Rule]:
    both = x.notna() & y.notna()
    if int(both.sum()) < MIN_ROWS:
        return []
    x, y = x[both], y[both]
    if _inside(x, y) < MIN_OVERLAP or _inside(y, x) < MIN_OVERLAP:
        return []  # ranges (nearly) apart: true of almost any values the columns could take
    if bool((x >= y).all()) and not bool((x == y).all()):
        return [Inequality(a, ">=", b)]
    if bool((y >= x).all()) and not bool((x == y).all()):
        return [Inequality(b, ">=", a)]
    return []


def _inside(x: pd.Series, y: pd.Series) -> float:
    """The share of ``x``'s values within ``y``'s range."""
    return float(x.between(y.min(), y.max()).mean())


def _sums(values: dict[str, pd.Series], targets: list[str]) -> list[Rule]:
    names = list(values)
    arrays = {n: values[n].to_numpy(dtype="float64", na_value=np.nan) for n in names}
    sizes = [2, 3] if len(names) <= MAX_TRIPLE_COLUMNS else [2]
    found: list[Rule] = []
    for target in targets:
        total = arrays[target]
        present = ~np.isnan(total)
        if int(present.sum()) < MIN_ROWS:
            continue
        others = [n for n in names if n != target]
        for size in sizes:
            for parts in combinations(others, size):
                summed = np.sum([arrays[p] for p in parts], axis=0)
                rows = present & ~np.isnan(summed)
                if int(rows.sum()) < MIN_ROWS or rows.sum() < present.sum():
                    continue
                scale = np.maximum(np.abs(total[rows]), 1.0)
                if np.all(np.abs(summed[rows] - total[rows]) <= 1e-6 * scale) and not _trivial(
                    [arrays[p][rows] for p in parts]
                ):
                    found.append(Formula(target, " + ".join(parts)))
                    break
            else:
                continue
            break
    return found


def _trivial(parts: list[np.ndarray]) -> bool:
    """A part that is always zero makes the sum a copy of the other parts."""
    return any(np.all(p == 0) for p in parts)


def _determined(data: pd.DataFrame, names: list[str]) -> list[Rule]:
    """``AllowedCombinations([a, b])`` for each pair where ``a``'s value fixes ``b``'s (a -> b)."""
    counts = {n: int(data[n].nunique(dropna=False)) for n in names}
    usable = [n for n in names if 1 < counts[n] <= min(MAX_CATEGORIES, max(len(data) // 2, 2))]
    edges: list[tuple[str, str]] = []
    for a, b in permutations(usable, 2):
        if counts[a] <= counts[b]:
            continue  # a must have more values than b to determine it without being a relabelling
        pairs = data[[a, b]].astype(object).fillna("\x00missing")
        if int(pairs.groupby(a, sort=False)[b].nunique().max()) == 1:
            edges.append((a, b))
    # a -> c follows from a -> b and b -> c: propose only the links of the chain
    implied = {(a, c) for a, b in edges for b2, c in edges if b == b2 and a != c}
    return [AllowedCombinations([a, b]) for a, b in edges if (a, b) not in implied]
