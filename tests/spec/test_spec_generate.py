"""Generation from a single-table spec: marginals, copula, conditionals, nulls, rules, providers, blocks."""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mirage.errors import SchemaError
from mirage.spec import BLOCK_ROWS, generate, generate_chunks, spec_from_dict
from mirage.spec._generate import TableGenerator

N = 20_000
ALPHA = 0.001  # a handful of tests per distribution: a fixed seed, a low false-alarm rate


def table(columns: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"tables": {"t": {"rows": N, "columns": columns, **extra}}}


def frame(spec: dict[str, Any], seed: int = 1, **options: Any) -> pd.DataFrame:
    out = generate(spec_from_dict(spec), seed=seed, **options)
    assert isinstance(out, pd.DataFrame)
    return out


CONTINUOUS = {
    "normal": ({"type": "normal", "mean": 5, "std": 2}, stats.norm(5, 2).cdf),
    "lognormal": ({"type": "lognormal", "mu": 1, "sigma": 0.5}, stats.lognorm(0.5, scale=np.e).cdf),
    "uniform": ({"type": "uniform", "low": -1, "high": 3}, stats.uniform(-1, 4).cdf),
    "empirical": (
        {"type": "empirical", "quantiles": [0, 1, 5, 10]},
        lambda x: np.interp(x, [0, 1, 5, 10], [0, 1 / 3, 2 / 3, 1]),
    ),
    "mixture": (
        {
            "type": "mixture",
            "components": [
                {"weight": 0.7, "type": "normal", "mean": 0, "std": 1},
                {"weight": 0.3, "type": "normal", "mean": 6, "std": 0.5},
            ],
        },
        lambda x: 0.7 * stats.norm(0, 1).cdf(x) + 0.3 * stats.norm(6, 0.5).cdf(x),
    ),
}


@pytest.mark.parametrize("name", list(CONTINUOUS))
def test_continuous_marginals_pass_a_ks_test(name: str) -> None:
    declared, cdf = CONTINUOUS[name]
    x = frame(table({"x": {"distribution": declared}}))["x"]
    assert stats.kstest(x, cdf).pvalue > ALPHA


def test_min_and_max_truncate_exactly() -> None:
    x = frame(table({"x": {"distribution": {"type": "normal", "mean": 0, "std": 1}, "min": -0.5, "max": 2}}))[
        "x"
    ]
    assert x.min() >= -0.5 and x.max() <= 2
    base = stats.norm()
    lo, hi = base.cdf(-0.5), base.cdf(2)
    assert stats.kstest(x, lambda v: (base.cdf(v) - lo) / (hi - lo)).pvalue > ALPHA


def test_discrete_marginals_pass_a_chi_square_test() -> None:
    out = frame(
        table(
            {
                "visits": {"distribution": {"type": "poisson", "lam": 2.5}, "max": 8},
                "colour": {
                    "distribution": {"type": "categorical", "weights": {"red": 5, "green": 3, "blue": 2}}
                },
            }
        )
    )
    assert out["visits"].dtype == "int64" and out["visits"].max() <= 8
    k = np.arange(9)
    p = stats.poisson(2.5).pmf(k)
    observed = out["visits"].value_counts().reindex(k, fill_value=0).to_numpy()
    assert stats.chisquare(observed, p / p.sum() * N).pvalue > ALPHA
    colours = out["colour"].value_counts().reindex(["red", "green", "blue"]).to_numpy()
    assert stats.chisquare(colours, np.array([0.5, 0.3, 0.2]) * N).pvalue > ALPHA


