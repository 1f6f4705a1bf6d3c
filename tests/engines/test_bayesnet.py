from __future__ import annotations

import io
import json
import math
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._warnings import MirageWarning
from mirage.engines import BayesNetSynthesizer
from mirage.engines.bayesnet import conditional_tables, count_families, learn_structure
from mirage.errors import ModelFileError, OptionError


def linked(rows: int = 1500, seed: int = 0) -> pd.DataFrame:
    """``a`` causes ``b`` (90% agreement), ``x`` is a number that follows ``a``; ``noise`` is independent."""
    rng = np.random.default_rng(seed)
    a = rng.choice(["p", "q"], rows)
    b = np.where(rng.random(rows) < 0.9, a, np.where(a == "p", "q", "p"))
    x = np.round(np.where(a == "p", 10.0, 30.0) + rng.normal(size=rows), 3)
    noise = rng.choice(["u", "v", "w"], rows)
    return pd.DataFrame({"a": a, "b": b, "x": x, "noise": noise})


def test_the_graph_links_what_depends_and_is_json() -> None:
    model = BayesNetSynthesizer().fit(linked())
    graph = json.loads(json.dumps(model.graph_))
    pairs = {frozenset(e) for e in graph["column_edges"]}
    assert frozenset({"a", "b"}) in pairs
    assert frozenset({"a", "x"}) in pairs or frozenset({"b", "x"}) in pairs
    assert not any("noise" in e for e in graph["column_edges"])
    # a continuous column's bin is always the parent of its sub-bin
    assert ["x::value#bin", "x::value#sub"] in graph["edges"]
    synth = model.sample(4000, seed=1)
    assert (synth["a"] == synth["b"]).mean() == pytest.approx(0.9, abs=0.03)
    assert synth.loc[synth["a"] == "p", "x"].mean() == pytest.approx(10.0, abs=1.0)
    assert synth.loc[synth["a"] == "q", "x"].mean() == pytest.approx(30.0, abs=1.0)


def test_the_graph_is_in_the_model_file_and_survives_a_round_trip() -> None:
    model = BayesNetSynthesizer(structure="chow_liu").fit(linked())
    buffer = io.BytesIO()
    model.save(buffer)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(buffer.getvalue())).read("manifest.json"))
    assert manifest["state"]["engine"]["graph"]["edges"] == model.graph_["edges"]
    loaded = mirage.load(buffer.getvalue())
    assert loaded.graph_ == model.graph_
    pd.testing.assert_frame_equal(loaded.sample(300, seed=4), model.sample(300, seed=4))


def test_chow_liu_gives_a_tree_over_the_columns() -> None:
    model = BayesNetSynthesizer(structure="chow_liu").fit(linked())
    parents = model.parents_
    assert sum(len(p) for p in parents) == len(parents) - 1 + 1  # the tree, plus x's bin -> sub-bin
    assert all(len(p) <= 2 for p in parents)


def test_a_cycle_in_an_edited_model_file_is_refused() -> None:
    buffer = io.BytesIO()
    BayesNetSynthesizer().fit(linked()).save(buffer)

    def edited(edit: Any) -> bytes:
        source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
        manifest = json.loads(source.read("manifest.json"))
        edit(manifest["state"]["engine"]["graph"])
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            target.writestr("manifest.json", json.dumps(manifest))
            target.writestr("arrays.safetensors", source.read("arrays.safetensors"))
        return out.getvalue()

    def cycle(graph: dict[str, Any]) -> None:
        graph["edges"].append(list(reversed(graph["edges"][0])))

    with pytest.raises(ModelFileError, match=r"state\.engine\.graph\.edges"):
        mirage.load(edited(cycle))

    def unknown(graph: dict[str, Any]) -> None:
        graph["edges"].append(["nope#code", "a::code#code"])

    with pytest.raises(ModelFileError, match=r"edges\.\d+.*parent token, child token"):
        mirage.load(edited(unknown))


def test_conditions_on_a_child_are_exact() -> None:
    # conditioning b (a child of a, or its parent) must give P(a | b) as learned, not P(a)
    model = BayesNetSynthesizer().fit(linked())
    synth = model.sample(3000, seed=2, conditions={"b": "p"})
    assert (synth["b"] == "p").all()
    assert (synth["a"] == "p").mean() == pytest.approx(0.9, abs=0.03)


