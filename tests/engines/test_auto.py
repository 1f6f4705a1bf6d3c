from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.engines import choose_engine
from mirage.errors import OptionError


def _measurements(n: int, seed: int = 0) -> pd.DataFrame:
    """Continuous, correlated measurements: a mixture of Gaussians fits them, a network of binned
    columns does not."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": 2.0 * x + rng.normal(scale=0.3, size=n),
            "z": -x + rng.normal(scale=0.5, size=n),
            "w": rng.normal(size=n) * 3.0 + 10.0,
        }
    )


def test_auto_fits_both_small_table_engines_and_keeps_the_one_harder_to_tell_apart(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="mirage"):
        model = mirage.fit(_measurements(600), seed=1)
    aucs = model.training_["auto"]["detection_auc"]
    assert set(aucs) == {"bayesnet", "gmm"}
    assert model.name == min(aucs, key=aucs.get) == "gmm"
    assert f"engine=auto picked {model.name!r}" in caplog.text and "detection AUC bayesnet" in caplog.text


def test_auto_keeps_bayesnet_on_a_table_ruled_by_categories(titanic: pd.DataFrame) -> None:
    model = mirage.fit(titanic, seed=0)
    aucs = model.training_["auto"]["detection_auc"]
    assert model.name == "bayesnet" and aucs["bayesnet"] < aucs["gmm"]


def test_auto_is_deterministic_and_its_pick_survives_the_model_file(tmp_path) -> None:
    data = _measurements(300, seed=4)
    first, second = mirage.fit(data, seed=7), mirage.fit(data, seed=7)
    assert first.training_["auto"] == second.training_["auto"]
    pd.testing.assert_frame_equal(first.sample(50, seed=2), second.sample(50, seed=2))
    first.save(tmp_path / "m.mirage")
    loaded = mirage.load(tmp_path / "m.mirage")
    assert loaded.training_["auto"] == first.training_["auto"]
    assert loaded.training_["auto"]["reason"].startswith("300 rows x 4 columns")


def test_auto_picks_argn_from_5000_rows_and_copula_past_the_cell_limit(monkeypatch) -> None:
    from mirage.engines import _auto

    assert choose_engine(pd.DataFrame(np.zeros((4_999, 3)))).candidates == ("bayesnet", "gmm")
    monkeypatch.setattr(_auto, "_has_torch", lambda: True)
    assert choose_engine(pd.DataFrame(np.zeros((5_000, 3)))).candidates == ("argn",)
    monkeypatch.setattr(_auto, "_has_torch", lambda: False)  # without PyTorch: the measured pair
    assert choose_engine(pd.DataFrame(np.zeros((5_000, 3)))).candidates == ("bayesnet", "gmm")
    big = pd.DataFrame(index=range(1_000_001), columns=list("abcdef"))
    choice = choose_engine(big)
    assert choice.candidates == ("copula",) and "1,000,001 rows" in choice.reason


def test_auto_on_a_table_too_small_to_score_keeps_the_first_engine_and_says_so() -> None:
    from mirage.engines import fit_auto

    tiny = pd.DataFrame({"a": [1.0, 2.0] * 6, "b": ["x", "y"] * 6})  # 2 distinct rows: no 3 folds
    model, reason = fit_auto(tiny, seed=0)
    assert model.name == "bayesnet" and "not measured (too few distinct rows" in reason
    assert "lower folds" not in reason
    assert "detection_auc" not in model.training_["auto"]


def test_auto_given_a_context_keeps_the_candidates_that_condition_on_one(monkeypatch) -> None:
    from mirage.engines import _auto

    data = pd.DataFrame(np.zeros((300, 3)))
    given = choose_engine(data, context=True)
    assert given.candidates == ("bayesnet", "gmm")
    assert given.reason.startswith(
        "300 rows x 3 columns given a parent row: bayesnet and gmm fitted given it"
    )
    monkeypatch.setattr(_auto, "MEASURED", ("kde", "copula"))  # kde cannot condition on a context
    partial = choose_engine(data, context=True)
    assert (
        partial.candidates == ("copula",) and "of kde and copula, copula conditions on one" in partial.reason
    )
    assert choose_engine(data).candidates == ("kde", "copula")  # without a context, as by size
    monkeypatch.setattr(_auto, "MEASURED", ("kde",))
    fallback = choose_engine(data, context=True)
    assert fallback.candidates == ("cart",) and "kde cannot condition on one, so cart" in fallback.reason


def _parent_and_child(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    parent = pd.DataFrame({"size": rng.normal(size=n), "kind": rng.choice(["a", "b"], size=n)})
    child = pd.DataFrame(
        {"amount": 3.0 * parent["size"] + rng.normal(scale=0.2, size=n), "flag": parent["kind"] == "a"}
    )
    return parent, child


def test_auto_given_a_context_scores_each_candidate_beside_the_context_rows(monkeypatch) -> None:
    from mirage.engines import _auto, fit_auto

    parent, child = _parent_and_child(600)
    monkeypatch.setattr(_auto, "MEASURED", ("copula", "cart"))
    model, reason = fit_auto(child, context=parent, seed=3)
    aucs = model.training_["auto"]["detection_auc"]
    assert set(aucs) == {"copula", "cart"} and model.name == min(aucs, key=aucs.get)
    assert "detection AUC copula" in reason
    drawn = model.sample(context=parent.iloc[:200], seed=1)
    assert np.corrcoef(parent["size"].iloc[:200], drawn["amount"])[0, 1] > 0.9
    # the score reads each row beside its context row: rows paired with the wrong parents are told apart
    paired = _auto._detection_auc(model, child, 3, parent)
    shuffled = _auto._detection_auc(model, child, 3, parent.sample(frac=1.0, random_state=0))
    assert paired < 0.7 < shuffled


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
