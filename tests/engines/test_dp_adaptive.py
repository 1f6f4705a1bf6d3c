"""The dp engine's adaptive selection (``selection="aim"``): junction trees, the mirror-descent estimate,
the network read off it, and the ledger of a fit."""

from __future__ import annotations

import io
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from mirage.engines.dp import DPSynthesizer
from mirage.engines.dp._adaptive import fit_adaptive
from mirage.engines.dp._junction_tree import calibrate, junction_tree, sum_onto
from mirage.engines.dp._mirror_descent import Measurement, estimate
from mirage.engines.dp._network import NetworkModel, network_from_tree
from mirage.errors import OptionError
from mirage.model_file import load_model
from mirage.privacy import Ledger
from mirage.schema import infer_schema

pytest.importorskip("opendp")

CARDS = [2, 3, 2, 4, 3]
CLIQUES = [(0, 1, 2), (1, 3), (2, 3), (3, 4)]  # (1, 3) and (2, 3) with (1, 2): a cycle to triangulate


def brute_joint(potentials: dict[tuple[int, ...], np.ndarray], cards: list[int]) -> np.ndarray:
    """exp(sum of potentials) over every configuration, normalised (the distribution by definition)."""
    log = np.zeros(cards)
    for clique, theta in potentials.items():
        shape = [cards[a] if a in clique else 1 for a in range(len(cards))]
        log = log + theta.reshape(shape)
    joint = np.exp(log - log.max())
    return joint / joint.sum()


def random_potentials(seed: int) -> dict[tuple[int, ...], np.ndarray]:
    rng = np.random.default_rng(seed)
    return {c: rng.normal(0, 1, [CARDS[a] for a in c]) for c in CLIQUES}


def test_the_junction_tree_holds_every_clique_and_keeps_running_intersection() -> None:
    tree = junction_tree(len(CARDS), CLIQUES, CARDS)
    for clique in CLIQUES:
        assert set(clique) <= set(tree.cliques[tree.home(clique)])
    assert sorted(tree.order) == list(range(len(tree.cliques)))
    assert sum(p < 0 for p in tree.parent) == 1
    # running intersection: the cliques holding an attribute are connected in the tree
    for a in range(len(CARDS)):
        holding = {c for c, members in enumerate(tree.cliques) if a in members}
        roots = [c for c in holding if tree.parent[c] not in holding]
        assert len(roots) == 1, (a, tree)


def test_belief_propagation_gives_the_exact_clique_marginals() -> None:
    potentials = random_potentials(0)
    tree = junction_tree(len(CARDS), CLIQUES, CARDS)
    theta = [np.zeros([CARDS[a] for a in c]) for c in tree.cliques]
    for clique, values in potentials.items():
        h = tree.home(clique)
        shape = [CARDS[a] if a in clique else 1 for a in tree.cliques[h]]
        theta[h] = theta[h] + values.reshape(shape)
    marginals = calibrate(tree, theta, 1000.0)
    joint = brute_joint(potentials, CARDS) * 1000.0
    for clique, marginal in zip(tree.cliques, marginals, strict=True):
        np.testing.assert_allclose(marginal, sum_onto(joint, tuple(range(len(CARDS))), clique), rtol=1e-9)


def test_mirror_descent_recovers_marginals_measured_without_noise() -> None:
    """Exact marginals of a distribution that factors over the measured cliques: the estimate's must
    come back to them (the Gaussian likelihood is minimised at zero there)."""
    joint = brute_joint(random_potentials(1), CARDS) * 5000.0
    everything = tuple(range(len(CARDS)))
    measured = [*((a,) for a in range(len(CARDS))), *CLIQUES]
    measurements = [
        Measurement(c, sum_onto(joint, everything, c), np.ones([CARDS[a] for a in c])) for c in measured
    ]
    tree = junction_tree(len(CARDS), CLIQUES, CARDS)
    fitted = estimate(tree, measurements, CARDS, 5000.0, 400)
    for c in measured:
        np.testing.assert_allclose(fitted.project(c), sum_onto(joint, everything, c), atol=0.5)
    assert fitted.losses[-1] < 1e-3 * fitted.losses[0]


def test_a_warm_start_on_a_larger_tree_keeps_the_distribution() -> None:
    tree = junction_tree(len(CARDS), CLIQUES[:2], CARDS)
    joint = brute_joint(random_potentials(2), CARDS) * 100.0
    measurements = [Measurement(c, sum_onto(joint, tuple(range(5)), c), np.ones(1)) for c in CLIQUES[:2]]
    first = estimate(tree, measurements, CARDS, 100.0, 30)
    larger = junction_tree(len(CARDS), [*tree.cliques, (2, 3, 4)], CARDS)
    same = estimate(larger, measurements, CARDS, 100.0, 0, start=first)
    for c in CLIQUES[:2]:
        np.testing.assert_allclose(same.project(c), first.project(c), rtol=1e-9)


def test_the_network_read_off_the_tree_has_the_trees_joint() -> None:
    potentials = random_potentials(3)
    tree = junction_tree(len(CARDS), CLIQUES, CARDS)
    joint = brute_joint(potentials, CARDS)
    marginals = [sum_onto(joint, tuple(range(5)), c) * 10.0 for c in tree.cliques]
    order, parents, tables, one_ways = network_from_tree(tree, marginals, CARDS)
    network = NetworkModel(CARDS, order, parents, tables, one_ways, 10.0)
    product = np.ones(CARDS)
    for values in itertools.product(*(range(k) for k in CARDS)):
        p = 1.0
        for a in range(len(CARDS)):
            row = 0
            for q in parents[a]:  # the table's rows: the parents' values, the first one slowest
                row = row * CARDS[q] + values[q]
            p *= tables[a][row, values[a]]
        product[values] = p
    np.testing.assert_allclose(product, joint, atol=1e-12)
    draws = network.sample(20_000, np.random.default_rng(0))
    shares = np.bincount(draws[:, 3], minlength=4) / 20_000
    np.testing.assert_allclose(shares, sum_onto(joint, tuple(range(5)), (3,)), atol=0.02)


