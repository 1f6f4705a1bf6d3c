from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.engines import CartSynthesizer, choose_engine
from mirage.errors import OptionError


def test_auto_picks_cart_for_small_tables_and_says_why(adult: pd.DataFrame, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="mirage"):
        model = mirage.fit(adult.iloc[:500])
    assert isinstance(model, CartSynthesizer)
    assert "engine=auto picked 'cart'" in caplog.text


def test_auto_picks_copula_above_the_threshold() -> None:
    wide = pd.DataFrame(np.zeros((1, 1)), columns=["a"])
    assert choose_engine(wide)[0] == "cart"
    big = pd.DataFrame(index=range(1_000_001), columns=list("abcdef"))
    name, reason = choose_engine(big)
    assert name == "copula" and "1,000,001 rows" in reason


def test_unknown_engine_lists_the_known_ones(adult: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match="unknown engine 'tvae'.*cart.*copula.*gan"):
        mirage.fit(adult, engine="tvae")


def test_holdout_is_recorded_not_stored(tmp_path) -> None:
    from mirage.evaluation._holdout import recover_split

    path = tmp_path / "t.csv"
    frame = pd.DataFrame({"a": np.arange(100) % 7, "b": np.linspace(0, 1, 100)})
    frame.to_csv(path, index=False)
    model = mirage.fit(path, engine="copula", holdout=0.2, split_seed=3)
    assert model.n_training_rows_ == 80
    assert model.training_["holdout_fraction"] == 0.2 and "source_sha256" in model.training_
    train, holdout = recover_split(model.training_)
    assert len(train) == 80 and len(holdout) == 20
    assert set(train["b"]).isdisjoint(set(holdout["b"]))
    path.write_text(path.read_text() + "1,0.5\n")
    with pytest.raises(mirage.DataError, match="changed"):
        recover_split(model.training_)
