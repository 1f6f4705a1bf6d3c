"""Fairness of an outcome column towards a protected column, in real and synthetic data.

* Outcome rates: the share of rows with the ``positive`` outcome in each protected group.
* Demographic parity difference: the largest gap between two groups' outcome rates (0: equal rates).
* Equalised-odds gap of a model trained on the data: a classifier of ``outcome == positive`` (the
  utility's gradient boosting, every other column a feature) is trained on the rows (real training
  or synthetic) and tested on the real holdout; the gap is the larger of the largest between-group
  gaps in its true-positive rate and in its false-positive rate (0: equal error rates).

Values are compared as text (numbers as floats first, as the other scores do); rows whose outcome or
protected value is missing are left out.  ``positive`` defaults to the outcome's rarest real value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage.errors import DataError, OptionError
from mirage.evaluation._columns import category_keys
from mirage.schema import Kind, Schema

__all__ = [
    "demographic_parity_difference",
    "equalised_odds_gap",
    "fairness_scores",
    "outcome_rates",
    "resolve_fairness",
]


def resolve_fairness(fairness: Mapping[str, Any], schema: Schema) -> tuple[str, str, Any]:
    """``{"outcome": ..., "protected": ..., "positive": ...}`` checked: (outcome, protected, positive)."""
    if not isinstance(fairness, Mapping) or not {"outcome", "protected"} <= set(fairness):
        raise OptionError(f"fairness must be {{'outcome': COLUMN, 'protected': COLUMN}}, got {fairness!r}")
    unknown = set(fairness) - {"outcome", "protected", "positive"}
    if unknown:
        raise OptionError(
            f"fairness: unknown key {sorted(unknown)[0]!r} (keys: outcome, protected, positive)"
        )
    outcome, protected = fairness["outcome"], fairness["protected"]
    for role, name in (("outcome", outcome), ("protected", protected)):
        if name not in schema.names:
            raise OptionError(
                f"fairness {role} {name!r} is not a column (columns: {', '.join(schema.names)})"
            )
        kind = schema[name].kind
        if kind not in (Kind.CATEGORICAL, Kind.BOOLEAN):
            raise OptionError(
                f"fairness {role} {name!r} is a {kind.value} column; it must be categorical or boolean"
            )
    if outcome == protected:
        raise OptionError(f"fairness: the outcome and the protected column are both {outcome!r}")
    return outcome, protected, fairness.get("positive")


def _keys(values: pd.Series) -> pd.Series:
    keys = category_keys(values)
    return keys.where(values.notna().to_numpy(), None)


def _positive_key(real: pd.Series, positive: Any, outcome: str) -> str:
    keys = _keys(real).dropna()
    if keys.empty:
        raise DataError(f"fairness outcome {outcome!r} has no values in the real data")
    if positive is None:
        counts = keys.value_counts(sort=False)
        return str(counts.index[int(counts.to_numpy().argmin())])
    key = str(category_keys(pd.Series([positive])).iloc[0])
    if key not in set(keys) and str(positive) in set(keys):
        key = str(positive)
    if key not in set(keys):
        raise OptionError(
            f"fairness positive outcome {positive!r} never occurs in {outcome!r} in the real data"
        )
    return key


def outcome_rates(outcome: pd.Series, protected: pd.Series, positive: str) -> dict[str, float]:
    """Per protected group (as text), the share of its rows whose outcome (as text) is ``positive``."""
    frame = pd.DataFrame({"y": _keys(outcome).to_numpy(), "g": _keys(protected).to_numpy()}).dropna()
    rates = (frame["y"] == positive).groupby(frame["g"]).mean()
    return {str(g): float(r) for g, r in rates.sort_index().items()}


def demographic_parity_difference(rates: Mapping[str, float]) -> float:
    """The largest gap between two groups' outcome rates (NaN with fewer than two groups)."""
    values = list(rates.values())
    return float(max(values) - min(values)) if len(values) >= 2 else float("nan")


def _gap(values: list[float]) -> float:
    return float(max(values) - min(values)) if len(values) >= 2 else float("nan")


