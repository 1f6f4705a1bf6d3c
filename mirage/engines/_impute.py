"""Imputation by missing pattern: the rows that know the same sub-columns are drawn together."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from mirage.encoding import SubColumn

__all__ = ["impute_by_pattern"]

# draws every sub-column for the rows given (their parts), the named ones fixed at their values
DrawGiven = Callable[[dict[str, np.ndarray], set[str]], Mapping[str, np.ndarray]]


def impute_by_pattern(
    subcolumns: Sequence[SubColumn],
    parts: Mapping[str, np.ndarray],
    known: Mapping[str, np.ndarray],
    draw: DrawGiven,
) -> dict[str, np.ndarray]:
    """``parts`` with every sub-column ``known`` says is missing drawn by ``draw``, one call per pattern
    of known sub-columns (each call gets those rows' parts and the names fixed)."""
    n = len(next(iter(parts.values()))) if parts else 0
    out = {name: np.array(values, copy=True) for name, values in parts.items()}
    if not subcolumns or n == 0:
        return out
    mask = np.column_stack([np.asarray(known[s.name], dtype=bool) for s in subcolumns])
    patterns, group = np.unique(mask, axis=0, return_inverse=True)
    for g, pattern in enumerate(patterns):
        rows = np.flatnonzero(group.reshape(-1) == g)
        fixed = {s.name for s, is_known in zip(subcolumns, pattern, strict=True) if is_known}
        drawn = draw({name: np.asarray(values)[rows] for name, values in parts.items()}, fixed)
        for s, is_known in zip(subcolumns, pattern, strict=True):
            if not is_known:
                out[s.name][rows] = drawn[s.name]
    return out
