"""Exact conditions: a conditioned sample keeps the conditional distribution of the other columns, an
impossible condition is refused naming it, and imputation draws missing cells given the rest."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.engines import ENGINES, Between, IsNull, Synthesizer
from mirage.errors import MirageError, OptionError
from tests.conformance import FULL
from tests.conformance.test_check_engine import PARAMS

NATIVE = ["cart", "copula"]  # fast enough to fit on Adult in the default suite; argn is marked slow


def _stats(frame: pd.DataFrame) -> dict[str, float]:
    return {
        "hours": float(frame["hours_per_week"].mean()),
        "rich": float((frame["income"] == ">50K").mean()),
    }


CASES: dict[str, tuple[dict[str, object], Callable[[pd.DataFrame], pd.Series]]] = {
    "sex": ({"sex": "Female"}, lambda f: f["sex"] == "Female"),
    "age": ({"age": Between(20, 29)}, lambda f: f["age"].between(20, 29)),
    # two conditioned columns: copula's Gibbs sweeps, cart's prefix through both
    "both": (
        {"age": Between(30, 45), "sex": "Female"},
        lambda f: f["age"].between(30, 45) & (f["sex"] == "Female"),
    ),
}


@pytest.fixture(scope="module", params=NATIVE)
def fitted(request: pytest.FixtureRequest, adult: pd.DataFrame) -> Synthesizer:
    return ENGINES[request.param](seed=0, **PARAMS.get(request.param, {})).fit(adult)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_conditioned_sample_is_the_models_conditional(fitted: Synthesizer, case: str) -> None:
    """Drawn natively, the other columns follow the model's own conditional distribution: the same as
    its unconditioned rows filtered on the condition (rejection), within sampling error."""
    assert fitted.get_tags().native_conditions
    conditions, where = CASES[case]
    native = fitted.sample(3_000, seed=1, conditions=conditions)
    assert len(native) == 3_000 and where(native).all()
    unconditioned = fitted.sample(30_000, seed=9)
    filtered = unconditioned[where(unconditioned)]
    got, expected = _stats(native), _stats(filtered)
    assert abs(got["hours"] - expected["hours"]) < 1.0, (got, expected)
    assert abs(got["rich"] - expected["rich"]) < 0.03, (got, expected)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_conditioned_sample_moves_towards_the_real_conditional(
    fitted: Synthesizer, adult: pd.DataFrame, case: str
) -> None:
    """Women work fewer hours and earn >50K less often; so do people in their twenties.  The
    conditioned sample sits closer to the real conditional than the real marginal does."""
    conditions, where = CASES[case]
    native = _stats(fitted.sample(3_000, seed=2, conditions=conditions))
    real, marginal = _stats(adult[where(adult)]), _stats(adult)
    for name in ("hours", "rich"):
        assert abs(native[name] - real[name]) < abs(marginal[name] - real[name]), (name, native, real)


def test_a_condition_of_one_percent_is_drawn_without_running_out(
    fitted: Synthesizer, adult: pd.DataFrame
) -> None:
    rare = {"age": Between(70, None), "sex": "Female"}
    share = float((adult["age"].ge(70) & adult["sex"].eq("Female")).mean())
    assert share < 0.01
    synth = fitted.sample(500, seed=3, conditions=rare)
    assert len(synth) == 500 and (synth["age"] >= 70).all() and (synth["sex"] == "Female").all()


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_an_impossible_condition_is_an_error_naming_it(name: str) -> None:
    rng = np.random.default_rng(0)
    rows = 400
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "blue"], rows).astype(object),
            "size": rng.normal(10.0, 2.0, rows).round(2),
        }
    )
    frame.loc[:4, "colour"] = "violet"  # five rows: folded into the rare class
    model = ENGINES[name](**PARAMS.get(name, {})).fit(frame)
    cases = [
        ({"colour": "green"}, r"column 'colour' never takes \['green'\]"),
        ({"colour": "violet"}, r"column 'colour' never takes \['violet'\].*folded into the rare class"),
        ({"size": Between(100, 200)}, r"column 'size' takes no value in the range \[100.0, 200.0\]"),
        ({"size": IsNull()}, r"column 'size' is never missing in this model"),
    ]
    for conditions, message in cases:
        with pytest.raises(MirageError, match=message):
            model.sample(10, seed=1, conditions=conditions)


@pytest.mark.parametrize("name", NATIVE)
def test_impute_draws_a_cell_given_the_columns_after_it_too(name: str, adult: pd.DataFrame) -> None:
    """``sex`` comes before ``relationship`` in cart's order; imputed given a known Husband or Wife,
    it follows the relationship all the same."""
    model = ENGINES[name](seed=0, **FULL.get(name, {})).fit(adult)
    rows = adult[adult["relationship"].isin(["Husband", "Wife"])].head(400).copy()
    holed = rows.assign(sex=None)
    filled = model.impute(holed, seed=4)
    husband = filled["relationship"] == "Husband"
    assert (filled.loc[husband, "sex"] == "Male").mean() > 0.8
    assert (filled.loc[~husband, "sex"] == "Female").mean() > 0.5
    pd.testing.assert_frame_equal(model.impute(holed, seed=4), filled)


@pytest.fixture(scope="module")
def argn(adult: pd.DataFrame) -> Synthesizer:
    return ENGINES["argn"](seed=0).fit(adult)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_argn_conditioned_sample_moves_towards_the_real_conditional(
    argn: Synthesizer, adult: pd.DataFrame, case: str
) -> None:
    model = argn
    conditions, where = CASES[case]
    native = _stats(model.sample(3_000, seed=2, conditions=conditions))
    real, marginal = _stats(adult[where(adult)]), _stats(adult)
    for name in ("hours", "rich"):
        assert abs(native[name] - real[name]) < abs(marginal[name] - real[name]), (name, native, real)


def test_a_tuple_is_a_range_on_numbers_and_a_set_elsewhere() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 600),
            "country": rng.choice(["FR", "DE", "ES", "IT"], 600),
        }
    )
    model = mirage.fit(data, engine="cart", seed=0)
    rows = model.sample(300, seed=1, conditions={"age": (30, 40), "country": ("FR", "DE")})
    assert rows["age"].between(30, 40).all()
    assert set(rows["country"]) <= {"FR", "DE"}
    assert rows["age"].nunique() > 2  # a range, not the two values 30 and 40
    with pytest.raises(OptionError, match="a tuple is a range \\(low, high\\), got 3 values"):
        model.sample(10, seed=1, conditions={"age": (30, 35, 40)})


@pytest.mark.parametrize("engine", ["cart", "copula"])
def test_a_date_range_on_dates_stored_as_text(engine: str) -> None:
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, 500), unit="D")
    data = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "x": rng.normal(size=500)})
    model = mirage.fit(data, engine=engine, seed=0)
    rows = model.sample(200, seed=1, conditions={"day": Between("2024-03-01", "2024-06-30")})
    parsed = pd.to_datetime(rows["day"])
    assert parsed.between("2024-03-01", "2024-06-30").all()


@pytest.fixture(scope="module")
def tiny_argn(adult: pd.DataFrame) -> Synthesizer:
    """An argn trained one epoch: its any-order conditionals are far from its schema-order joint."""
    columns = ["age", "education", "relationship", "sex", "hours_per_week", "income"]
    return ENGINES["argn"](seed=0, max_epochs=1).fit(adult.head(1_500)[columns])


def _same_distribution(a: pd.Series, b: pd.Series) -> float:
    """The chi-square test's p-value that ``a`` and ``b`` are drawn from one categorical distribution."""
    from scipy.stats import chi2_contingency

    values = pd.concat([a, b], ignore_index=True).astype(str).to_numpy()
    source = np.r_[np.zeros(len(a)), np.ones(len(b))]
    return float(chi2_contingency(pd.crosstab(source, values))[1])


