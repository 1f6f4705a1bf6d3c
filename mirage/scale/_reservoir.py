"""A uniform random sample of rows across partitions, whatever their sizes (priority sampling).

Row ``r`` of partition ``p`` gets the key ``u[r]`` of ``default_rng(SeedSequence([seed, p])).random``;
the sample is the ``k`` rows with the smallest keys of all.  Keys are i.i.d. uniform, so every set of
``k`` rows is equally likely.  Each partition reports its smallest ``k`` keys (a pass reading no row
to the client), the ``k``-th smallest of those is the threshold, and a second pass returns the rows
at or below it: the client holds ``k`` keys per partition and ``k`` rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mirage.scale._executor import DaskExecutor, LocalExecutor
from mirage.scale._partitions import Partitions

__all__ = ["row_keys", "sample_threshold", "smallest_keys", "uniform_sample"]


def row_keys(index: int, n: int, seed: int) -> np.ndarray:
    """The keys of partition ``index``'s ``n`` rows."""
    return np.random.default_rng(np.random.SeedSequence([seed, index])).random(n)


def smallest_keys(index: int, frame: pd.DataFrame, *, sample: int, seed: int) -> tuple[int, np.ndarray]:
    """The partition's row count and its smallest ``sample`` keys; on a worker."""
    return len(frame), np.sort(row_keys(index, len(frame), seed))[:sample]


def sample_threshold(keys: list[np.ndarray], k: int) -> float:
    """The largest key the sample keeps (every key when there are at most ``k``)."""
    every = np.concatenate(keys) if keys else np.empty(0)
    if every.size == 0:
        return -1.0
    size = min(k, every.size)
    return float(np.partition(every, size - 1)[size - 1])


def rows_at_or_below(index: int, frame: pd.DataFrame, *, threshold: float, seed: int) -> pd.DataFrame:
    """The partition's rows whose keys are at most ``threshold``; on a worker."""
    keep = row_keys(index, len(frame), seed) <= threshold
    return frame.reset_index(drop=True).loc[keep]


def uniform_sample(
    parts: Partitions, executor: LocalExecutor | DaskExecutor, k: int, seed: int
) -> tuple[pd.DataFrame, int]:
    """``k`` rows drawn uniformly without replacement from all partitions (all rows when fewer), and
    the number of rows there are."""
    counted = parts.map(executor, smallest_keys, {"sample": k, "seed": seed})
    threshold = sample_threshold([keys for _, keys in counted], k)
    frames: list[Any] = parts.map(executor, rows_at_or_below, {"threshold": threshold, "seed": seed})
    return pd.concat(frames, ignore_index=True), sum(n for n, _ in counted)
