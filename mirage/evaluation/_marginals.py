"""k-way marginal accuracy: how well the synthetic data keeps the joint frequencies of column subsets.

Every learned column is discretised the same way for real and synthetic rows: numeric and datetime
columns into (up to) 10 quantile bins fitted on the real data, categorical and boolean columns as
they are, and a missing value as a value of its own.  For a subset of k columns the accuracy is the
MOSTLY AI definition, ``1 - 0.5 * L1`` between the two normalised joint histograms (1 = identical,
0 = disjoint).  All subsets are used for k = 1; for k >= 2 at most ``max_subsets`` subsets are
drawn with a fixed seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from mirage.errors import OptionError
from mirage.evaluation._columns import NUMERIC_KINDS, as_numbers, category_keys, scored_columns
from mirage.schema import Column, Schema

__all__ = ["Discretised", "discretise", "joint_tvd", "kway_marginal_accuracy"]

_MAX_INDEX = 1 << 31  # re-index joint codes once their product grows past this


@dataclass
class Discretised:
    """Integer codes of the real and synthetic rows: one column per learned column, shared coding."""

    names: list[str]
    real: np.ndarray  # (d, n_real) int64, one contiguous row per column
    synthetic: np.ndarray  # (d, n_synthetic) int64
    cardinality: np.ndarray  # (d,) number of codes of each column (bins or categories, plus missing)


def _quantile_codes(real: np.ndarray, synthetic: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, int]:
    observed = real[~np.isnan(real)]
    if observed.size:
        inner = np.unique(np.quantile(observed, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    else:
        inner = np.empty(0)
    missing = inner.size + 1

    def code(x: np.ndarray) -> np.ndarray:
        # bins are (edge[i-1], edge[i]]: a mass point at an edge (a column of zeros) keeps a bin of its own
        out = np.searchsorted(inner, x, side="left").astype("int64")
        out[np.isnan(x)] = missing
        return out

    return code(real), code(synthetic), missing + 1


def _category_codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    keys = pd.concat([category_keys(real), category_keys(synthetic)], ignore_index=True)
    codes, uniques = pd.factorize(keys, use_na_sentinel=False)
    codes = np.asarray(codes, dtype="int64")
    return codes[: len(real)], codes[len(real) :], max(len(uniques), 1)


def discretise(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[Column], bins: int = 10
) -> Discretised:
    """Code ``columns`` of both frames: quantile bins fitted on ``real`` for numbers, categories as is."""
    if bins < 1:
        raise OptionError(f"bins must be at least 1, got {bins!r}")
    real_codes, synthetic_codes, cardinality = [], [], []
    for column in columns:
        if column.kind in NUMERIC_KINDS:
            a, b, k = _quantile_codes(
                as_numbers(real[column.name], column), as_numbers(synthetic[column.name], column), bins
            )
        else:
            a, b, k = _category_codes(real[column.name], synthetic[column.name])
        real_codes.append(a)
        synthetic_codes.append(b)
        cardinality.append(k)
    d = len(columns)
    return Discretised(
        names=[c.name for c in columns],
        real=np.vstack(real_codes) if d else np.zeros((0, len(real)), dtype="int64"),
        synthetic=np.vstack(synthetic_codes) if d else np.zeros((0, len(synthetic)), dtype="int64"),
        cardinality=np.asarray(cardinality, dtype="int64"),
    )


def _joint_index(codes: Discretised, subset: Sequence[int]) -> tuple[np.ndarray, np.ndarray, int]:
    """One integer per row for the combination of ``subset``'s codes, and the number of combinations."""
    n_real = codes.real.shape[1]
    index = np.concatenate([codes.real[subset[0]], codes.synthetic[subset[0]]])
    size = int(codes.cardinality[subset[0]])
    for j in subset[1:]:
        k = int(codes.cardinality[j])
        if size * k > _MAX_INDEX:
            uniques, index = np.unique(index, return_inverse=True)
            size = int(uniques.size)
        index = index * k + np.concatenate([codes.real[j], codes.synthetic[j]])
        size *= k
    return index[:n_real], index[n_real:], size


def joint_tvd(codes: Discretised, subset: Sequence[int]) -> tuple[float, np.ndarray, np.ndarray]:
    """Total variation distance of the joint histograms of ``subset``, and the two count vectors."""
    a, b, size = _joint_index(codes, subset)
    if size > 4 * (a.size + b.size):  # sparse: count only the combinations that occur
        uniques, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        a, b, size = inverse[: a.size], inverse[a.size :], int(uniques.size)
    p = np.bincount(a, minlength=size).astype("float64")
    q = np.bincount(b, minlength=size).astype("float64")
    tvd = 0.5 * float(np.abs(p / max(a.size, 1) - q / max(b.size, 1)).sum())
    return tvd, p, q


def _subsets(d: int, k: int, max_subsets: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    if math.comb(d, k) <= max_subsets:
        return list(combinations(range(d), k))
    chosen: set[tuple[int, ...]] = set()
    while len(chosen) < max_subsets:
        chosen.add(tuple(sorted(int(i) for i in rng.choice(d, size=k, replace=False))))
    return sorted(chosen)


def kway_marginal_accuracy(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    ks: Sequence[int] = (1, 2, 3),
    bins: int = 10,
    max_subsets: int = 200,
    seed: int = 0,
) -> dict[str, float]:
    """Mean k-way marginal accuracy per k (``"k1"``, ``"k2"``, ...) and their mean ``"overall"``.

    Each is in [0, 1], 1 = the synthetic joint histograms equal the real ones.  A k larger than the
    number of learned columns is left out.
    """
    if max_subsets < 1:
        raise OptionError(f"max_subsets must be at least 1, got {max_subsets!r}")
    if any(int(k) < 1 for k in ks):
        raise OptionError(f"ks must be positive subset sizes, got {list(ks)!r}")
    _, columns = scored_columns(real, synthetic, schema)
    codes = discretise(real, synthetic, columns, bins)
    d = len(columns)
    rng = np.random.default_rng(seed)
    out: dict[str, float] = {}
    for k in sorted({int(k) for k in ks}):
        if k > d:
            continue
        subsets = list(combinations(range(d), 1)) if k == 1 else _subsets(d, k, max_subsets, rng)
        out[f"k{k}"] = float(np.mean([1.0 - joint_tvd(codes, s)[0] for s in subsets]))
    out["overall"] = float(np.mean(list(out.values()))) if out else float("nan")
    return out
