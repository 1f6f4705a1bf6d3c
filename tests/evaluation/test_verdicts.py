"""The headline verdicts follow from the figures the report shows, and name the ones that drive them."""

from __future__ import annotations

from typing import Any

import pytest

from mirage.evaluation import Report
from mirage.evaluation._html import render_html
from mirage.evaluation._verdicts import judge
from tests.evaluation.conftest import summary_cards


def _attack(risk: float, low: float, high: float, **extra: Any) -> dict[str, Any]:
    return {"risk": risk, "risk_ci": [low, high], **extra}


def privacy_details(
    *,
    share: float = 0.51,
    share_ci: tuple[float, float] = (0.46, 0.56),
    copies: float = 0.0,
    chance: float = 0.0,
    mia: float = 0.5,
    mia_ci: tuple[float, float] = (0.47, 0.53),
    inference: tuple[float, float, float] = (0.0, 0.0, 0.05),
) -> dict[str, Any]:
    return {
        "privacy": {
            "dcr": {
                "dcr_share": share,
                "dcr_share_ci": list(share_ci),
                "dcr_share_limit": 0.53,
                "train_neighbour_rate": 0.8 + 0.4 * (share - 0.5),
                "train_neighbour_baseline": 0.8,
                "exact_copy_rate": copies,
                "holdout_copy_rate": chance,
            },
            "membership_inference": {"auc": mia, "auc_ci": list(mia_ci)},
            "singling_out": _attack(0.0, 0.0, 0.01),
            "linkability": _attack(0.0, 0.0, 0.02),
            "inference": _attack(*inference, worst_secret="smoker"),
        }
    }


FIDELITY = {"quality": 0.943, "marginal_accuracy": 0.913, "detection_auc": 0.52}
FIDELITY_REFERENCE = {"quality": 0.931, "marginal_accuracy": 0.892, "detection_auc": 0.54}


def test_an_attribute_inference_risk_whose_interval_excludes_zero_draws_attention() -> None:
    # the insurance report: "no sign of copying" beside an inference risk of 0.32 (0.05-0.58)
    verdict = judge({}, {}, privacy_details(inference=(0.32, 0.05, 0.58)))["privacy"]
    assert verdict.level == "attention"
    assert "no sign" not in verdict.text
    assert verdict.reasons[0] == "attribute-inference risk 0.32 (95% interval 0.05-0.58) for 'smoker'"
    # the same risk with an interval down to 0 is no evidence: the verdict is clear and says why
    verdict = judge({}, {}, privacy_details(inference=(0.32, 0.0, 0.58)))["privacy"]
    assert verdict.level == "good" and verdict.text.startswith("no sign of copying or membership leakage")
    assert "DCR share 0.51 (95% interval 0.46-0.56), within the 0.53 bar" in verdict.reasons
    assert any("attribute-inference risk" in r and "no evidence" in r for r in verdict.reasons)


@pytest.mark.parametrize(
    ("share", "share_ci", "level"),
    [(0.52, (0.47, 0.57), "good"), (0.56, (0.50, 0.62), "attention"), (0.60, (0.56, 0.64), "bad")],
)
def test_the_dcr_share_is_judged_against_the_bar_with_its_interval(
    share: float, share_ci: tuple[float, float], level: str
) -> None:
    verdict = judge({}, {}, privacy_details(share=share, share_ci=share_ci))["privacy"]
    assert verdict.level == level
    assert verdict.reasons[0].startswith(f"DCR share {share:.2f}")
    assert ("leaks" in verdict.headline) is (level == "bad")


def test_copies_beyond_chance_and_a_membership_signal_are_named() -> None:
    verdict = judge({}, {}, privacy_details(copies=0.08, chance=0.01))["privacy"]
    assert (
        verdict.level == "bad"
        and "exact copies of training rows 8.0% (holdout by chance 1.0%)" in verdict.text
    )
    verdict = judge({}, {}, privacy_details(copies=0.012, chance=0.01))["privacy"]
    assert verdict.level == "good"  # as many copies as fresh rows make by chance
    verdict = judge({}, {}, privacy_details(mia=0.56, mia_ci=(0.53, 0.59)))["privacy"]
    assert verdict.level == "attention"
    assert verdict.reasons[0] == "membership-inference AUC 0.56 (95% interval 0.53-0.59)"


def test_fidelity_is_judged_against_the_holdout_reference() -> None:
    # titanic: quality beats the holdout's; the verdict must not call it "clearly different"
    verdict = judge(FIDELITY, FIDELITY_REFERENCE, {})["fidelity"]
    assert verdict.level == "good" and verdict.headline == "close to the real data"
    assert "quality 0.943, above the holdout's 0.931" in verdict.text
    # the same figures against a much better holdout read as a loss, and say against what
    worse = judge(FIDELITY, {**FIDELITY_REFERENCE, "quality": 0.99}, {})["fidelity"]
    assert worse.level == "attention" and "quality 0.943, below the holdout's 0.990" in worse.reasons[0]


