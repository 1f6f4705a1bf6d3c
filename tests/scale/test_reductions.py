"""Statistics reduced across partitions: exact where they can be (counts, minimum, maximum, every code's
count), so the partitioned copula is the in-memory one; past ``exact_values_limit`` distinct values a
column is sketched and each marginal knot is within the sketch's documented rank error of the exact
quantile (``SKETCH_RANK_ERROR``: 0.099% of the rows after analyze + reduce)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.encoding import EncodingOptions
from mirage.encoding._sketch import SKETCH_RANK_ERROR
from mirage.scale import fit_partitions
from mirage.schema import infer_schema

SIZES = (1_000, 6_000, 37, 4_963)  # unequal partitions of 12,000 rows
LIMIT = 50  # distinct values counted exactly per column: the numbers of this table are sketched past it


@pytest.fixture(scope="module")
def rows(adult: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([adult] * 3, ignore_index=True).head(sum(SIZES))


@pytest.fixture(scope="module")
def pattern(rows: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("sketched")
    for i, (a, b) in enumerate(pairwise(np.cumsum((0, *SIZES)))):
        rows.iloc[a:b].to_parquet(out / f"p-{i}.parquet")
    return str(Path(out) / "p-*.parquet")


def _without_sketches(state: Any) -> Any:
    """The encoder state less what a sketch summarises (its items, its error, the median fill)."""
    if isinstance(state, dict):
        return {k: _without_sketches(v) for k, v in state.items() if k not in {"sketch", "fill"}}
    if isinstance(state, list):
        return [_without_sketches(v) for v in state]
    return state


def test_sketched_columns_keep_exact_counts_and_bounds_and_knots_within_the_rank_error(
    rows: pd.DataFrame, pattern: str
) -> None:
    schema = infer_schema(rows)
    options = EncodingOptions(exact_values_limit=LIMIT)
    part = fit_partitions(pattern, schema=schema, encoding_options=options)
    whole = mirage.fit(rows, engine="copula", schema=schema, encoding_options=options)
    (state, arrays), (expected, expected_arrays) = part.get_state(), whole.get_state()
    sketched = [name for name, codec in state["encoder"]["codecs"].items() if "sketch" in codec]
    assert {"age", "fnlwgt", "hours_per_week"} <= set(sketched)
    # exact: counts, minimum, maximum, categories and their counts, missing shares, the sub-columns
    assert _without_sketches(state["encoder"]) == _without_sketches(expected["encoder"])
    assert state["engine"] == expected["engine"]
    n = len(rows)
    encoded = part.encoder_.encode(rows)
    k = part.encoder_.options.rare_min_count
    for j, s in enumerate(part.subcolumns_):
        table = arrays[f"engine.marginal.{j}"]
        if s.discrete:  # each code's count is exact: the same cumulative shares
            np.testing.assert_array_equal(table, expected_arrays[f"engine.marginal.{j}"])
            continue
        x = np.sort(encoded[s.name])
        probs = np.linspace((k - 1) / (n - 1), (n - k) / (n - 1), table.size)
        # the share of rows below and at each knot brackets its probability, within the rank error
        below = np.searchsorted(x, table, side="left") / n
        at_or_below = np.searchsorted(x, table, side="right") / n
        slack = SKETCH_RANK_ERROR + 1 / n
        assert np.all(below - slack <= probs) and np.all(probs <= at_or_below + slack), s.name
