"""Keeping a holdout aside at fit time and finding it again at report time.

The model file never holds real rows: it records where the data came from (path and SHA-256 of the
file), the holdout fraction and the split seed, so the report can re-read the source and rebuild the
exact same split, and refuses to when the file has changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mirage.errors import DataError, OptionError

__all__ = ["file_sha256", "holdout_record", "recover_split", "split_holdout"]


def split_holdout(data: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, holdout)``: a seeded random split with ``round(fraction * rows)`` holdout rows."""
    if not 0.0 < fraction < 1.0:
        raise OptionError(f"holdout must be a fraction between 0 and 1, got {fraction!r}")
    n_holdout = round(fraction * len(data))
    if n_holdout < 1 or n_holdout >= len(data):
        raise OptionError(f"holdout {fraction} of {len(data)} rows leaves no rows on one side of the split")
    order = np.random.default_rng(np.random.SeedSequence([seed, 0x401D])).permutation(len(data))
    holdout_rows = np.sort(order[:n_holdout])
    mask = np.zeros(len(data), dtype=bool)
    mask[holdout_rows] = True
    return data[~mask].reset_index(drop=True), data[mask].reset_index(drop=True)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def holdout_record(
    source: str | Path | None,
    fraction: float,
    seed: int,
    rows: int,
    *,
    read_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {"holdout_fraction": fraction, "split_seed": seed, "source_rows": rows}
    if source is not None:
        record["source"] = str(Path(source).resolve())
        record["source_sha256"] = file_sha256(source)
        if read_options:
            record["read_options"] = {str(k): str(v) for k, v in read_options.items()}
    return record


def recover_split(
    training: dict[str, Any],
    source: str | Path | None = None,
    read_options: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-read the model's source (or ``source``) and rebuild its train/holdout split.

    The source is read with the options recorded at fit time, updated by ``read_options``.
    """
    from mirage.io import read_table

    if "holdout_fraction" not in training:
        raise DataError(
            "the model was fitted without a holdout (fit(..., holdout=0.2) keeps one); "
            "give the real and holdout data instead"
        )
    path = source or training.get("source")
    if path is None:
        raise DataError("the model was fitted from a DataFrame; give the path of its source data")
    if not Path(path).is_file():
        raise DataError(f"the model's source data {str(path)!r} is gone; pass its new path")
    expected = training.get("source_sha256")
    if expected is not None and file_sha256(path) != expected:
        raise DataError(f"{path} has changed since the model was fitted (SHA-256 differs)")
    recorded = training.get("read_options") or {}
    if not isinstance(recorded, Mapping):
        raise DataError(f"the model's recorded read_options are not options: {recorded!r}")
    frame = read_table(path, **{**recorded, **(read_options or {})})
    return split_holdout(frame, float(training["holdout_fraction"]), int(training["split_seed"]))
