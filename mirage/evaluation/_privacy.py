"""Distance-based privacy checks: distance to closest record (DCR), exact copies and NNDR.

Threat model
    The synthetic table is public.  A synthetic row that sits much closer to some training row than
    fresh rows from the same population do is evidence that the model memorised that training row
    rather than learning the distribution.  The holdout (real rows kept aside at fit time, never
    learned) is the yardstick: each synthetic row's nearest real row is looked for among training
    and holdout rows together, with one encoding (:mod:`mirage.evaluation._distance`, fitted on
    both), and how often it is a training row is compared with the training rows' share
    of the pool, which is what rows owing nothing to the training set achieve (see :func:`dcr`).
    Only learned columns are compared: identifiers, PII and text are replaced by the engines, never
    learned.

What it does not cover
    A model can leak without producing near-copies (attribute inference from aggregate patterns):
    see :mod:`mirage.evaluation._attacks` for the membership, singling-out, linkability and inference
    attacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage.errors import OptionError
from mirage.evaluation._columns import learned_columns
from mirage.evaluation._distance import (
    DEFAULT_MAX_PAIRS,
    EncodedFrames,
    MixedEncoder,
    nearest_distances,
    row_keys,
    rows_within,
    subsample_indices,
)
from mirage.evaluation._stats import wilson_interval, z_value
from mirage.schema import Schema, infer_schema

__all__ = ["DCR_SHARE_LIMIT", "DcrPlan", "dcr", "plan_dcr", "privacy_report"]

DCR_SHARE_LIMIT = 0.53  # the project's bar: a fitted engine's DCR share stays at or below this
DCR_HALF_WIDTH = 0.01  # subsampled synthetic rows still bound the training-neighbour rate to +-0.01
TIE_TOLERANCE = 1e-9  # distances closer than this (relative, absolute below 1) count as a tie
# nearest rows looked at per set; a row whose candidates may not hold all of its ties is recounted
TIE_CANDIDATES = 4
_FLOAT32_SLACK = 1e-5  # times the squared norms: far above the float32 error of the candidate search
NNDR_BASELINE_ROWS = 10_000  # holdout rows whose NNDR to train is the yardstick for the synthetic NNDR


@dataclass(frozen=True)
class DcrPlan:
    """How many synthetic, training and holdout rows the DCR search uses."""

    n_query: int
    n_query_used: int
    n_train: int
    n_train_used: int
    n_holdout: int
    n_holdout_used: int

    @property
    def subsampled(self) -> bool:
        return self.n_query_used < self.n_query or self.reference_subsampled

    @property
    def reference_subsampled(self) -> bool:
        return self.n_train_used < self.n_train or self.n_holdout_used < self.n_holdout

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_query": self.n_query,
            "n_query_used": self.n_query_used,
            "n_train": self.n_train,
            "n_train_used": self.n_train_used,
            "n_holdout": self.n_holdout,
            "n_holdout_used": self.n_holdout_used,
            "subsampled": self.subsampled,
            "reference_subsampled": self.reference_subsampled,
        }


def plan_dcr(
    n_query: int,
    n_train: int,
    n_holdout: int,
    *,
    max_pairs: float = DEFAULT_MAX_PAIRS,
    half_width: float = DCR_HALF_WIDTH,
) -> DcrPlan:
    """Synthetic rows first, down to ``(1.96 * 0.5 / half_width)^2``; then training and holdout rows
    at the same rate, so that the pool keeps its share of training rows."""
    if max_pairs < 1:
        raise OptionError(f"max_pairs must be at least 1, got {max_pairs!r}")
    if not 0.0 < half_width < 0.5:
        raise OptionError(f"half_width must be between 0 and 0.5, got {half_width!r}")
    n_ref = n_train + n_holdout
    n_q, n_t, n_h = int(n_query), int(n_train), int(n_holdout)
    if n_q * n_ref > max_pairs:
        floor = math.ceil((z_value(0.95) * 0.5 / half_width) ** 2)
        n_q = min(n_q, max(floor, int(max_pairs // n_ref)))
    if n_q * n_ref > max_pairs:
        rate = max_pairs / (n_q * n_ref)
        n_t, n_h = max(1, int(n_train * rate)), max(1, int(n_holdout * rate))
    return DcrPlan(int(n_query), n_q, int(n_train), n_t, int(n_holdout), n_h)


def _nndr(distances: np.ndarray) -> np.ndarray:
    """d1 / d2 per row; 1 where d2 is 0 (the row matches two identical records: nobody singled out)."""
    d1, d2 = distances[:, 0], distances[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d2 > 0, d1 / d2, 1.0)
    return ratio[np.isfinite(ratio)]


def _summary(values: np.ndarray, prefix: str) -> dict[str, float | None]:
    if values.size == 0:
        return {f"{prefix}_p5": None, f"{prefix}_mean": None}
    return {f"{prefix}_p5": float(np.percentile(values, 5)), f"{prefix}_mean": float(values.mean())}


def dcr(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    seed: int = 0,
    max_pairs: float = DEFAULT_MAX_PAIRS,
    half_width: float = DCR_HALF_WIDTH,
    confidence: float = 0.95,
    return_distances: bool = True,
) -> dict[str, Any]:
    """Distance to closest record: do synthetic rows sit closer to the training rows than chance?

    Threat model: an observer of the synthetic table who looks for real records reproduced in it.

    For each synthetic row the nearest real row is found among the training and the holdout rows
    together (one encoding, fitted on both, so that the distance does not depend on which rows were
    learned).  If the synthetic rows owe nothing to the
    particular rows the model learned (they are exchangeable with fresh rows of the population), that
    nearest row is a training row with probability ``p0 = n_train / (n_train + n_holdout)``, the
    share of training rows in the pool, whatever the split.  The observed rate ``q`` of training
    nearest neighbours is rescaled linearly so that ``p0`` reads 0.5 and 1 reads 1::

        dcr_share = 0.5 + 0.5 (q - p0) / (1 - p0),   clipped to [0, 1]

    so a verbatim copy of the training rows reads 1 at any split, fresh rows 0.5 (on average: the
    map is linear, so noise does not push it up), and a synthetic table with a fraction ``f`` of
    copied rows (the rest fresh) ``0.5 + f / 2``.  The noise of the share grows as the holdout's part
    of the pool shrinks (its standard error is ``0.5 / (1 - p0)`` times that of ``q``): at 80/20 a
    few hundred holdout rows leave an interval of several hundredths.

    Ties: a synthetic row counts the training share ``t / (t + h)`` of all the real rows at its
    smallest distance (``t`` training and ``h`` holdout rows, equal within a relative
    ``TIE_TOLERANCE``), which under exchangeability has expectation ``p0`` however many rows are
    tied (counting 1 for an all-training tie and ``p0`` for a mixed one would not: it reads well
    above 0.5 on columns with repeated values).  A synthetic row identical (on the learned columns)
    to ``k_t`` training and ``k_h`` holdout rows counts ``k_t / (k_t + k_h)`` over the full training
    and holdout sets (a copied training row pushes it up).  The ``TIE_CANDIDATES`` nearest rows of
    each set settle most rows; a row whose candidates may not hold all of its tied rows is recounted
    exactly over the whole set (:func:`mirage.evaluation._distance.rows_within`).

    Interval: a Wilson interval on ``q`` mapped through the same rescaling.  Its sample size is the
    effective number of independent rows ``1 / sum_j w_j^2``, where ``w_j`` is real row ``j``'s
    share of the votes (each synthetic row spreads its vote evenly over its tied real rows), at
    most the number of synthetic rows:
    synthetic rows piling onto the same real rows say less than rows spread over many, and the
    randomness of the train/holdout split itself is covered too (a real row's label is drawn once
    for every synthetic row near it).

    Subsampling: past ``max_pairs`` (synthetic x real) pairs the synthetic rows are subsampled first,
    down to the number that bounds the 95% half-width of ``q`` by ``half_width`` (0.01: 9,604 rows);
    only beyond that are the training and holdout rows subsampled, at the same rate (identical rows
    are still found in the full sets; a near copy is only seen when its source row was kept).

    Returns a JSON-friendly dict:

    * ``dcr_share`` and ``dcr_share_ci``; the project's bar is ``<= DCR_SHARE_LIMIT`` (0.53);
      ``train_neighbour_rate`` (``q``), its interval, and ``train_neighbour_baseline`` (``p0``);
      ``effective_rows`` (the interval's sample size); ``share_error_bound``: the 95% half-width on
      the share due to subsampling the synthetic rows (0 when all were used);
    * ``median_dcr_train`` / ``median_dcr_holdout`` and ``distances_to_train`` /
      ``distances_to_holdout`` (per synthetic row, for histograms): the closest distances to a
      training set and a holdout set of the *same* size (the larger side is subsampled to the
      smaller, so that a perfect generator gives two matching histograms);
    * ``exact_copy_rate``: share of all synthetic rows identical to some training row on the learned
      columns (values compared as canonical strings), against ``holdout_copy_rate``: share of holdout
      rows identical to some training row, i.e. what fresh rows of the population do by chance;
    * ``nndr_p5`` / ``nndr_mean``: the nearest-neighbour distance ratio d1/d2 of synthetic rows to
      their two closest training rows (a low ratio: a row unusually close to one particular real
      record; 1 when d2 is 0), against ``nndr_holdout_p5`` / ``nndr_holdout_mean`` for (up to
      10,000) holdout rows to the same training rows;
    * ``ties``: the share of synthetic rows (not identical to a real row) whose nearest real rows
      include both training and holdout rows; the sizes used (``plan``) and the encoding
      (``encoding``).
    """
    schema = schema or infer_schema(train)
    columns = learned_columns(schema, ("training", train), ("holdout", holdout), ("synthetic", synthetic))
    names = [c.name for c in columns]
    if min(len(train), len(holdout), len(synthetic)) == 0:
        raise ValueError("dcr needs at least one training, holdout and synthetic row")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xDC2]))
    z = z_value(confidence)

    plan = plan_dcr(len(synthetic), len(train), len(holdout), max_pairs=max_pairs, half_width=half_width)
    query_rows = subsample_indices(len(synthetic), plan.n_query_used, rng)
    train_rows = subsample_indices(len(train), plan.n_train_used, rng)
    holdout_rows = subsample_indices(len(holdout), plan.n_holdout_used, rng)
    p0 = plan.n_train_used / (plan.n_train_used + plan.n_holdout_used)

    # fitted on the whole pool: a distance learned from the training rows alone spreads them evenly
    # over every rank scale, which makes them the nearest row a little more often than chance
    encoder = MixedEncoder(schema, names).fit(pd.concat([train[names], holdout[names]], ignore_index=True))
    enc_train = encoder.transform(train.iloc[train_rows])
    enc_holdout = encoder.transform(holdout.iloc[holdout_rows])
    enc_synth = encoder.transform(synthetic.iloc[query_rows])
    to_train, idx_train = nearest_distances(enc_synth, enc_train, k=TIE_CANDIDATES)
    to_holdout, idx_holdout = nearest_distances(enc_synth, enc_holdout, k=TIE_CANDIDATES)
    d_train, d_holdout = to_train[:, 0], to_holdout[:, 0]

    # each synthetic row's vote for "its nearest real row is a training row": the training share of
    # all the real rows at its smallest distance, and each real row's share of the votes
    t_count, h_count, mass = _tied_votes(
        enc_synth, enc_train, enc_holdout, to_train, idx_train, to_holdout, idx_holdout
    )
    votes = t_count / (t_count + h_count)
    keys_train, keys_holdout = row_keys(train, columns), row_keys(holdout, columns)
    keys_all_synth = row_keys(synthetic, columns)  # per row, so the queried rows' keys are a slice
    keys_synth = keys_all_synth[query_rows]
    k_train = _counts_of(keys_synth, keys_train)
    k_holdout = _counts_of(keys_synth, keys_holdout)
    same = (k_train + k_holdout) > 0
    votes[same] = k_train[same] / (k_train[same] + k_holdout[same])
    tie = (t_count > 0) & (h_count > 0) & ~same

    q = float(votes.mean())
    weights = mass / len(votes)
    # a vote spread over many tied rows can weigh less than one row voting alone, never count for more
    effective = float(min(1.0 / np.sum(weights * weights), len(votes)))
    _, q_low, q_high = wilson_interval(q * effective, effective, confidence)
    share = _rescale(q, p0)
    error_bound = 0.0
    if plan.n_query_used < plan.n_query:
        error_bound = z * 0.5 / math.sqrt(plan.n_query_used) * 0.5 / min(p0, 1.0 - p0)

    # histograms and medians against equally large training and holdout sets
    d_train_same, d_holdout_same = _equal_size_distances(
        enc_synth, enc_train, enc_holdout, d_train, d_holdout, rng
    )
    # holdout rows against the same training rows: the NNDR a fresh record gets by chance
    baseline_rows = subsample_indices(len(holdout_rows), min(plan.n_query_used, NNDR_BASELINE_ROWS), rng)
    holdout_to_train, _ = nearest_distances(enc_holdout[baseline_rows], enc_train, k=2)

    copy_rate = float(np.isin(keys_all_synth, keys_train).mean())
    holdout_copy_rate = float(np.isin(keys_holdout, keys_train).mean())

    result: dict[str, Any] = {
        "metric": "dcr",
        "dcr_share": share,
        "dcr_share_ci": [_rescale(q_low, p0), _rescale(q_high, p0)],
        "dcr_share_limit": DCR_SHARE_LIMIT,
        "passes": share <= DCR_SHARE_LIMIT,
        "train_neighbour_rate": q,
        "train_neighbour_rate_ci": [q_low, q_high],
        "train_neighbour_baseline": p0,
        "effective_rows": effective,
        "share_error_bound": error_bound,
        "confidence": confidence,
        "ties": float(tie.mean()),
        "median_dcr_train": float(np.median(d_train_same)),
        "median_dcr_holdout": float(np.median(d_holdout_same)),
        "exact_copy_rate": copy_rate,
        "holdout_copy_rate": holdout_copy_rate,
        **_summary(_nndr(to_train), "nndr"),
        **_summary(_nndr(holdout_to_train), "nndr_holdout"),
        "plan": plan.to_dict(),
        "encoding": encoder.describe(),
    }
    if return_distances:
        result["distances_to_train"] = d_train_same.tolist()
        result["distances_to_holdout"] = d_holdout_same.tolist()
    return result


def _rescale(q: float, p0: float) -> float:
    """The training-neighbour rate on the DCR share's scale: ``p0`` -> 0.5 and 1 -> 1, linear (so
    that noise around ``p0`` averages to 0.5), clipped to [0, 1]."""
    return float(min(1.0, max(0.0, 0.5 + 0.5 * (q - p0) / (1.0 - p0))))


def _tied_votes(
    enc_synth: np.ndarray,
    enc_train: np.ndarray,
    enc_holdout: np.ndarray,
    to_train: np.ndarray,
    idx_train: np.ndarray,
    to_holdout: np.ndarray,
    idx_holdout: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(t, h, mass)``: the numbers of training and holdout rows at each synthetic row's smallest
    distance (within ``TIE_TOLERANCE``), and for each real row (training rows first) the sum over
    the synthetic rows tied to it of ``1 / (t + h)``.

    Most rows are settled by their ``TIE_CANDIDATES`` nearest candidates in each set; a row whose
    last candidate in a set is within float32 reach of the smallest distance may have more tied rows
    than candidates (a value repeated many times), and is recounted exactly by :func:`rows_within`.
    """
    n_train = len(enc_train)
    d_min = np.minimum(to_train[:, 0], to_holdout[:, 0])
    reach = d_min + TIE_TOLERANCE * np.maximum(1.0, d_min)
    near_train, near_holdout = to_train <= reach[:, None], to_holdout <= reach[:, None]
    slack = _FLOAT32_SLACK * (
        1.0
        + np.einsum("ij,ij->i", enc_synth, enc_synth)
        + float(np.einsum("ij,ij->i", enc_train, enc_train).max())
        + float(np.einsum("ij,ij->i", enc_holdout, enc_holdout).max())
    )
    recount = np.zeros(len(d_min), dtype=bool)
    for dist, n_rows in ((to_train, n_train), (to_holdout, len(enc_holdout))):
        if n_rows > dist.shape[1]:
            recount |= dist[:, -1] ** 2 <= reach**2 + slack
    listed = ~recount
    t_count = np.where(listed, near_train.sum(axis=1), 0).astype(np.float64)
    h_count = np.where(listed, near_holdout.sum(axis=1), 0).astype(np.float64)
    rows = np.nonzero(recount)[0]
    train_matches = rows_within(enc_synth[rows], enc_train, reach[rows])
    holdout_matches = rows_within(enc_synth[rows], enc_holdout, reach[rows])
    t_count[rows] = train_matches.counts(len(rows))
    h_count[rows] = holdout_matches.counts(len(rows))

    share = 1.0 / (t_count + h_count)
    mass = np.zeros(n_train + len(enc_holdout))
    for near, idx, offset in ((near_train, idx_train, 0), (near_holdout, idx_holdout, n_train)):
        hit = near & listed[:, None]
        np.add.at(mass, idx[hit] + offset, np.broadcast_to(share[:, None], hit.shape)[hit])
    mass[:n_train] += train_matches.row_mass(share[rows])
    mass[n_train:] += holdout_matches.row_mass(share[rows])
    return t_count, h_count, mass