def equalised_odds_gap(
    actual: np.ndarray, predicted: np.ndarray, groups: np.ndarray
) -> tuple[float, dict[str, float], dict[str, float]]:
    """The equalised-odds gap of boolean ``predicted`` against boolean ``actual`` over ``groups``:
    the larger of the between-group gaps in true- and false-positive rates; with the rates per group
    (a group without positives has no true-positive rate, one without negatives no false-positive)."""
    actual, predicted, groups = np.asarray(actual, bool), np.asarray(predicted, bool), np.asarray(groups)
    tpr, fpr = {}, {}
    for group in sorted(set(groups.tolist()), key=str):
        mine = groups == group
        if (mine & actual).any():
            tpr[str(group)] = float(predicted[mine & actual].mean())
        if (mine & ~actual).any():
            fpr[str(group)] = float(predicted[mine & ~actual].mean())
    gaps = [g for g in (_gap(list(tpr.values())), _gap(list(fpr.values()))) if not np.isnan(g)]
    return (max(gaps) if gaps else float("nan")), tpr, fpr


def _side(frame: pd.DataFrame, outcome: str, protected: str, positive: str) -> dict[str, Any]:
    rates = outcome_rates(frame[outcome], frame[protected], positive)
    counts = _keys(frame[protected]).value_counts().sort_index()
    return {
        "rates": rates,
        "rows": {str(g): int(c) for g, c in counts.items()},
        "parity_difference": demographic_parity_difference(rates),
    }


def _model_side(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    encoder: Any,
    outcome: str,
    protected: str,
    positive: str,
    seed: int,
    which: str,
) -> dict[str, Any]:
    from mirage.evaluation._features import gradient_boosting

    keep = _keys(train[outcome]).notna().to_numpy()
    rows = train[keep]
    y = (_keys(rows[outcome]) == positive).to_numpy()
    if y.all() or not y.any():
        raise DataError(f"fairness: the {which} rows have a single outcome, so no model can be trained")
    model = gradient_boosting(encoder.categorical_features, seed, classifier=True, labels=y)
    model.fit(encoder.transform(rows, which), y)
    test = holdout[_keys(holdout[outcome]).notna().to_numpy() & _keys(holdout[protected]).notna().to_numpy()]
    actual = (_keys(test[outcome]) == positive).to_numpy()
    predicted = np.asarray(model.predict(encoder.transform(test, "holdout")), dtype=bool)
    gap, tpr, fpr = equalised_odds_gap(actual, predicted, _keys(test[protected]).to_numpy())
    return {
        "equalised_odds_gap": gap,
        "true_positive_rates": tpr,
        "false_positive_rates": fpr,
        "predicted_rates": outcome_rates(
            pd.Series(np.where(predicted, positive, "other")),
            test[protected].reset_index(drop=True),
            positive,
        ),
    }


def fairness_scores(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    fairness: Mapping[str, Any],
    schema: Schema,
    *,
    seed: int = 0,
    n_threads: int | None = 1,
) -> dict[str, Any]:
    """Outcome rates per protected group and their demographic parity difference in ``real`` and
    ``synthetic``; with a ``holdout``, the equalised-odds gap of a model trained on each, tested on it."""
    outcome, protected, positive = resolve_fairness(fairness, schema)
    key = _positive_key(real[outcome], positive, outcome)
    result: dict[str, Any] = {
        "outcome": outcome,
        "protected": protected,
        "positive": key,
        "real": _side(real, outcome, protected, key),
        "synthetic": _side(synthetic, outcome, protected, key),
    }
    if holdout is not None:
        from threadpoolctl import threadpool_limits

        from mirage.evaluation._features import FeatureEncoder

        encoder = FeatureEncoder(schema, exclude=[outcome]).fit(real)
        with threadpool_limits(limits=n_threads, user_api="openmp"):
            for name, frame in (("real", real), ("synthetic", synthetic)):
                result[name]["model"] = _model_side(
                    frame, holdout, encoder, outcome, protected, key, seed, name
                )
    return result
