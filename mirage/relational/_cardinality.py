"""How many children each parent row has, and how alike two databases are in that."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mirage.relational._plan import row_positions
from mirage.relational._shape import count_shape, shape_counts
from mirage.schema import ForeignKey

__all__ = ["cardinality_similarity", "children_per_parent", "count_shape", "shape_counts"]


def children_per_parent(frames: Mapping[str, pd.DataFrame], fk: ForeignKey) -> np.ndarray:
    """For each row of ``fk.parent``, the number of ``fk.child`` rows that refer to it (zeros too)."""
    parent = frames[fk.parent]
    positions = row_positions(parent, fk.parent_columns, frames[fk.child], fk.columns)
    return np.bincount(positions[positions >= 0], minlength=len(parent))


def cardinality_similarity(
    real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame], fk: ForeignKey
) -> float:
    """1 minus the Kolmogorov-Smirnov distance between the children-per-parent distributions (1: the
    same distribution), as SDMetrics' CardinalityShapeSimilarity."""
    a, b = children_per_parent(real, fk), children_per_parent(synthetic, fk)
    if a.size == 0 or b.size == 0:
        return float(a.size == b.size)
    values = np.union1d(a, b)
    cdf_a = np.searchsorted(np.sort(a), values, side="right") / a.size
    cdf_b = np.searchsorted(np.sort(b), values, side="right") / b.size
    return float(1.0 - np.abs(cdf_a - cdf_b).max())
