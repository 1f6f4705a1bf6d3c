"""End-to-end sanity of ``mirage.evaluate``: each check would fail on a wrong score."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly
import pytest

import mirage
from mirage.errors import OptionError
from mirage.evaluation import evaluate, split_holdout


@pytest.fixture(scope="module")
def split(adult: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split_holdout(adult.iloc[:2400], 0.25, seed=0)


def test_copy_of_train_is_perfectly_faithful_and_fails_privacy(adult: pd.DataFrame) -> None:
    # at the usual 80/20 split: the share does not depend on the ratio of training to holdout rows
    train, holdout = split_holdout(adult.iloc[:2400], 0.2, seed=0)
    report = evaluate(train, train.copy(), holdout=holdout, target="income", n_attacks=300)
    s = report.scores
    assert s["column_shapes"] == pytest.approx(1.0) and s["marginal_k3"] == pytest.approx(1.0)
    assert s["detection_auc"] == pytest.approx(0.5, abs=0.02)
    assert s["dcr_share"] > 0.95 and s["exact_copy_rate"] > 0.95 and s["mia_auc"] > 0.9
    assert s["privacy"] < 0.2 and "leaks" in report.verdicts["privacy"]
    assert report.check(fail_over={"dcr_share": 0.55}) == [f"dcr_share = {s['dcr_share']:.4f} is over 0.55"]


def test_column_shuffles_keep_shapes_and_lose_pairs(split) -> None:
    train, holdout = split
    rng = np.random.default_rng(0)
    shuffled = train.apply(lambda c: c.sample(frac=1.0, random_state=int(rng.integers(1 << 30))).to_numpy())
    report = evaluate(train, shuffled, holdout=holdout, n_attacks=300)
    s = report.scores
    assert s["column_shapes"] > 0.99
    pairs = {(p["column_a"], p["column_b"]): p["score"] for p in report.details["column_pairs"]}
    linked = pairs.get(("education", "education_num"), pairs.get(("education_num", "education")))
    assert linked is not None and linked < 0.6
    assert s["column_pairs"] < report.reference["column_pairs"]
    assert s["marginal_k3"] < report.reference["marginal_k3"] - 0.03
    assert s["detection_auc"] > 0.7


def test_a_holdout_scores_near_the_ideal_everywhere(adult: pd.DataFrame) -> None:
    train, rest = split_holdout(adult, 0.5, seed=1)
    holdout, fresh = split_holdout(rest, 0.5, seed=2)
    report = evaluate(train, fresh, holdout=holdout, target="income", n_attacks=300)
    s = report.scores
    assert s["column_shapes"] > 0.95 and s["detection_auc"] < 0.6
    assert 0.45 < s["dcr_share"] < 0.55 and s["mia_auc"] < 0.56
    assert s["utility_ratio"] > 0.95
    assert s["fidelity"] > 0.85 and s["privacy"] > 0.75


def test_cart_sample_report_has_every_score_and_a_reference(split, tmp_path) -> None:
    train, holdout = split
    synth = mirage.fit(train, engine="cart").sample(len(train), seed=1)
    report = evaluate(train, synth, holdout=holdout, target="income", n_attacks=300)
    for name in ("quality", "marginal_k3", "detection_auc", "tstr", "dcr_share", "mia_auc", "inference_risk"):
        assert isinstance(report.scores[name], float), name
    assert report.reference["dcr_share"] == 0.5 and report.reference["quality"] is not None
    assert report.scores["dcr_share"] <= 0.6
    report.to_json(str(tmp_path / "r.json"))
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["scores"]["quality"] == pytest.approx(report.scores["quality"])
    assert data["directions"]["dcr_share"]["better"] == "half"
    html = report.to_html(str(tmp_path / "r.html"))
    bundle_head = plotly.offline.get_plotlyjs()[:300]
    assert html.count(bundle_head) == 1  # plotly.js embedded once
    assert "<script src=" not in html.replace(" ", "").replace("<scriptsrc", "<script src")
    assert "Distance to closest record" in html and "membership" in html


def test_without_holdout_only_fidelity(split) -> None:
    train, _ = split
    report = evaluate(train, train.sample(frac=1.0, random_state=0), n_attacks=300)
    assert "dcr_share" not in report.scores and report.scores["quality"] is not None
    assert "not measured" in report.verdicts["privacy"]
    with pytest.raises(OptionError, match="holdout"):
        evaluate(train, train, target="income")
    with pytest.raises(OptionError, match="'nope'"):
        evaluate(train, train, holdout=train, target="nope")
    with pytest.raises(OptionError, match="unknown score 'speed'"):
        report.check(fail_under={"speed": 1.0})
