"""``gmm`` given a context: a mixture over the joint scores, rows drawn from its exact conditional."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load

import mirage
from mirage.engines import GmmSynthesizer
from mirage.engines.gmm import _conditional_draw
from mirage.errors import ModelFileError, OptionError
from tests.model_files import edit_manifest


def families(rows: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Child rows (``spend``, ``plan``, ``note``) and their parent rows (``income``, ``region``):
    ``spend`` rises with ``income``; ``plan`` is "gold" for far from average incomes, either way (no
    straight line, and no Gaussian copula, follows that); ``note`` is missing in a fifth of the rows."""
    rng = np.random.default_rng(seed)
    income = rng.normal(size=rows)
    region = rng.choice(["north", "south"], rows)
    spend = 3.0 * income + np.where(region == "north", 2.0, -2.0) + 0.5 * rng.normal(size=rows)
    plan = np.where(np.abs(income) > 1.0, "gold", "basic")
    note = np.where(rng.random(rows) < 0.2, np.nan, rng.normal(size=rows))
    return (
        pd.DataFrame({"spend": spend, "plan": plan, "note": note}),
        pd.DataFrame({"income": income, "region": region}),
    )


@pytest.fixture(scope="module")
def model() -> GmmSynthesizer:
    data, context = families()
    return GmmSynthesizer(seed=1).fit(data, context=context)


def test_a_child_number_keeps_its_dependence_on_its_parent_number(model: GmmSynthesizer) -> None:
    real, context = families(seed=7)  # context rows the model never saw
    synth = model.sample(context=context, seed=2)
    r = np.corrcoef(context["income"], real["spend"])[0, 1]  # 0.82
    assert np.corrcoef(context["income"], synth["spend"])[0, 1] == pytest.approx(r, abs=0.04)
    north = (context["region"] == "north").to_numpy()
    gap = synth["spend"][north].mean() - synth["spend"][~north].mean()
    assert gap == pytest.approx(4.0, abs=1.0)


def test_a_child_category_follows_its_parent_number_where_one_gaussian_cannot(model: GmmSynthesizer) -> None:
    # far from the mean on either side: gold; near it: basic; a single Gaussian of the scores gives
    # one slope, so both ends would move the same way
    assert model.n_components_ > 1
    given = pd.DataFrame({"income": [-2.0] * 300 + [0.0] * 300 + [2.0] * 300, "region": ["north"] * 900})
    synth = model.sample(context=given, seed=3)
    gold = (synth["plan"] == "gold").to_numpy().reshape(3, 300).mean(axis=1)
    assert gold[0] > 0.6 and gold[2] > 0.6 and gold[1] < 0.3, gold


def test_drawn_given_the_training_contexts_each_column_keeps_its_marginal(model: GmmSynthesizer) -> None:
    data, context = families()
    synth = model.sample(context=context, seed=4)
    assert synth["note"].isna().mean() == pytest.approx(0.2, abs=0.03)
    for q in (0.1, 0.5, 0.9):
        assert synth["spend"].quantile(q) == pytest.approx(data["spend"].quantile(q), abs=0.4)
    assert (synth["plan"] == "gold").mean() == pytest.approx((data["plan"] == "gold").mean(), abs=0.05)


def test_contexts_past_the_learned_range_or_unseen_give_finite_rows(model: GmmSynthesizer) -> None:
    given = pd.DataFrame(
        {"income": [1e12, -1e12, np.nan, 0.5] * 50, "region": ["north", "south", "west", "east"] * 50}
    )
    synth = model.sample(context=given, seed=5)
    assert len(synth) == 200 and synth["spend"].notna().all() and np.isfinite(synth["spend"]).all()
    assert set(synth["plan"]) <= {"gold", "basic"}
    ends = synth["spend"].to_numpy().reshape(50, 4).mean(axis=0)
    assert ends[0] > 4.0 and ends[1] < -4.0  # as the largest and smallest incomes learned


