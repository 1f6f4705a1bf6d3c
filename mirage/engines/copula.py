"""``copula``: a Gaussian copula over the encoded sub-columns; fast, the baseline.

Each sub-column is mapped to normal scores through its ranks (ties broken at random, so discrete
codes become intervals of the normal line); the correlation of the scores is the copula.  Sampling
draws correlated normals and maps them back through each marginal's quantile function (a continuous
one keeps a knot per ``rare_min_count`` rows at most: ``knot_count`` says why).

With a context, the context's sub-columns join the copula (scored through their own marginals, the
same way at fit and at sampling), and rows are drawn from the conditional Gaussian of the own scores
given the context's: mean ``B z_context`` (``B``, the regression, from the correlation's blocks) and
the covariance that is left.

Conditions are met by conditioning the Gaussian (tag ``native_conditions``).  Each condition becomes
a set of allowed scores: the normal-score intervals of a categorical's allowed codes, the scores of a
numeric or date range (through the marginal's quantile knots), the interval of a missing flag's code.
The conditioned scores are drawn from the multivariate normal truncated to those sets by Gibbs
sampling over the conditioned dimensions only: each one in turn from its univariate normal given the
others, truncated to its set by inverting the normal's distribution function (exact, no rejection);
with one conditioned dimension that single draw is exact, with several ``GIBBS_SWEEPS`` sweeps from
independent truncated starts let the few dimensions mix.  Gibbs rather than drawing the dimensions
one after the other from their truncated marginals: the latter ignores how truncating one dimension
moves the others and is not the truncated joint.  The other scores are then drawn from the
conditional Gaussian given the conditioned ones.  ``impute`` is the same draw per missing pattern:
observed numbers fixed at their scores, observed codes truncated to their code's interval, and the
missing cells' scores drawn given them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar

import numpy as np
from scipy.special import ndtr, ndtri
from threadpoolctl import ThreadpoolController, threadpool_limits

from mirage._progress import report
from mirage._validate import StateError, require_array, require_int, require_list
from mirage.encoding import SubColumn
from mirage.encoding._base import MISSING_PART
from mirage.encoding.marginal import Marginal, knot_count, normal_scores
from mirage.engines._base import EngineTags, Synthesizer, missing_flags
from mirage.engines._conditions import SubColumnBox, impossible, marginal_range
from mirage.engines._context import ContextParts
from mirage.engines._params import QUANTILES, SEED, Param, number
from mirage.engines._registry import register_engine

__all__ = ["CopulaSynthesizer"]

GIBBS_SWEEPS = 30  # sweeps over the conditioned dimensions (only when two or more are conditioned)


@cache
def _blas() -> ThreadpoolController:
    """Found once per process: ``threadpool_limits`` looks for the libraries on every call (1-3 ms, a
    few percent of a sampled block)."""
    return ThreadpoolController()


@register_engine
class CopulaSynthesizer(Synthesizer):
    name = "copula"
    params: ClassVar[Mapping[str, Param]] = {
        "quantiles": QUANTILES,
        "shrinkage": number(0, 1, high_open=True),
        "seed": SEED,
    }
    tags = EngineTags(context=True, native_conditions=True, impute=True, scenario=True)

    def __init__(
        self,
        *,
        quantiles: int = 1000,
        shrinkage: float = 0.01,
        seed: int = 0,
    ) -> None:
        self.quantiles = quantiles
        self.shrinkage = shrinkage
        self.seed = seed

    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        self.context_marginals_: list[Marginal] = []
        self.regression_ = np.zeros((len(subcolumns), 0))
        corr = self._own_correlation(parts, subcolumns, np.zeros((self._rows(parts, subcolumns), 0)))
        if corr is None:
            self.cholesky_ = np.zeros((0, 0))
            return
        self.cholesky_ = _safe_cholesky(corr)
        report("fit", 1, 1)

    def _fit_given(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: ContextParts,
        rng: np.random.Generator,
    ) -> None:
        given = context.matrix()
        # every value a context holds is conditioned on, so no end of its range is held back (min_count 1)
        self.context_marginals_ = [
            Marginal.fit(s, given[:, i], self.quantiles) for i, s in enumerate(context.subcolumns)
        ]
        c, p = given.shape[1], len(subcolumns)
        corr = self._own_correlation(parts, subcolumns, self._context_scores(given))
        if corr is None:
            self.regression_, self.cholesky_ = np.zeros((0, c)), np.zeros((0, 0))
            return
        with threadpool_limits(1, "blas"):
            # the conditional Gaussian of the own scores given the context's
            regression = np.linalg.solve(corr[:c, :c], corr[:c, c:]).T
            remaining = corr[c:, c:] - regression @ corr[:c, c:]
        self.regression_ = regression.reshape(p, c)
        self.cholesky_ = _safe_cholesky((remaining + remaining.T) / 2.0)
        report("fit", 1, 1)

    @staticmethod
    def _rows(parts: Mapping[str, np.ndarray], subcolumns: list[SubColumn]) -> int:
        return len(parts[subcolumns[0].name]) if subcolumns else 0

    def _own_correlation(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], context_scores: np.ndarray
    ) -> np.ndarray | None:
        """Fit the own marginals; the copula's correlation over the context's scores (first) and the
        own sub-columns' (None when there is no own sub-column)."""
        self.subcolumns_ = subcolumns
        flags = missing_flags(subcolumns)
        present = {j: parts[subcolumns[f].name] == 0 for j, f in flags.items()}
        values = [
            parts[s.name][present[j]] if j in present else parts[s.name] for j, s in enumerate(subcolumns)
        ]
        rare = self.encoding_.rare_min_count
        fitted = [x if x.size else parts[s.name] for s, x in zip(subcolumns, values, strict=True)]
        self.marginals_ = [
            Marginal.fit(s, x, knot_count(x.size, rare, self.quantiles), rare)
            for s, x in zip(subcolumns, fitted, strict=True)
        ]
        if not subcolumns:
            return None
        n, c = self._rows(parts, subcolumns), context_scores.shape[1]
        scores = np.full((n, c + len(subcolumns)), np.nan)
        scores[:, :c] = context_scores
        for j, (s, x) in enumerate(zip(subcolumns, values, strict=True)):
            if x.size:
                scores[present[j] if j in present else slice(None), c + j] = normal_scores(x, s.discrete)
        with threadpool_limits(1, "blas"):  # a second BLAS thread costs more than it saves here
            if present:
                corr = _pairwise_correlation(scores)
                for j, f in flags.items():
                    _keep_links_where_present(corr, c + j, c + f, float(present[j].mean()))
                corr = _nearest_correlation(corr)
            else:
                corr = _correlation(scores)
        corr = (1.0 - self.shrinkage) * corr + self.shrinkage * np.eye(corr.shape[0])
        np.fill_diagonal(corr, 1.0)
        return corr

    def _context_scores(self, given: np.ndarray) -> np.ndarray:
        """The normal score of each context value, through its sub-column's marginal."""
        scores = np.empty(given.shape)
        for i, marginal in enumerate(self.context_marginals_):
            scores[:, i] = _scores(marginal, given[:, i])
        return scores

    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        with _blas().limit(limits=1, user_api="blas"):
            # ``normals @ cholesky.T`` computed as its transpose, so that each sub-column's scores lie
            # together in memory for ``_values`` (the same numbers: tests/scale/test_copula_draw.py)
            z = (self.cholesky_ @ rng.standard_normal((n, len(self.subcolumns_))).T).T
        return self._values(z)

    def _sample_given(self, context: ContextParts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        given = self._context_scores(context.matrix())
        with _blas().limit(limits=1, user_api="blas"):
            z = (
                given @ self.regression_.T
                + rng.standard_normal((context.n, len(self.subcolumns_))) @ self.cholesky_.T
            )
        return self._values(z)

    # --- conditions, imputation, scenarios -------------------------------------------------------
    def _sample_matching(self, n: int, rng: np.random.Generator, accept: Any) -> dict[str, np.ndarray]:
        box: SubColumnBox | None = getattr(accept, "box", None)
        if not box:
            return self._sample(n, rng)
        sets = {}
        for j, s in enumerate(self.subcolumns_):
            if s.name in box.codes:
                sets[j] = self._code_intervals(j, box.codes[s.name])
            elif s.name in box.ranges:
                sets[j] = self._range_interval(j, *box.ranges[s.name])
        return self._values(self._conditional_scores(n, {}, sets, rng))

    def _code_intervals(self, j: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The normal-score intervals of sub-column ``j``'s allowed codes (adjacent ones merged), shape
        ``(1, m)`` each; a set the model gives no probability is impossible."""
        upper = np.clip(self.marginals_[j].table, 0.0, 1.0)
        lower = np.concatenate([[0.0], upper[:-1]])
        keep = allowed[: upper.size] & (upper - lower > 0)
        if not keep.any():
            s = self.subcolumns_[j]
            what = "missing flag" if s.part == MISSING_PART else "values"
            raise impossible(
                s.column, f"has no probability for the {what} the conditions allow in this model"
            )
        starts = np.flatnonzero(keep & ~np.concatenate([[False], keep[:-1]]))
        ends = np.flatnonzero(keep & ~np.concatenate([keep[1:], [False]]))
        return ndtri(lower[starts])[None, :], ndtri(upper[ends])[None, :]

    def _range_interval(self, j: int, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        """The normal-score interval of values from ``low`` to ``high`` through sub-column ``j``'s knots."""
        marginal = self.marginals_[j]
        lowest, highest = marginal.reach()
        if low > highest or high < lowest:
            raise impossible(
                self.subcolumns_[j].column,
                f"takes no value from {low:g} to {high:g} in this model (it draws {lowest:g} to {highest:g})",
            )
        lower, upper = marginal_range(marginal, low, high)
        return np.array([[ndtri(lower)]]), np.array([[ndtri(upper)]])

    def _conditional_scores(
        self,
        n: int,
        fixed: Mapping[int, np.ndarray],
        sets: Mapping[int, tuple[np.ndarray, np.ndarray]],
        rng: np.random.Generator,
    ) -> np.ndarray:
        """``n`` rows of scores with dimensions ``fixed`` (each an array of ``n`` scores), dimensions
        ``sets`` truncated to unions of intervals (lows, highs: shape ``(1 or n, m)``) and the others
        drawn from the conditional Gaussian given them."""
        p = len(self.subcolumns_)
        z = np.zeros((n, p))
        with threadpool_limits(1, "blas"):
            cov = self.cholesky_ @ self.cholesky_.T
            f, c = sorted(fixed), sorted(sets)
            free = [j for j in range(p) if j not in fixed]
            for j in f:
                z[:, j] = fixed[j]
            mean, cov_free = _given(cov, f, free, z[:, f])  # the free dimensions given the fixed
            position = {j: i for i, j in enumerate(free)}
            ci = [position[j] for j in c]
            rest = [i for i in range(len(free)) if free[i] not in sets]
            if ci:
                z_c = _gibbs(mean[:, ci], cov_free[np.ix_(ci, ci)], [sets[j] for j in c], rng)
                z[:, c] = z_c
                mean_r, cov_r = _given(cov_free, ci, rest, z_c - mean[:, ci])
                mean_r = mean_r + mean[:, rest]
            else:
                mean_r, cov_r = mean[:, rest], cov_free[np.ix_(rest, rest)]
            if rest:
                noise = rng.standard_normal((n, len(rest))) @ _safe_cholesky(cov_r).T
                z[:, [free[i] for i in rest]] = mean_r + noise
        return z

    def _impute_parts(
        self, parts: dict[str, np.ndarray], known: Mapping[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """The missing sub-columns drawn from the conditional Gaussian given each row's known ones,
        one draw per missing pattern."""
        subs = self.subcolumns_
        n = _rows(parts)
        mask = np.column_stack([known[s.name] for s in subs]) if subs else np.zeros((n, 0), dtype=bool)
        out = {s.name: np.array(parts[s.name], copy=True) for s in subs}
        patterns, group = np.unique(mask, axis=0, return_inverse=True)
        for g, pattern in enumerate(patterns):
            rows = np.flatnonzero(group.reshape(-1) == g)
            fixed: dict[int, np.ndarray] = {}
            sets: dict[int, tuple[np.ndarray, np.ndarray]] = {}
            for j in map(int, np.flatnonzero(pattern)):
                values = parts[subs[j].name][rows]
                if subs[j].discrete:
                    sets[j] = self._code_bounds(j, values.astype("int64"))
                else:
                    fixed[j] = _scores(self.marginals_[j], values.astype("float64"))
            drawn = self._values(self._conditional_scores(rows.size, fixed, sets, rng))
            for j, s in enumerate(subs):
                if not pattern[j]:
                    out[s.name][rows] = drawn[s.name]
        return out

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Every other sub-column redrawn from the conditional Gaussian given the intervened scores."""
        n = _rows(parts)
        known = {s.name: np.full(n, s.name in fixed) for s in self.subcolumns_}
        return self._impute_parts(parts, known, rng)

    def _code_bounds(self, j: int, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the normal-score interval of its code of sub-column ``j`` (shape ``(n, 1)`` each)."""
        upper = np.clip(self.marginals_[j].table, 0.0, 1.0)
        lower = np.concatenate([[0.0], upper[:-1]])
        codes = np.clip(codes, 0, upper.size - 1)
        return ndtri(lower[codes])[:, None], ndtri(upper[codes])[:, None]

    def _values(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Each sub-column's values at the scores ``z``: ``marginal.inverse(ndtr(z))``, the same numbers.

        A code is found among its marginal's thresholds moved onto the normal line (``_code_thresholds``),
        so only the value sub-columns pay for the normal's distribution function."""
        lookups = self._lookups()
        out = {}
        for j, (s, m) in enumerate(zip(self.subcolumns_, self.marginals_, strict=True)):
            found = lookups[j]
            if m.discrete:
                out[s.name] = _codes(z[:, j], *found)
            elif m.tails.any:  # the rows past the end knots drawn from the tails (_tails)
                u = ndtr(z[:, j])
                inside = _interpolate(m.table, found[0], m.tails.inner(u))
                out[s.name] = m.tails.place(u, inside, float(m.table[0]), float(m.table[-1]))
            else:
                out[s.name] = _interpolate(m.table, found[0], ndtr(z[:, j]))
        return out

    def _lookups(self) -> list[tuple[np.ndarray, ...]]:
        """Per sub-column, a discrete marginal's code thresholds on the normal line and their code
        table, a continuous one's steps between knots; found once per fitted or loaded model."""
        cached = getattr(self, "_lookups_cache", None)
        if cached is None or cached[0] is not self.marginals_:  # a refit or load sets new marginals
            found: list[tuple[np.ndarray, ...]] = []
            for m in self.marginals_:
                if m.discrete:
                    cut = _code_thresholds(m.table)
                    found.append((cut, _code_table(cut)))
                else:
                    found.append((np.diff(m.table),))
            cached = (self.marginals_, found)
            self._lookups_cache = cached
        return cached[1]

    def _thresholds(self) -> list[np.ndarray | None]:
        """Per sub-column, a discrete marginal's code thresholds on the normal line (None for values)."""
        pairs = zip(self.marginals_, self._lookups(), strict=True)
        return [found[0] if m.discrete else None for m, found in pairs]

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "discrete": [m.discrete for m in self.marginals_],
        }
        arrays = {k: v for j, m in enumerate(self.marginals_) for k, v in m.arrays(f"marginal.{j}").items()}
        arrays["cholesky"] = self.cholesky_
        if self.context_marginals_:
            state["context_width"] = len(self.context_marginals_)
            arrays.update({f"context_marginal.{i}": m.table for i, m in enumerate(self.context_marginals_)})
            arrays["regression"] = self.regression_
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        subcolumns = self._restore_subcolumns(state)
        discrete = require_list(state, "discrete", length=len(subcolumns))
        if discrete != [s.discrete for s in subcolumns]:
            raise StateError("discrete", "does not match the sub-columns' kinds (state.engine.subcolumns)")
        marginals = [Marginal.from_arrays(s, arrays, f"marginal.{j}") for j, s in enumerate(subcolumns)]
        p = len(subcolumns)
        context = list(self.context_encoder_.subcolumns) if self.context_encoder_ is not None else []
        width = require_int(state, "context_width", low=0) if "context_width" in state else 0
        if width != len(context):
            raise StateError("context_width", f"expected {len(context)}, the context encoder's sub-columns")
        self.context_marginals_ = [
            Marginal.from_arrays(s, arrays, f"context_marginal.{i}") for i, s in enumerate(context)
        ]
        self.regression_ = (
            require_array(arrays, "regression", kind="f", shape=(p, len(context)))
            if context
            else np.zeros((p, 0))
        )
        self.subcolumns_, self.marginals_ = subcolumns, marginals
        self.cholesky_ = require_array(arrays, "cholesky", kind="f", shape=(p, p))


#: a float's bits as an unsigned integer in the floats' order (negatives' bits flipped, positives' sign set)
_SIGN = np.uint64(1 << 63)


def _ordered(x: np.ndarray) -> np.ndarray:
    bits = np.ascontiguousarray(x, dtype="float64").view("uint64")
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


def _unordered(key: np.ndarray) -> np.ndarray:
    return np.where(key & _SIGN, key & ~_SIGN, ~key).view("float64")


def _code_thresholds(table: np.ndarray) -> np.ndarray:
    """For each cumulative probability ``p`` of ``table`` but the last, the smallest float ``t`` with
    ``ndtr(t) >= p``, found by bisection over the floats in order (64 steps).

    ``searchsorted(table, ndtr(z), side="right")`` (capped at the last code), which
    ``Marginal.inverse`` draws a code with, counts the ``p <= ndtr(z)``: ``ndtr`` never decreases, so
    that is the count of ``t <= z``, found without evaluating ``ndtr`` for every drawn score.
    """
    p = np.asarray(table[:-1], dtype="float64")
    low = np.full(p.shape, _ordered(np.array([-np.inf]))[0])  # ndtr(-inf) = 0 < p (p <= 0 set below)
    high = np.full(p.shape, _ordered(np.array([np.inf]))[0])  # ndtr(inf) = 1 >= p (p > 1 set below)
    for _ in range(64):
        middle = low + (high - low) // np.uint64(2)
        reached = ndtr(_unordered(middle)) >= p
        high = np.where(reached, middle, high)
        low = np.where(reached, low, middle)
        if np.all(high - low <= np.uint64(1)):
            break
    cut = _unordered(high).copy()
    cut[p <= 0.0] = -np.inf
    cut[p > 1.0] = np.inf
    return cut


#: the code table's bins: ``_BINS`` of equal width from ``-_REACH`` to ``_REACH`` on the normal line,
#: and one bin for every score below and one for every score above (both always looked up)
_BINS, _REACH = 4096, 8.0
#: a bin is looked up when a threshold lies within this distance of it: far more than the rounding of
#: a score's bin number (about 1e-15 here), so every other bin holds one code, whatever the rounding
_MARGIN = 1e-9


def _code_table(thresholds: np.ndarray) -> np.ndarray:
    """Per bin of the normal line (see ``_BINS``), the code of every score in it, or -1 where a
    threshold lies in or near the bin (its scores are looked up)."""
    width = 2.0 * _REACH / _BINS
    edges = -_REACH + width * np.arange(_BINS + 1)
    lo, hi = edges[:-1] - _MARGIN, edges[1:] + _MARGIN
    near = np.searchsorted(thresholds, lo, side="left") != np.searchsorted(thresholds, hi, side="right")
    codes = np.searchsorted(thresholds, (edges[:-1] + edges[1:]) / 2.0, side="right").astype("int64")
    return np.concatenate([[-1], np.where(near, -1, codes), [-1]])


def _codes(z: np.ndarray, thresholds: np.ndarray, table: np.ndarray | None = None) -> np.ndarray:
    """The number of ``thresholds`` at or below each score (int64).

    A few thresholds by comparison; more through ``table`` (``_code_table(thresholds)``, made here when
    not given): each score's bin gives its code, and only the scores in a bin a threshold lies in or
    near (a few percent), or off the table, are found by binary search.
    """
    if thresholds.size <= 4:
        codes = np.zeros(z.shape, dtype="int64")
        for t in thresholds:
            codes += z >= t
        return codes
    if not np.isfinite(z).all():  # not from a draw (a NaN has no bin): binary search throughout
        return np.searchsorted(thresholds, z, side="right").astype("int64", copy=False)
    table = _code_table(thresholds) if table is None else table
    position = z * (_BINS / (2.0 * _REACH)) + (_BINS / 2.0 + 1.0)
    np.clip(position, 0.0, _BINS + 1.0, out=position)
    codes = table.take(position.astype("int64"))
    near = np.flatnonzero(codes < 0)
    if near.size:
        codes[near] = np.searchsorted(thresholds, z[near], side="right")
    return codes


def _interpolate(knots: np.ndarray, steps: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``Marginal(False, knots).inverse(u)`` for ``u`` in ``[0, 1]`` (``ndtr``'s range), ``steps`` the
    knots' differences: the same numbers, with fewer passes over the rows (no clip; the step gathered,
    not subtracted)."""
    if knots.size == 1:
        return np.full(u.shape, knots[0])
    fraction = u * (knots.size - 1)  # the position, then (in place) its fraction past the lower knot
    lower = fraction.astype("int64")
    np.minimum(lower, knots.size - 2, out=lower)
    fraction -= lower
    out = steps.take(lower)
    out *= fraction  # knots[lower] + fraction * steps[lower], with two arrays fewer
    out += knots.take(lower)
    return out


def _rows(parts: Mapping[str, np.ndarray]) -> int:
    return len(next(iter(parts.values()))) if parts else 0


def _given(
    cov: np.ndarray, known: list[int], other: list[int], z_known: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean (one row per row of ``z_known``) and covariance of dimensions ``other`` given ``known``."""
    n = z_known.shape[0]
    if not known:
        return np.zeros((n, len(other))), cov[np.ix_(other, other)]
    kk, ko = cov[np.ix_(known, known)], cov[np.ix_(known, other)]
    regression = np.linalg.solve(kk + 1e-10 * np.eye(len(known)), ko).T
    remaining = cov[np.ix_(other, other)] - regression @ ko
    return z_known @ regression.T, (remaining + remaining.T) / 2.0


def _gibbs(
    mean: np.ndarray,
    cov: np.ndarray,
    sets: list[tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
) -> np.ndarray:
    """Draws of a normal (per-row ``mean``, shared ``cov``) truncated to ``sets`` (one union of intervals
    per dimension) by Gibbs sampling: each dimension from its normal given the others, truncated."""
    k = mean.shape[1]
    spread = np.sqrt(np.clip(np.diag(cov), 1e-12, None))
    z = np.column_stack([_truncated_normal(mean[:, i], spread[i], *sets[i], rng) for i in range(k)])
    if k == 1:
        return z
    precision = np.linalg.inv(cov + 1e-10 * np.eye(k))
    sd = 1.0 / np.sqrt(np.clip(np.diag(precision), 1e-12, None))
    for _ in range(GIBBS_SWEEPS):
        for i in range(k):
            others = [o for o in range(k) if o != i]
            shift = (z[:, others] - mean[:, others]) @ precision[i, others] / precision[i, i]
            z[:, i] = _truncated_normal(mean[:, i] - shift, sd[i], *sets[i], rng)
    return z


def _truncated_normal(
    mu: np.ndarray, sigma: float, lows: np.ndarray, highs: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One draw per row of ``N(mu, sigma^2)`` truncated to the union of ``[lows, highs]`` (shape
    ``(1 or n, m)``), by inverting the distribution function: an interval picked by its mass, then a
    point within it (on the upper tail's side of the normal, where the other side has no precision)."""
    n = mu.size
    a = (lows - mu[:, None]) / sigma
    b = (highs - mu[:, None]) / sigma
    a, b = np.broadcast_arrays(a, b)
    upper = a > 0
    fa, fb, sa, sb = ndtr(a), ndtr(b), ndtr(-a), ndtr(-b)
    mass = np.clip(np.where(upper, sa - sb, fb - fa), 0.0, None)
    total = mass.sum(axis=1)
    pick_u, point_u = rng.random(n), rng.random(n)
    rows = np.arange(n)
    cumulative = np.cumsum(mass, axis=1)
    pick = np.minimum((cumulative < (pick_u * total)[:, None]).sum(axis=1), a.shape[1] - 1)
    # rows whose allowed set lies past double precision's reach take its nearest point
    distance = np.where(upper, a, np.where(b < 0, -b, 0.0))
    pick = np.where(total > 0, pick, np.argmin(distance, axis=1))
    lo, hi = a[rows, pick], b[rows, pick]
    side = upper[rows, pick]
    f_lo, f_hi, s_lo, s_hi = fa[rows, pick], fb[rows, pick], sa[rows, pick], sb[rows, pick]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(side, -ndtri(s_lo - point_u * (s_lo - s_hi)), ndtri(f_lo + point_u * (f_hi - f_lo)))
    nearest = np.clip(0.0, lo, hi)
    t = np.where((total > 0) & np.isfinite(t), t, nearest)
    return mu + sigma * np.clip(t, lo, hi)


def _scores(marginal: Marginal, x: np.ndarray) -> np.ndarray:
    """Normal scores of ``x`` through ``marginal``: a code's is the mean of the normal over its
    probability interval (as :func:`normal_scores` gives it); a value's is the normal quantile of its
    interpolated probability, kept off the infinite ends."""
    table = marginal.table
    if marginal.discrete:
        upper = np.clip(table, 0.0, 1.0)
        lower = np.concatenate([[0.0], upper[:-1]])
        a, b = ndtri(lower), ndtri(upper)
        mass = upper - lower
        means = np.where(
            mass > 1e-12,
            (_pdf(a) - _pdf(b)) / np.maximum(mass, 1e-12),
            ndtri(np.clip((lower + upper) / 2.0, 1e-12, 1.0 - 1e-12)),
        )
        return np.asarray(means[np.clip(x.astype("int64"), 0, table.size - 1)], dtype="float64")
    values, inverse = np.unique(table, return_inverse=True)
    if values.size == 1:
        return np.zeros(x.shape)
    grid = np.linspace(0.0, 1.0, table.size)
    middle = np.bincount(inverse, weights=grid) / np.bincount(inverse)  # tied knots share one probability
    edge = 0.5 / table.size
    u = marginal.probability(np.interp(x, values, middle), x)
    return np.asarray(ndtri(np.clip(u, edge, 1.0 - edge)), dtype="float64")


def _pdf(z: np.ndarray) -> np.ndarray:
    return np.where(
        np.isfinite(z), np.exp(-0.5 * np.square(np.where(np.isfinite(z), z, 0.0))), 0.0
    ) / np.sqrt(2.0 * np.pi)


def _correlation(scores: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns; a constant column is uncorrelated with every other."""
    centred = scores - scores.mean(axis=0)
    norms = np.sqrt(np.square(centred).sum(axis=0))
    constant = norms < 1e-12
    centred[:, constant] = 0.0
    norms[constant] = 1.0
    unit = centred / norms
    return unit.T @ unit


def _pairwise_correlation(scores: np.ndarray) -> np.ndarray:
    """Pearson correlation of each pair of columns over the rows where both are known (not NaN).

    A pair with fewer than two such rows, or constant on them, is uncorrelated.  Pairwise estimates
    need not form a correlation matrix together (see ``_nearest_correlation``).
    """
    known = ~np.isnan(scores)
    x = np.where(known, scores, 0.0)
    k = known.astype("float64")
    count = k.T @ k
    safe = np.maximum(count, 1.0)
    sums = x.T @ k
    squares = np.square(x).T @ k
    mean_a, mean_b = sums / safe, sums.T / safe
    cov = (x.T @ x) / safe - mean_a * mean_b
    var_a = np.maximum(squares / safe - np.square(mean_a), 0.0)
    var_b = var_a.T
    ok = (count >= 2) & (var_a > 1e-12) & (var_b > 1e-12)
    corr = np.where(ok, cov / np.sqrt(np.where(ok, var_a * var_b, 1.0)), 0.0)
    corr = np.clip((corr + corr.T) / 2.0, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def _nearest_correlation(corr: np.ndarray) -> np.ndarray:
    """``corr`` with negative eigenvalues raised to zero and the unit diagonal restored."""
    eigval, eigvec = np.linalg.eigh(corr)
    if eigval.min() >= 0.0:
        return corr
    fixed = (eigvec * np.clip(eigval, 0.0, None)) @ eigvec.T
    scale = np.sqrt(np.clip(np.diag(fixed), 1e-12, None))
    fixed = fixed / np.outer(scale, scale)
    np.fill_diagonal(fixed, 1.0)
    return fixed


def _keep_links_where_present(corr: np.ndarray, j: int, flag: int, share: float) -> None:
    """Scale sub-column ``j``'s correlations so they hold in the rows its ``flag`` says are present.

    ``corr[i, j]`` was measured on those rows; a sampled row is present when the flag's normal lies
    below ``t``, which narrows a column ``i`` correlated with the flag, and so strengthens its link to
    ``j`` there.  Scaling by the narrowed spread ``sqrt(1 - r^2 (1 - v))`` (``r = corr[i, flag]``,
    ``v`` the variance of a standard normal cut at ``t``) gives the measured link back.
    """
    if not 0.0 < share < 1.0:
        return
    t = float(ndtri(share))
    ratio = float(np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi)) / share  # the normal's hazard at t
    v = 1.0 - t * ratio - ratio * ratio
    spread = np.sqrt(np.clip(1.0 - np.square(corr[:, flag]) * (1.0 - v), 1e-12, None))
    spread[[j, flag]] = 1.0
    corr[:, j] *= spread
    corr[j, :] *= spread
    corr[j, j] = 1.0


def _safe_cholesky(corr: np.ndarray) -> np.ndarray:
    for jitter in (0.0, 1e-8, 1e-6, 1e-4, 1e-2):
        try:
            return np.linalg.cholesky(corr + jitter * np.eye(corr.shape[0]))
        except np.linalg.LinAlgError:
            continue
    eigval, eigvec = np.linalg.eigh(corr)
    return eigvec @ np.diag(np.sqrt(np.clip(eigval, 1e-6, None)))
