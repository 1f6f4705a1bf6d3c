"""Augmentation: a real table topped up with synthetic rows of its minority class, flagged."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mirage.control._cells import learned_values, match_value, resolve_seed
from mirage.errors import DataError, OptionError

if TYPE_CHECKING:
    from mirage.engines import Synthesizer

__all__ = ["SYNTHETIC_FLAG", "augment", "rows_to_add"]

SYNTHETIC_FLAG = "_synthetic"


def rows_to_add(real_rows: int, minority_rows: int, share: float) -> int:
    """The synthetic minority rows that bring ``minority_rows`` of ``real_rows`` closest to ``share``
    (``(minority_rows + k) / (real_rows + k)``, ties to the fewer rows)."""
    exact = (share * real_rows - minority_rows) / (1.0 - share)
    low = max(0, math.floor(exact))
    return min((low, low + 1), key=lambda k: abs((minority_rows + k) / (real_rows + k) - share))


def augment(
    real: pd.DataFrame,
    model: Synthesizer,
    *,
    target: str,
    minority_share: float,
    minority: Any = None,
    seed: int | None = None,
    flag: str = SYNTHETIC_FLAG,
) -> pd.DataFrame:
    """``real`` followed by synthetic rows of its ``minority`` class of ``target`` (its rarest value when
    not given), drawn from ``model`` conditioned on that class, so that the class makes up
    ``minority_share`` of the rows (to the nearest row).  Column ``flag`` is True on the synthetic rows.
    """
    model._require_fitted()
    if not isinstance(real, pd.DataFrame):
        raise DataError(f"augment expects a pandas DataFrame, got {type(real).__name__}")
    if isinstance(minority_share, bool) or not isinstance(minority_share, (int, float)):
        raise OptionError(f"minority_share must be a number between 0 and 1, got {minority_share!r}")
    if not 0 < minority_share < 1:
        raise OptionError(f"minority_share must be between 0 and 1 (both excluded), got {minority_share!r}")
    names = model.schema_.names
    missing = [c for c in names if c not in real.columns]
    extra = [c for c in real.columns if c not in names]
    if missing or extra:
        which = (
            f"lacks the model's column(s) {missing}" if missing else f"has column(s) {extra} the model lacks"
        )
        raise DataError(f"augment: the real data {which}")
    if flag in names:
        raise OptionError(f"flag column {flag!r} is a column of the data; choose another name")
    codec = learned_values(model, target, "augment target")
    present = real[target].dropna()
    if present.empty:
        raise DataError(f"augment: target {target!r} has no values in the real data")
    if minority is None:
        counts = present.value_counts(sort=False)
        minority = counts.index[int(counts.to_numpy().argmin())]
    class_value = match_value(minority, codec, "augment minority")
    minority_rows = int(real[target].eq(class_value).sum())
    have = minority_rows / len(real)
    if have >= minority_share:
        raise OptionError(
            f"augment: class {class_value!r} of {target!r} already makes up {have:.3f} of the rows, at "
            f"least the minority_share {minority_share}; nothing to add"
        )
    added = rows_to_add(len(real), minority_rows, float(minority_share))
    synthetic = model.sample(added, seed=resolve_seed(seed), conditions={target: [class_value]})
    synthetic = _keys_apart(real, synthetic[list(real.columns)], model)
    out = pd.concat(
        [real.reset_index(drop=True).assign(**{flag: False}), synthetic.assign(**{flag: True})],
        ignore_index=True,
    )
    return out


def _keys_apart(real: pd.DataFrame, synthetic: pd.DataFrame, model: Synthesizer) -> pd.DataFrame:
    """``synthetic`` with every key of an identifier column that a real row already holds replaced by the
    next keys of the column's format that none holds, so the keys of the augmented table stay unique."""
    from mirage.encoding.identifier import IdentifierCodec

    for codec in model.encoder_.codecs:
        if not isinstance(codec, IdentifierCodec):
            continue
        name = codec.column.name
        taken = set(real[name].dropna().tolist())
        keys = synthetic[name]
        present = keys.notna().to_numpy()
        if not taken or not keys[present].isin(taken).any():
            continue
        need = int(present.sum())
        fresh: list[Any] = []
        start = 0
        while len(fresh) < need:
            block = max(2 * (need - len(fresh)), 1024)
            drawn = codec.decode({}, block, np.random.default_rng(0), start)  # keys do not use the rng
            fresh.extend(key for key in drawn.tolist() if key not in taken)
            start += block
        column = synthetic[name].copy()
        column[present] = pd.Series(fresh[:need], dtype=column.dtype).to_numpy()
        synthetic = synthetic.assign(**{name: column})
    return synthetic
