"""pandas types survive fit -> sample -> save -> load: Categorical order and categories, datetime units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.engines import ENGINES, Synthesizer

N = 400
LEVELS = ["low", "medium", "high", "extreme"]  # "extreme" is never used


def _engine(name: str) -> Synthesizer:
    cls = ENGINES[name]
    quick = {"max_epochs": 2, "max_training_time": 20.0, "epsilon": 1000.0}
    return cls(**{k: v for k, v in quick.items() if k in cls._param_names()})


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    level = pd.Categorical(rng.choice(LEVELS[:3], size=N, p=[0.5, 0.3, 0.2]), categories=LEVELS, ordered=True)
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, size=N), unit="s")
    return pd.DataFrame(
        {
            "level": level,
            "colour": pd.Categorical(
                rng.choice(["red", "green"], size=N), categories=["red", "green", "blue"]
            ),
            "x": rng.normal(size=N),
            "us": pd.Series(stamps).astype("datetime64[us]"),
            "s": pd.Series(stamps).astype("datetime64[s]"),
            "ms_tz": pd.Series(stamps)
            .dt.tz_localize("UTC")
            .dt.tz_convert("Europe/Berlin")
            .astype("datetime64[ms, Europe/Berlin]"),
        }
    )


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_dtypes_survive_every_engine_and_the_model_file(engine: str, tmp_path: Path) -> None:
    frame = _frame()
    model = _engine(engine).fit(frame)
    synthetic = model.sample(300, seed=1)
    for name in frame.columns:
        assert synthetic[name].dtype == frame[name].dtype, name
    assert list(synthetic["level"].cat.categories) == LEVELS and synthetic["level"].cat.ordered
    assert set(synthetic["level"]) <= set(LEVELS[:3])
    assert (
        synthetic["level"].min() >= "low" and synthetic["level"].max() <= "high"
    )  # ordered comparisons work
    path = model.save(tmp_path / "m.mirage")
    again = mirage.load(path).sample(300, seed=1)
    pd.testing.assert_frame_equal(again, synthetic)


def test_rare_levels_of_an_ordered_categorical_fold_into_their_neighbours() -> None:
    rng = np.random.default_rng(1)
    values = ["low"] * 200 + ["medium"] * 3 + ["high"] * 200  # "medium" is rare
    frame = pd.DataFrame(
        {"level": pd.Categorical(values, categories=LEVELS, ordered=True), "x": rng.normal(size=len(values))}
    )
    synthetic = mirage.fit(frame, engine="copula").sample(500, seed=2)
    assert synthetic["level"].dtype == frame["level"].dtype
    assert set(synthetic["level"]) == {"low", "high"}
