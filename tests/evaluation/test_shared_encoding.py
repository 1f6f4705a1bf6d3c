"""One evaluation fits the distance encoders once and encodes each frame once, with unchanged scores."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mirage.errors import OptionError
from mirage.evaluation import evaluate
from mirage.evaluation._attacks import linkability_risk, membership_inference
from mirage.evaluation._distance import EncodedFrames, MixedEncoder
from mirage.evaluation._features import FeatureEncoder
from mirage.evaluation._privacy import privacy_report
from tests.evaluation.conftest import Parts, disjoint_parts, with_copies


@pytest.fixture(scope="module")
def parts(adult: pd.DataFrame) -> tuple[Parts, pd.DataFrame]:
    train, holdout, fresh, schema = disjoint_parts(adult, seed=11)
    return (train, holdout, fresh, schema), with_copies(train, fresh, 0.2, seed=5)


def _count_calls(monkeypatch: pytest.MonkeyPatch, name: str, cls: type = MixedEncoder) -> list[int]:
    calls: list[int] = []
    original = getattr(cls, name)

    def counted(self: Any, frame: pd.DataFrame, *args: Any) -> Any:
        calls.append(len(frame))
        return original(self, frame, *args)

    monkeypatch.setattr(cls, name, counted)
    return calls


def test_evaluate_fits_the_detection_features_once_for_synthetic_and_reference(
    parts: tuple[Parts, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    (train, holdout, _, schema), synthetic = parts
    fits = _count_calls(monkeypatch, "fit", FeatureEncoder)
    evaluate(train, synthetic, holdout=holdout, schema=schema, n_attacks=200, reference=True)
    assert fits == [len(train)]  # before: once for the synthetic rows, again for the reference


def test_evaluate_fits_one_encoder_for_dcr_and_one_shared_by_the_attacks(
    parts: tuple[Parts, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    (train, holdout, _, schema), synthetic = parts
    fits = _count_calls(monkeypatch, "fit")
    transforms = _count_calls(monkeypatch, "transform")
    evaluate(train, synthetic, holdout=holdout, schema=schema, n_attacks=200, reference=False)
    # DCR's encoder learns training and holdout rows together, the attacks' the training rows alone
    # (before: one more fit per attack, five in all, and nine encodings)
    assert sorted(fits) == [len(train), len(train) + len(holdout)]
    # DCR encodes its training, holdout and synthetic rows; the attacks every row of each frame once
    assert len(transforms) == 6


# privacy_report of these parts before the encoding was shared (seed 3, 300 attacks)
BEFORE = {
    "dcr_share": 0.6123076923076923,
    "mia_auc": 0.5927852071005917,
    "mia_advantage": 0.20076923076923076,
    "singling_out": 0.1793593721489311,
    "linkability": 0.08391493955281558,
}
BEFORE_INFERENCE = {
    "age": 0.11207005750846945,
    "education_num": 0.3447102522123323,
    "fnlwgt": 0.17587524444810532,
    "relationship": 0.0,
    "income": 0.09689808335812967,
}


def test_shared_encoding_leaves_every_privacy_score_as_it_was(parts: tuple[Parts, pd.DataFrame]) -> None:
    (train, holdout, _, schema), synthetic = parts
    report = privacy_report(train, holdout, synthetic, schema, seed=3, n_attacks=300)
    assert report["dcr"]["dcr_share"] == pytest.approx(BEFORE["dcr_share"], rel=1e-12)
    assert report["membership_inference"]["auc"] == pytest.approx(BEFORE["mia_auc"], rel=1e-12)
    assert report["membership_inference"]["advantage"] == pytest.approx(BEFORE["mia_advantage"], rel=1e-12)
    assert report["singling_out"]["risk"] == pytest.approx(BEFORE["singling_out"], rel=1e-12)
    assert report["linkability"]["risk"] == pytest.approx(BEFORE["linkability"], rel=1e-12)
    per_secret = report["inference"]["per_secret"]
    for name, risk in BEFORE_INFERENCE.items():
        assert per_secret[name]["risk"] == pytest.approx(risk, rel=1e-12, abs=1e-15), name


def test_subsampled_synthetic_rows_are_taken_by_position_as_before(parts: tuple[Parts, pd.DataFrame]) -> None:
    (train, holdout, _, schema), synthetic = parts
    mia = membership_inference(train, holdout, synthetic, schema, seed=3, max_pairs=2600 * 500)
    link = linkability_risk(train, holdout, synthetic, schema, seed=3, n_attacks=300, max_pairs=600 * 400)
    assert (mia["n_synthetic_used"], link["n_synthetic_used"]) == (500, 400)
    assert mia["auc"] == pytest.approx(0.5286455621301775, rel=1e-12)
    assert link["risk"] == pytest.approx(0.030830287448853574, rel=1e-12)


def test_an_encoding_of_other_frames_is_refused(parts: tuple[Parts, pd.DataFrame]) -> None:
    (train, holdout, _, schema), synthetic = parts
    names = [c.name for c in schema if c.kind.learned]
    encoding = EncodedFrames(schema, names, train, holdout, synthetic)
    with pytest.raises(OptionError, match="other frames"):
        membership_inference(train, holdout, synthetic.copy(), schema, encoding=encoding)
