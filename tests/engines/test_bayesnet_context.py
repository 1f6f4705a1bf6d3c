"""``bayesnet`` given a context: context sub-columns as parent-only nodes of the network."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.engines import BayesNetSynthesizer
from mirage.engines.bayesnet import learn_structure
from mirage.errors import ModelFileError, OptionError

SHARES = {"a": [0.7, 0.2, 0.1], "b": [0.1, 0.7, 0.2], "c": [0.2, 0.1, 0.7]}
KINDS = ["u", "v", "w"]


def family(rows: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Child rows (``kind``, whose shares depend on the parent's ``group``; ``amount``, about ten times
    the parent's ``size``; ``noise``, independent) and their parent rows (``group``, ``size``)."""
    rng = np.random.default_rng(seed)
    group = rng.choice(list(SHARES), rows)
    size = rng.uniform(1.0, 9.0, rows).round(2)
    cumulative = np.cumsum([SHARES[g] for g in group], axis=1)
    kind = np.array(KINDS)[(rng.random(rows)[:, None] >= cumulative).sum(axis=1).clip(max=2)]
    amount = (10.0 * size + rng.normal(scale=2.0, size=rows)).round(1)
    noise = rng.choice(["x", "y"], rows)
    return pd.DataFrame({"kind": kind, "amount": amount, "noise": noise}), pd.DataFrame(
        {"group": group, "size": size}
    )


def _fitted(**params: Any) -> BayesNetSynthesizer:
    data, context = family()
    return BayesNetSynthesizer(**params).fit(data, context=context)


@pytest.mark.parametrize("structure", ["hill_climb", "chow_liu"])
def test_a_child_column_keeps_its_dependence_on_a_parent_column(structure: str) -> None:
    model = _fitted(structure=structure)
    graph = json.loads(json.dumps(model.graph_))
    context_nodes = {n["name"] for n in graph["nodes"] if n.get("context")}
    assert {n["column"] for n in graph["nodes"] if n.get("context")} == {"group", "size"}
    assert not any(child in context_nodes for _, child in graph["edges"])  # parents only
    assert ["group", "kind"] in graph["column_edges"]
    assert ["size", "amount"] in graph["column_edges"]
    _, context = family(3000, seed=1)  # parent rows the model never saw
    synth = model.sample(context=context, seed=2)
    shares = pd.crosstab(context["group"], synth["kind"], normalize="index").loc[list(SHARES), KINDS]
    np.testing.assert_allclose(shares.to_numpy(), np.array(list(SHARES.values())), atol=0.06)
    assert np.corrcoef(context["size"], synth["amount"])[0, 1] > 0.9
    assert (synth["noise"] == "x").mean() == pytest.approx(0.5, abs=0.04)


def test_without_a_context_nothing_is_a_context_node() -> None:
    data, context = family()
    plain = BayesNetSynthesizer().fit(pd.concat([data, context], axis=1))
    assert not any("context" in n for n in plain.graph_["nodes"])
    assert plain.context_discretiser_ is None


def test_a_context_value_past_the_learned_bins_counts_in_the_nearest() -> None:
    model = _fitted()
    edge = pd.DataFrame({"group": ["a"] * 300, "size": [9.0] * 300})
    far = edge.assign(size=1000.0)
    pd.testing.assert_frame_equal(model.sample(context=far, seed=4), model.sample(context=edge, seed=4))
    low = model.sample(context=edge.assign(size=-1000.0), seed=4)
    assert low["amount"].mean() < 30.0 < model.sample(context=far, seed=4)["amount"].mean()


def test_an_unseen_context_category_is_drawn_as_the_encoder_codes_it() -> None:
    model = _fitted()
    known = pd.DataFrame({"group": ["a", "b", "c"] * 100, "size": [5.0] * 300})
    unseen = known.assign(group="never seen")
    synth = model.sample(context=unseen, seed=5)
    assert len(synth) == 300 and synth.notna().all().all()
    assert set(synth["kind"]) <= set(KINDS)


def test_the_model_file_keeps_the_context_nodes_and_the_draws() -> None:
    model = _fitted(structure="chow_liu")
    _, context = family(500, seed=3)
    loaded = mirage.load(_saved(model))
    assert loaded.graph_ == model.graph_
    drawn = model.sample(context=context, seed=6)
    pd.testing.assert_frame_equal(loaded.sample(context=context, seed=6), drawn)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(_saved(model))).read("manifest.json"))
    assert "context_discretiser" in manifest["state"]["engine"]


def test_a_broken_context_in_a_model_file_is_named() -> None:
    saved = _saved(_fitted())

    def edited(edit: Any) -> bytes:
        source = zipfile.ZipFile(io.BytesIO(saved))
        manifest = json.loads(source.read("manifest.json"))
        edit(manifest["state"])
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            target.writestr("manifest.json", json.dumps(manifest))
            target.writestr("arrays.safetensors", source.read("arrays.safetensors"))
        return out.getvalue()

    def no_bins(state: dict[str, Any]) -> None:
        del state["engine"]["context_discretiser"]

    with pytest.raises(ModelFileError, match=r"state\.engine\.context_discretiser: missing"):
        mirage.load(edited(no_bins))

    def no_context(state: dict[str, Any]) -> None:
        del state["context"]

    with pytest.raises(ModelFileError, match=r"state\.engine\.context_discretiser: a model fitted without"):
        mirage.load(edited(no_context))

    def context_child(state: dict[str, Any]) -> None:
        state["engine"]["graph"]["edges"].append(["kind::code#code", "group::code#code"])

    with pytest.raises(ModelFileError, match=r"edges\.\d+: context token 'group::code#code' cannot have"):
        mirage.load(edited(context_child))


def test_what_a_context_model_cannot_do_yet_says_so() -> None:
    model = _fitted()
    data, context = family(50, seed=7)
    with pytest.raises(OptionError, match="log_prob of a model fitted with a context is not supported"):
        model.log_prob(data)
    with pytest.raises(OptionError, match="impute of a model fitted with a context is not supported"):
        model.impute(data.assign(kind=None))
    with pytest.raises(OptionError, match="a scenario cannot be combined with a context"):
        model.sample(context=context, scenario={"set": {"kind": "u"}})


def test_the_memorisation_guard_reads_its_folds_given_their_context() -> None:
    data, context = family(600, seed=8)
    model = BayesNetSynthesizer(max_dcr_share=0.99).fit(data, context=context)
    assert model.training_["guard"]["met"]
    assert ["group", "kind"] in model.graph_["column_edges"]


def test_context_columns_are_parents_only_in_the_structure_search() -> None:
    rng = np.random.default_rng(0)
    context = rng.integers(0, 3, 3000)
    own = np.where(rng.random(3000) < 0.9, context, rng.integers(0, 3, 3000))
    tokens = np.column_stack([own, rng.integers(0, 2, 3000), context])
    cards = np.array([3, 2, 3])
    for method in ("hill_climb", "chow_liu"):
        parents = learn_structure(tokens, cards, [None, None], method=method)
        assert len(parents) == 2  # the own nodes' parents; the context node has none
        assert parents[0] == (2,), method
    # with no learned parent allowed, nothing depends on the context
    assert learn_structure(tokens, cards, [None, None], max_parents=0) == [(), ()]


def _saved(model: BayesNetSynthesizer) -> bytes:
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()