def test_a_high_detection_auc_drives_the_fidelity_verdict_and_says_what_gives_rows_away() -> None:
    details = {"detection": {"top_features": [{"feature": "fare"}, {"feature": "age"}, {"feature": "x"}]}}
    verdict = judge({**FIDELITY, "detection_auc": 0.9}, FIDELITY_REFERENCE, details)["fidelity"]
    assert verdict.level == "bad"
    assert verdict.reasons[0].startswith("detection AUC 0.90 (holdout 0.54): a classifier tells")
    assert "mostly by fare, age, x" in verdict.reasons[0]
    # column shapes still reported as matching: the verdict says which figure is at fault
    assert "quality 0.943, above the holdout's 0.931" in verdict.reasons[1]


def test_utility_verdict_states_tstr_trtr_and_a_low_importance_agreement() -> None:
    utility = {"metric": "roc_auc", "tstr": 0.84, "trtr": 0.883, "ratio": 0.951, "importance_agreement": 0.07}
    verdict = judge({}, {}, {"utility": utility})["utility"]
    assert verdict.level == "good"
    assert "roc_auc 0.840 on the holdout against 0.883 trained on real rows (ratio 0.95)" in verdict.text
    assert "importance agreement 0.07" in verdict.text
    verdict = judge({}, {}, {"utility": {**utility, "tstr": 0.70, "ratio": 0.79}})["utility"]
    assert verdict.level == "bad" and verdict.headline == "models trained on it lose a lot"


def test_nothing_measured_says_what_is_missing() -> None:
    verdicts = judge({}, {}, {})
    assert verdicts["privacy"].level == "na" and "holdout" in verdicts["privacy"].text
    assert "target column" in verdicts["utility"].text


def test_each_card_shows_its_number_once_its_level_and_the_figures_behind_it() -> None:
    scores = {**FIDELITY, "fidelity": 0.8137, "privacy": 0.9412}
    details = privacy_details(inference=(0.32, 0.05, 0.58))
    judged = judge(scores, FIDELITY_REFERENCE, details)
    details["verdicts"] = {k: v.to_dict() for k, v in judged.items()}
    report = Report(
        scores=scores,
        reference={**FIDELITY_REFERENCE, "fidelity": 0.9203},
        details=details,
        verdicts={k: v.text for k, v in judged.items()},
    )
    cards = summary_cards(render_html(report))
    privacy = cards["privacy"]
    assert privacy.startswith('<div class="card ok">') and "attention" in privacy
    assert privacy.count("0.941") == 1
    assert "attribute-inference risk 0.32 (95% interval 0.05-0.58) for &#x27;smoker&#x27;" in privacy
    fidelity = cards["fidelity"]
    assert fidelity.startswith('<div class="card good">')
    assert fidelity.count("0.814") == 1 and "holdout reference 0.920" in fidelity
    assert cards["utility"].startswith('<div class="card na">')
    assert "privacy" not in cards["fidelity"].lower()  # one card each


def _people(rows: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, rows)
    return pd.DataFrame(
        {
            "age": age,
            "spend": np.round(rng.lognormal(5, 1, rows) * (1 + age / 80), 2),
            "city": rng.choice(["Berlin", "Köln", "München"], rows, p=[0.5, 0.3, 0.2]),
            "joined": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 400, rows), unit="D"),
        }
    )


def test_without_a_holdout_fresh_rows_of_the_same_population_read_close_on_a_small_table() -> None:
    """400 real rows against 400 fresh rows of their population (a perfect generator): 3-way marginal
    accuracy is about 0.5 from sampling noise alone, which an absolute bar of 0.8 called clearly
    distinguishable; rows whose columns are drawn independently still read distinguishable."""
    import numpy as np

    from mirage.evaluation import evaluate

    real = _people(400, 0)
    fresh = evaluate(real, _people(400, 1), seed=0)
    assert fresh.details["verdicts"]["fidelity"]["level"] == "good", fresh.verdicts["fidelity"]
    assert "real rows against real rows at these sizes" in fresh.verdicts["fidelity"]
    rng = np.random.default_rng(2)
    independent = real.apply(
        lambda column: column.sample(frac=1.0, random_state=rng.integers(1 << 31)).to_numpy()
    )
    independent["spend"] = np.round(independent["spend"] * 3, 2)
    broken = evaluate(real, independent, seed=0)
    assert broken.details["verdicts"]["fidelity"]["level"] != "good", broken.verdicts["fidelity"]
