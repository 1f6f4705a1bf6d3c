"""Mode-specific normalisation of continuous sub-columns, for engines that model rows as vectors.

As in CTGAN (arXiv 1907.00503): each continuous sub-column is scaled into ``[-1, 1]`` by its own range,
then a variational Gaussian mixture (a Dirichlet-process prior, so unneeded components get no weight)
finds its modes.  A value becomes a *mode* code and a *scalar*, its distance from the mode's mean in
units of four of the mode's standard deviations, clipped to ``[-1, 1]``; the mode is drawn from the
value's posterior over the modes (seeded), so neighbouring modes share their overlap as the mixture
does.  Decoding is ``mean + 4 * std * scalar``, scaled back.

A *spike*, one value held by at least ``SPIKE_SHARE`` of the rows and ``min_rows`` of them (a zero
capital gain: 92% of adult's rows), is a mode of its own that decodes to that value exactly, whatever
the scalar; the mixture learns the other values.  As a narrow Gaussian it came back spread over a few
hundred dollars around zero (0.1% of the synthetic gains exactly zero).

Fitting follows the codecs' shape: ``analyze`` reads one partition's values into a bounded, seeded
sample (never every row), ``reduce`` merges the samples and learns the modes.  A mode needs at least
``min_rows`` training values (as many as a category needs to be emitted), so a small table gets few
modes and no mode ever sits on one row's value.  Only means, standard deviations and the scaling are
kept.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mirage._validate import StateError, require_array, require_int, require_list, require_mapping
from mirage.encoding._base import SubColumn
from mirage.encoding._continuous import reflect
from mirage.encoding._tails import Tails

__all__ = ["FIT_ROWS", "ModeNormaliser", "Modes", "ModeStats"]

FIT_ROWS = 2_000  # values the mixture is fitted on (a seeded sample past that)
MAX_MODES = 10
MIN_WEIGHT = 0.005  # a component with less of the mass is dropped
MIN_STD = 1e-3  # in the scaled units (the range is 2): a spike stays a narrow mode, not a point
SPREAD = 4.0  # the scalar is the distance from the mode's mean in SPREAD standard deviations
# a value held by this share of the rows (and min_rows of them) is a point mode; at 5% titanic's
# commonest fare (8.05) became one and vae's titanic DCR share read 0.541 over five splits (0.53 before)
SPIKE_SHARE = 0.2


@dataclass(frozen=True)
class ModeStats:
    """One partition of one sub-column: a seeded sample of its values, its count and extremes."""

    sample: np.ndarray
    count: int
    low: float
    high: float


@dataclass
class Modes:
    """One sub-column's scaling and modes (in the scaled units)."""

    mid: float  # half the sum of the extremes (halved first, so 1e308 does not overflow)
    half: float  # half the range
    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray
    # value protection: no real value past [low, high] (scaled), the ``min_rows``-th smallest and largest
    # values, is emitted: a decoded value past a bound is drawn from that side's tail (a smooth model of
    # the values past it, :mod:`mirage.encoding._tails`), or folded inside where the side has none; one
    # value (their mean) below 3 * min_rows
    low: float = -1.0
    high: float = 1.0
    # per mode, the value it decodes to exactly (a spike), NaN for a Gaussian mode
    points: np.ndarray | None = None
    tails: Tails = field(default_factory=Tails)

    def point_values(self) -> np.ndarray:
        return self.points if self.points is not None else np.full(self.means.size, np.nan)

    def scale(self, x: np.ndarray) -> np.ndarray:
        if not self.half > 0.0:
            return np.zeros(x.shape)
        return (x / 2.0 - self.mid / 2.0) / (self.half / 2.0)

    def unscale(self, z: np.ndarray) -> np.ndarray:
        if not self.half > 0.0:
            return np.full(z.shape, self.mid)
        return (np.clip(z, -1.0, 1.0) * (self.half / 2.0) + self.mid / 2.0) * 2.0


