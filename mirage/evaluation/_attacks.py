"""Privacy attacks on synthetic data: membership inference and the three Anonymeter risks.

Every attack is run twice with the same synthetic data: against *training* targets (rows the model
learned) and against *control* targets (holdout rows it never saw).  What the attacker achieves on
control rows is what the synthetic data teaches about the population in general; only the excess on
training rows is a privacy leak.

Membership inference (:func:`membership_inference`)
    Threat model: the attacker holds the synthetic table and a complete candidate record, and wants to
    know whether the record was in the training data.  The attacker scores each candidate by minus its
    distance to the closest synthetic row (close -> member).  Candidates are equal numbers of training
    and holdout rows; the result is the ROC AUC (0.5 = no leak) with a 95% Hanley-McNeil interval, the
    membership advantage max(TPR - FPR) and the TPR at 1% FPR.

Singling out, linkability, attribute inference (Giomi et al. 2022, "A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", and the ``anonymeter`` package by Statice)
    Each reports the attack's success rate on training targets, on control targets and of a baseline
    attacker who guesses at random, with 95% Wilson intervals, and the risk

        risk = (train - control) / (1 - control), clipped to [0, 1],

    computed exactly as Anonymeter does: on the Wilson centres of the two rates, with an error
    propagated from their Wilson half-widths (first-order, in quadrature), so the same counts give the
    same risk and interval as ``anonymeter.stats.confidence.EvaluationResults``.  A risk whose
    interval includes 0 is no evidence of a leak.

    * singling out (univariate, as Anonymeter's ``mode="univariate"``): the attacker writes one-column
      predicates that isolate exactly one *synthetic* row (its rare values, its minimum and maximum,
      a lone missing value) and bets each isolates exactly one real record; success is a predicate
      matching exactly one row of the training set, against the same predicates on a holdout set of
      the same size (so no size correction is needed).  Baseline: random one-column predicates.
    * linkability: the attacker holds two databases covering disjoint halves of the columns (split
      at random) and links records across them through the synthetic data: a target is linked when
      the nearest synthetic rows (``n_neighbors``) of its two halves share a row.  Baseline: random
      synthetic rows.
    * attribute inference: the attacker knows every learned column of a target but one secret and
      guesses it from the closest synthetic row on the other columns; a guess is right when it is
      equal (categorical, boolean) or within ``tolerance`` on the training rank scale (numeric,
      datetime: 0.05 = within 5 percentiles).  Baseline: the secret of a random synthetic row.

Distances use :class:`~mirage.evaluation._distance.MixedEncoder` fitted on the training rows; ties
between synthetic rows are broken at random (seeded).  Only learned columns take part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import roc_curve

from mirage.errors import OptionError, SchemaError
from mirage.evaluation._columns import MISSING_TOKEN, canonical_strings, learned_columns, numeric_values
from mirage.evaluation._distance import (
    DEFAULT_MAX_PAIRS,
    EncodedFrames,
    MixedEncoder,
    nearest_distances,
    subsample_indices,
)
from mirage.evaluation._stats import hanley_mcneil_interval, roc_auc, wilson_centre, wilson_interval, z_value
from mirage.schema import Column, Kind, Schema, infer_schema

__all__ = ["attack_risk", "inference_risk", "linkability_risk", "membership_inference", "singling_out_risk"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

_NUMERIC_OPS = ("==", "!=", "<", ">", "<=", ">=")
_CATEGORICAL_OPS = ("==", "!=")


# ------------------------------------------------------------------------------------------------
# statistics
# ------------------------------------------------------------------------------------------------


def attack_risk(
    n_attacks: int,
    n_train: float,
    n_control: float,
    n_baseline: float,
    *,
    n_baseline_attacks: int | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Success rates with Wilson intervals, and the risk ``(train - control) / (1 - control)``.

    As in Anonymeter (``anonymeter.stats.confidence``): the risk is computed on the Wilson centres
    of the two rates, its error is ``sqrt((e_t / (1 - c))^2 + (e_c (t - 1) / (1 - c)^2)^2)`` from
    the Wilson half-widths ``e_t`` and ``e_c``, and the risk and its interval are clipped to [0, 1].
    Reported rates are the plain ``successes / attacks``.
    """
    n_base = n_attacks if n_baseline_attacks is None else n_baseline_attacks
    _, a_lo, a_hi = wilson_interval(n_train, n_attacks, confidence)
    _, c_lo, c_hi = wilson_interval(n_control, n_attacks, confidence)
    _, b_lo, b_hi = wilson_interval(n_baseline, n_base, confidence)
    if n_attacks > 0:
        z = z_value(confidence)
        a, ea = wilson_centre(n_train, n_attacks, z)
        c, ec = wilson_centre(n_control, n_attacks, z)
        residual = (a - c) / (1.0 - c)
        error = math.sqrt((ea / (1.0 - c)) ** 2 + (ec * (a - 1.0) / (1.0 - c) ** 2) ** 2)
    else:
        residual, error = 0.0, 1.0

    def rate(count: float, n: int) -> float:
        return float(count / n) if n else 0.0

    def clip(x: float) -> float:
        return float(min(max(x, 0.0), 1.0))

    return {
        "n_attacks": int(n_attacks),
        "train_success_rate": rate(n_train, n_attacks),
        "train_success_ci": [a_lo, a_hi],
        "control_success_rate": rate(n_control, n_attacks),
        "control_success_ci": [c_lo, c_hi],
        "baseline_success_rate": rate(n_baseline, n_base),
        "baseline_success_ci": [b_lo, b_hi],
        "risk": clip(residual),
        "risk_ci": [clip(residual - error), clip(residual + error)],
        "attack_beats_baseline": bool(n_attacks > 0 and rate(n_train, n_attacks) > rate(n_baseline, n_base)),
        "confidence": confidence,
    }


