"""Scores for a synthetic database against the real one: are the links between tables kept?

- **Referential integrity**: the share of synthetic foreign key values that point to a synthetic parent
  row, and every broken key (``DatabaseSchema.integrity_problems``).  1.0 is required.
- **Cardinality similarity**, per foreign key: ``1 - KS``, the two-sample Kolmogorov-Smirnov statistic
  between the real and the synthetic numbers of children per parent row (parents with no child count
  as 0).  1 = the same distribution ("big customers place many orders" kept in shape).
- **Parent-child correlations**, per foreign key: each parent row with aggregates of its children (their
  count and the means of their numeric and datetime columns); the association of every parent column
  with every aggregate (Spearman's rho for numeric parent columns, the correlation ratio for
  categorical ones) in real and in synthetic data; the score is ``1 - |rho_real - rho_synthetic| / 2``
  (``1 - |eta_real - eta_synthetic|``) averaged over the pairs.  1 = the same associations.
- **Detection on denormalised data** (as the SyntheRela benchmark does): each parent table's rows joined
  with aggregates of their children (count, means of numeric columns, shares of the most frequent
  categories), real against synthetic, told apart by a gradient-boosting classifier; the score is the
  cross-validated ROC AUC, 0.5 = indistinguishable, 1 = every row told apart.  A second figure, the
  **protected view** (:func:`protected_view`), compares real rows seen through the same value protection
  as the synthetic ones: a categorical column whose synthetic values are almost never real ones
  (replaced by ``_RARE_``, Faker or format codes) carries the rare token on both sides, and where the
  synthetic column holds the rare token, each real value it never shows becomes that token.  It tells
  whether what the model learned (frequencies, links, children) can be told from the real data, where
  the first figure also counts the values withheld on purpose.

Every function takes the :class:`DatabaseSchema` and dicts of real and synthetic frames by table name and
returns plain dicts of numbers and strings (JSON as they are).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, spearmanr

from mirage.errors import DataError, SchemaError
from mirage.evaluation._columns import as_numbers, category_keys
from mirage.evaluation._detection import detection_scores
from mirage.schema import Column, DatabaseSchema, ForeignKey, Kind, Schema

__all__ = [
    "RelationalScores",
    "cardinality_similarity",
    "denormalise",
    "evaluate_relational",
    "parent_child_correlations",
    "protected_view",
    "referential_integrity",
    "relational_detection",
]

Frames = Mapping[str, pd.DataFrame]
NUMBER_KINDS = (Kind.NUMERIC, Kind.BOOLEAN, Kind.DATETIME)
# a categorical column whose synthetic rows hold real values at most this often was replaced (Faker,
# new codes), its few real values met by chance; the protected view hides it on both sides
REPLACED_SHARE = 0.05
SHARE_CATEGORIES = 5  # category shares per categorical child column in the denormalised view


def _check(database: DatabaseSchema, frames: Frames, which: str) -> None:
    try:
        database.validate(frames)
    except SchemaError as exc:
        raise DataError(f"{which} data: {exc}") from None


def _keys(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return list(frame[list(columns)].itertuples(index=False, name=None))


def _has_null(key: tuple[Any, ...]) -> bool:
    return any(v is None or (isinstance(v, float) and v != v) or v is pd.NA for v in key)


def children_per_parent(fk: ForeignKey, frames: Frames) -> np.ndarray:
    """The number of ``fk.child`` rows that refer to each ``fk.parent`` row (0 for a parent without)."""
    counts = Counter(k for k in _keys(frames[fk.child], fk.columns) if not _has_null(k))
    return np.array([counts.get(k, 0) for k in _keys(frames[fk.parent], fk.parent_columns)], dtype="float64")


# referential integrity ---------------------------------------------------------------------------


def referential_integrity(database: DatabaseSchema, synthetic: Frames) -> dict[str, Any]:
    """``valid_share``: the share of non-null foreign key values, over all keys, that point to a parent
    row (1.0 when there are none); ``per_foreign_key``: the same per key; ``problems``: every broken
    primary, unique or foreign key, one line each (empty = full integrity)."""
    _check(database, synthetic, "synthetic")
    per_key: dict[str, float] = {}
    valid = total = 0
    for fk in database.foreign_keys:
        parents = set(_keys(synthetic[fk.parent], fk.parent_columns))
        references = [k for k in _keys(synthetic[fk.child], fk.columns) if not _has_null(k)]
        good = sum(1 for k in references if k in parents)
        per_key[fk.name] = good / len(references) if references else 1.0
        valid, total = valid + good, total + len(references)
    problems = database.integrity_problems(synthetic)
    return {
        "valid_share": valid / total if total else 1.0,
        "per_foreign_key": per_key,
        "problems": problems,
        "intact": not problems,
    }


# cardinality -------------------------------------------------------------------------------------


def cardinality_similarity(database: DatabaseSchema, real: Frames, synthetic: Frames) -> dict[str, Any]:
    """Per foreign key, ``1 - KS`` between the real and synthetic children-per-parent distributions,
    with their means and maxima; ``score``: the mean over the foreign keys (None without any)."""
    _check(database, real, "real")
    _check(database, synthetic, "synthetic")
    per_key: dict[str, dict[str, float | None]] = {}
    for fk in database.foreign_keys:
        a, b = children_per_parent(fk, real), children_per_parent(fk, synthetic)
        score = float(1.0 - ks_2samp(a, b).statistic) if a.size and b.size else None
        per_key[fk.name] = {
            "score": score,
            "real_mean": float(a.mean()) if a.size else None,
            "synthetic_mean": float(b.mean()) if b.size else None,
            "real_max": float(a.max()) if a.size else None,
            "synthetic_max": float(b.max()) if b.size else None,
        }
    scores = [v["score"] for v in per_key.values() if v["score"] is not None]
    return {
        "measure": "1 - KS statistic of children per parent",
        "score": float(np.mean(scores)) if scores else None,
        "per_foreign_key": per_key,
    }


# the denormalised view ---------------------------------------------------------------------------


def _learned(database: DatabaseSchema, table: str) -> list[Column]:
    keys = set(database.key_columns(table)) | {c for u in database[table].unique for c in u}
    return [c for c in database[table].schema if c.kind.learned and c.name not in keys]


def _aggregates(
    fk: ForeignKey, database: DatabaseSchema, frames: Frames, categories: Mapping[str, list[str]] | None
) -> pd.DataFrame:
    """One row per parent row (in the parent's order): the count of its children, the means of their
    number-like columns and, where ``categories`` lists a column's categories, their shares."""
    child = frames[fk.child]
    position_of = {key: i for i, key in enumerate(_keys(frames[fk.parent], fk.parent_columns))}
    position = np.array(
        [-1 if _has_null(key) else position_of.get(key, -1) for key in _keys(child, fk.columns)],
        dtype="int64",
    )
    linked = position >= 0
    rows = position[linked]
    n = len(frames[fk.parent])
    prefix = f"{fk.child}[{', '.join(fk.columns)}]"
    count = np.bincount(rows, minlength=n).astype("float64")
    out: dict[str, np.ndarray] = {f"{prefix}.count": count}
    for column in _learned(database, fk.child):
        values = child[column.name][linked]
        if column.kind in NUMBER_KINDS:
            numbers = as_numbers(values, column) if column.kind is not Kind.BOOLEAN else _booleans(values)
            present = np.isfinite(numbers)
            sums = np.bincount(rows[present], weights=numbers[present], minlength=n)
            seen = np.bincount(rows[present], minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"{prefix}.{column.name}.mean"] = np.where(seen > 0, sums / np.maximum(seen, 1), np.nan)
        elif column.kind is Kind.CATEGORICAL and categories is not None:
            keys = category_keys(values).to_numpy()
            for label in categories.get(f"{fk.child}.{column.name}", []):
                hits = np.bincount(rows, weights=(keys == label).astype("float64"), minlength=n)
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[f"{prefix}.{column.name}={label}"] = np.where(
                        count > 0, hits / np.maximum(count, 1), np.nan
                    )
    return pd.DataFrame(out, index=frames[fk.parent].index)


def _booleans(values: pd.Series) -> np.ndarray:
    mapped = values.map(
        lambda v: 1.0 if v in (True, 1, "True", "true", "1") else (0.0 if pd.notna(v) else np.nan)
    )
    return np.asarray(mapped.to_numpy(dtype="float64"), dtype="float64")


def _frequent_categories(database: DatabaseSchema, real: Frames, table: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for fk in database.children(table):
        for column in _learned(database, fk.child):
            if column.kind is Kind.CATEGORICAL:
                counts = category_keys(real[fk.child][column.name]).dropna().value_counts()
                ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
                found[f"{fk.child}.{column.name}"] = [str(label) for label, _ in ordered[:SHARE_CATEGORIES]]
    return found


def denormalise(
    database: DatabaseSchema,
    frames: Frames,
    table: str,
    *,
    categories: Mapping[str, list[str]] | None = None,
) -> tuple[pd.DataFrame, Schema]:
    """``table``'s learned (non-key) columns joined, row for row, with aggregates of each child table
    that refers to it: ``<child>[<fk columns>].count``, ``...<column>.mean`` for number-like columns and,
    for the categorical columns listed in ``categories`` (``{"child.column": [labels]}``),
    ``...<column>=<label>`` shares.  Returns the frame and its schema (aggregates are numeric)."""
    own = _learned(database, table)
    parts = [frames[table][[c.name for c in own]]]
    parts += [_aggregates(fk, database, frames, categories) for fk in database.children(table)]
    flat = pd.concat(parts, axis=1).reset_index(drop=True)
    aggregate_columns = [
        Column(name=str(name), kind=Kind.NUMERIC, dtype="float64", nullable=True)
        for part in parts[1:]
        for name in part.columns
    ]
    return flat, Schema(columns=[*own, *aggregate_columns])


# parent-child correlations -----------------------------------------------------------------------


def _spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.unique(x[keep]).size < 2 or np.unique(y[keep]).size < 2:
        return None
    return float(spearmanr(x[keep], y[keep]).statistic)


def _correlation_ratio(labels: pd.Series, y: np.ndarray) -> float | None:
    keep = np.isfinite(y) & labels.notna().to_numpy()
    if keep.sum() < 3:
        return None
    values, groups = y[keep], category_keys(labels[keep]).to_numpy()
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0.0:
        return None
    frame = pd.DataFrame({"g": groups, "y": values})
    stats = frame.groupby("g")["y"].agg(["mean", "size"])
    between = float((stats["size"] * (stats["mean"] - values.mean()) ** 2).sum())
    return float(np.sqrt(between / total))


def _associations(
    flat: pd.DataFrame, parent: list[Column], aggregates: list[str]
) -> dict[tuple[str, str], tuple[str, float | None]]:
    found: dict[tuple[str, str], tuple[str, float | None]] = {}
    for column in parent:
        numeric = column.kind in NUMBER_KINDS
        x = (
            (
                as_numbers(flat[column.name], column)
                if column.kind is not Kind.BOOLEAN
                else _booleans(flat[column.name])
            )
            if numeric
            else None
        )
        for aggregate in aggregates:
            y = flat[aggregate].to_numpy(dtype="float64")
            if x is not None:
                found[(column.name, aggregate)] = ("spearman", _spearman(x, y))
            else:
                found[(column.name, aggregate)] = (
                    "correlation ratio",
                    _correlation_ratio(flat[column.name], y),
                )
    return found


def parent_child_correlations(database: DatabaseSchema, real: Frames, synthetic: Frames) -> dict[str, Any]:
    """Per foreign key, how well the associations between the parent's columns and its children's
    aggregates (count, means) are kept: ``score`` (1 = the same), ``pairs`` (each pair's measure, real
    and synthetic value); ``score`` overall: the mean over the foreign keys that have pairs."""
    _check(database, real, "real")
    _check(database, synthetic, "synthetic")
    per_key: dict[str, dict[str, Any]] = {}
    for fk in database.foreign_keys:
        if fk.self_reference:
            continue
        parent = _learned(database, fk.parent)
        real_flat = pd.concat(
            [real[fk.parent][[c.name for c in parent]], _aggregates(fk, database, real, None)], axis=1
        )
        synthetic_flat = pd.concat(
            [synthetic[fk.parent][[c.name for c in parent]], _aggregates(fk, database, synthetic, None)],
            axis=1,
        )
        aggregates = [c for c in real_flat.columns if c not in {p.name for p in parent}]
        a = _associations(real_flat, parent, aggregates)
        b = _associations(synthetic_flat, parent, aggregates)
        pairs, scores = [], []
        for (column, aggregate), (measure, real_value) in a.items():
            if real_value is None:
                continue
            synthetic_value = b[(column, aggregate)][1]
            gap = abs(real_value - (synthetic_value if synthetic_value is not None else 0.0))
            scores.append(1.0 - gap / 2.0 if measure == "spearman" else 1.0 - gap)
            pairs.append(
                {
                    "parent_column": column,
                    "child_aggregate": aggregate,
                    "measure": measure,
                    "real": real_value,
                    "synthetic": synthetic_value,
                }
            )
        per_key[fk.name] = {"score": float(np.mean(scores)) if scores else None, "pairs": pairs}
    scores = [v["score"] for v in per_key.values() if v["score"] is not None]
    return {"score": float(np.mean(scores)) if scores else None, "per_foreign_key": per_key}


# detection on denormalised data ------------------------------------------------------------------


def protected_view(database: DatabaseSchema, real: Frames, synthetic: Frames) -> tuple[Frames, Frames]:
    """The real and synthetic frames with every categorical (non-key) column seen through the value
    protection of the synthetic data: a column whose synthetic values (other than the rare token) are
    real ones in at most ``REPLACED_SHARE`` of its rows (withheld behind ``_RARE_``, replaced by Faker
    or by new codes of a format, which can meet a real value by chance: a fake postcode that is a real
    one) holds the rare token in every present row on both sides; a column whose synthetic values hold
    the rare token has every real value the synthetic data never shows replaced by it.  Missing values
    stay missing; other columns are untouched."""
    from mirage.encoding.categorical import RARE_TOKEN

    real_out, synthetic_out = dict(real), dict(synthetic)
    for table in database.tables:
        real_hidden: dict[str, pd.Series] = {}
        synthetic_hidden: dict[str, pd.Series] = {}
        for column in _learned(database, table):
            if column.kind is not Kind.CATEGORICAL:
                continue
            real_values, synthetic_values = real[table][column.name], synthetic[table][column.name]
            real_keys, synthetic_keys = category_keys(real_values), category_keys(synthetic_values)
            shown = set(synthetic_keys[synthetic_values.notna()])
            drawn = synthetic_keys[synthetic_values.notna() & (synthetic_keys != RARE_TOKEN)]
            if drawn.isin(set(real_keys[real_values.notna()])).mean() <= REPLACED_SHARE or drawn.empty:
                real_hidden[column.name] = real_values.notna()
                synthetic_hidden[column.name] = synthetic_values.notna()
            elif RARE_TOKEN in shown:
                real_hidden[column.name] = real_values.notna() & ~real_keys.isin(shown)
        if real_hidden:
            real_out[table] = _hidden(real[table], real_hidden, RARE_TOKEN)
        if synthetic_hidden:
            synthetic_out[table] = _hidden(synthetic[table], synthetic_hidden, RARE_TOKEN)
    return real_out, synthetic_out


def _hidden(frame: pd.DataFrame, rows: Mapping[str, pd.Series], token: str) -> pd.DataFrame:
    """A copy of ``frame`` with ``token`` in each named column's marked rows."""
    out = frame.copy()
    for column, marked in rows.items():
        values = out[column].astype(object)
        values[marked.to_numpy()] = token
        out[column] = values
    return out


def relational_detection(
    database: DatabaseSchema,
    real: Frames,
    synthetic: Frames,
    *,
    folds: int = 5,
    max_rows: int = 20_000,
    seed: int = 0,
    n_threads: int | None = None,
    protected: bool = True,
) -> dict[str, Any]:
    """Per parent table (a table some other table refers to), the detection test on its denormalised
    rows (:func:`denormalise`, category shares of the real data's most frequent categories): the
    cross-validated ROC AUC of a gradient-boosting classifier told to separate real from synthetic
    (0.5 = indistinguishable).  ``detection_auc``: the highest over the tables (the easiest to tell).
    With ``protected``, the same on the :func:`protected_view` of both (``protected_view_auc``, per
    table and the highest): what the model learned, with the values it withholds on purpose left out."""
    _check(database, real, "real")
    _check(database, synthetic, "synthetic")
    result = _detection(database, real, synthetic, folds, max_rows, seed, n_threads)
    if protected:
        real_view, synthetic_view = protected_view(database, real, synthetic)
        view = _detection(database, real_view, synthetic_view, folds, max_rows, seed, n_threads)
        for table, scores in view["per_table"].items():
            result["per_table"][table]["protected_view_auc"] = scores["detection_auc"]
        result["protected_view_auc"] = view["detection_auc"]
    return result


def _detection(
    database: DatabaseSchema,
    real: Frames,
    synthetic: Frames,
    folds: int,
    max_rows: int,
    seed: int,
    n_threads: int | None,
) -> dict[str, Any]:
    per_table: dict[str, dict[str, Any]] = {}
    for table in database.order():
        if not [fk for fk in database.children(table) if not fk.self_reference]:
            continue
        categories = _frequent_categories(database, real, table)
        real_flat, schema = denormalise(database, real, table, categories=categories)
        synthetic_flat, _ = denormalise(database, synthetic, table, categories=categories)
        result = detection_scores(
            real_flat, synthetic_flat, schema, folds=folds, max_rows=max_rows, seed=seed, n_threads=n_threads
        )
        per_table[table] = {
            "detection_auc": result["detection_auc"],
            "fold_aucs": result["fold_aucs"],
            "rows_per_class": result["rows_per_class"],
            "features": len(schema),
            "top_features": result["top_features"][:5],
        }
    aucs = [v["detection_auc"] for v in per_table.values()]
    return {
        "measure": "cross-validated ROC AUC on parent rows joined with aggregates of their children",
        "detection_auc": float(max(aucs)) if aucs else None,
        "per_table": per_table,
    }


# all together ------------------------------------------------------------------------------------


@dataclass
class RelationalScores:
    """The relational scores of a synthetic database (see the module docstring); ``to_dict`` is JSON."""

    integrity: dict[str, Any]
    cardinality: dict[str, Any]
    correlations: dict[str, Any]
    detection: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, float | None]:
        """The headline numbers: integrity share, cardinality and correlation scores, detection AUC."""
        return {
            "referential_integrity": self.integrity["valid_share"],
            "cardinality_similarity": self.cardinality["score"],
            "parent_child_correlations": self.correlations["score"],
            "detection_auc": self.detection.get("detection_auc"),
        }


def evaluate_relational(
    database: DatabaseSchema,
    real: Frames,
    synthetic: Frames,
    *,
    detection: bool = True,
    folds: int = 5,
    max_rows: int = 20_000,
    seed: int = 0,
    n_threads: int | None = None,
) -> RelationalScores:
    """Referential integrity, cardinality similarity, parent-child correlations and (unless
    ``detection=False``) the detection test on denormalised data, for ``synthetic`` against ``real``."""
    return RelationalScores(
        integrity=referential_integrity(database, synthetic),
        cardinality=cardinality_similarity(database, real, synthetic),
        correlations=parent_child_correlations(database, real, synthetic),
        detection=relational_detection(
            database, real, synthetic, folds=folds, max_rows=max_rows, seed=seed, n_threads=n_threads
        )
        if detection
        else {},
    )