def test_copula_gives_the_declared_rank_correlation() -> None:
    spec = table(
        {
            "a": {"distribution": {"type": "normal", "mean": 0, "std": 1}},
            "b": {"distribution": {"type": "lognormal", "mu": 0, "sigma": 1}},
            "c": {"distribution": {"type": "uniform", "low": 0, "high": 10}},
        },
        copula={"columns": ["a", "b", "c"], "correlation": [[1, 0.6, -0.3], [0.6, 1, 0.0], [-0.3, 0.0, 1]]},
    )
    out = frame(spec)
    rho = out.corr(method="spearman")
    expected = lambda r: 6 / np.pi * np.arcsin(r / 2)  # noqa: E731  Spearman of a Gaussian copula
    assert rho.loc["a", "b"] == pytest.approx(expected(0.6), abs=0.02)
    assert rho.loc["a", "c"] == pytest.approx(expected(-0.3), abs=0.02)
    assert abs(rho.loc["b", "c"]) < 0.02
    # marginals stay as declared under the copula
    assert stats.kstest(out["b"], stats.lognorm(1).cdf).pvalue > ALPHA


def test_conditional_distribution_by_category_and_bins() -> None:
    spec = table(
        {
            "age": {"distribution": {"type": "uniform", "low": 18, "high": 90}, "integer": True},
            "band": {"bins": {"column": "age", "edges": [18, 30, 60, 91], "labels": ["young", "mid", "old"]}},
            "churn": {
                "distribution": {
                    "type": "conditional",
                    "given": "band",
                    "cases": {"young": {"type": "bernoulli", "p": 0.2}},
                    "default": {"type": "bernoulli", "p": 0.02},
                }
            },
        }
    )
    out = frame(spec)
    assert set(out["band"]) == {"young", "mid", "old"}
    assert ((out["age"] < 30) == (out["band"] == "young")).all()
    rates = out.groupby("band")["churn"].mean()
    assert rates["young"] == pytest.approx(0.2, abs=0.02)
    assert rates["old"] == pytest.approx(0.02, abs=0.01)


def test_nulls_by_rate() -> None:
    out = frame(
        table(
            {
                "x": {"distribution": {"type": "normal", "mean": 0, "std": 1}, "nulls": 0.1},
                "k": {"distribution": {"type": "poisson", "lam": 1}, "nulls": 0.2},
                "f": {"distribution": {"type": "bernoulli", "p": 0.5}, "nulls": 0.3},
            }
        )
    )
    assert out["x"].isna().mean() == pytest.approx(0.1, abs=0.01)
    assert out["k"].dtype == "Int64" and out["k"].isna().mean() == pytest.approx(0.2, abs=0.015)
    assert out["f"].dtype == "boolean" and out["f"].isna().mean() == pytest.approx(0.3, abs=0.015)


NULLS_BY_BAND = {
    "band": {"distribution": {"type": "categorical", "weights": {"young": 1, "old": 1, "mid": 2}}},
    "income": {
        "distribution": {"type": "lognormal", "mu": 10, "sigma": 0.5},
        "nulls": {"given": "band", "cases": {"young": 0.3, "old": 0.05}, "default": 0.1},
    },
    "total": {"formula": "income * 2"},
}


def test_nulls_by_the_value_of_another_column() -> None:
    out = frame(table(NULLS_BY_BAND))
    rates = out["income"].isna().groupby(out["band"]).mean()
    assert rates["young"] == pytest.approx(0.3, abs=0.02)
    assert rates["old"] == pytest.approx(0.05, abs=0.015)
    assert rates["mid"] == pytest.approx(0.1, abs=0.015)
    # a formula over a column sees its nulls
    assert (out["total"].isna() == out["income"].isna()).all()


def test_nulls_by_condition_are_checked_per_case() -> None:
    from mirage.spec import check_spec

    spec = spec_from_dict(table(NULLS_BY_BAND))
    data = generate(spec, seed=2)
    assert isinstance(data, pd.DataFrame)
    report = check_spec(spec, data)
    subjects = {c.subject for c in report.checks if c.kind == "nulls"}
    assert {"income nulls given band = young", "income nulls given band not listed"} <= subjects
    assert report.passed, report.failures
    flat = data.copy()
    flat.loc[flat["band"] == "old", "income"] = np.nan  # every old row null, 5% declared
    failed = {c.subject for c in check_spec(spec, flat).failures}
    assert "income nulls given band = old" in failed


