"""Edge cases for testing: rows past the learned quantiles of chosen columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mirage.control._cells import largest_remainder, require_rows, resolve_seed
from mirage.engines._conditions import Between
from mirage.errors import OptionError
from mirage.schema import Kind

if TYPE_CHECKING:
    from mirage.engines import Synthesizer

__all__ = ["PILOT_ROWS", "sample_tails"]

PILOT_ROWS = 20_000  # rows drawn to read the model's quantiles


def sample_tails(
    model: Synthesizer, n: int, tails: Mapping[str, float], *, seed: int | None = None
) -> pd.DataFrame:
    """``n`` rows from the tails of the ``tails`` columns: ``{"amount": 0.05}`` draws rows below the
    model's 5% quantile or above its 95% quantile of ``amount``.

    The rows are split evenly (largest remainder) between every column's two tails, each drawn with
    the conditions API on that one column (the other columns follow the model given it).  The
    quantiles are the model's: those of a seeded draw of ``PILOT_ROWS`` rows.
    """
    model._require_fitted()
    n = require_rows(n)
    seed = resolve_seed(seed)
    if not isinstance(tails, Mapping) or not tails:
        raise OptionError("tails must map numeric or datetime columns to a share, e.g. {'amount': 0.05}")
    for column, share in tails.items():
        if column not in model.schema_.names:
            raise OptionError(f"tails: unknown column {column!r} (columns: {', '.join(model.schema_.names)})")
        kind = model.schema_[column].kind
        if kind not in (Kind.NUMERIC, Kind.DATETIME):
            raise OptionError(
                f"tails: column {column!r} is {kind.value}; tails need a numeric or datetime column"
            )
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 0.5:
            raise OptionError(
                f"tails: the share of column {column!r} must be above 0 and below 0.5, got {share!r}"
            )
    pilot = model.sample(PILOT_ROWS, seed=int(np.random.SeedSequence([seed, 3]).generate_state(1)[0]))
    groups = []
    for column, share in tails.items():
        values = pilot[column].dropna()
        low, high = values.quantile(share), values.quantile(1 - share)
        groups += [Between(high=low), Between(low=high)]
    counts = largest_remainder(n, [1.0] * len(groups))
    names = [column for column in tails for _ in range(2)]
    frames = []
    for index, (column, condition, size) in enumerate(zip(names, groups, counts, strict=True)):
        if size:
            cell_seed = int(np.random.SeedSequence([seed, 4, index]).generate_state(1)[0])
            frames.append(model.sample(int(size), seed=cell_seed, conditions={column: condition}))
    if not frames:
        return model.sample(0, seed=seed)
    rows = pd.concat(frames, ignore_index=True)
    order = np.random.default_rng(np.random.SeedSequence([seed, 2])).permutation(len(rows))
    return rows.iloc[order].reset_index(drop=True)
