"""Membership inference and the Anonymeter-style risks: copies leak, fresh rows of the population do not."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from mirage.errors import OptionError, SchemaError
from mirage.evaluation._attacks import (
    attack_risk,
    inference_risk,
    linkability_risk,
    membership_inference,
    singling_out_risk,
)
from mirage.evaluation._stats import hanley_mcneil_interval, roc_auc, wilson_interval
from mirage.schema import infer_schema
from tests.evaluation.conftest import Parts, disjoint_parts, population_parts, with_copies

N_ATTACKS = 400
SECRETS = ["income", "age", "relationship"]


@pytest.fixture(scope="module")
def parts(adult: pd.DataFrame) -> Parts:
    return disjoint_parts(adult, seed=11)


# ------------------------------------------------------------------------------------------------
# statistics
# ------------------------------------------------------------------------------------------------


def test_wilson_interval_matches_a_hand_computed_value() -> None:
    # 8 successes in 10: centre (8 + z^2/2) / (10 + z^2), half z/(10 + z^2) sqrt(8*2/10 + z^2/4)
    centre, low, high = wilson_interval(8, 10)
    assert centre == pytest.approx(0.71674, abs=1e-5)
    assert low == pytest.approx(0.49016, abs=1e-5)
    assert high == pytest.approx(0.94332, abs=1e-5)
    assert wilson_interval(0, 20)[1] == 0.0 and wilson_interval(20, 20)[2] == 1.0
    assert wilson_interval(0, 0) == (0.5, 0.0, 1.0)
    with pytest.raises(OptionError):
        wilson_interval(11, 10)


def test_risk_follows_anonymeter() -> None:
    z = 1.959963984540054
    n, s_train, s_control = 500, 150, 50

    def centre_half(s: int) -> tuple[float, float]:
        return (s + z * z / 2) / (n + z * z), z / (n + z * z) * math.sqrt(s * (n - s) / n + z * z / 4)

    (a, ea), (c, ec) = centre_half(s_train), centre_half(s_control)
    risk = (a - c) / (1 - c)
    error = math.sqrt((ea / (1 - c)) ** 2 + (ec * (a - 1) / (1 - c) ** 2) ** 2)
    result = attack_risk(n, s_train, s_control, 10)
    assert result["risk"] == pytest.approx(risk)
    assert result["risk_ci"] == pytest.approx([risk - error, risk + error])
    assert result["train_success_rate"] == 0.3 and result["control_success_rate"] == 0.1
    assert result["baseline_success_rate"] == 0.02
    # control beating train is no risk at all, and the interval is clipped at 0
    reverse = attack_risk(n, s_control, s_train, 10)
    assert reverse["risk"] == 0.0 and reverse["risk_ci"][0] == 0.0


def test_risk_agrees_with_the_anonymeter_package_when_installed() -> None:
    confidence = pytest.importorskip("anonymeter.stats.confidence")
    ours = attack_risk(800, 300, 120, 40)
    theirs = confidence.EvaluationResults(n_attacks=800, n_success=300, n_baseline=40, n_control=120).risk()
    assert ours["risk"] == pytest.approx(theirs.value)
    assert ours["risk_ci"] == pytest.approx(list(theirs.ci))


def test_auc_counts_ties_half_and_hanley_mcneil_interval() -> None:
    labels = np.array([True, True, False, False])
    assert roc_auc(np.array([0.0, 0.0, 0.0, 0.0]), labels) == 0.5
    assert roc_auc(np.array([2.0, 1.0, 1.0, 0.0]), labels) == pytest.approx(0.875)
    # Hanley & McNeil at AUC 0.5 with 100 + 100: Q1 = 1/3, Q2 = 1/3
    var = (0.25 + 99 * (1 / 3 - 0.25) * 2) / 10_000
    low, high = hanley_mcneil_interval(0.5, 100, 100)
    assert high - 0.5 == pytest.approx(1.959963984540054 * math.sqrt(var))
    assert 0.5 - low == pytest.approx(high - 0.5)


# ------------------------------------------------------------------------------------------------
# copies leak
# ------------------------------------------------------------------------------------------------


def test_membership_inference_sees_copies(parts: Parts) -> None:
    train, holdout, _, schema = parts
    result = membership_inference(train, holdout, train, schema, n_targets=N_ATTACKS)
    assert result["auc"] > 0.9 and result["auc_ci"][0] > 0.85
    assert result["advantage"] > 0.8 and result["tpr_at_1pct_fpr"] > 0.8
    assert result["n_members"] == result["n_non_members"] == N_ATTACKS
    json.dumps(result)


def test_anonymeter_risks_see_copies(parts: Parts) -> None:
    train, holdout, _, schema = parts
    linked = linkability_risk(train, holdout, train, schema, n_attacks=N_ATTACKS)
    assert linked["risk"] > 0.2 and linked["risk_ci"][0] > 0.1
    inferred = inference_risk(train, holdout, train, schema, secret=SECRETS, n_attacks=N_ATTACKS)
    assert inferred["risk"] > 0.5 and inferred["risk_ci"][0] > 0.3
    assert all(r["risk_ci"][0] > 0 for r in inferred["per_secret"].values())
    singled = singling_out_risk(train, holdout, train, schema, n_attacks=N_ATTACKS)
    assert singled["n_attacks"] > 50 and singled["risk"] > 0.5
    assert singled["train_success_rate"] == 1.0
    json.dumps([linked, inferred, singled])


@pytest.mark.parametrize("train_fraction", [0.5, 0.8, 0.95])
def test_membership_inference_sees_a_fifth_of_copies_at_any_split(
    adult_population: pd.DataFrame, train_fraction: float
) -> None:
    train, holdout, fresh = population_parts(adult_population, train_fraction, seed=5)
    schema = infer_schema(train)
    honest = membership_inference(train, holdout, fresh, schema, n_targets=800)
    copying = membership_inference(train, holdout, with_copies(train, fresh, 0.2, 5), schema, n_targets=800)
    # a copied member sits at distance 0: a fifth of the members copied is worth 0.1 of AUC
    assert abs(honest["auc"] - 0.5) < 0.04 and honest["advantage"] < 0.1
    assert copying["auc"] == pytest.approx(0.6, abs=0.04) and copying["auc_ci"][0] > 0.52
    assert copying["advantage"] == pytest.approx(0.2, abs=0.05)


# ------------------------------------------------------------------------------------------------
# fresh rows of the same population do not
# ------------------------------------------------------------------------------------------------


def test_membership_inference_is_blind_to_fresh_rows(parts: Parts) -> None:
    train, holdout, fresh, schema = parts
    result = membership_inference(train, holdout, fresh, schema, n_targets=1000)
    assert abs(result["auc"] - 0.5) < 0.04
    assert result["auc_ci"][0] <= 0.5 <= result["auc_ci"][1]


def test_anonymeter_risks_stay_low_on_fresh_rows(parts: Parts) -> None:
    train, holdout, fresh, schema = parts
    linked = linkability_risk(train, holdout, fresh, schema, n_attacks=N_ATTACKS)
    assert linked["risk_ci"][0] == 0.0 and linked["risk"] < 0.05
    inferred = inference_risk(train, holdout, fresh, schema, secret=SECRETS, n_attacks=N_ATTACKS)
    # (train - control) / (1 - control) magnifies noise where control success is high (income ~0.75)
    assert inferred["risk"] < 0.25
    assert all(r["risk_ci"][0] == 0.0 for r in inferred["per_secret"].values())
    singled = singling_out_risk(train, holdout, fresh, schema, n_attacks=N_ATTACKS)
    assert singled["risk"] < 0.1 and singled["risk_ci"][0] == 0.0


# ------------------------------------------------------------------------------------------------
# options
# ------------------------------------------------------------------------------------------------


def test_attacks_are_seeded_and_checked(parts: Parts) -> None:
    train, holdout, fresh, schema = parts
    first = linkability_risk(train, holdout, fresh, schema, n_attacks=200, seed=3)
    assert first == linkability_risk(train, holdout, fresh, schema, n_attacks=200, seed=3)
    both = inference_risk(train, holdout, fresh, schema, secret="sex", n_attacks=200, tolerance=0.1)
    assert both["worst_secret"] == "sex" and both["n_attacks"] == 200
    custom = linkability_risk(
        train, holdout, train, schema, n_attacks=200, n_neighbors=3, aux_columns=(["age", "sex"], ["fnlwgt"])
    )
    assert custom["aux_columns"] == [["age", "sex"], ["fnlwgt"]] and custom["n_neighbors"] == 3
    with pytest.raises(SchemaError):
        inference_risk(train, holdout, fresh, schema, secret="no_such_column")
    with pytest.raises(SchemaError):
        linkability_risk(train, holdout, fresh, schema, aux_columns=(["age"], ["nope"]))
