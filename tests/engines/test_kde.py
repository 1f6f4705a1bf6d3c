from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load

from mirage._warnings import MirageWarning
from mirage.engines import KdeSynthesizer
from mirage.errors import OptionError


def table(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kind = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
    x = rng.gamma(2.0, 10.0, rows) + np.where(kind == "a", 0.0, 30.0)
    return pd.DataFrame({"kind": kind, "x": np.round(x, 4), "y": np.round(x / 3 + rng.normal(size=rows), 4)})


def test_the_bandwidth_passes_the_dcr_check_and_the_readings_are_kept() -> None:
    model = KdeSynthesizer().fit(table())
    record = model.training_["kde"]
    assert record["readings"], record
    assert record["readings"][-1]["dcr_share"] <= 0.53
    assert record["bandwidth"] == pytest.approx(model.bandwidth_, rel=1e-5)
    # widening only ever grows the bandwidth chosen on the validation split
    bandwidths = [r["bandwidth"] for r in record["readings"]]
    assert bandwidths == sorted(bandwidths)


def test_the_model_file_holds_jittered_centres_not_training_rows() -> None:
    real = table()
    model = KdeSynthesizer().fit(real)
    buffer = io.BytesIO()
    model.save(buffer)
    arrays = load(zipfile.ZipFile(io.BytesIO(buffer.getvalue())).read("arrays.safetensors"))
    centres = model.space_.from_matrix(arrays["engine.centres"])
    assert len(arrays["engine.centres"]) == len(real)
    values = model.encoder_.decode(centres, len(real), np.random.default_rng(0))
    rows = set(map(tuple, real[["x", "y"]].to_numpy()))
    assert not any(tuple(r) in rows for r in values[["x", "y"]].to_numpy())
    for column in ("x", "y"):
        # only the ends of the value range (the rare_min_count-th smallest and largest) can recur
        assert values[column].isin(set(real[column])).mean() < 0.05, column


def test_a_table_it_cannot_learn_without_memorising_falls_back_to_independent_columns() -> None:
    # a limit of 0.5 less the margin: no kernel width reads below it, the last resort is kept
    frame = table(300, seed=1)
    with pytest.warns(MirageWarning, match="kde: even at bandwidth .* falls back to independent columns"):
        model = KdeSynthesizer(dcr_share_limit=0.5, bandwidth=0.01, code_bandwidth=0.0).fit(frame)
    assert model.training_["kde"]["fallback"] == "independent columns"
    assert model.code_bandwidth_ == 1.0
    synth = model.sample(3000, seed=2)
    # independent columns: kind no longer moves x
    assert abs(synth.loc[synth["kind"] == "a", "x"].mean() - synth.loc[synth["kind"] != "a", "x"].mean()) < 3


def test_without_the_check_the_given_bandwidths_are_kept() -> None:
    model = KdeSynthesizer(bandwidth=0.3, code_bandwidth=0.2, dcr_share_limit=None).fit(table())
    assert (model.bandwidth_, model.code_bandwidth_) == (0.3, 0.2)
    assert model.training_["kde"]["readings"] == []


@pytest.mark.parametrize("params", [{"bandwidth": 0}, {"code_bandwidth": 1.5}, {"dcr_share_limit": 0.4}])
def test_bad_hyperparameters_name_the_option(params: dict[str, float]) -> None:
    with pytest.raises(OptionError, match=next(iter(params))):
        KdeSynthesizer(**params).fit(table(50))


def test_a_scenario_is_refused_by_its_tag() -> None:
    model = KdeSynthesizer(dcr_share_limit=None).fit(table(200))
    assert not model.get_tags().scenario
    with pytest.raises(OptionError, match=r"the kde engine cannot sample a scenario .*scenario=False"):
        model.sample(10, seed=1, scenario={"set": {"kind": "a"}})


def test_a_width_one_fold_reads_far_above_the_limit_is_widened_without_the_other_folds() -> None:
    # a kernel far narrower than the data's spacing: its first fold reads clearly above the limit
    model = KdeSynthesizer(bandwidth=0.001, code_bandwidth=0.0, widen=4.0).fit(table())
    readings = model.training_["kde"]["readings"]
    assert readings[0]["dcr_share"] > 0.6 and readings[0]["folds"] == 1, readings
    assert readings[-1]["folds"] == 3 and readings[-1]["dcr_share"] <= 0.51, readings


def test_impute_draws_a_centre_with_the_kernel_weights_of_the_rows_known_cells() -> None:
    rng = np.random.default_rng(3)
    group = rng.choice(["a", "b"], 800)
    x = np.round(np.where(group == "a", 10.0, 30.0) + rng.normal(size=800), 3)
    data = pd.DataFrame({"group": group, "x": x})
    model = KdeSynthesizer(bandwidth=0.3, code_bandwidth=0.05, dcr_share_limit=None).fit(data)
    holed = data.head(400).copy()
    holed.loc[rng.random(400) < 0.4, "x"] = np.nan
    holed.loc[rng.random(400) < 0.3, "group"] = np.nan
    filled = model.impute(holed, seed=1)
    x_holes, group_holes = holed["x"].isna(), holed["group"].isna()
    assert filled.notna().all().all()
    kept = ~x_holes & ~group_holes
    pd.testing.assert_frame_equal(filled[kept], holed[kept])
    # an imputed x is drawn near the centres of the row's own group (the median: a kernel around a
    # centre at the edge of its group's scores crosses into the other's now and then, as in sampling)
    only_x = x_holes & ~group_holes
    for name, centre in (("a", 10.0), ("b", 30.0)):
        imputed = filled.loc[only_x & (holed["group"] == name), "x"]
        assert imputed.median() == pytest.approx(centre, abs=1.0)
        assert ((imputed - centre).abs() < 5.0).mean() > 0.75
    # an imputed group follows the row's x as often as the model's own rows' groups follow theirs (the
    # scores leave no gap between the groups, so a kernel near the edge of one reaches into the other)
    only_group = group_holes & ~x_holes
    expected = np.where(holed.loc[only_group, "x"] < 20.0, "a", "b")
    agreement = (filled.loc[only_group, "group"] == expected).mean()
    synth = model.sample(4000, seed=2)
    own = (synth["group"] == np.where(synth["x"] < 20.0, "a", "b")).mean()
    assert agreement == pytest.approx(own, abs=0.08)
    assert agreement > 0.8
    pd.testing.assert_frame_equal(model.impute(holed, seed=1), filled)


def test_the_check_reads_kdes_refitted_on_the_other_folds_with_the_setting_given() -> None:
    from mirage.engines._memorisation import MemorisationCheck

    data = table(300)
    model = KdeSynthesizer(dcr_share_limit=None).fit(data)
    rng = np.random.default_rng(0)
    folds = MemorisationCheck.folds_of(len(data), rng)
    check = MemorisationCheck(model, model.encoder_.encode(data), folds, rng, limit=0.53, seed=0)
    # a setting is the trial engines' hyperparameters: a near copy reads far above on its first fold
    share, passes, read = check.read({"bandwidth": 1e-4, "code_bandwidth": 0.0, "dcr_share_limit": None}, rng)
    assert share > 0.8 and not passes and read == 1
    # independent columns (each drawn from the marginal of the rows learned) copy no row
    share, _, read = check.read({"bandwidth": 1e6, "code_bandwidth": 1.0, "dcr_share_limit": None}, rng)
    assert share < 0.56 and read == 3
