from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load
from sklearn.mixture import GaussianMixture

import mirage
from mirage._warnings import MirageWarning
from mirage.engines import GmmSynthesizer
from mirage.errors import ModelFileError, OptionError


def clusters(rows: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Two groups, each with its own centre and its own sign of correlation between x and y."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["left", "right"], rows)
    x = rng.normal(size=rows)
    y = np.where(group == "left", x, -x) + 0.3 * rng.normal(size=rows)
    return pd.DataFrame({"group": group, "x": np.where(group == "left", x - 4, x + 4), "y": y})


def test_bic_picks_several_components_and_each_group_keeps_its_own_sign_of_correlation() -> None:
    # one Gaussian (a copula) would give the two groups one correlation, near zero here
    model = GmmSynthesizer().fit(clusters())
    assert model.n_components_ > 1
    assert min(model.bic_, key=model.bic_.__getitem__) == model.n_components_
    synth = model.sample(3000, seed=1)
    for group, sign in (("left", 1), ("right", -1)):
        rows = synth[synth["group"] == group]
        assert sign * rows[["x", "y"]].corr().iloc[0, 1] > 0.3, group
    assert synth.loc[synth["group"] == "left", "x"].mean() == pytest.approx(-4, abs=0.6)


def test_the_model_file_holds_the_mixture_as_arrays() -> None:
    model = GmmSynthesizer(n_components=3).fit(clusters())
    buffer = io.BytesIO()
    model.save(buffer)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    assert sorted(archive.namelist()) == ["arrays.safetensors", "manifest.json"]
    arrays = load(archive.read("arrays.safetensors"))
    assert arrays["engine.weights"].shape == (3,)
    assert arrays["engine.means"].shape == (3, 3)
    assert arrays["engine.covariances"].shape == (3, 3, 3)
    loaded = mirage.load(buffer.getvalue())
    pd.testing.assert_frame_equal(loaded.sample(200, seed=2), model.sample(200, seed=2))

    manifest = json.loads(archive.read("manifest.json"))
    manifest["state"]["engine"]["components"] = 4
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("manifest.json", json.dumps(manifest))
        target.writestr("arrays.safetensors", archive.read("arrays.safetensors"))
    with pytest.raises(ModelFileError, match="components"):
        mirage.load(out.getvalue())


def test_a_scenario_moves_the_linked_columns() -> None:
    model = GmmSynthesizer().fit(clusters())
    assert abs(model.sample(1000, seed=3)["x"].mean()) < 1.0
    synth = model.sample(1000, seed=3, scenario={"set": {"group": "right"}})
    assert (synth["group"] == "right").all()
    assert synth["x"].mean() > 3.0  # the right group's centre is 4


@pytest.mark.parametrize(
    "params", [{"max_components": 0}, {"n_components": 100}, {"reg_covar": 0}, {"code_rounds": -1}]
)
def test_bad_hyperparameters_name_the_option(params: dict[str, float]) -> None:
    with pytest.raises(OptionError, match=next(iter(params))):
        GmmSynthesizer(**params).fit(clusters(50))  # type: ignore[arg-type]


def continuous(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    return pd.DataFrame(
        {
            "x": np.round(x, 4),
            "y": np.round(x + rng.normal(size=rows), 4),
            "z": np.round(rng.gamma(2.0, 1.0, rows), 4),
        }
    )


def test_components_tighter_than_unseen_rows_support_get_a_variance_floor() -> None:
    # 24 components on 300 rows sit on a few rows each: the held-out fifth asks for wider ones
    model = GmmSynthesizer(n_components=24).fit(continuous())
    floor = model.training_["gmm"]["variance_floor"]
    assert floor > 0.1
    variances = np.diagonal(model.covariances_, axis1=1, axis2=2)
    assert variances.min() >= floor * (1 - 1e-6)
    assert GmmSynthesizer(n_components=24, smoothing=0).fit(continuous()).training_["gmm"][
        "variance_floor"
    ] == pytest.approx(1e-3)


def test_a_given_smoothing_sets_the_floor_from_scotts_kernel() -> None:
    model = GmmSynthesizer(n_components=2, smoothing=1.0).fit(continuous())
    assert model.training_["gmm"]["variance_floor"] == pytest.approx(300 ** (-2 / 7), rel=1e-4)


@pytest.mark.slow  # 8 guarded fits of 5 folds: 10-20 s on two cores
def test_the_memorisation_guard_steps_down_to_fewer_components() -> None:
    # a limit no table reads under: the ladder 16, 4, 2, 1 is read at its weakest, middle and strongest
    # count, and one component (a copula of the scores) kept
    with pytest.warns(MirageWarning, match="gmm: even at max_components=1"):
        model = GmmSynthesizer(max_dcr_share=0.05).fit(clusters(150))
    readings = model.training_["guard"]["readings"]
    assert [r["setting"]["max_components"] for r in readings] == [16, 2, 1]
    assert model.n_components_ == 1
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = mirage.load(buffer.getvalue())
    pd.testing.assert_frame_equal(loaded.sample(200, seed=1), model.sample(200, seed=1))
    # a given count the guard lowers still loads
    given = GmmSynthesizer(n_components=3, max_dcr_share=0.05)
    with pytest.warns(MirageWarning):
        given.fit(clusters(150))
    assert given.n_components_ == 1
    buffer = io.BytesIO()
    given.save(buffer)
    assert mirage.load(buffer.getvalue()).n_components_ == 1


def test_impute_draws_each_missing_cell_from_the_mixture_given_the_rest_of_its_row() -> None:
    rng = np.random.default_rng(3)
    group = rng.choice(["a", "b"], 1500)
    x = np.round(np.where(group == "a", 10.0, 30.0) + rng.normal(size=1500), 3)
    y = np.round(2.0 * x + rng.normal(size=1500), 3)
    data = pd.DataFrame({"group": group, "x": x, "y": y})
    model = GmmSynthesizer().fit(data)
    holed = data.head(600).copy()
    holed.loc[rng.random(600) < 0.4, "y"] = np.nan
    holed.loc[rng.random(600) < 0.3, "group"] = np.nan
    filled = model.impute(holed, seed=1)
    y_holes, group_holes = holed["y"].isna(), holed["group"].isna()
    assert filled.notna().all().all()
    kept = ~y_holes & ~group_holes
    pd.testing.assert_frame_equal(filled[kept], holed[kept])
    # y is drawn given the row's own x, the group given the row's x
    assert np.abs(filled.loc[y_holes, "y"] - 2.0 * holed.loc[y_holes, "x"]).mean() < 2.5
    expected = np.where(holed.loc[group_holes, "x"] < 20.0, "a", "b")
    assert (filled.loc[group_holes, "group"] == expected).mean() > 0.9


def test_bic_gives_each_component_at_least_rows_per_dimension_rows_a_dimension() -> None:
    # eight tight groups of 50 rows in 2 dimensions: BIC alone gives most of them a component of their own
    rng = np.random.default_rng(4)
    centre = rng.integers(0, 8, 400)
    data = pd.DataFrame(
        {"x": np.round(centre * 10 + rng.normal(size=400), 3), "y": np.round(rng.normal(size=400), 3)}
    )
    assert GmmSynthesizer(rows_per_dimension=1).fit(data).n_components_ > 2
    model = GmmSynthesizer(rows_per_dimension=100).fit(data)  # 400 rows, 200 a component
    assert model.n_components_ <= 2
    assert max(model.bic_) <= 2
    # by default 15 rows a dimension: 30 rows a component here, so the groups keep theirs
    assert GmmSynthesizer().fit(data).n_components_ > 2


def test_shrinkage_pulls_each_components_correlations_in_by_dimensions_per_row() -> None:
    sharp = GmmSynthesizer(n_components=1, smoothing=0, shrinkage=0).fit(continuous())
    shrunk = GmmSynthesizer(n_components=1, smoothing=0, shrinkage=50).fit(continuous())
    # a = 50 * 3 dimensions / 300 rows = 0.5 of every covariance off the diagonal goes
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(shrunk.covariances_[0][off], 0.5 * sharp.covariances_[0][off], rtol=1e-6)
    np.testing.assert_allclose(np.diag(shrunk.covariances_[0]), np.diag(sharp.covariances_[0]), rtol=1e-6)
    assert shrunk.training_["gmm"]["shrinkage"] == 50
    loose, tight = shrunk.sample(3000, seed=1), sharp.sample(3000, seed=1)
    assert 0.1 < loose["x"].corr(loose["y"]) < tight["x"].corr(tight["y"]) - 0.15


def test_by_default_the_held_out_fifth_chooses_the_shrinkage() -> None:
    from mirage.engines.gmm import SHRINKAGE_GRID

    # six components of 50 rows in 3 dimensions read much of their correlations from noise
    model = GmmSynthesizer(n_components=6).fit(continuous())
    assert model.training_["gmm"]["shrinkage"] in SHRINKAGE_GRID
    assert model.training_["gmm"]["shrinkage"] > 0


def test_quantiles_none_chooses_each_marginals_knots_on_held_out_rows() -> None:
    rows = pd.DataFrame({"x": np.random.default_rng(3).normal(40_000.0, 8_000.0, 860).round()})
    per_rows = GmmSynthesizer().fit(rows)
    chosen = GmmSynthesizer(quantiles=None).fit(rows)
    assert per_rows.training_["gmm"]["knots"] == {"x::value": 86}  # a knot per rare_min_count (10) rows
    assert 4 <= chosen.training_["gmm"]["knots"]["x::value"] <= 40
    assert chosen.space_.marginals[0].table.size == chosen.training_["gmm"]["knots"]["x::value"]
    again = GmmSynthesizer(quantiles=None).fit(rows)
    pd.testing.assert_frame_equal(chosen.sample(200, seed=1), again.sample(200, seed=1))
    assert GmmSynthesizer(quantiles=30).fit(rows).training_["gmm"]["knots"] == {"x::value": 30}
    buffer = io.BytesIO()
    chosen.save(buffer)
    loaded = mirage.load(buffer.getvalue())
    assert loaded.quantiles is None
    pd.testing.assert_frame_equal(loaded.sample(200, seed=2), chosen.sample(200, seed=2))


@pytest.mark.parametrize("seed", [0, 1])
def test_a_categorys_dependence_on_a_count_survives_the_spread_of_its_code(seed: int) -> None:
    # large stores have about three times the visits of small ones; spread uniformly over its code's
    # interval, the size's score owed nothing to the visits and the mixture read 1.7-2.0 times
    rng = np.random.default_rng(0)
    size = rng.choice(["small", "large"], 287, p=[0.6, 0.4])
    visits = rng.poisson(np.where(size == "large", 12, 4))
    data = pd.DataFrame({"size": size, "visits": visits, "opened": rng.normal(size=287)})
    model = GmmSynthesizer(quantiles=None, seed=seed).fit(data)
    sample = model.sample(5_000, seed=1)
    means = sample.groupby("size")["visits"].mean()
    real = data.groupby("size")["visits"].mean()
    assert real["large"] / real["small"] > 2.8
    assert means["large"] / means["small"] > 2.2


def test_redrawn_code_scores_stay_within_their_codes_intervals() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], 400),
            "x": rng.normal(size=400),
            "y": rng.normal(size=400),
        }
    )
    model = GmmSynthesizer(seed=0).fit(data)
    parts = model.encoder_.encode(data)
    bounds = model.space_.code_bounds(parts)
    z = model.space_.to_matrix(parts, np.random.default_rng(1))
    mixture = GaussianMixture(2, random_state=0).fit(z)
    redrawn = GmmSynthesizer._redraw_codes(mixture, z, bounds, np.random.default_rng(2))
    assert bounds
    for j, (low, high) in bounds.items():
        assert np.all(redrawn[:, j] >= low) and np.all(redrawn[:, j] <= high)
        assert not np.allclose(redrawn[:, j], z[:, j])
    others = [j for j in range(z.shape[1]) if j not in bounds]
    np.testing.assert_array_equal(redrawn[:, others], z[:, others])


def test_more_code_rounds_follow_a_strong_dependence_on_a_category_closer() -> None:
    rng = np.random.default_rng(0)
    size = rng.choice(["small", "large"], 287, p=[0.6, 0.4])
    visits = rng.poisson(np.where(size == "large", 12, 4))
    data = pd.DataFrame({"size": size, "visits": visits, "opened": rng.normal(size=287)})
    ratios = {}
    for rounds in (0, 20):
        model = GmmSynthesizer(quantiles=None, code_rounds=rounds, seed=0).fit(data)
        means = model.sample(5_000, seed=1).groupby("size")["visits"].mean()
        ratios[rounds] = means["large"] / means["small"]
    real = data.groupby("size")["visits"].mean()
    assert ratios[0] < 2.2 < 2.6 < ratios[20] <= 1.1 * real["large"] / real["small"]
