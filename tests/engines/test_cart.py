from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions
from mirage.engines import CartSynthesizer
from mirage.errors import OptionError


def test_learns_a_rule_between_columns() -> None:
    rng = np.random.default_rng(0)
    age = rng.integers(18, 80, size=4000)
    frame = pd.DataFrame({"age": age, "retired": np.where(age >= 65, "yes", "no")})
    synth = CartSynthesizer().fit(frame).sample(4000, seed=1)
    consistent = (synth["age"] >= 65) == (synth["retired"] == "yes")
    assert consistent.mean() > 0.95


def test_smoothing_moves_numeric_draws_off_the_training_values() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"g": rng.choice(["a", "b"], size=3000), "v": rng.normal(size=3000).round(6)})
    seen = set(frame["v"])
    smooth = CartSynthesizer().fit(frame).sample(3000, seed=2)
    no_protection = EncodingOptions(rare_min_count=1)
    raw = CartSynthesizer(smoothing=0.0).fit(frame, encoding_options=no_protection).sample(3000, seed=2)
    assert np.mean([v in seen for v in smooth["v"]]) < 0.05
    assert np.mean([v in seen for v in raw["v"]]) == 1.0


def test_draws_are_no_nearer_the_training_values_than_fresh_values_are() -> None:
    """A quantile map with a knot at every training value sends every draw, however smoothed, between
    two neighbouring training values: on 700 rows its nearest training value was 2-3x nearer than a
    fresh row's.  Both paths: the first column (its marginal) and a later one (tree leaves)."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(0, 1, 1400).round(4), "y": rng.normal(0, 1, 1400).round(4)})
    train, fresh = frame.iloc[:700], frame.iloc[700:]
    synth = CartSynthesizer(seed=5).fit(train).sample(700, seed=6)
    for column in ("x", "y"):
        known = np.sort(train[column].to_numpy())

        def nearest(values: np.ndarray, known: np.ndarray = known) -> float:
            at = np.clip(np.searchsorted(known, values), 1, known.size - 1)
            return float(np.median(np.minimum(np.abs(values - known[at - 1]), np.abs(known[at] - values))))

        assert nearest(synth[column].to_numpy()) > 0.6 * nearest(fresh[column].to_numpy()), column


def test_spikes_stay_exact() -> None:
    rng = np.random.default_rng(2)
    gain = np.where(rng.random(4000) < 0.9, 0, rng.integers(1000, 20000, size=4000))
    frame = pd.DataFrame({"g": rng.choice(["a", "b", "c"], size=4000), "gain": gain})
    synth = CartSynthesizer().fit(frame).sample(4000, seed=3)
    assert abs((synth["gain"] == 0).mean() - 0.9) < 0.03


def test_min_samples_leaf_bounds_the_leaves() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000)})
    model = CartSynthesizer(min_samples_leaf=100).fit(frame)
    counts = np.diff(model.leaves_[0]["offsets"])
    assert counts.min() >= 100


@pytest.mark.parametrize(
    "params", [{"min_samples_leaf": 0}, {"max_depth": 0}, {"spike_share": 0.0}, {"rare_min_count": -1}]
)
def test_bad_hyperparameters_name_the_option(params: dict[str, float]) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(OptionError, match=next(iter(params))):
        CartSynthesizer(**params).fit(frame)  # type: ignore[arg-type]


def test_compiled_tree_routes_rows_like_the_numpy_walk() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {"a": rng.normal(size=3000), "b": rng.integers(0, 9, 3000), "c": rng.normal(size=3000)}
    )
    model = CartSynthesizer(min_samples_leaf=30).fit(frame)
    probe = (rng.normal(size=(4000, 3)) * [1, 5, 1]).astype("float32")
    for tree in model.trees_:
        assert tree.n_leaves > 1
        np.testing.assert_array_equal(tree.apply(probe), tree._walk(probe))


def test_a_table_of_only_generated_columns_saves_and_loads(tmp_path) -> None:
    import mirage

    keys = [f"{word}-{i}" for word in ("Árvíztűrő", "Tükörfúró") for i in range(5)]
    frame = pd.DataFrame({"key": keys, "row": range(1, 11)})
    model = CartSynthesizer().fit(frame)
    assert model.subcolumns_ == []
    again = mirage.load(model.save(tmp_path / "m.mirage"))
    pd.testing.assert_frame_equal(again.sample(4, seed=1), model.sample(4, seed=1))


def test_smoothed_draws_do_not_pile_at_the_bounds() -> None:
    # Kernel draws past the lowest value used to be clipped onto it: 0.42 in 1.7% of titanic's ages.
    rng = np.random.default_rng(6)
    wait = np.round(0.42 + rng.exponential(8.0, size=3000), 2)
    frame = pd.DataFrame({"g": rng.choice(["a", "b"], size=3000), "wait": wait})
    synth = CartSynthesizer().fit(frame).sample(3000, seed=7)
    real_share = np.mean(wait == wait.min())
    assert np.mean(synth["wait"] == wait.min()) < real_share + 0.003
    assert synth["wait"].min() >= wait.min()


def test_a_skewed_column_keeps_its_low_tail_when_drawn_from_leaves() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(size=2000), "ratio": rng.lognormal(-8.0, 2.0, size=2000)})
    quantiles = frame["ratio"].quantile([0.05, 0.1, 0.5]).to_numpy()
    shares = {}
    for space in ("normal", "value"):
        drawn = CartSynthesizer(smoothing_space=space).fit(frame).sample(20_000, seed=5)["ratio"].to_numpy()
        shares[space] = [float(np.mean(drawn < q)) for q in quantiles]
    assert np.allclose(shares["normal"], [0.05, 0.1, 0.5], atol=0.025)
    assert shares["value"][0] > 0.15  # noise sized in the values' own units piles draws on the low end


def test_smoothing_space_is_checked() -> None:
    with pytest.raises(OptionError, match="smoothing_space must be 'normal' or 'value', got 'log'"):
        CartSynthesizer(smoothing_space="log").fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))
