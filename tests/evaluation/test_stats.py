"""The shared statistics of mirage.evaluation._stats."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mirage.errors import OptionError
from mirage.evaluation._stats import is_finite_number, roc_auc, wilson_centre, z_value


def test_roc_auc_agrees_with_scikit_learn_and_is_nan_without_both_classes() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=200).astype(float)  # many ties
    positive = rng.random(200) < 0.3
    assert roc_auc(scores, positive) == pytest.approx(roc_auc_score(positive, scores), abs=1e-12)
    assert math.isnan(roc_auc(scores, np.ones(200, dtype=bool)))


def test_z_value_and_the_wilson_centre() -> None:
    assert z_value(0.95) == pytest.approx(1.959963984540054)
    with pytest.raises(OptionError, match="confidence"):
        z_value(1.0)
    centre, half = wilson_centre(8, 10, z_value(0.95))
    assert centre == pytest.approx((8 + 1.92073) / (10 + 3.84146), abs=1e-5)
    assert centre - half >= 0.0 and centre + half <= 1.0


def test_is_finite_number() -> None:
    assert is_finite_number(1) and is_finite_number(0.5) and is_finite_number(np.float64(2.0))
    assert not any(is_finite_number(v) for v in (True, None, math.nan, math.inf, "1"))