def _counts_of(keys: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """How many times each of ``keys`` occurs in ``reference``."""
    counts = pd.Series(reference).value_counts()
    return pd.Series(keys).map(counts).fillna(0).to_numpy(dtype=np.float64)


def _equal_size_distances(
    enc_synth: np.ndarray,
    enc_train: np.ndarray,
    enc_holdout: np.ndarray,
    d_train: np.ndarray,
    d_holdout: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Closest distances to a training set and a holdout set of the same size (the smaller's)."""
    n_train, n_holdout = len(enc_train), len(enc_holdout)
    if n_train > n_holdout:
        rows = subsample_indices(n_train, n_holdout, rng)
        return nearest_distances(enc_synth, enc_train[rows], k=1)[0][:, 0], d_holdout
    if n_holdout > n_train:
        rows = subsample_indices(n_holdout, n_train, rng)
        return d_train, nearest_distances(enc_synth, enc_holdout[rows], k=1)[0][:, 0]
    return d_train, d_holdout


def privacy_report(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    seed: int = 0,
    n_attacks: int = 1000,
    return_distances: bool = False,
) -> dict[str, Any]:
    """Every privacy check in one JSON-friendly dict: DCR, membership inference and the three
    Anonymeter-style risks (singling out, linkability, attribute inference)."""
    from mirage.evaluation._attacks import (
        inference_risk,
        linkability_risk,
        membership_inference,
        singling_out_risk,
    )

    schema = schema or infer_schema(train)
    result = {"dcr": dcr(train, holdout, synthetic, schema, seed=seed, return_distances=return_distances)}
    # the attacks measure distances on the training rows' scale (DCR's is fitted on training and
    # holdout rows together): one fit and one encoding of each frame serve all of them
    names = [c.name for c in learned_columns(schema)]
    encoding = EncodedFrames(schema, names, train, holdout, synthetic)
    frames = (train, holdout, synthetic, schema)
    result["membership_inference"] = membership_inference(*frames, seed=seed, encoding=encoding)
    result["singling_out"] = singling_out_risk(*frames, n_attacks=n_attacks, seed=seed, encoding=encoding)
    result["linkability"] = linkability_risk(*frames, n_attacks=n_attacks, seed=seed, encoding=encoding)
    result["inference"] = inference_risk(*frames, n_attacks=n_attacks, seed=seed, encoding=encoding)
    return result