# ------------------------------------------------------------------------------------------------
# shared set-up
# ------------------------------------------------------------------------------------------------


@dataclass
class _Setup:
    columns: list[Column]
    encoding: EncodedFrames
    train: pd.DataFrame  # training targets
    control: pd.DataFrame  # holdout targets, as many as training ones
    synthetic: pd.DataFrame
    rng: np.random.Generator
    train_rows: IntArray  # positions of the targets and of the used synthetic rows in their frames
    control_rows: IntArray
    synthetic_rows: IntArray

    @property
    def encoder(self) -> MixedEncoder:
        return self.encoding.encoder

    def encoded_targets(self) -> FloatArray:
        """The training targets then the holdout targets, encoded (as ``train`` then ``control``)."""
        return np.concatenate(
            [
                self.encoding.encoded("training")[self.train_rows],
                self.encoding.encoded("holdout")[self.control_rows],
            ]
        )

    def encoded_synthetic(self) -> FloatArray:
        return self.encoding.encoded("synthetic")[self.synthetic_rows]


def _setup(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None,
    n_targets: int | None,
    seed: int,
    salt: int,
    max_synthetic: int | None = None,
    encoding: EncodedFrames | None = None,
) -> _Setup:
    schema = schema or infer_schema(train)
    columns = learned_columns(schema, ("training", train), ("holdout", holdout), ("synthetic", synthetic))
    if min(len(train), len(holdout), len(synthetic)) == 0:
        raise ValueError("the attacks need at least one training, holdout and synthetic row")
    rng = np.random.default_rng(np.random.SeedSequence([seed, salt]))
    n = min(len(train), len(holdout)) if n_targets is None else min(n_targets, len(train), len(holdout))
    if n < 1:
        raise OptionError(f"the number of attacks must be at least 1, got {n_targets}")
    names = [c.name for c in columns]
    if encoding is None:
        encoding = EncodedFrames(schema, names, train, holdout, synthetic)
    elif not encoding.holds(train, holdout, synthetic) or encoding.columns != names:
        raise OptionError("the encoding given to an attack was made of other frames or columns")
    train_rows = subsample_indices(len(train), n, rng)
    control_rows = subsample_indices(len(holdout), n, rng)
    synthetic_rows = np.arange(len(synthetic), dtype=np.intp)
    if max_synthetic is not None and len(synthetic) > max_synthetic:
        synthetic_rows = subsample_indices(len(synthetic), max_synthetic, rng)
    return _Setup(
        columns,
        encoding,
        train.iloc[train_rows].reset_index(drop=True),
        holdout.iloc[control_rows].reset_index(drop=True),
        synthetic.iloc[synthetic_rows].reset_index(drop=True),
        rng,
        train_rows,
        control_rows,
        synthetic_rows,
    )