@pytest.mark.parametrize(
    ("nulls", "message"),
    [
        ({"cases": {"young": 0.1}}, r"columns.income.nulls.given: name the column"),
        ({"given": "band"}, r"columns.income.nulls.cases: map values of 'band'"),
        ({"given": "band", "cases": {"young": 2}}, r"columns.income.nulls.cases.young: a rate from 0"),
        ({"given": "nope", "cases": {"a": 0.1}}, r"columns.income.nulls.given: no column 'nope'"),
        ({"given": "band", "cases": {"young": 0.1}, "when": 1}, r"columns.income.nulls"),
    ],
)
def test_bad_conditional_nulls_name_their_path(nulls: dict[str, Any], message: str) -> None:
    columns = copy.deepcopy(NULLS_BY_BAND)
    columns["income"]["nulls"] = nulls
    with pytest.raises(SchemaError, match=message):
        spec_from_dict(table(columns))


def test_a_copula_column_refuses_nulls_by_another_column() -> None:
    columns = copy.deepcopy(NULLS_BY_BAND)
    del columns["total"]
    columns["x"] = {"distribution": {"type": "normal", "mean": 0, "std": 1}}
    copula = {"columns": ["income", "x"], "correlation": [[1, 0.5], [0.5, 1]]}
    with pytest.raises(SchemaError, match=r"columns.income.nulls.given: a copula column takes a null rate"):
        spec_from_dict(table(columns, copula=copula))


def test_rules_hold_on_every_row() -> None:
    spec = table(
        {
            "opened": {
                "kind": "datetime",
                "distribution": {"type": "uniform", "low": "2020-01-01", "high": "2023-12-31"},
            },
            "closed": {
                "kind": "datetime",
                "distribution": {"type": "uniform", "low": "2021-01-01", "high": "2024-12-31"},
            },
            "price": {"distribution": {"type": "lognormal", "mu": 3, "sigma": 0.5}, "decimals": 2},
            "quantity": {"distribution": {"type": "poisson", "lam": 3}, "min": 1},
            "code": {"distribution": {"type": "categorical", "weights": {"A1": 1, "B2": 1, "bad": 0.1}}},
            "country": {"distribution": {"type": "categorical", "weights": {"FR": 1, "DE": 1}}},
            "city": {"distribution": {"type": "categorical", "weights": {"Paris": 1, "Berlin": 1}}},
        },
        rules=[
            {"rule": "inequality", "left": "closed", "op": ">", "right": "opened"},
            {"rule": "formula", "column": "total", "expression": "price * quantity"},
            {"rule": "format", "column": "code", "pattern": "[A-Z][0-9]"},
            {"rule": "range", "column": "price", "low": 5, "high": 60},
            {
                "rule": "allowed_combinations",
                "columns": ["country", "city"],
                "combinations": [["FR", "Paris"], ["DE", "Berlin"]],
            },
        ],
    )
    spec["tables"]["t"]["columns"]["total"] = {"kind": "numeric"}
    spec["tables"]["t"]["rows"] = 5000
    parsed = spec_from_dict(spec)
    out = generate(parsed, seed=4)
    assert isinstance(out, pd.DataFrame)
    for rule in parsed.tables["t"].schema.rules:
        assert not rule.violations(out, parsed.tables["t"].schema).any(), rule.describe()
    assert np.allclose(out["total"], out["price"] * out["quantity"])
    assert (out["closed"] > out["opened"]).all() and set(out["code"]) == {"A1", "B2"}