def test_a_scenario_redraws_the_linked_column_whichever_way_the_edge_runs() -> None:
    model = BayesNetSynthesizer().fit(linked())
    for source, other in (("a", "b"), ("b", "a")):
        synth = model.sample(2000, seed=3, scenario={"set": {source: "q"}})
        assert (synth[source] == "q").all()
        assert (synth[other] == "q").mean() == pytest.approx(0.9, abs=0.04)


def test_the_three_steps_are_separate_functions() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 2000)
    tokens = np.column_stack([a, (a + (rng.random(2000) < 0.1)) % 3, rng.integers(0, 2, 2000)])
    cards = np.array([3, 3, 2])
    parents = learn_structure(tokens, cards, [None, None, None], score="k2", max_parents=1)
    assert parents[1] == (0,) or parents[0] == (1,)
    assert parents[2] == ()
    assert learn_structure(tokens, cards, [None, None, None], max_parents=0) == [(), (), ()]
    counts = count_families(tokens, cards, parents)
    assert sum(c.sum() for c in counts) == 3 * 2000
    tables = conditional_tables(counts, 1.0)
    assert all(np.allclose(t.sum(axis=1), 1.0) for t in tables)
    # a parent configuration never seen draws from the node's marginal; a code never seen stays unseen
    empty = conditional_tables([np.array([[5.0, 0.0, 5.0], [0.0, 0.0, 0.0]])], 1.0)[0]
    assert empty[1].tolist() == [0.5, 0.0, 0.5]


@pytest.mark.parametrize(
    "params", [{"structure": "tree"}, {"score": "aic"}, {"max_parents": -1}, {"smoothing": 0}]
)
def test_bad_hyperparameters_name_the_option(params: dict[str, Any]) -> None:
    with pytest.raises(OptionError, match=next(iter(params))):
        BayesNetSynthesizer(**params).fit(linked(50))


def test_the_memorisation_guard_cuts_learned_edges_until_the_limit_or_none_are_left() -> None:
    # a limit no table reads under: the ladder (2, 1, 1 smoother, 0 parents) is read at its weakest, middle
    # and strongest setting, and the last (no learned edge) is kept
    with pytest.warns(MirageWarning, match="bayesnet: even at max_parents=0"):
        model = BayesNetSynthesizer(max_dcr_share=0.05).fit(linked(150))
    record = model.training_["guard"]
    assert [r["setting"]["max_parents"] for r in record["readings"]] == [2, 1, 0]
    assert model.graph_["column_edges"] == []
    loaded = mirage.load(_saved(model))
    pd.testing.assert_frame_equal(loaded.sample(200, seed=1), model.sample(200, seed=1))
    # a limit the default already meets keeps it
    kept = BayesNetSynthesizer(max_dcr_share=0.99).fit(linked(150))
    assert kept.training_["guard"]["chosen"] == {"max_parents": 2, "smoothing": 0.5}
    assert kept.graph_["column_edges"]


def _saved(model: BayesNetSynthesizer) -> bytes:
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def holed(rows: int = 600, seed: int = 5) -> pd.DataFrame:
    """``linked`` with half of ``b`` and a third of ``x`` missing."""
    frame = linked(rows, seed)
    rng = np.random.default_rng(seed)
    frame.loc[rng.random(rows) < 0.5, "b"] = np.nan
    frame.loc[rng.random(rows) < 0.3, "x"] = np.nan
    return frame


def test_impute_draws_each_missing_cell_given_the_rest_of_its_row() -> None:
    data = holed()
    filled = BayesNetSynthesizer().fit(linked()).impute(data, seed=1)
    b, x = data["b"].isna(), data["x"].isna()
    assert filled.notna().all().all()
    pd.testing.assert_frame_equal(filled[~b & ~x], data[~b & ~x])
    # b follows a (90% agreement), x follows a (10 or 30): each drawn given the row's own a
    assert (filled.loc[b, "b"] == filled.loc[b, "a"]).mean() == pytest.approx(0.9, abs=0.06)
    assert filled.loc[x & (data["a"] == "p"), "x"].mean() == pytest.approx(10.0, abs=1.5)
    assert filled.loc[x & (data["a"] == "q"), "x"].mean() == pytest.approx(30.0, abs=1.5)


