"""Fidelity and privacy of event histories, measured per entity rather than per row.

Lengths, gaps between events, per-step marginals, lag-k autocorrelation of numeric columns and
transition matrices of categorical columns compare the histories' structure; coherence, detection and
distance to the closest record work on one row of aggregates per entity, so that copying one event of
a long history does not count as copying the history.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mirage.schema import Kind
from mirage.sequential import SequenceSchema

__all__ = [
    "autocorrelation",
    "entity_features",
    "evaluate_sequences",
    "ks_complement",
    "sequence_gaps",
    "sequence_lengths",
]


def _sorted(events: pd.DataFrame, schema: SequenceSchema) -> pd.DataFrame:
    return events.sort_values([schema.entity, schema.order], kind="mergesort").reset_index(drop=True)


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """One minus the Kolmogorov-Smirnov statistic of two samples (1: same distribution)."""
    from scipy.stats import ks_2samp

    real, synthetic = np.asarray(real, float), np.asarray(synthetic, float)
    real, synthetic = real[np.isfinite(real)], synthetic[np.isfinite(synthetic)]
    if len(real) == 0 or len(synthetic) == 0:
        return float("nan")
    return float(1.0 - ks_2samp(real, synthetic).statistic)


def sequence_lengths(events: pd.DataFrame, schema: SequenceSchema) -> np.ndarray:
    """The number of events of each entity."""
    return events.groupby(schema.entity, sort=False).size().to_numpy()


def sequence_gaps(events: pd.DataFrame, schema: SequenceSchema) -> np.ndarray:
    """The time (seconds) or steps between consecutive events of an entity."""
    events = _sorted(events, schema)
    order = events[schema.order]
    numbers = (
        (pd.to_datetime(order) - pd.Timestamp(0)).dt.total_seconds().to_numpy()
        if schema.timestamped
        else order.to_numpy(dtype="float64")
    )
    same = events[schema.entity].to_numpy()[1:] == events[schema.entity].to_numpy()[:-1]
    return np.diff(numbers)[same]


def autocorrelation(events: pd.DataFrame, schema: SequenceSchema, column: str, lag: int) -> float:
    """The correlation of ``column`` with itself ``lag`` events earlier within the same entity."""
    events = _sorted(events, schema)
    values = events[column].to_numpy(dtype="float64")
    keys = events[schema.entity].to_numpy()
    if len(values) <= lag:
        return float("nan")
    same = keys[lag:] == keys[:-lag]
    a, b = values[lag:][same], values[:-lag][same]
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3 or np.std(a[keep]) == 0 or np.std(b[keep]) == 0:
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def _transitions(events: pd.DataFrame, schema: SequenceSchema, column: str) -> pd.Series:
    events = _sorted(events, schema)
    keys = events[schema.entity].to_numpy()
    values = events[column].astype(str).to_numpy()
    same = keys[1:] == keys[:-1]
    pairs = pd.Series(values[:-1][same] + " -> " + values[1:][same])
    return pairs.value_counts(normalize=True)


def _category_sets(events: pd.DataFrame, schema: SequenceSchema, column: str) -> list[frozenset[str]]:
    """Each entity's set of values of ``column``."""
    keys = events[schema.entity].to_numpy()
    values = events[column].astype(str).to_numpy()
    sets: dict[Any, set[str]] = {}
    for key, value in zip(keys, values, strict=True):
        sets.setdefault(key, set()).add(str(value))
    return [frozenset(v) for v in sets.values()]


def _numeric(schema: SequenceSchema) -> list[str]:
    return [c for c in schema.value_columns if schema.columns[c].kind is Kind.NUMERIC]


def _categorical(schema: SequenceSchema) -> list[str]:
    return [c for c in schema.value_columns if schema.columns[c].kind in (Kind.CATEGORICAL, Kind.BOOLEAN)]


def entity_features(events: pd.DataFrame, schema: SequenceSchema) -> pd.DataFrame:
    """One row per entity: its length, its gaps' mean and spread, its numeric columns' mean, spread,
    first and last value and lag-1 change, and its categorical columns' shares."""
    events = _sorted(events, schema)
    groups = events.groupby(schema.entity, sort=False)
    out = pd.DataFrame({"length": groups.size()})
    gaps = np.r_[np.nan, sequence_gaps(events, schema)] if len(events) else np.array([])
    keys = events[schema.entity].to_numpy()
    starts = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.array([], bool)
    full = np.full(len(events), np.nan)
    full[~starts] = gaps[1:] if len(gaps) > 1 else []
    frame = pd.DataFrame({"entity": keys, "gap": full})
    gap_groups = frame.groupby("entity", sort=False)["gap"]
    out["gap_mean"] = gap_groups.mean().reindex(out.index).fillna(0.0)
    out["gap_std"] = gap_groups.std().reindex(out.index).fillna(0.0)
    for column in _numeric(schema):
        values = groups[column]
        out[f"{column}_mean"] = values.mean()
        out[f"{column}_std"] = values.std().fillna(0.0)
        out[f"{column}_first"] = values.first()
        out[f"{column}_last"] = values.last()
        out[f"{column}_change"] = (
            events[column].diff().where(~starts).groupby(keys, sort=False).mean().fillna(0.0)
        )
    for column in _categorical(schema):
        top = events[column].astype(str).value_counts().index[:10]
        for value in top:
            out[f"{column}={value}"] = (events[column].astype(str) == value).groupby(keys, sort=False).mean()
    return out.reset_index(drop=True).astype("float64").fillna(0.0)