def test_the_conditional_draw_is_the_exact_conditional_mixture() -> None:
    # two components over (context, own); given the context at 1, the posterior weights and each
    # component's regression are known in closed form
    weights = np.array([0.3, 0.7])
    means = np.array([[0.0, 0.0], [2.0, 5.0]])
    covariances = np.array([[[1.0, 0.5], [0.5, 1.0]], [[0.5, -0.2], [-0.2, 0.4]]])
    c = 1.0
    density = np.exp(-0.5 * (c - means[:, 0]) ** 2 / covariances[:, 0, 0]) / np.sqrt(covariances[:, 0, 0])
    posterior = weights * density / (weights * density).sum()
    mean = means[:, 1] + covariances[:, 0, 1] / covariances[:, 0, 0] * (c - means[:, 0])
    variance = covariances[:, 1, 1] - covariances[:, 0, 1] ** 2 / covariances[:, 0, 0]
    n = 200_000
    draws = _conditional_draw(
        weights, means, covariances, [0], [1], np.full((n, 1), c), n, np.random.default_rng(0)
    )[:, 0]
    expected_mean = float(posterior @ mean)
    expected_variance = float(posterior @ (variance + mean**2)) - expected_mean**2
    assert draws.mean() == pytest.approx(expected_mean, abs=0.01)
    assert draws.var() == pytest.approx(expected_variance, rel=0.02)
    far = _conditional_draw(
        weights, means, covariances, [0], [1], np.full((10, 1), 1e6), 10, np.random.default_rng(0)
    )
    assert np.isfinite(far).all()  # one component holds all the posterior weight, none overflows


def test_the_model_file_holds_the_joint_mixture_and_the_context_marginals(
    model: GmmSynthesizer, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    model.save(buffer)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    arrays = load(archive.read("arrays.safetensors"))
    k, own = model.n_components_, len(model.subcolumns_)
    width = model.context_width_
    assert width == 2  # income and region
    assert arrays["engine.means"].shape == (k, width + own)
    assert arrays["engine.calibration"].shape[0] == own
    assert {f"engine.context_marginal.{j}" for j in range(width)} <= set(arrays)
    _, context = families(300, seed=9)
    loaded = mirage.load(buffer.getvalue())
    pd.testing.assert_frame_equal(
        loaded.sample(context=context, seed=6), model.sample(context=context, seed=6)
    )

    (tmp_path / "m.mirage").write_bytes(buffer.getvalue())
    broken = edit_manifest(
        tmp_path / "m.mirage",
        tmp_path / "broken.mirage",
        lambda manifest: manifest["state"]["engine"].update(context_width=1),
    )
    with pytest.raises(ModelFileError, match="context_width"):
        mirage.load(broken)


def test_what_a_context_does_not_support_yet_says_so(model: GmmSynthesizer) -> None:
    data, context = families(100)
    with pytest.raises(OptionError, match="impute of a model fitted with a context is not supported"):
        model.impute(data.assign(spend=np.nan))
    with pytest.raises(OptionError, match="scenario cannot be combined with a context"):
        model.sample(context=context, scenario={"set": {"plan": "gold"}})
    with pytest.raises(OptionError, match="conditions cannot be combined with a context"):
        model.sample(context=context, conditions={"plan": "gold"})


def test_a_child_with_no_learned_column_gives_its_rows() -> None:
    _, context = families(200)
    data = pd.DataFrame({"row_id": [f"C{i:05d}" for i in range(200)]})
    model = GmmSynthesizer().fit(data, context=context)
    synth = model.sample(context=context.head(30), seed=1)
    assert len(synth) == 30 and list(synth.columns) == ["row_id"]
    buffer = io.BytesIO()
    model.save(buffer)
    pd.testing.assert_frame_equal(
        mirage.load(buffer.getvalue()).sample(context=context.head(30), seed=1), synth
    )


def test_the_memorisation_guard_runs_given_the_context() -> None:
    data, context = families(600, seed=3)
    model = GmmSynthesizer(max_dcr_share=0.6).fit(data, context=context)
    assert model.training_["guard"]["readings"]
    assert len(model.sample(context=context.head(50), seed=1)) == 50
