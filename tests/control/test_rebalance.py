"""Rebalancing and fairness: exact row counts per value and per cell, for every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.control import sample_fair, sample_rebalanced
from mirage.control._cells import cell_counts, largest_remainder
from mirage.engines import ENGINES, Between, Synthesizer
from mirage.errors import OptionError
from tests.conformance.test_check_engine import PARAMS

ENGINE_NAMES = sorted(ENGINES)


def table(rows: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    sex = rng.choice(["F", "M"], rows, p=[0.35, 0.65])
    high = rng.random(rows) < np.where(sex == "M", 0.35, 0.12)
    region = rng.choice(["north", "south", "east"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    region[rng.random(rows) < 0.1] = None
    return pd.DataFrame(
        {
            "sex": sex,
            "income": np.where(high, ">50K", "<=50K"),
            "region": region,
            "hours": np.round(rng.normal(40, 8, rows) + 5 * high, 1),
            "member": rng.random(rows) < 0.4,
        }
    )


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def model(request: pytest.FixtureRequest) -> Synthesizer:
    return ENGINES[request.param](**PARAMS.get(request.param, {})).fit(table())


def test_a_share_is_met_exactly(model: Synthesizer) -> None:
    synth = model.sample(1001, seed=1, rebalance={"income": {">50K": 0.5}})
    assert len(synth) == 1001
    assert synth["income"].value_counts().to_dict() == {">50K": 501, "<=50K": 500}
    same = model.sample(1001, seed=1, rebalance={"income": {">50K": 0.5}})
    pd.testing.assert_frame_equal(synth, same)
    assert not synth["income"].iloc[:501].eq(">50K").all()  # the groups are shuffled together


def test_unnamed_values_share_the_rest(model: Synthesizer) -> None:
    synth = model.sample(1000, seed=2, rebalance={"region": {"east": 0.6}})
    counts = synth["region"].value_counts(dropna=False)
    assert counts["east"] == 600
    assert counts.sum() - counts["east"] == 400
    assert {"north", "south"} <= set(counts.index)
    # learned proportions among the rest: north (50%) outnumbers south (30%)
    assert counts["north"] > counts["south"]


def test_several_columns_meet_every_share(model: Synthesizer) -> None:
    shares = {"income": {">50K": 0.4}, "sex": {"F": 0.5}, "member": {True: 0.25}}
    synth = model.sample(997, seed=3, rebalance=shares)
    assert synth["income"].eq(">50K").sum() == round(0.4 * 997)
    assert synth["sex"].eq("F").sum() == largest_remainder(997, [0.5, 0.5])[0]
    assert synth["member"].astype(bool).sum() == round(0.25 * 997)
    # the cells are the products of the shares
    cells = pd.crosstab(synth["income"], synth["sex"])
    assert abs(cells.loc[">50K", "F"] - 997 * 0.4 * 0.5) <= 1


def test_fair_makes_the_outcome_independent(model: Synthesizer) -> None:
    data = table()
    synth = model.sample(2000, seed=4, fair={"outcome": "income", "protected": "sex"})
    p_sex = data["sex"].value_counts(normalize=True)
    p_income = data["income"].value_counts(normalize=True)
    cells = pd.crosstab(synth["sex"], synth["income"])
    for sex in ("F", "M"):
        for income in ("<=50K", ">50K"):
            assert abs(cells.loc[sex, income] - 2000 * p_sex[sex] * p_income[income]) <= 1
    rates = synth.groupby("sex")["income"].apply(lambda s: s.eq(">50K").mean())
    assert abs(rates["F"] - rates["M"]) < 0.01  # the real gap is about 0.23
    assert synth["income"].eq(">50K").sum() == largest_remainder(2000, p_income.sort_index().to_numpy())[1]


def test_conditions_combine_with_shares() -> None:
    model = ENGINES["cart"]().fit(table())
    shares = {"income": {">50K": 0.5}}
    synth = model.sample(300, seed=5, rebalance=shares, conditions={"hours": Between(30, 50)})
    assert synth["hours"].between(30, 50).all() and synth["income"].eq(">50K").sum() == 150
    with pytest.raises(OptionError, match="'income' is both conditioned and given shares"):
        model.sample(10, seed=1, rebalance={"income": {">50K": 0.5}}, conditions={"income": "<=50K"})


def test_missing_values_can_be_given_a_share() -> None:
    model = ENGINES["cart"]().fit(table())
    synth = sample_rebalanced(model, 400, {"region": {None: 0.25, "north": 0.25}}, seed=6)
    assert synth["region"].isna().sum() == 100 and synth["region"].eq("north").sum() == 100


def test_bad_shares_are_named() -> None:
    model = ENGINES["copula"]().fit(table())
    cases = [
        ({"income": {">50K": 0.7, "<=50K": 0.6}}, r"rebalance\['income'\]: the shares add up to 1.3, over 1"),
        ({"income": {"rich": 0.5}}, r"rebalance\['income'\]: column 'income' has no value 'rich'"),
        ({"hours": {40: 0.5}}, r"rebalance\['hours'\]: column 'hours' is numeric; .* Between\(low, high\)"),
        ({"nope": {"a": 0.5}}, r"rebalance\['nope'\]: unknown column 'nope'"),
        ({"income": {">50K": 1.5}}, r"the share of '>50K' must be a number from 0 to 1, got 1.5"),
        ({"income": {">50K": 0.3, "<=50K": 0.3}}, "add up to 0.6 but name every value of the column"),
        ({"income": {}}, r"rebalance\['income'\] must map values to shares"),
    ]
    for rebalance, message in cases:
        with pytest.raises(OptionError, match=message):
            model.sample(10, seed=1, rebalance=rebalance)
    with pytest.raises(OptionError, match="give rebalance or fair, not both"):
        model.sample(10, rebalance={"income": {">50K": 0.5}}, fair={"outcome": "income", "protected": "sex"})
    with pytest.raises(OptionError, match=r"fair\['protected'\]: column 'hours' is numeric"):
        sample_fair(model, 10, {"outcome": "income", "protected": "hours"})
    with pytest.raises(OptionError, match="fair must be"):
        sample_fair(model, 10, {"outcome": "income"})


def test_largest_remainder_by_hand() -> None:
    assert largest_remainder(10, [1 / 3, 1 / 3, 1 / 3]).tolist() == [4, 3, 3]
    assert largest_remainder(7, [0.5, 0.25, 0.25]).tolist() == [3, 2, 2]  # remainders .5, .75, .75
    assert largest_remainder(0, [0.5, 0.5]).tolist() == [0, 0]


def test_cell_counts_keep_every_margin() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 7, 101, 999):
        shares = [rng.dirichlet(np.ones(k)) for k in (3, 4, 2)]
        counts = cell_counts(n, shares)
        assert counts.sum() == n and counts.min() >= 0
        for axis, column in enumerate(shares):
            other = tuple(a for a in range(3) if a != axis)
            assert counts.sum(axis=other).tolist() == largest_remainder(n, column).tolist()
        exact = n * np.einsum("i,j,k->ijk", *shares)
        assert np.abs(counts - exact).max() < 2


def test_no_rows_gives_the_columns() -> None:
    model = ENGINES["cart"]().fit(table())
    empty = model.sample(0, seed=1, rebalance={"income": {">50K": 0.5}})
    assert len(empty) == 0 and list(empty.columns) == list(table().columns)
    with pytest.raises(OptionError, match="n must be a non-negative integer, got -1"):
        model.sample(-1, seed=1, fair={"outcome": "income", "protected": "sex"})


def test_numeric_ranges_get_their_shares() -> None:
    model = ENGINES["cart"](seed=0).fit(table())
    synth = model.sample(1000, seed=7, rebalance={"hours": {(20, 35): 0.5, "50..": 0.2}})
    assert synth["hours"].between(20, 35).sum() == 500
    assert synth["hours"].ge(50).sum() == 200
    rest = synth[~synth["hours"].between(20, 35) & ~synth["hours"].ge(50)]
    assert len(rest) == 300 and rest["hours"].between(35, 50, inclusive="neither").mean() > 0.9
    # the other columns follow the model given the range: long hours go with high income
    long_hours = synth[synth["hours"].ge(50)]["income"].eq(">50K").mean()
    short = synth[synth["hours"].between(20, 35)]["income"].eq(">50K").mean()
    assert long_hours > short
    same = model.sample(1000, seed=7, rebalance={"hours": {(20, 35): 0.5, "50..": 0.2}})
    pd.testing.assert_frame_equal(same, synth)
    overlap = r"rebalance\['hours'\]: the ranges \[20.0, 35.0\] and \[30.0, 40.0\] overlap"
    with pytest.raises(OptionError, match=overlap):
        model.sample(10, seed=1, rebalance={"hours": {(20, 35): 0.3, (30, 40): 0.3}})
    with pytest.raises(OptionError, match=r"rebalance\['hours'\]: condition on column 'hours': a range"):
        model.sample(10, seed=1, rebalance={"hours": {("a", 3): 0.3}})


def test_fair_with_several_protected_columns() -> None:
    """income independent of (sex, member) jointly: each combination's rate of >50K is the same, the
    combinations keep their shares, and the outcome its training share."""
    data = table(1500)
    model = ENGINES["cart"](seed=0).fit(data)
    synth = model.sample(3000, seed=8, fair={"outcome": "income", "protected": ["sex", "member"]})
    rates = synth.groupby(["sex", "member"])["income"].apply(lambda s: s.eq(">50K").mean())
    assert len(rates) == 4 and rates.max() - rates.min() < 0.01
    p_income = data["income"].eq(">50K").mean()
    assert abs(synth["income"].eq(">50K").sum() - 3000 * p_income) <= 1
    shares = synth.groupby(["sex", "member"]).size() / len(synth)
    real = data.groupby(["sex", "member"]).size() / len(data)
    assert (shares - real).abs().max() < 0.04
    with pytest.raises(OptionError, match="fair: the outcome and a protected column are both 'income'"):
        model.sample(10, seed=1, fair={"outcome": "income", "protected": ["sex", "income"]})
    with pytest.raises(OptionError, match=r"fair\['protected'\] must be a column or a list of columns"):
        model.sample(10, seed=1, fair={"outcome": "income", "protected": []})


def test_rebalance_under_a_scenario() -> None:
    model = ENGINES["cart"](seed=0).fit(table())
    synth = model.sample(400, seed=9, rebalance={"income": {">50K": 0.5}}, scenario={"shift": {"hours": 10}})
    assert synth["income"].eq(">50K").sum() == 200
    assert synth["hours"].mean() > table()["hours"].mean() + 7


def test_rebalanced_rows_stream_in_blocks() -> None:
    from mirage.control._rebalance import controlled_chunks

    model = ENGINES["cart"](seed=0).fit(table())
    shares = {"income": {">50K": 0.5}}
    one = model.sample(1001, seed=1, rebalance=shares)
    pd.testing.assert_frame_equal(pd.concat(list(model.sample_chunks(1001, seed=1, rebalance=shares))), one)
    chunks = list(
        controlled_chunks(
            model, 1001, seed=1, conditions=None, context=None, rebalance=shares, fair=None, block=300
        )
    )
    assert [len(c) for c in chunks] == [300, 300, 300, 101]
    assert sum(int(c["income"].eq(">50K").sum()) for c in chunks) == 501
    assert all(abs(c["income"].eq(">50K").mean() - 0.5) < 0.02 for c in chunks)  # each block its share
    with pytest.raises(OptionError, match=r"rebalance\['income'\]: column 'income' has no value 'rich'"):
        controlled_chunks(
            model, 10, seed=1, conditions=None, context=None, rebalance={"income": {"rich": 0.5}}, fair=None
        )  # refused when called, before any block is drawn