ARGN_CASES: dict[str, tuple[dict[str, object], Callable[[pd.DataFrame], pd.Series], str]] = {
    # income is argn's last column: its conditioned rows used to follow the any-order conditional
    "income": ({"income": ">50K"}, lambda f: f["income"] == ">50K", "relationship"),
    "range": ({"hours_per_week": Between(45, None)}, lambda f: f["hours_per_week"] >= 45, "sex"),
    "both": (
        {"income": ">50K", "age": Between(None, 40)},
        lambda f: (f["income"] == ">50K") & (f["age"] <= 40),
        "relationship",
    ),
}


@pytest.mark.parametrize("case", sorted(ARGN_CASES))
def test_argn_conditioned_rows_are_its_own_rows_filtered(tiny_argn: Synthesizer, case: str) -> None:
    """A column before the conditioned one keeps the distribution the model's own rows meeting the
    condition have (chi-square, p > 0.001): conditioning follows the schema-order joint argn samples."""
    conditions, where, column = ARGN_CASES[case]
    native = tiny_argn.sample(5_000, seed=1, conditions=conditions)
    assert len(native) == 5_000 and where(native).all()
    unconditioned = tiny_argn.sample(40_000, seed=9)
    filtered = unconditioned[where(unconditioned)]
    assert _same_distribution(native[column], filtered[column]) > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_argn_conditioned_sample_is_the_models_conditional(argn: Synthesizer, case: str) -> None:
    conditions, where = CASES[case]
    native = argn.sample(3_000, seed=1, conditions=conditions)
    assert len(native) == 3_000 and where(native).all()
    unconditioned = argn.sample(30_000, seed=9)
    got, expected = _stats(native), _stats(unconditioned[where(unconditioned)])
    assert abs(got["hours"] - expected["hours"]) < 1.0, (got, expected)
    assert abs(got["rich"] - expected["rich"]) < 0.03, (got, expected)