def _detection(real: pd.DataFrame, synthetic: pd.DataFrame, seed: int) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    n = min(len(real), len(synthetic))
    if n < 10:
        return float("nan")
    rng = np.random.default_rng(seed)
    r = real.iloc[rng.choice(len(real), n, replace=False)]
    s = synthetic.reindex(columns=real.columns, fill_value=0.0).iloc[
        rng.choice(len(synthetic), n, replace=False)
    ]
    x = np.vstack([r.to_numpy(), s.to_numpy()])
    y = np.r_[np.zeros(n), np.ones(n)]
    scores = cross_val_score(
        HistGradientBoostingClassifier(max_iter=100, random_state=seed), x, y, cv=3, scoring="roc_auc"
    )
    return float(np.mean(scores))


def _dcr(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, float]:
    from sklearn.neighbors import NearestNeighbors

    synthetic = synthetic.reindex(columns=real.columns, fill_value=0.0)
    scale = real.std().replace(0.0, 1.0)
    r = ((real - real.mean()) / scale).to_numpy()
    s = ((synthetic - real.mean()) / scale).to_numpy()
    to_real = NearestNeighbors(n_neighbors=1).fit(r).kneighbors(s)[0][:, 0]
    within = NearestNeighbors(n_neighbors=2).fit(r).kneighbors(r)[0][:, 1]
    return {
        "copied_share": float(np.mean(to_real < 1e-6)),
        "closer_than_real_share": float(np.mean(to_real < np.median(within))),
        "median_dcr": float(np.median(to_real)),
        "median_real_nn": float(np.median(within)),
    }


def evaluate_sequences(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: SequenceSchema,
    *,
    lags: int = 3,
    steps: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Every sequence metric of ``synthetic`` against ``real`` (both event tables under ``schema``)."""
    result: dict[str, Any] = {
        "length_ks_complement": ks_complement(
            sequence_lengths(real, schema), sequence_lengths(synthetic, schema)
        ),
        "gap_ks_complement": ks_complement(sequence_gaps(real, schema), sequence_gaps(synthetic, schema)),
    }
    autocorr: dict[str, dict[int, tuple[float, float]]] = {}
    for column in _numeric(schema):
        autocorr[column] = {
            lag: (autocorrelation(real, schema, column, lag), autocorrelation(synthetic, schema, column, lag))
            for lag in range(1, lags + 1)
        }
    result["autocorrelation"] = autocorr
    real_sorted, synthetic_sorted = _sorted(real, schema), _sorted(synthetic, schema)
    real_step = real_sorted.groupby(schema.entity, sort=False).cumcount().to_numpy()
    synthetic_step = synthetic_sorted.groupby(schema.entity, sort=False).cumcount().to_numpy()
    per_step: dict[str, list[float]] = {}
    for column in _numeric(schema):
        per_step[column] = [
            ks_complement(real_sorted[column][real_step == t], synthetic_sorted[column][synthetic_step == t])
            for t in range(steps)
        ]
    for column in _categorical(schema):
        scores = []
        for t in range(steps):
            a = real_sorted[column][real_step == t].astype(str).value_counts(normalize=True)
            b = synthetic_sorted[column][synthetic_step == t].astype(str).value_counts(normalize=True)
            scores.append(float(1.0 - 0.5 * a.sub(b, fill_value=0.0).abs().sum()))
        per_step[column] = scores
    result["per_step"] = per_step
    transitions: dict[str, float] = {}
    for column in _categorical(schema):
        a, b = _transitions(real, schema, column), _transitions(synthetic, schema, column)
        transitions[column] = float(1.0 - 0.5 * a.sub(b, fill_value=0.0).abs().sum())
    result["transitions"] = transitions
    coherence: dict[str, float] = {}
    for column in _categorical(schema):
        seen = set(_category_sets(real, schema, column))
        drawn = _category_sets(synthetic, schema, column)
        coherence[column] = float(np.mean([d in seen for d in drawn])) if drawn else float("nan")
    result["coherence"] = coherence
    real_features, synthetic_features = entity_features(real, schema), entity_features(synthetic, schema)
    result["detection_auc"] = _detection(real_features, synthetic_features, seed)
    result["dcr"] = _dcr(real_features, synthetic_features)
    return result