def _max_reference(n_query: int, max_pairs: float) -> int:
    return max(1, int(max_pairs // max(n_query, 1)))


# ------------------------------------------------------------------------------------------------
# membership inference
# ------------------------------------------------------------------------------------------------


def membership_inference(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    n_targets: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
    max_pairs: float = DEFAULT_MAX_PAIRS,
    encoding: EncodedFrames | None = None,
) -> dict[str, Any]:
    """Distance-based membership inference: can the synthetic data tell members from non-members?

    Threat model: the attacker has the synthetic table and a full candidate record and guesses
    "member" when the record has a close synthetic neighbour.  ``n_targets`` training rows and as many
    holdout rows are scored by minus their distance to the closest synthetic row.  Returns ``auc``
    (0.5 = no leak, 1 = perfect attack) with ``auc_ci`` (Hanley-McNeil), ``advantage`` (max over
    thresholds of TPR - FPR) and ``tpr_at_1pct_fpr``.  Past ``max_pairs`` the synthetic rows are
    subsampled (``n_synthetic_used``), which can only make the attacker weaker.
    """
    n_query = 2 * min(n_targets, len(train), len(holdout))
    setup = _setup(
        train,
        holdout,
        synthetic,
        schema,
        n_targets,
        seed,
        0x31A,
        _max_reference(n_query, max_pairs),
        encoding,
    )
    labels = np.zeros(len(setup.train) + len(setup.control), dtype=bool)
    labels[: len(setup.train)] = True
    distances, _ = nearest_distances(setup.encoded_targets(), setup.encoded_synthetic(), k=1)
    scores = -distances[:, 0]
    auc = roc_auc(scores, labels)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    fpr, tpr, _ = roc_curve(labels, scores)
    return {
        "attack": "membership_inference",
        "auc": auc,
        "auc_ci": list(hanley_mcneil_interval(auc, n_pos, n_neg, confidence)),
        "advantage": float(np.max(tpr - fpr)),
        "tpr_at_1pct_fpr": float(tpr[fpr <= 0.01].max(initial=0.0)),
        "n_members": n_pos,
        "n_non_members": n_neg,
        "n_synthetic_used": len(setup.synthetic),
        "median_distance_members": float(np.median(distances[labels, 0])),
        "median_distance_non_members": float(np.median(distances[~labels, 0])),
        "confidence": confidence,
    }


# ------------------------------------------------------------------------------------------------
# singling out
# ------------------------------------------------------------------------------------------------


class _ColumnCounts:
    """Counts of rows matching one-column predicates, by binary search or lookup."""

    def __init__(self, values: pd.Series, column: Column) -> None:
        self.numeric = column.kind in (Kind.NUMERIC, Kind.DATETIME)
        if self.numeric:
            x = numeric_values(values, column)
            self.sorted = np.sort(x[~np.isnan(x)])
            self.n_missing = int(np.isnan(x).sum())
            self.n_present = int(self.sorted.size)
        else:
            strings = pd.Series(canonical_strings(values, column))
            self.counts = strings.value_counts().to_dict()
            self.n_missing = int(self.counts.pop(MISSING_TOKEN, 0))
            self.n_present = len(strings) - self.n_missing

    def count(self, op: str, value: Any) -> int:
        if op == "isnull":
            return self.n_missing
        if op == "notnull":
            return self.n_present
        if not self.numeric:
            equal = int(self.counts.get(value, 0))
            return equal if op == "==" else self.n_present - equal
        left = int(np.searchsorted(self.sorted, value, side="left"))
        right = int(np.searchsorted(self.sorted, value, side="right"))
        return {
            "==": right - left,
            "!=": self.n_present - (right - left),
            "<": left,
            "<=": right,
            ">": self.n_present - right,
            ">=": self.n_present - left,
        }[op]


def _column_values(frame: pd.DataFrame, column: Column) -> NDArray[Any]:
    if column.kind in (Kind.NUMERIC, Kind.DATETIME):
        return numeric_values(frame[column.name], column)
    return canonical_strings(frame[column.name], column)


def _univariate_predicates(synthetic: pd.DataFrame, columns: list[Column]) -> list[tuple[int, str, Any]]:
    """Anonymeter's univariate queries: a lone missing value, the extremes and values seen once."""
    predicates: list[tuple[int, str, Any]] = []
    for i, column in enumerate(columns):
        values = _column_values(synthetic, column)
        if column.kind in (Kind.NUMERIC, Kind.DATETIME):
            missing = np.isnan(values.astype(np.float64))
            present = values[~missing]
            if present.size:
                predicates += [(i, "<=", float(present.min())), (i, ">=", float(present.max()))]
        else:
            missing = values == MISSING_TOKEN
            present = values[~missing]
        if int(missing.sum()) == 1:
            predicates.append((i, "isnull", None))
        uniques, counts = np.unique(present, return_counts=True)
        predicates += [(i, "==", v.item() if hasattr(v, "item") else v) for v in uniques[counts == 1]]
    return predicates


def _random_predicates(
    synthetic: pd.DataFrame, columns: list[Column], n: int, rng: np.random.Generator
) -> list[tuple[int, str, Any]]:
    """Anonymeter's baseline: a random column, a random synthetic value and a random operator."""
    uniques = []
    for column in columns:
        values = _column_values(synthetic, column)
        if column.kind in (Kind.NUMERIC, Kind.DATETIME):
            floats = values.astype(np.float64)
            has_missing = bool(np.isnan(floats).any())
            uniques.append([*np.unique(floats[~np.isnan(floats)]).tolist(), *([None] if has_missing else [])])
        else:
            uniques.append([None if v == MISSING_TOKEN else v for v in np.unique(values).tolist()])
    predicates = []
    for _ in range(n):
        i = int(rng.integers(len(columns)))
        value = uniques[i][int(rng.integers(len(uniques[i])))]
        numeric = columns[i].kind in (Kind.NUMERIC, Kind.DATETIME)
        ops = _NUMERIC_OPS if numeric else _CATEGORICAL_OPS
        op = ops[int(rng.integers(len(ops)))]
        if value is None:
            predicates.append((i, "isnull" if op == "==" else "notnull", None))
        else:
            predicates.append((i, op, value))
    return predicates


def _singles_out(frame: pd.DataFrame, columns: list[Column], predicates: list[tuple[int, str, Any]]) -> int:
    cache: dict[int, _ColumnCounts] = {}
    hits = 0
    for i, op, value in predicates:
        if i not in cache:
            cache[i] = _ColumnCounts(frame[columns[i].name], columns[i])
        hits += cache[i].count(op, value) == 1
    return hits


def singling_out_risk(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    n_attacks: int = 500,
    seed: int = 0,
    confidence: float = 0.95,
    encoding: EncodedFrames | None = None,
) -> dict[str, Any]:
    """Univariate singling-out risk (Anonymeter's ``SinglingOutEvaluator(mode="univariate")``).

    Threat model: the attacker, holding only the synthetic table, claims "exactly one person in the
    real data has <attribute>" for attributes that isolate one synthetic row (a rare value, the
    minimum or maximum, a lone missing value).  Success: the predicate matches exactly one row of
    the training set.  Control: the same predicates on an equally large holdout set (the training
    set is subsampled to the holdout's size when it is larger, and vice versa).  ``n_attacks`` is
    the number of distinct predicates found, at most the requested number; datasets without rare
    values give few predicates and wide intervals.
    """
    setup = _setup(train, holdout, synthetic, schema, None, seed, 0x5160, encoding=encoding)
    columns = setup.columns
    candidates = _univariate_predicates(setup.synthetic, columns)
    order = setup.rng.permutation(len(candidates))
    queries: list[tuple[int, str, Any]] = []
    seen: set[tuple[int, str, Any]] = set()
    synth_counts: dict[int, _ColumnCounts] = {}
    for j in order:
        predicate = candidates[int(j)]
        i = predicate[0]
        if i not in synth_counts:
            synth_counts[i] = _ColumnCounts(setup.synthetic[columns[i].name], columns[i])
        if predicate not in seen and synth_counts[i].count(predicate[1], predicate[2]) == 1:
            seen.add(predicate)
            queries.append(predicate)
            if len(queries) >= n_attacks:
                break
    n = len(queries)
    baseline = _random_predicates(setup.synthetic, columns, n, setup.rng)
    result = attack_risk(
        n,
        _singles_out(setup.train, columns, queries),
        _singles_out(setup.control, columns, queries),
        _singles_out(setup.train, columns, baseline),
        confidence=confidence,
    )
    return {"attack": "singling_out", "mode": "univariate", **result, "n_targets": len(setup.train)}


# ------------------------------------------------------------------------------------------------
# linkability
# ------------------------------------------------------------------------------------------------


def _neighbours(
    encoder: MixedEncoder,
    targets: NDArray[np.float64],
    synthetic: NDArray[np.float64],
    names: Sequence[str],
    k: int,
    rng: np.random.Generator,
) -> NDArray[np.intp]:
    """Indices of the ``k`` nearest synthetic rows on ``names``; ties broken by a random order."""
    features = encoder.features(names)
    perm = rng.permutation(synthetic.shape[0])
    _, idx = nearest_distances(targets[:, features], synthetic[perm][:, features], k=k)
    return np.where(idx >= 0, perm[np.maximum(idx, 0)], -1)


def _share_a_row(a: NDArray[np.intp], b: NDArray[np.intp]) -> NDArray[np.bool_]:
    match = (a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)
    return np.asarray(match.any(axis=(1, 2)))


def linkability_risk(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    n_attacks: int = 1000,
    n_neighbors: int = 1,
    aux_columns: tuple[Sequence[str], Sequence[str]] | None = None,
    seed: int = 0,
    confidence: float = 0.95,
    max_pairs: float = DEFAULT_MAX_PAIRS,
    encoding: EncodedFrames | None = None,
) -> dict[str, Any]:
    """Linkability risk (Anonymeter's ``LinkabilityEvaluator``).

    Threat model: the attacker holds two databases about the same people, one with some columns and
    one with the others, and uses the synthetic table as a bridge: a target is linked when its two
    halves have a common synthetic row among their ``n_neighbors`` nearest.  ``aux_columns`` gives
    the two column sets; by default the learned columns are split into two random halves (seeded).
    Success on ``n_attacks`` training targets is compared with as many holdout targets; baseline:
    ``n_neighbors`` random synthetic rows per half.
    """
    n = min(n_attacks, len(train), len(holdout))
    setup = _setup(
        train, holdout, synthetic, schema, n_attacks, seed, 0x11AC, _max_reference(2 * n, max_pairs), encoding
    )
    names = [c.name for c in setup.columns]
    if aux_columns is None:
        if len(names) < 2:
            raise SchemaError("linkability needs at least two learned columns")
        shuffled = [names[i] for i in setup.rng.permutation(len(names))]
        half = len(shuffled) // 2
        aux_columns = (sorted(shuffled[:half]), sorted(shuffled[half:]))
    first, second = list(aux_columns[0]), list(aux_columns[1])
    unknown = [c for c in first + second if c not in names]
    if unknown or not first or not second:
        raise SchemaError(
            f"aux_columns must be two non-empty lists of learned columns; not learned: {unknown}"
        )
    if n_neighbors < 1:
        raise OptionError(f"n_neighbors must be at least 1, got {n_neighbors}")
    targets = setup.encoded_targets()
    synth = setup.encoded_synthetic()
    k = min(n_neighbors, synth.shape[0])
    linked = _share_a_row(
        _neighbours(setup.encoder, targets, synth, first, k, setup.rng),
        _neighbours(setup.encoder, targets, synth, second, k, setup.rng),
    )
    n_train = len(setup.train)
    random_pick = setup.rng.integers(synth.shape[0], size=(2, n_train, k))
    result = attack_risk(
        n_train,
        int(linked[:n_train].sum()),
        int(linked[n_train:].sum()),
        int(_share_a_row(random_pick[0], random_pick[1]).sum()),
        confidence=confidence,
    )
    return {
        "attack": "linkability",
        **result,
        "n_neighbors": k,
        "aux_columns": [first, second],
        "n_synthetic_used": len(setup.synthetic),
    }


# ------------------------------------------------------------------------------------------------
# attribute inference
# ------------------------------------------------------------------------------------------------


def _correct(
    encoder: MixedEncoder, column: Column, guesses: pd.Series, secrets: pd.Series, tolerance: float
) -> NDArray[np.bool_]:
    if column.kind in (Kind.NUMERIC, Kind.DATETIME):
        g = encoder.rank(column.name, guesses.reset_index(drop=True))
        s = encoder.rank(column.name, secrets.reset_index(drop=True))
        both_missing = np.isnan(g) & np.isnan(s)
        with np.errstate(invalid="ignore"):
            close = np.abs(g - s) <= tolerance + 1e-12
        return np.asarray(both_missing | close)
    return np.asarray(canonical_strings(guesses, column) == canonical_strings(secrets, column))


def inference_risk(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    secret: str | Sequence[str] | None = None,
    n_attacks: int = 1000,
    tolerance: float = 0.05,
    seed: int = 0,
    confidence: float = 0.95,
    max_pairs: float = DEFAULT_MAX_PAIRS,
    encoding: EncodedFrames | None = None,
) -> dict[str, Any]:
    """Attribute-inference risk (Anonymeter's ``InferenceEvaluator`` with its nearest-neighbour guesser).

    Threat model: the attacker knows every learned column of a target except ``secret`` and guesses
    the secret as the value of the closest synthetic row on the known columns.  A categorical or
    boolean guess is right when equal (missing equals missing); a numeric or datetime guess when
    within ``tolerance`` on the training rank scale.  Each secret column (all learned columns by
    default) gets its own risk under ``per_secret``; ``risk`` and ``risk_ci`` are those of
    ``worst_secret``, the column with the highest lower bound (then the highest estimate).  Where
    the control success is close to 1 (a secret the other columns determine, such as Adult's
    ``education_num`` from ``education``) the risk divides by almost 0 and its interval is wide.
    """
    n = min(n_attacks, len(train), len(holdout))
    setup = _setup(
        train, holdout, synthetic, schema, n_attacks, seed, 0x1F3, _max_reference(2 * n, max_pairs), encoding
    )
    names = [c.name for c in setup.columns]
    secrets = names if secret is None else [secret] if isinstance(secret, str) else list(secret)
    unknown = [s for s in secrets if s not in names]
    if unknown:
        raise SchemaError(f"secret column {unknown[0]!r} is not a learned column")
    if len(names) < 2:
        raise SchemaError("attribute inference needs at least two learned columns")
    if not 0.0 <= tolerance <= 1.0:
        raise OptionError(f"tolerance must be between 0 and 1, got {tolerance!r}")
    targets_frame = pd.concat([setup.train, setup.control], ignore_index=True)
    targets = setup.encoded_targets()
    synth = setup.encoded_synthetic()
    n_train = len(setup.train)
    per_secret: dict[str, dict[str, Any]] = {}
    for name in secrets:
        column = next(c for c in setup.columns if c.name == name)
        aux = [c for c in names if c != name]
        nearest = _neighbours(setup.encoder, targets, synth, aux, 1, setup.rng)[:, 0]
        guesses = setup.synthetic[name].iloc[nearest]
        right = _correct(setup.encoder, column, guesses, targets_frame[name], tolerance)
        random_rows = setup.rng.integers(len(setup.synthetic), size=n_train)
        random_right = _correct(
            setup.encoder, column, setup.synthetic[name].iloc[random_rows], setup.train[name], tolerance
        )
        per_secret[name] = attack_risk(
            n_train,
            int(right[:n_train].sum()),
            int(right[n_train:].sum()),
            int(random_right.sum()),
            confidence=confidence,
        )
    # the strongest evidence of a leak: the highest lower bound, then the highest estimate
    worst = max(per_secret, key=lambda s: (per_secret[s]["risk_ci"][0], per_secret[s]["risk"]))
    return {
        "attack": "inference",
        "risk": per_secret[worst]["risk"],
        "risk_ci": per_secret[worst]["risk_ci"],
        "worst_secret": worst,
        "n_attacks": n_train,
        "tolerance": tolerance,
        "per_secret": per_secret,
        "n_synthetic_used": len(setup.synthetic),
    }
