from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.engines import CopulaSynthesizer
from mirage.errors import OptionError


def test_keeps_a_strong_correlation_and_the_marginals() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    frame = pd.DataFrame(
        {"x": x, "y": 2 * x + rng.normal(scale=0.5, size=5000), "z": rng.exponential(size=5000)}
    )
    synth = CopulaSynthesizer().fit(frame).sample(5000, seed=1)
    real_r = frame.corr(method="spearman").loc["x", "y"]
    fake_r = synth.corr(method="spearman").loc["x", "y"]
    assert abs(real_r - fake_r) < 0.03
    assert abs(synth["z"].median() - frame["z"].median()) < 0.05
    assert abs(synth.corr(method="spearman").loc["x", "z"]) < 0.05


def test_category_that_determines_another_stays_linked() -> None:
    frame = pd.DataFrame({"a": ["p", "q"] * 1000, "b": ["P", "Q"] * 1000})
    synth = CopulaSynthesizer().fit(frame).sample(2000, seed=1)
    agree = ((synth["a"] == "p") & (synth["b"] == "P")) | ((synth["a"] == "q") & (synth["b"] == "Q"))
    assert agree.mean() > 0.95


@pytest.mark.parametrize("params", [{"shrinkage": 1.5}, {"quantiles": 1}, {"rare_min_count": 0}])
def test_bad_hyperparameters_name_the_option(params: dict[str, float]) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(OptionError, match=next(iter(params))):
        CopulaSynthesizer(**params).fit(frame)  # type: ignore[arg-type]


def test_a_value_with_nulls_keeps_its_correlation_in_rows_that_have_it() -> None:
    # Learned over every row, the missing rows' placeholder weakens it (0.51 -> 0.37); learned on the
    # present rows only, the rows the flag keeps would strengthen it (0.57) without a correction.
    rng = np.random.default_rng(5)
    x = rng.normal(size=3000)
    y = 0.6 * x + 0.8 * rng.normal(size=3000)
    y[rng.random(3000) < 1 / (1 + np.exp(-2.5 * (x - 0.6)))] = np.nan
    frame = pd.DataFrame({"x": x, "y": y})
    synth = CopulaSynthesizer().fit(frame).sample(3000, seed=1)
    real = frame.dropna().corr().iloc[0, 1]
    fake = synth.dropna().corr().iloc[0, 1]
    assert abs(fake - real) < 0.04, (real, fake)
