"""Detection: can a classifier tell synthetic rows from real ones?  (A classifier two-sample test.)

Equal numbers of real and synthetic rows (the smaller side, capped at ``max_rows``, drawn with a
fixed seed) are labelled 0 and 1 and coded by :class:`FeatureEncoder`; a gradient-boosting model
with native categorical support is scored by stratified k-fold cross-validated ROC AUC (mean over
the folds).  Identical rows always share a fold, so a synthetic row that copies a real one is
tested next to its twin instead of being classified by it.

``detection_auc`` is 0.5 when the two are indistinguishable and 1 when every row is told apart;
``detection_score = 1 - 2 * max(0, auc - 0.5)`` turns it into a fidelity score (1 = best).  The
features that give the synthetic rows away most are ranked by permutation importance on the first
held-out fold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from mirage.errors import DataError, OptionError
from mirage.evaluation._columns import scored_columns
from mirage.evaluation._features import FeatureEncoder, gradient_boosting
from mirage.schema import Schema

__all__ = ["detection_scores", "grouped_folds"]

IMPORTANCE_ROWS = 5_000  # held-out rows used for the permutation importances


def _draw(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) == n:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), size=n, replace=False))]


def grouped_folds(x: np.ndarray, y: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold number per row, stratified by class, with identical feature rows always in one fold.

    Otherwise a synthetic row that copies a real one would sit in the training folds while its twin
    is tested, and the model would learn to call it by the twin's opposite label (AUC below 0.5).
    """
    group, uniques = pd.factorize(pd.util.hash_pandas_object(pd.DataFrame(x), index=False))
    size = len(uniques)
    stratum = (np.bincount(group, weights=y == 0, minlength=size) > 0).astype("int64")
    stratum += 2 * (np.bincount(group, weights=y == 1, minlength=size) > 0)
    fold_of_group = np.empty(size, dtype="int64")
    for value in (1, 2, 3):  # groups of real rows only, of synthetic rows only, of both
        members = rng.permutation(np.flatnonzero(stratum == value))
        fold_of_group[members] = np.arange(members.size) % folds
    return fold_of_group[group]


def _fold(
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    categorical: np.ndarray,
    seed: int,
    rng: np.random.Generator,
    *,
    importance: bool,
) -> tuple[float, np.ndarray | None]:
    model = gradient_boosting(categorical, seed, classifier=True, labels=y[train]).fit(x[train], y[train])
    auc = float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1]))
    if not importance:
        return auc, None
    held = test if test.size <= IMPORTANCE_ROWS else np.sort(rng.choice(test, IMPORTANCE_ROWS, replace=False))
    result = permutation_importance(
        model, x[held], y[held], scoring="roc_auc", n_repeats=3, random_state=seed
    )
    return auc, np.asarray(result["importances_mean"], dtype="float64")


def detection_scores(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    max_rows: int = 20_000,
    folds: int = 5,
    top: int = 10,
    seed: int = 0,
    n_threads: int | None = None,
    features: FeatureEncoder | None = None,
) -> dict[str, Any]:
    """Classifier two-sample test of real against synthetic rows.

    Returns ``detection_auc`` (0.5 = indistinguishable, 1 = trivially separable), ``detection_score``
    (1 = best, 0 = separable), ``fold_aucs``, ``rows_per_class`` and ``top_features`` (a list of
    ``{"feature", "importance"}``, the drop in AUC when that feature is shuffled, highest first).
    ``n_threads`` caps the model's OpenMP threads (None: all cores; 1 is far faster on a busy machine).
    ``features``: a :class:`FeatureEncoder` of ``schema`` already fitted on ``real`` (fitted here if None),
    so that scoring several tables against the same real rows fits it once.  ``top=0`` skips the
    permutation importances (the costly part on wide tables) and leaves ``top_features`` empty.
    """
    if folds < 2:
        raise OptionError(f"folds must be at least 2, got {folds!r}")
    if max_rows < folds:
        raise OptionError(f"max_rows must be at least folds ({folds}), got {max_rows!r}")
    schema, _ = scored_columns(real, synthetic, schema)
    n = min(len(real), len(synthetic), max_rows)
    if n < folds:
        raise DataError(f"detection needs at least {folds} real and {folds} synthetic rows, got {n}")
    rng = np.random.default_rng(seed)
    encoder = features if features is not None else FeatureEncoder(schema).fit(real)
    x = np.vstack(
        [
            encoder.transform(_draw(real, n, rng), "real"),
            encoder.transform(_draw(synthetic, n, rng), "synthetic"),
        ]
    )
    y = np.repeat([0, 1], n)
    names, categorical = encoder.feature_names, encoder.categorical_features
    if not names:
        raise DataError(
            "detection needs at least one learned (numeric, categorical, boolean, datetime) column"
        )
    aucs: list[float] = []
    importance = np.zeros(len(names))
    fold = grouped_folds(x, y, folds, rng)
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        for i in range(folds):
            train, test = np.flatnonzero(fold != i), np.flatnonzero(fold == i)
            if np.unique(y[test]).size < 2 or np.unique(y[train]).size < 2:
                continue
            auc, fold_importance = _fold(
                x, y, train, test, categorical, seed, rng, importance=top > 0 and not aucs
            )
            aucs.append(auc)
            if fold_importance is not None:
                importance = fold_importance
    if not aucs:
        raise DataError(f"too few distinct rows for {folds}-fold detection; lower folds")
    auc = float(np.mean(aucs))
    order = np.argsort(-importance, kind="stable")[:top]
    return {
        "detection_auc": auc,
        "detection_score": float(np.clip(1.0 - 2.0 * max(0.0, auc - 0.5), 0.0, 1.0)),
        "fold_aucs": aucs,
        "rows_per_class": int(n),
        "top_features": [{"feature": names[j], "importance": float(importance[j])} for j in order],
    }
