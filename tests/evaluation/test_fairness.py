"""The fairness section: outcome rates, demographic parity difference and equalised-odds gap, checked
against values worked out by hand; the section in the report, real beside synthetic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.errors import OptionError
from mirage.evaluation._fairness import demographic_parity_difference, equalised_odds_gap, outcome_rates


def test_outcome_rates_and_parity_by_hand() -> None:
    outcome = pd.Series(["yes", "yes", "no", "no", "yes", "no", None])
    group = pd.Series(["a", "a", "a", "b", "b", "b", "b"])
    rates = outcome_rates(outcome, group, "yes")
    assert rates == pytest.approx({"a": 2 / 3, "b": 1 / 3})  # the row without an outcome is left out
    assert demographic_parity_difference(rates) == pytest.approx(1 / 3)
    assert math.isnan(demographic_parity_difference({"a": 0.5}))
    three = outcome_rates(pd.Series([1, 0, 1, 1, 0, 0]), pd.Series(["x", "x", "y", "y", "z", "z"]), "1.0")
    assert three == {"x": 0.5, "y": 1.0, "z": 0.0} and demographic_parity_difference(three) == 1.0


def test_equalised_odds_gap_by_hand() -> None:
    actual = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    predicted = np.array([1, 1, 0, 0, 1, 1, 1, 0, 0, 1], dtype=bool)
    groups = np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 2)
    gap, tpr, fpr = equalised_odds_gap(actual, predicted, groups)
    assert tpr == {"a": 1.0, "b": 1.0}  # c has no positive: no true-positive rate
    assert fpr == pytest.approx({"a": 0.0, "b": 2 / 3, "c": 0.5})
    assert gap == pytest.approx(2 / 3)
    gap, _, _ = equalised_odds_gap(actual[:4], predicted[:4], groups[:4])
    assert math.isnan(gap)


def test_the_report_gains_a_fairness_section(adult: pd.DataFrame) -> None:
    real, holdout = adult.iloc[:2400].reset_index(drop=True), adult.iloc[2400:].reset_index(drop=True)
    model = mirage.CartSynthesizer().fit(real)
    synthetic = model.sample(2400, seed=1, fair={"outcome": "income", "protected": "sex"})
    report = mirage.evaluate(
        real,
        synthetic,
        holdout=holdout,
        schema=model.schema_,
        reference=False,
        n_attacks=50,
        fairness={"outcome": "income", "protected": "sex"},
    )
    fair = report.details["fairness"]
    assert fair["positive"] == ">50K"  # the rarer value
    by_hand = real.groupby("sex")["income"].apply(lambda s: (s == ">50K").mean())
    assert fair["real"]["rates"] == pytest.approx(by_hand.to_dict())
    assert fair["real"]["rows"] == real["sex"].value_counts().to_dict()
    assert report.reference["parity_difference"] == pytest.approx(by_hand.max() - by_hand.min())
    assert report.reference["parity_difference"] > 0.15
    assert report.scores["parity_difference"] < 0.01  # drawn fair
    for side in ("real", "synthetic"):
        model_side = fair[side]["model"]
        tpr, fpr = model_side["true_positive_rates"], model_side["false_positive_rates"]
        gaps = [max(r.values()) - min(r.values()) for r in (tpr, fpr)]
        assert model_side["equalised_odds_gap"] == pytest.approx(max(gaps))
        assert set(tpr) == {"Female", "Male"}
    assert report.scores["equalised_odds_gap"] == fair["synthetic"]["model"]["equalised_odds_gap"]
    page = report.to_html()
    assert "<h2>Fairness</h2>" in page and "demographic parity difference" in page
    assert "parity_difference" in report.to_json()


def test_bad_fairness_is_named(adult: pd.DataFrame) -> None:
    real = adult.head(300)
    cases = [
        ({"outcome": "income"}, "fairness must be"),
        ({"outcome": "income", "protected": "age"}, "fairness protected 'age' is a numeric column"),
        ({"outcome": "nope", "protected": "sex"}, "fairness outcome 'nope' is not a column"),
        (
            {"outcome": "income", "protected": "sex", "positive": "rich"},
            "positive outcome 'rich' never occurs",
        ),
        ({"outcome": "income", "protected": "sex", "colour": 1}, "unknown key 'colour'"),
    ]
    for fairness, message in cases:
        with pytest.raises(OptionError, match=message):
            mirage.evaluate(real, real, fairness=fairness)


def test_a_fairness_gate_without_the_section_says_what_it_needs() -> None:
    from mirage.evaluation import Report

    report = Report(scores={}, reference={}, details={}, verdicts={})
    assert report.check(fail_over={"parity_difference": 0.1}) == [
        "parity_difference was not computed (needs fairness)"
    ]
