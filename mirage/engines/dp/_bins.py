"""Two resolutions for a continuous sub-column: fine buckets for its 1-way shape, coarse bins for pairs.

The fine grid is public (made from the column's public range only): one point per whole number when an
integer range is short, else points at 0 and at an integer range's ends (common spikes: a zero
balance, a sentinel -1) and equal widths.  The 1-way marginal is measured on the fine grid; the coarse
bins the tree model uses are runs of fine buckets cut at the noisy 1-way's quantiles (post-processing,
free), a fine bucket heavy enough to fill a bin by itself a bin of its own.  Decoding draws a coarse
bin from the model, a fine bucket within it from the noisy 1-way, then the bucket's point or a uniform
value within its edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FINE_BUCKETS",
    "CoarseModel",
    "FineGrid",
    "coarse_bins",
    "coarse_codes",
    "fine_buckets",
    "fine_grid",
    "refine_codes",
]

FINE_BUCKETS = 128  # equal-width buckets of a range that is not a short integer one (the most)
MAX_POINTS = 256  # an integer range of at most this many whole numbers gets one bucket per number
MIN_FINE_BUCKETS = 4
SIGNAL_TO_NOISE = 2.0  # a fine bucket's mean count over its noise's standard deviation, at least


@dataclass
class FineGrid:
    edges: np.ndarray  # F + 1 increasing edges; bucket i is [edges[i], edges[i + 1])
    points: np.ndarray  # F values: the point a bucket stands for, NaN for a uniform draw within it

    @property
    def size(self) -> int:
        return int(self.points.size)

    def index(self, values: np.ndarray) -> np.ndarray:
        found = np.searchsorted(self.edges, np.asarray(values, dtype="float64"), side="right") - 1
        return np.clip(found, 0, self.size - 1).astype(np.int64)

    @property
    def spikes(self) -> np.ndarray:
        """The point buckets cut into an equal-width grid (zero, an integer range's ends), as a mask;
        none in a grid of one point per whole number, whose points are the values themselves."""
        points = ~np.isnan(self.points)
        return points if not points.all() else np.zeros(self.size, dtype=bool)

    def draw(self, buckets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        low, high = self.edges[buckets], self.edges[buckets + 1]
        uniform = low + rng.random(buckets.size) * (high - low)
        point = self.points[buckets]
        return np.where(np.isnan(point), uniform, point)


def fine_buckets(rows: float, sigma: float) -> int:
    """How many fine buckets a range gets when its 1-way is measured with noise ``sigma`` and the table
    has about ``rows`` rows (a noisy count): as many as keep an even spread of the rows
    ``SIGNAL_TO_NOISE`` deviations above the noise, between ``MIN_FINE_BUCKETS`` and ``FINE_BUCKETS``.
    Finer buckets than that measure noise: their shape, and the coarse bins cut from it, are random."""
    if not (sigma > 0 and np.isfinite(rows)):
        return FINE_BUCKETS
    return int(np.clip(np.floor(rows / (SIGNAL_TO_NOISE * sigma)), MIN_FINE_BUCKETS, FINE_BUCKETS))


def fine_grid(low: float, high: float, integer: bool, buckets: int = FINE_BUCKETS) -> FineGrid:
    """The public fine grid over ``[low, high]`` of at most about ``buckets`` buckets (an integer range
    of few enough whole numbers gets one per number: up to ``MAX_POINTS`` at ``FINE_BUCKETS``)."""
    if not high > low:
        return FineGrid(np.array([low, low + 1.0]), np.array([low]))
    max_points = MAX_POINTS * buckets // FINE_BUCKETS
    if integer and np.ceil(low) <= np.floor(high) and np.floor(high) - np.ceil(low) < max_points:
        values = np.arange(np.ceil(low), np.floor(high) + 1.0)
        edges = np.append(values - 0.5, values[-1] + 0.5)
        return FineGrid(edges, values)
    edges = np.linspace(low, high, buckets + 1)
    width = (high - low) / buckets
    # spikes get point buckets: zero (no capital gain), and an integer range's ends (a sentinel such as
    # -1 for "never contacted", or values piled at a bound)
    spikes = [0.0] if low <= 0.0 < high else []
    if integer:
        spikes = sorted({float(np.ceil(low)), float(np.floor(high)), *spikes})
    if not spikes:
        return FineGrid(edges, np.full(buckets, np.nan))
    tiny = width * 1e-6
    for spike in spikes:  # a point bucket [spike, spike + tiny), the buckets around it cut back
        edges = np.concatenate([edges[(edges < spike) | (edges >= spike + tiny)], [spike, spike + tiny]])
    edges = np.unique(edges)
    if spikes[-1] >= high:  # a point at high: its bucket [high, high + tiny) closes the grid
        edges = np.unique(np.append(edges, high + tiny))
    points = np.full(edges.size - 1, np.nan)
    for spike in spikes:
        points[int(np.searchsorted(edges, spike, side="right")) - 1] = spike
    return FineGrid(edges, points)


def coarse_bins(noisy: np.ndarray, bins: int) -> np.ndarray:
    """For each fine bucket, its coarse bin (0, 1, ...): runs of buckets of about 1/``bins`` of the
    (noisy, clipped) mass each; a bucket of that much by itself is a bin of its own."""
    mass = np.clip(np.asarray(noisy, dtype="float64"), 0.0, None)
    total = float(mass.sum())
    if total <= 0.0 or mass.size <= bins:
        return np.arange(mass.size, dtype=np.int64) if mass.size <= bins else _even(mass.size, bins)
    target = total / bins
    out = np.zeros(mass.size, dtype=np.int64)
    current, filled = 0, 0.0
    for i, m in enumerate(mass):
        if filled > 0.0 and (filled >= target or m >= target):
            current, filled = current + 1, 0.0
        out[i] = current
        filled += m
    return out


def coarse_codes(to_coarse: list[np.ndarray], fine: np.ndarray) -> np.ndarray:
    """Fine codes (rows x attributes) to coarse ones through each attribute's ``to_coarse`` map."""
    if not to_coarse:
        return fine
    return np.stack([to_coarse[a][fine[:, a]] for a in range(fine.shape[1])], axis=1)


def refine_codes(
    to_coarse: list[np.ndarray],
    within: list[np.ndarray],
    cardinalities: list[int],
    codes: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Coarse codes to fine codes, each drawn within its coarse bin with the probabilities ``within``
    (P(fine code | its coarse code), from the noisy 1-way)."""
    if not to_coarse:
        return codes
    out = np.empty_like(codes)
    for a in range(codes.shape[1]):
        order = np.argsort(to_coarse[a], kind="stable")  # fine codes grouped by coarse bin
        grouped = to_coarse[a][order]
        bins = np.arange(cardinalities[a])
        starts, ends = np.searchsorted(grouped, bins), np.searchsorted(grouped, bins, side="right")
        cdf = np.cumsum(within[a][order])
        base = np.where(starts > 0, cdf[np.maximum(starts - 1, 0)], 0.0)
        mass = cdf[np.maximum(ends - 1, 0)] - base
        c = codes[:, a]
        u = base[c] + rng.random(c.size) * mass[c]
        picked = np.clip(np.searchsorted(cdf, u, side="right"), starts[c], ends[c] - 1)
        out[:, a] = order[picked]
    return out


class CoarseModel:
    """What the dp models share: a distribution over coarse codes, drawn attribute by attribute in
    ``order`` (each subclass's ``draw``), and the maps between fine and coarse codes."""

    cardinalities: list[int]  # coarse codes of each attribute
    order: list[int]  # attributes, each after those it is drawn given
    # per attribute: the coarse code of each fine code, and P(fine code | its coarse code)
    to_coarse: list[np.ndarray]
    within: list[np.ndarray]

    def coarse(self, fine: np.ndarray) -> np.ndarray:
        """Fine codes (rows x attributes) to the model's coarse codes."""
        return coarse_codes(self.to_coarse, fine)

    def refine(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Coarse codes to fine codes, each drawn within its coarse bin from the noisy 1-way shape."""
        return refine_codes(self.to_coarse, self.within, self.cardinalities, codes, rng)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        out = np.zeros((n, len(self.cardinalities)), dtype=np.int64)
        for a in self.order:
            self.draw(out, a, rng, np.ones(n, dtype=bool))
        return out

    def draw(self, out: np.ndarray, a: int, rng: np.random.Generator, rows: np.ndarray) -> None:
        """Redraw attribute ``a`` in ``rows`` given the values in ``out`` it depends on."""
        raise NotImplementedError


def _even(size: int, bins: int) -> np.ndarray:
    return (np.arange(size) * bins // size).astype(np.int64)
