"""Machine-learning utility: is a model trained on synthetic data as good as one trained on real data?

TSTR (train on synthetic, test on real) against TRTR (train on real, test on real): both models are
the same histogram gradient boosting with a fixed seed, both are tested on the same real holdout
that neither has seen.  The target's schema kind picks the task: categorical or boolean targets are
classification, scored by ROC AUC (macro one-vs-rest over the holdout's classes) and macro F1;
numeric targets are regression, scored by R².

``ratio = tstr / trtr`` of the main metric (AUC or R², negative R² counted as 0) is the utility
figure, ``score`` the same clipped to [0, 1] (1 = synthetic data is as useful as real data); both
are NaN when TRTR itself has no skill (R² <= 0).
``importance_agreement`` is Spearman's rho (in [-1, 1], 1 = same ranking) between the two models'
permutation importances on the holdout.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.base import BaseEstimator
from sklearn.inspection import permutation_importance
from sklearn.metrics import f1_score, r2_score
from threadpoolctl import threadpool_limits

from mirage.errors import DataError, OptionError
from mirage.evaluation._columns import as_numbers, category_keys, require_columns, scored_columns
from mirage.evaluation._features import FeatureEncoder, gradient_boosting
from mirage.evaluation._stats import roc_auc
from mirage.schema import Column, Kind, Schema

__all__ = ["macro_ovr_auc", "utility_scores"]

IMPORTANCE_ROWS = 5_000  # holdout rows used for the permutation importances


def _target_column(schema: Schema, target: str) -> Column:
    if target not in schema.names:
        raise OptionError(
            f"target {target!r} is not a column of the data (columns: {', '.join(schema.names)})"
        )
    column = schema[target]
    if not column.kind.learned:
        raise OptionError(
            f"target {target!r} is a {column.kind.value} column, which is replaced rather than learned; "
            "choose a numeric, categorical or boolean column"
        )
    if column.kind is Kind.DATETIME:
        raise OptionError(
            f"target {target!r} is a datetime column; choose a numeric, categorical or boolean one"
        )
    return column


def _labels(frame: pd.DataFrame, column: Column, classification: bool) -> np.ndarray:
    if classification:
        keys = category_keys(frame[column.name])
        labels = keys.to_numpy(dtype=object)
        labels[keys.isna().to_numpy()] = None
        return labels
    return as_numbers(frame[column.name], column)


def _present(y: np.ndarray, classification: bool) -> np.ndarray:
    if classification:
        return np.array([v is not None for v in y], dtype=bool)
    return np.asarray(np.isfinite(y.astype("float64")), dtype=bool)


def macro_ovr_auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Mean one-vs-rest ROC AUC over the classes of ``y`` that have both positives and negatives."""
    aucs = []
    for label in np.unique(y):
        positive = y == label
        if positive.all():
            continue
        hit = np.flatnonzero(classes == label)
        scores = proba[:, hit[0]] if hit.size else np.zeros(len(y))
        aucs.append(roc_auc(scores, positive))
    return float(np.mean(aucs)) if aucs else float("nan")


def _auc_scorer(estimator: Any, x: np.ndarray, y: np.ndarray) -> float:
    return macro_ovr_auc(y, estimator.predict_proba(x), estimator.classes_)


def _evaluate(model: Any, x: np.ndarray, y: np.ndarray, classification: bool) -> dict[str, float]:
    if classification:
        classes = np.unique(y)
        return {
            "roc_auc": macro_ovr_auc(y, model.predict_proba(x), model.classes_),
            "f1_macro": float(
                f1_score(y, model.predict(x), labels=classes, average="macro", zero_division=0)
            ),
        }
    return {"r2": float(r2_score(y, model.predict(x)))}


def _importance(
    model: BaseEstimator, x: np.ndarray, y: np.ndarray, scorer: str | Callable[..., float], seed: int
) -> np.ndarray:
    result = permutation_importance(model, x, y, scoring=scorer, n_repeats=3, random_state=seed)
    return np.asarray(result["importances_mean"], dtype="float64")