def test_a_rule_that_cannot_be_met_fails_with_its_path() -> None:
    spec = table(
        {
            "a": {"distribution": {"type": "uniform", "low": 0, "high": 1}},
            "b": {"distribution": {"type": "uniform", "low": 5, "high": 6}},
        },
        rules=[{"rule": "inequality", "left": "a", "op": ">", "right": "b"}],
        rule_tries=5,
    )
    with pytest.raises(
        SchemaError, match=r"^tables.t.rules\[0\]: rule a > b still fails on \d+ of \d+ rows after 5 redraws"
    ):
        frame(spec)


def test_unique_rule_holds_across_blocks() -> None:
    spec = table(
        {"k": {"distribution": {"type": "uniform", "low": 0, "high": 1e6}, "integer": True}},
        rules=[{"rule": "unique", "columns": ["k"]}],
    )
    spec["tables"]["t"]["rows"] = BLOCK_ROWS + 5000
    out = frame(spec)
    assert out["k"].is_unique


def test_providers_give_valid_values_per_locale() -> None:
    from email_validator import validate_email
    from stdnum import iban, luhn

    spec = table(
        {
            "email": {"provider": "email"},
            "iban": {"provider": {"name": "iban", "locale": "de_DE"}},
            "card": {"provider": "credit_card"},
            "phone": {"provider": {"name": "phone_number", "locale": "fr_FR"}},
            "city": {"provider": {"name": "city", "locale": "de_DE", "pool": 100}},
            "company": {"provider": {"name": "company", "pool": 100}},
            "code": {"pattern": "AA-9999"},
        }
    )
    spec["tables"]["t"]["rows"] = 300
    out = frame(spec)
    assert all(iban.is_valid(v) and v.startswith("DE") for v in out["iban"])
    assert all(luhn.is_valid(v) for v in out["card"])
    for value in out["email"].head(50):
        validate_email(value, check_deliverability=False)
    assert out["code"].is_unique and all(re.fullmatch(r"[A-Z]{2}-\d{4}", v) for v in out["code"])
    assert out["iban"].is_unique
    assert frame(spec, seed=1).equals(out) and not frame(spec, seed=2)["city"].equals(out["city"])


SIMPLE = table(
    {
        "a": {"distribution": {"type": "normal", "mean": 0, "std": 1}},
        "b": {"distribution": {"type": "poisson", "lam": 3}},
        "c": {"distribution": {"type": "categorical", "weights": {"x": 1, "y": 2}}, "nulls": 0.1},
        "d": {"formula": "a + b"},
    },
    copula={"columns": ["a", "b"], "correlation": [[1, 0.5], [0.5, 1]]},
    rules=[{"rule": "inequality", "left": "b", "op": ">=", "right": "a"}],
)


def test_same_seed_same_rows_different_seed_different_rows() -> None:
    assert frame(SIMPLE, seed=5).equals(frame(SIMPLE, seed=5))
    assert not frame(SIMPLE, seed=5).equals(frame(SIMPLE, seed=6))


def test_blocks_are_the_same_however_they_are_split() -> None:
    n = BLOCK_ROWS + 7000
    whole = frame(SIMPLE, seed=3, rows=n)
    chunks = list(generate_chunks(spec_from_dict(SIMPLE), seed=3, rows=n))
    assert [len(c) for c in chunks] == [BLOCK_ROWS, 7000]
    # block 1 drawn alone, by a fresh generator (another process), equals the rows it stands for
    alone = TableGenerator(spec_from_dict(SIMPLE).tables["t"], 3).block(1, 7000, {})
    pd.testing.assert_frame_equal(alone, whole.iloc[BLOCK_ROWS:].reset_index(drop=True))
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


def test_rows_overrides_and_scale_multiplies() -> None:
    spec = copy.deepcopy(SIMPLE)
    spec["tables"]["t"]["rows"] = 100
    assert len(frame(spec, rows=7)) == 7
    assert len(frame(spec, scale=2.5)) == 250
    assert len(frame(spec, rows=0)) == 0