class ModeNormaliser:
    """Maps the continuous sub-columns of encoded rows to (mode, scalar) pairs and back."""

    def __init__(self, *, max_modes: int = MAX_MODES, min_rows: int = 10, seed: int = 0) -> None:
        self.max_modes = max_modes
        self.min_rows = min_rows
        self.seed = seed
        self.modes: dict[str, Modes] = {}

    # --- learning -------------------------------------------------------------------------------
    def analyze(self, x: np.ndarray, rng: np.random.Generator) -> ModeStats:
        x = np.asarray(x, dtype="float64")
        if x.size == 0:
            return ModeStats(x, 0, np.inf, -np.inf)
        sample = x if x.size <= FIT_ROWS else rng.choice(x, FIT_ROWS, replace=False)
        return ModeStats(np.sort(sample), int(x.size), float(x.min()), float(x.max()))

    def reduce(self, name: str, stats: Sequence[ModeStats], rng: np.random.Generator) -> Modes:
        count = sum(s.count for s in stats)
        if count == 0:
            modes = Modes(0.0, 0.0, np.zeros(1), np.ones(1), np.ones(1))
            self.modes[name] = modes
            return modes
        low, high = min(s.low for s in stats), max(s.high for s in stats)
        mid, half = low / 2.0 + high / 2.0, high / 2.0 - low / 2.0
        sample = np.concatenate([s.sample for s in stats])
        if sample.size > FIT_ROWS:
            sample = rng.choice(sample, FIT_ROWS, replace=False)
        modes = Modes(mid, half, np.zeros(1), np.ones(1), np.ones(1))
        z = modes.scale(sample)
        k = self.min_rows
        if count < 3 * k:
            modes.low = modes.high = float(np.clip(z.mean(), -1.0, 1.0))
        elif k > 1:
            share = (k - 1) / (count - 1)
            modes.low, modes.high = (float(v) for v in np.quantile(z, [share, 1.0 - share]))
            modes.tails = Tails.fit(z, modes.low, modes.high)
        spikes, spike_shares = self._spikes(sample, count)
        rest = ~np.isin(sample, spikes)
        if rest.any():
            z = modes.scale(sample[rest])
            k = int(min(self.max_modes, max(1, int(count * rest.mean()) // (2 * self.min_rows))))  # modes
            if half > 0.0 and k > 1 and np.unique(z).size > 1:
                modes.means, modes.stds, modes.weights = self._mixture(z, k, int(rng.integers(2**31)))
            else:
                modes.means = np.array([float(z.mean())])
                modes.stds = np.array([max(float(z.std()), MIN_STD)])
        if spikes.size:
            gaussian = modes.weights * (1.0 - spike_shares.sum()) if rest.any() else np.zeros(0)
            means = modes.means if rest.any() else np.zeros(0)
            stds = modes.stds if rest.any() else np.zeros(0)
            modes.means = np.concatenate([means, modes.scale(spikes)])
            modes.stds = np.concatenate([stds, np.full(spikes.size, MIN_STD)])
            modes.weights = np.concatenate([gaussian, spike_shares])
            modes.weights = modes.weights / modes.weights.sum()
            modes.points = np.concatenate([np.full(means.size, np.nan), spikes])
        self.modes[name] = modes
        return modes

    def _spikes(self, sample: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The values of ``sample`` (a sample of ``count`` rows) that are spikes, and their shares."""
        values, counts = np.unique(sample[np.isfinite(sample)], return_counts=True)
        shares = counts / max(sample.size, 1)
        spike = (shares >= SPIKE_SHARE) & (shares * count >= self.min_rows)
        return values[spike], shares[spike]

    def _mixture(self, z: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import BayesianGaussianMixture
        from threadpoolctl import threadpool_limits

        # in one dimension a diagonal covariance is the full one (same priors, same updates, equal to
        # 1e-13), without the per-component Cholesky loops: 1.2-2x less CPU per fit
        mixture = BayesianGaussianMixture(
            n_components=k,
            covariance_type="diag",
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=1e-3,
            max_iter=100,
            random_state=seed,
        )
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            mixture.fit(z.reshape(-1, 1))
        weights = np.asarray(mixture.weights_, dtype="float64")
        # a mode must describe at least min_rows of the values seen
        keep = (weights > max(MIN_WEIGHT, self.min_rows / z.size)) | (weights == weights.max())
        means = np.asarray(mixture.means_, dtype="float64").ravel()[keep]
        stds = np.sqrt(np.asarray(mixture.covariances_, dtype="float64").ravel()[keep])
        order = np.argsort(means, kind="stable")
        w = weights[keep][order]
        return means[order], np.maximum(stds[order], MIN_STD), w / w.sum()

    def fit(
        self,
        parts: Mapping[str, np.ndarray],
        subcolumns: Sequence[SubColumn],
        present: Mapping[str, np.ndarray],
    ) -> ModeNormaliser:
        """Learn the modes of every continuous sub-column from its values where ``present`` (default:
        every row) marks them real, not a missing cell's placeholder."""
        rng = np.random.default_rng(self.seed)
        self.modes = {}
        for s in subcolumns:
            if s.discrete:
                continue
            x = np.asarray(parts[s.name], dtype="float64")
            if s.name in present:
                x = x[present[s.name]]
            self.reduce(s.name, [self.analyze(x, rng)], rng)
        return self

    # --- encoding ---------------------------------------------------------------------------------
    def encode(self, name: str, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The mode (int64) and scalar (float64 in ``[-1, 1]``) of each value, the mode drawn from the
        value's posterior over the modes."""
        m = self.modes[name]
        x = np.asarray(x, dtype="float64")
        z = m.scale(x)
        points = m.point_values()
        gaussian = np.isnan(points)
        if m.means.size == 1:
            mode = np.zeros(z.size, dtype="int64")
        else:
            # a spike's own value is its point mode; any other value is drawn among the Gaussian modes
            log_p = np.log(m.weights) - np.log(m.stds) - 0.5 * ((z[:, None] - m.means) / m.stds) ** 2
            log_p[:, ~gaussian] = -np.inf
            p = np.exp(log_p - log_p.max(axis=1, keepdims=True)) if gaussian.any() else np.ones(log_p.shape)
            cdf = np.cumsum(p, axis=1)
            u = rng.random(z.size) * cdf[:, -1]
            mode = np.minimum((cdf < u[:, None]).sum(axis=1), m.means.size - 1).astype("int64")
            for j in np.flatnonzero(~gaussian):
                mode[x == points[j]] = j
        scalar = np.clip((z - m.means[mode]) / (SPREAD * m.stds[mode]), -1.0, 1.0)
        scalar[~gaussian[mode]] = 0.0
        return mode, scalar

    def decode(
        self, name: str, mode: np.ndarray, scalar: np.ndarray, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Values of the (mode, scalar) pairs; with ``rng``, those past a protected bound are drawn from
        its tail (without, or where a side has no tail, folded inside)."""
        m = self.modes[name]
        mode = np.clip(mode, 0, m.means.size - 1)
        z = m.means[mode] + SPREAD * m.stds[mode] * np.clip(scalar, -1.0, 1.0)
        if rng is not None and m.tails.any:
            z = m.tails.draw_past(z, m.low, m.high, rng)
            untailed = ((z < m.low) & (m.tails.low.share == 0)) | ((z > m.high) & (m.tails.high.share == 0))
            z = np.where(untailed, reflect(z, m.low, m.high), z)
        else:
            z = reflect(z, m.low, m.high)
        out = m.unscale(z)
        exact = m.point_values()[mode]
        return np.where(np.isnan(exact), out, exact)

    def n_modes(self, name: str) -> int:
        return int(self.modes[name].means.size)

    # --- persistence ------------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "max_modes": self.max_modes,
            "min_rows": self.min_rows,
            "subcolumns": list(self.modes),
            "scaling": {name: [m.mid, m.half, m.low, m.high] for name, m in self.modes.items()},
        }
        arrays: dict[str, np.ndarray] = {}
        for name, m in self.modes.items():
            arrays[f"{name}.means"] = m.means
            arrays[f"{name}.stds"] = m.stds
            arrays[f"{name}.weights"] = m.weights
            if m.points is not None:
                arrays[f"{name}.points"] = m.points
            if m.tails.any:
                arrays[f"{name}.tails"] = m.tails.to_array()
        return state, arrays

    @classmethod
    def from_state(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> ModeNormaliser:
        normaliser = cls(
            max_modes=require_int(state, "max_modes", low=1), min_rows=require_int(state, "min_rows", low=1)
        )
        scaling = require_mapping(state.get("scaling"), "scaling")
        for name in require_list(state, "subcolumns"):
            pair = scaling.get(name)
            if not (
                isinstance(pair, list) and len(pair) == 4 and all(isinstance(v, (int, float)) for v in pair)
            ):
                raise StateError(f"scaling.{name}", "expected [mid, half, low, high]")
            means = require_array(arrays, f"{name}.means", kind="f", shape=(None,))
            if means.ndim != 1 or means.size == 0:
                raise StateError(f"{name}.means", "expected a non-empty 1-d array", array=True)
            stds = require_array(arrays, f"{name}.stds", kind="f", shape=means.shape)
            weights = require_array(arrays, f"{name}.weights", kind="f", shape=means.shape)
            if not (np.all(stds > 0) and np.all(weights > 0)):
                raise StateError(
                    f"{name}.stds", "expected positive standard deviations and weights", array=True
                )
            points = None
            if f"{name}.points" in arrays:  # files before point modes have none
                points = require_array(arrays, f"{name}.points", kind="f", shape=means.shape, finite=False)
                if np.isinf(points).any():
                    raise StateError(f"{name}.points", "expected finite values or NaN", array=True)
            mid, half, low, high = (float(v) for v in pair)
            tails = Tails.from_arrays(arrays, f"{name}.tails")  # files before tails have none
            normaliser.modes[str(name)] = Modes(mid, half, means, stds, weights, low, high, points, tails)
        return normaliser