def utility_scores(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str,
    schema: Schema | None = None,
    *,
    max_rows: int = 50_000,
    seed: int = 0,
    n_threads: int | None = None,
) -> dict[str, Any]:
    """TSTR against TRTR for ``target`` on the real ``holdout`` (higher is better everywhere).

    ``train`` is the real data the synthesizer learned (TRTR trains on it), ``synthetic`` its sample
    (TSTR trains on it); at most ``max_rows`` rows of each are used.  Returns ``target``, ``task``,
    ``metric``, ``tstr`` and ``trtr`` (the main metric), ``ratio``, ``score``, ``tstr_metrics`` and
    ``trtr_metrics`` (every metric), ``importance_agreement`` (None when undefined) and
    ``importances`` (per feature, for both models).  ``n_threads`` caps the OpenMP threads.
    """
    if not isinstance(target, str) or not target:
        raise OptionError(f"target must be a column name, got {target!r}")
    schema, columns = scored_columns(train, None, schema)
    column = _target_column(schema, target)
    require_columns(synthetic, columns, "synthetic")
    require_columns(holdout, columns, "holdout")
    classification = column.kind in (Kind.CATEGORICAL, Kind.BOOLEAN)
    encoder = FeatureEncoder(schema, exclude=[target]).fit(train)
    if not encoder.feature_names:
        raise DataError(f"target {target!r} is the only learned column: there are no features to learn from")
    rng = np.random.default_rng(seed)
    sets = {}
    for name, frame in (("real training", train), ("synthetic", synthetic), ("holdout", holdout)):
        y = _labels(frame, column, classification)
        keep = np.flatnonzero(_present(y, classification))
        if name != "holdout" and keep.size > max_rows:
            keep = np.sort(rng.choice(keep, max_rows, replace=False))
        if keep.size < 2:
            raise DataError(f"target {target!r}: the {name} data has fewer than 2 rows with a value")
        rows = frame.iloc[keep]
        labels = y[keep].astype(str) if classification else y[keep].astype("float64")
        sets[name] = (encoder.transform(rows, name), labels)
        if classification and name != "holdout" and np.unique(labels).size < 2:
            raise OptionError(
                f"target {target!r}: the {name} data has a single class ({str(labels[0])!r}); "
                "a classifier needs at least two"
            )
    x_test, y_test = sets["holdout"]
    if classification and np.unique(y_test).size < 2:
        raise DataError(f"target {target!r}: the holdout has a single class, so ROC AUC is undefined")
    categorical = encoder.categorical_features
    scorer: str | Callable[..., float] = _auc_scorer if classification else "r2"
    held = np.arange(len(y_test))
    if held.size > IMPORTANCE_ROWS:
        held = np.sort(rng.choice(held, IMPORTANCE_ROWS, replace=False))
    metrics, importances = {}, {}
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        for key, name in (("tstr", "synthetic"), ("trtr", "real training")):
            x, y = sets[name]
            model = gradient_boosting(categorical, seed, classifier=classification, labels=y).fit(x, y)
            metrics[key] = _evaluate(model, x_test, y_test, classification)
            importances[key] = _importance(model, x_test[held], y_test[held], scorer, seed)
    main = "roc_auc" if classification else "r2"
    tstr, trtr = metrics["tstr"][main], metrics["trtr"][main]
    ratio = max(tstr, 0.0) / trtr if trtr > 0 else float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant importances: rho is undefined, reported as None
        rho = spearmanr(importances["tstr"], importances["trtr"]).statistic
    agreement = float(rho) if np.isfinite(rho) else None
    names = encoder.feature_names
    return {
        "target": target,
        "task": "classification" if classification else "regression",
        "metric": main,
        "tstr": float(tstr),
        "trtr": float(trtr),
        "ratio": float(ratio),
        "score": float(np.clip(ratio, 0.0, 1.0)) if np.isfinite(ratio) else float("nan"),
        "tstr_metrics": metrics["tstr"],
        "trtr_metrics": metrics["trtr"],
        "importance_agreement": agreement,
        "importances": {
            key: {name: float(v) for name, v in zip(names, values, strict=True)}
            for key, values in importances.items()
        },
    }
