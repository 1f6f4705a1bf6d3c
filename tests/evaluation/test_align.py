"""Synthetic values written another way than the real ones are scored as the real ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._warnings import MirageWarning
from mirage.evaluation._align import align_to_real
from mirage.schema import infer_schema


def real_table(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    churned = rng.random(rows) < 0.3
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows),
            "plan": rng.choice(["a", "b", "c"], rows),
            "code": rng.choice([10, 20, 30], rows),
            "churned": churned.astype(int),
        }
    )


def test_truth_values_numbers_and_text_are_read_as_the_real_values() -> None:
    real = real_table()
    other = real.assign(
        churned=real["churned"].astype(bool), code=real["code"].astype(float).astype(str), plan=real["plan"]
    )
    aligned = align_to_real(real, other, infer_schema(real), "synthetic")
    pd.testing.assert_frame_equal(aligned, real)


def test_a_copy_written_with_true_and_false_scores_as_a_copy() -> None:
    real = real_table()
    as_copy = mirage.evaluate(real, real, seed=0).scores["quality"]
    written_otherwise = real.assign(churned=real["churned"].astype(bool))
    assert mirage.evaluate(real, written_otherwise, seed=0).scores["quality"] == pytest.approx(as_copy)


def test_a_column_of_other_values_is_named() -> None:
    real = real_table()
    other = real.assign(plan=real["plan"].str.upper())
    with pytest.warns(MirageWarning, match=r"column 'plan': 100% of the synthetic values \('[ABC]'"):
        aligned = align_to_real(real, other, infer_schema(real), "synthetic")
    pd.testing.assert_series_equal(aligned["plan"], other["plan"])


def test_values_that_could_be_two_real_values_are_left_alone() -> None:
    real = pd.DataFrame({"x": ["1", "1.0", "2"] * 50})
    other = pd.DataFrame({"x": [1, 2] * 75})
    aligned = align_to_real(real, other, infer_schema(real), "synthetic")
    assert aligned["x"].tolist()[:2] == [1, "2"]