def correlated(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, rows)
    b = (a + rng.integers(0, 2, rows)) % 4
    c = (a + b + (rng.random(rows) < 0.1)) % 3
    amount = np.round(10.0 * c + rng.gamma(2.0, 2.0, rows), 2)
    return pd.DataFrame(
        {"a": [f"A{x}" for x in a], "b": [f"B{x}" for x in b], "c": [f"C{x}" for x in c], "amount": amount}
    )


def test_the_ledger_of_an_adaptive_fit_adds_up_to_its_budget() -> None:
    """Whatever the noise picks, the charges sum to the rho given (the last round takes what is left),
    and each round is one selection and one measurement."""
    rng = np.random.default_rng(4)
    fine = np.stack([rng.integers(0, k, 400) for k in (3, 4, 3, 6)], axis=1)
    ledger = Ledger(3.0, 1e-9)
    ledger.spend("something before", 0.01, mechanism="gaussian", sigma=1.0)
    before = ledger.rho_spent
    model = fit_adaptive(fine, [3, 4, 3, 6], [False] * 4, ledger, 0.02, 10_000, 16, ["a", "b", "c", "d"])
    spent = list(ledger.entries)
    assert math.isclose(math.fsum(e.rho for e in spent), 0.02 + before, rel_tol=1e-12)
    assert [e.what for e in spent[1:5]] == [f"1-way marginal {n}" for n in "abcd"]
    rounds = spent[5:]
    assert len(rounds) % 2 == 0 and len(rounds) >= 2
    for selection, measurement in zip(rounds[::2], rounds[1::2], strict=True):
        assert selection.what.startswith("selection of marginal") and selection.mechanism == "exponential"
        assert measurement.mechanism == "gaussian" and "-way marginal" in measurement.what
        assert measurement.sigma == pytest.approx(1.0 / math.sqrt(2.0 * measurement.rho))
    assert sorted(model.order) == [0, 1, 2, 3]
    assert model.sample(10, np.random.default_rng(0)).shape == (10, 4)


def test_the_engine_with_adaptive_selection_spends_its_budget_and_round_trips() -> None:
    data = correlated(600)
    model = DPSynthesizer(epsilon=3.0, selection="aim").fit(data, infer_schema(data))
    ledger = model.ledger_
    assert ledger.epsilon_spent == pytest.approx(3.0, rel=1e-9) and ledger.epsilon_spent <= 3.0 * (1 + 1e-12)
    assert any(e.what.startswith("selection of marginal") for e in ledger.entries)
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = load_model(buffer.getvalue())
    assert isinstance(loaded, DPSynthesizer) and loaded.selection == "aim"
    pd.testing.assert_frame_equal(loaded.sample(300, seed=5), model.sample(300, seed=5))
    assert set(model.sample(2000, seed=1)["a"]) <= {"A0", "A1", "A2"}
    # an intervention redraws what the network puts below the column set, given it
    fixed = model.sample(300, seed=1, scenario={"set": {"a": "A1"}})
    assert (fixed["a"] == "A1").all() and set(fixed["b"]) <= {"B0", "B1", "B2", "B3"}


def test_an_unknown_selection_names_the_option() -> None:
    with pytest.raises(OptionError, match="selection"):
        DPSynthesizer(selection="greedy").fit(correlated(100))


def test_counts_the_noise_drowned_are_spread_evenly_over_the_domain() -> None:
    from mirage.engines.dp._tree import even_where_drowned

    counts = [np.array([50.0, 30.0, 20.0]), np.array([-4.0, 0.0, -9.0, -1.0]), np.array([120.0, -20.0])]
    even, drowned = even_where_drowned(counts)
    assert drowned == [1]
    np.testing.assert_array_equal(even[1], np.full(4, 25.0))  # the others' mean total, 100, over 4
    assert even[0] is counts[0] and even[2] is counts[2]


@pytest.mark.parametrize("selection", ["tree", "aim"])
def test_a_declared_domain_is_never_refused_at_a_tiny_epsilon(selection: str) -> None:
    """At epsilon 0.01 on 300 rows no category of a column passes a release threshold, and a range
    cannot be estimated; declared, they cost nothing and the fit goes on (drowned marginals are drawn
    evenly over the declared categories, with a warning naming the column)."""
    data = correlated(300).assign(children=np.random.default_rng(0).integers(0, 6, 300))
    schema = infer_schema(data)
    for column in schema:
        if column.name in ("a", "b", "c", "children"):
            column.categories = sorted(data[column.name].unique().tolist())
    for column in schema:
        if column.name == "amount":
            column.minimum, column.maximum = 0.0, 100.0
    model = DPSynthesizer(epsilon=0.01, selection=selection).fit(data, schema)
    assert not [e for e in model.ledger_.entries if e.what.startswith(("categories", "range", "rare"))]
    synth = model.sample(500, seed=0)
    assert set(synth["children"]) <= set(range(6)) and set(synth["a"]) <= {"A0", "A1", "A2"}
    assert model.ledger_.epsilon_spent <= 0.01 * (1 + 1e-12)