def test_log_prob_is_the_networks_exact_probability_of_a_row() -> None:
    data = linked()[["a", "b", "noise"]]
    model = BayesNetSynthesizer().fit(data)
    every = pd.DataFrame([(a, b, n) for a in "pq" for b in "pq" for n in "uvw"], columns=["a", "b", "noise"])
    assert np.exp(model.log_prob(every)).sum() == pytest.approx(1.0, abs=1e-9)
    agree = every[every["a"] == every["b"]].reset_index(drop=True)
    differ = agree.assign(b=np.where(agree["a"] == "p", "q", "p"))
    # b disagrees with a in 10% of rows: the odds of a disagreeing row, whichever way the edge runs
    assert np.exp(model.log_prob(differ) - model.log_prob(agree)) == pytest.approx(1 / 9, rel=0.25)


def two_numbers(rows: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Two temperatures in whole degrees (about 60 distinct values each) that move together (r ~ 0.9)."""
    rng = np.random.default_rng(seed)
    season = rng.normal(size=rows)
    high = np.round(16 + 9 * season + rng.normal(scale=3.0, size=rows))
    low = np.round(8 + 8 * season + rng.normal(scale=3.0, size=rows))
    return pd.DataFrame({"high": high, "low": low})


def test_numbers_with_a_few_dozen_values_keep_their_dependence() -> None:
    real = two_numbers()
    assert 40 <= real["high"].nunique() <= 100 and 40 <= real["low"].nunique() <= 100
    model = BayesNetSynthesizer().fit(real)
    assert frozenset({"high", "low"}) in {frozenset(e) for e in model.graph_["column_edges"]}
    synth = model.sample(len(real), seed=1)
    assert synth["high"].corr(synth["low"]) == pytest.approx(real["high"].corr(real["low"]), abs=0.15)


def test_a_number_with_a_few_dozen_values_has_at_most_n_bins_bins() -> None:
    model = BayesNetSynthesizer(n_bins=10).fit(two_numbers())
    bins = [node["cardinality"] for node in model.graph_["nodes"] if node["name"].endswith("#bin")]
    assert len(bins) == 2 and max(bins) <= 10
    synth = model.sample(1500, seed=1)
    assert (synth["high"] == np.round(synth["high"])).all()  # whole numbers still, as every training value


def test_a_model_file_of_one_code_per_value_still_loads_and_samples_as_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mirage.engines.bayesnet as bayesnet
    from mirage.encoding.discretise import Discretiser

    def one_code_per_value(**options: Any) -> Discretiser:  # the rule of model files before n_bins capped it
        return Discretiser(**{**options, "max_exact": 100})

    with monkeypatch.context() as patched:
        patched.setattr(bayesnet, "Discretiser", one_code_per_value)
        model = BayesNetSynthesizer(n_bins=10).fit(two_numbers())
    assert max(node["cardinality"] for node in model.graph_["nodes"]) > 10
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = mirage.load(buffer.getvalue())
    pd.testing.assert_frame_equal(loaded.sample(500, seed=2), model.sample(500, seed=2))


def test_sub_bins_none_chooses_each_numbers_bins_on_held_out_rows_and_keeps_its_marginal() -> None:
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(5)
    salary, title = rng.normal(40_000, 8_000, 700).round(), rng.choice(["a", "b"], 700)
    real = pd.DataFrame({"salary": salary, "title": title})
    fixed = BayesNetSynthesizer().fit(real)
    chosen = BayesNetSynthesizer(sub_bins=None).fit(real)
    rows = chosen.training_["bayesnet"]["bin_rows"]["salary::value"]
    assert rows >= 25 and "bayesnet" not in fixed.training_

    def pieces(model: BayesNetSynthesizer) -> int:
        return math.prod(n["cardinality"] for n in model.graph_["nodes"] if n["column"] == "salary")

    assert pieces(chosen) < pieces(fixed) / 2
    synth = chosen.sample(5_000, seed=1)
    assert ks_2samp(synth["salary"], real["salary"]).statistic < 0.06
    buffer = io.BytesIO()
    chosen.save(buffer)
    loaded = mirage.load(buffer.getvalue())
    assert loaded.training_["bayesnet"] == chosen.training_["bayesnet"]
    pd.testing.assert_frame_equal(loaded.sample(300, seed=2), chosen.sample(300, seed=2))
    again = BayesNetSynthesizer(sub_bins=None).fit(real)
    pd.testing.assert_frame_equal(again.sample(300, seed=2), chosen.sample(300, seed=2))
