"""Fidelity and privacy of event histories, measured per entity rather than per row.

Lengths, gaps between events, per-step marginals, lag-k autocorrelation of numeric columns and
transition matrices of categorical columns compare the histories' structure; coherence, detection and
distance to the closest record work on one row of aggregates per entity, so that copying one event of
a long history does not count as copying the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mirage.errors import OptionError
from mirage.schema import Kind, Schema
from mirage.sequential import SequenceSchema

__all__ = [
    "SEQUENCE_DIRECTIONS",
    "SequenceReport",
    "aligned_like",
    "autocorrelation",
    "constant_columns",
    "entity_features",
    "evaluate_sequences",
    "ks_complement",
    "sequence_gaps",
    "sequence_lengths",
    "sequence_report",
    "sequence_scores",
    "split_entities",
    "top_categories",
    "check_sequence_gate_names",
]

# The sequence report's gated scores -> (direction, meaning), as DIRECTIONS for one table: "higher" or
# "lower" is the better direction, "half" means 0.5 is ideal.
SEQUENCE_DIRECTIONS: dict[str, tuple[str, str]] = {
    "length_ks": ("higher", "1 - KS between the real and synthetic numbers of events per entity"),
    "gap_ks": ("higher", "1 - KS between the real and synthetic times (or steps) between consecutive events"),
    "column_shapes": ("higher", "mean per-column 1-KS / 1-TVD of the events' values"),
    "autocorrelation_gap": (
        "lower",
        "the largest |real - synthetic| lag-1 autocorrelation over the numeric columns",
    ),
    "transitions": (
        "higher",
        "1 - TVD of the pairs of consecutive categories, mean over the categorical columns",
    ),
    "coherence": (
        "higher",
        "share of synthetic entities whose set of categories a real entity has, mean over the columns",
    ),
    "consistency": (
        "higher",
        "share of synthetic entities holding one value along their history in every column constant per "
        "entity in the real data (1.0 expected)",
    ),
    "detection_auc": (
        "half",
        "ROC AUC of a classifier telling real from synthetic entities by their aggregates (0.5 ideal)",
    ),
    "dcr_share": (
        "half",
        "DCR share on entity rows (one row of aggregates per entity): how often a synthetic entity's "
        "closest real entity is a training one, rescaled so that chance reads 0.5 (needs a holdout)",
    ),
    "entity_copy_rate": ("lower", "share of synthetic entities whose aggregates equal a training entity's"),
}


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


def entity_features(
    events: pd.DataFrame, schema: SequenceSchema, categories: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    """One row per entity: its length, its gaps' mean and spread, its numeric columns' mean, spread,
    first and last value and lag-1 change, and its categorical columns' shares.

    ``categories``: the values whose shares are features, per categorical column (by default this
    table's ten most common).  Comparing two tables needs the same ones on both sides
    (:func:`top_categories` of the real table): a value one table lacks is then a share of 0 there."""
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
    chosen = categories if categories is not None else top_categories(events, schema)
    for column in _categorical(schema):
        text = events[column].astype(str)
        for value in chosen.get(column, []):
            out[f"{column}={value}"] = (text == value).groupby(keys, sort=False).mean()
    return out.reset_index(drop=True).astype("float64").fillna(0.0)


def top_categories(events: pd.DataFrame, schema: SequenceSchema, top: int = 10) -> dict[str, list[str]]:
    """The ``top`` most common values (as text) of each categorical column of ``events``."""
    return {
        column: [str(v) for v in events[column].astype(str).value_counts().index[:top]]
        for column in _categorical(schema)
    }


def aligned_like(synthetic: pd.DataFrame, real: pd.DataFrame, schema: SequenceSchema) -> pd.DataFrame:
    """``synthetic`` with each column spelled as in ``real``: numbers as numbers, timestamps as naive
    timestamps, whole-number categories written as the real ones (``1`` rather than ``1.0``).

    Another library's output (read back from CSV, or written with its own dtypes) otherwise differs
    from the real table in spelling alone, and every aggregate that compares text or parses a column
    would tell the two apart by that spelling, not by the values."""
    out = synthetic.copy()
    for column in schema.columns:
        name = column.name
        if name not in out.columns or name not in real.columns:
            continue
        if column.kind is Kind.DATETIME:
            out[name] = _naive_times(out[name])
        elif column.kind is Kind.NUMERIC:
            out[name] = pd.to_numeric(out[name], errors="coerce")
        elif pd.api.types.is_integer_dtype(real[name]) or pd.api.types.is_bool_dtype(real[name]):
            numbers = pd.to_numeric(out[name], errors="coerce")
            whole = numbers.notna() & (numbers == np.round(numbers))
            if whole.all():
                out[name] = numbers.astype(real[name].dtype)
        else:
            text = out[name].astype(str).where(out[name].notna())
            out[name] = text
    return out


def _naive_times(values: pd.Series) -> pd.Series:
    """Timestamps as naive UTC ones (offsets applied), whatever their dtype or spelling."""
    stamps = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    return stamps.dt.tz_localize(None)


def constant_columns(events: pd.DataFrame, schema: SequenceSchema) -> list[str]:
    """The value columns holding one value along every entity's history in ``events``."""
    if events.empty:
        return []
    groups = events.groupby(schema.entity, sort=False)
    return [c for c in schema.value_columns if groups[c].nunique(dropna=False).max() <= 1]


def _consistency(synthetic: pd.DataFrame, schema: SequenceSchema, columns: list[str]) -> dict[str, float]:
    """Per column: the share of synthetic entities holding one value along their history."""
    if synthetic.empty:
        return {c: float("nan") for c in columns}
    groups = synthetic.groupby(schema.entity, sort=False)
    return {c: float((groups[c].nunique(dropna=False) <= 1).mean()) for c in columns}


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


def _dcr(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, Any]:
    from sklearn.neighbors import NearestNeighbors

    synthetic = synthetic.reindex(columns=real.columns, fill_value=0.0)
    scale = real.std().replace(0.0, 1.0).fillna(1.0)
    r = ((real - real.mean()) / scale).to_numpy()
    s = ((synthetic - real.mean()) / scale).to_numpy()
    if len(r) < 2 or len(s) == 0:
        return {"copied_share": float("nan"), "closer_than_real_share": float("nan")}
    to_real = NearestNeighbors(n_neighbors=1).fit(r).kneighbors(s)[0][:, 0]
    within = NearestNeighbors(n_neighbors=2).fit(r).kneighbors(r)[0][:, 1]
    return {
        "copied_share": float(np.mean(to_real < 1e-6)),
        "closer_than_real_share": float(np.mean(to_real < np.median(within))),
        "median_dcr": float(np.median(to_real)),
        "median_real_nn": float(np.median(within)),
        "distances_to_real": to_real.tolist(),
        "real_to_real": within.tolist(),
    }


def split_entities(
    events: pd.DataFrame, entity: str, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, holdout)`` events: a seeded random ``round(fraction * entities)`` of the entities held
    out whole (every event of an entity on one side), so that a report can compare entity rows."""
    if not 0.0 < fraction < 1.0:
        raise OptionError(f"holdout must be a fraction strictly between 0 and 1, got {fraction}")
    keys = events[entity].drop_duplicates().to_numpy()
    n_held = round(fraction * len(keys))
    if n_held < 1 or len(keys) - n_held < 2:
        raise OptionError(
            f"holdout {fraction} of {len(keys):,} entities leaves no entity held out, or fewer than 2 "
            "to learn"
        )
    order = np.random.default_rng(np.random.SeedSequence([seed, 0x5E0])).permutation(len(keys))
    held = events[entity].isin(keys[order[:n_held]]).to_numpy()
    return events[~held].reset_index(drop=True), events[held].reset_index(drop=True)


def _value_schema(schema: SequenceSchema) -> Schema:
    """The event table's columns without the entity key (an identifier, never compared)."""
    return Schema([c for c in schema.columns if c.name != schema.entity], locale=schema.columns.locale)


def evaluate_sequences(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: SequenceSchema,
    *,
    holdout: pd.DataFrame | None = None,
    lags: int = 3,
    steps: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Every sequence metric of ``synthetic`` against ``real`` (both event tables under ``schema``).

    ``holdout``: events of real entities the model never saw; with it, ``dcr`` holds the DCR share
    on entity rows (:func:`mirage.evaluation._privacy.dcr` over one row of aggregates per entity)."""
    synthetic = aligned_like(synthetic, real, schema)
    real = aligned_like(real, real, schema)
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
    from mirage.evaluation._shapes import column_shape_scores

    shapes = column_shape_scores(real, synthetic, _value_schema(schema))
    result["column_shapes"] = shapes.to_dict(orient="records")
    result["consistency"] = _consistency(synthetic, schema, constant_columns(real, schema))
    categories = top_categories(real, schema)
    real_features = entity_features(real, schema, categories)
    synthetic_features = entity_features(synthetic, schema, categories)
    result["detection_auc"] = _detection(real_features, synthetic_features, seed)
    result["dcr"] = _dcr(real_features, synthetic_features)
    if holdout is not None:
        from mirage.evaluation._privacy import dcr

        held = aligned_like(holdout, real, schema)
        result["dcr"]["holdout"] = dcr(
            real_features, entity_features(held, schema, categories), synthetic_features, seed=seed
        )
    return result


def sequence_scores(result: dict[str, Any]) -> dict[str, float | None]:
    """The gated scores (:data:`SEQUENCE_DIRECTIONS`) of an :func:`evaluate_sequences` result."""

    def mean(values: Any) -> float | None:
        finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        return float(np.mean(finite)) if finite else None

    gaps = [
        abs(lags[1][0] - lags[1][1])
        for lags in result["autocorrelation"].values()
        if math.isfinite(lags[1][0]) and math.isfinite(lags[1][1])
    ]
    consistency = [v for v in result["consistency"].values() if math.isfinite(v)]
    held = result["dcr"].get("holdout")
    scores: dict[str, float | None] = {
        "length_ks": result["length_ks_complement"],
        "gap_ks": result["gap_ks_complement"],
        "column_shapes": mean(row["score"] for row in result["column_shapes"]),
        "autocorrelation_gap": max(gaps) if gaps else None,
        "transitions": mean(result["transitions"].values()),
        "coherence": mean(result["coherence"].values()),
        "consistency": min(consistency) if consistency else None,
        "detection_auc": result["detection_auc"],
        "dcr_share": None if held is None else held["dcr_share"],
        "entity_copy_rate": held["exact_copy_rate"] if held is not None else result["dcr"]["copied_share"],
    }
    return {k: (v if v is not None and math.isfinite(v) else None) for k, v in scores.items()}


def check_sequence_gate_names(names: list[str]) -> None:
    """An ``OptionError`` for a gate naming no score of the sequence report."""
    for name in names:
        if name not in SEQUENCE_DIRECTIONS:
            known = ", ".join(SEQUENCE_DIRECTIONS)
            raise OptionError(f"unknown score {name!r} in a gate of a sequence report (known: {known})")


@dataclass
class SequenceReport:
    """The sequence report: gated scores, the :func:`evaluate_sequences` details behind them, and the
    event tables compared (for the page's plots); written as HTML or JSON."""

    scores: dict[str, float | None]
    details: dict[str, Any]
    schema: SequenceSchema
    meta: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    # what the page plots beside the frames: lengths and gaps, "real" and "synthetic" of each
    series: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)
    directions: ClassVar[dict[str, tuple[str, str]]] = SEQUENCE_DIRECTIONS

    def value_schema(self) -> Schema:
        """The event table's columns without the entity key (the columns plotted one by one)."""
        return _value_schema(self.schema)

    def to_dict(self) -> dict[str, Any]:
        """The scores, their directions and meta, and (at the top level, as before the scores were
        added) every detail; the per-entity distances of the DCR stay out of the JSON."""
        details = dict(self.details)
        details["dcr"] = {
            k: v for k, v in details["dcr"].items() if not k.startswith(("distances", "real_to"))
        }
        if "holdout" in details["dcr"]:
            held = details["dcr"]["holdout"]
            details["dcr"]["holdout"] = {k: v for k, v in held.items() if not k.startswith("distances")}
        directions = {k: {"better": d, "meaning": m} for k, (d, m) in SEQUENCE_DIRECTIONS.items()}
        return {"scores": self.scores, "directions": directions, "meta": self.meta, **details}

    def to_json(self, path: str | None = None, *, force: bool = False) -> str:
        import json

        from mirage.evaluation._report import _write_text, clean_json

        text = json.dumps(clean_json(self.to_dict()), indent=2, allow_nan=False)
        if path is not None:
            _write_text(path, text + "\n", force=force)
        return text

    def to_html(self, path: str | None = None, *, force: bool = False) -> str:
        from mirage.evaluation._report import _write_text
        from mirage.evaluation._sequence_html import render_sequence_html

        text = render_sequence_html(self)
        if path is not None:
            _write_text(path, text, force=force)
        return text

    def check(
        self, fail_under: dict[str, float] | None = None, fail_over: dict[str, float] | None = None
    ) -> list[str]:
        """The failed gates as readable lines; an empty list means every gate passed."""
        failures = []
        for word, gates in (("under", fail_under or {}), ("over", fail_over or {})):
            check_sequence_gate_names(list(gates))
            for name, threshold in gates.items():
                value = self.scores.get(name)
                if value is None:
                    needs = "a holdout" if name == "dcr_share" else "columns it applies to"
                    failures.append(f"{name} was not computed (needs {needs})")
                elif (value < threshold) if word == "under" else (value > threshold):
                    failures.append(f"{name} = {value:.4f} is {word} {threshold}")
        return failures


def sequence_report(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: SequenceSchema,
    *,
    holdout: pd.DataFrame | None = None,
    seed: int = 0,
    meta: dict[str, Any] | None = None,
) -> SequenceReport:
    """:func:`evaluate_sequences` as a :class:`SequenceReport` (scores, details, the tables plotted)."""
    details = evaluate_sequences(real, synthetic, schema, holdout=holdout, seed=seed)
    info = {
        "entities": {
            "real": int(real[schema.entity].nunique()),
            "synthetic": int(synthetic[schema.entity].nunique()),
            **({"holdout": int(holdout[schema.entity].nunique())} if holdout is not None else {}),
        },
        "events": {"real": len(real), "synthetic": len(synthetic)},
        "entity": schema.entity,
        "order": schema.order,
        **(meta or {}),
    }
    frames = {"real": aligned_like(real, real, schema), "synthetic": aligned_like(synthetic, real, schema)}
    series = {
        "lengths": {side: sequence_lengths(frame, schema) for side, frame in frames.items()},
        "gaps": {side: sequence_gaps(frame, schema) for side, frame in frames.items()},
    }
    return SequenceReport(sequence_scores(details), details, schema, info, frames, series)
