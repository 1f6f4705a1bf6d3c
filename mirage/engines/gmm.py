"""``gmm``: a Gaussian mixture (scikit-learn's ``GaussianMixture``) over the sub-columns' normal scores.

Every sub-column becomes one dimension of normal scores (:mod:`mirage.engines._scorespace`): a
continuous one through its quantile knots, a discrete one (a category's code, a missing flag) as the
mean of the standard normal over its code's probability interval, the copula's embedding; a drawn
score decodes to the value between the knots, or to the code whose interval holds it.  So one
dimension per column, not a one-hot block per category: with ``k`` components of full covariance the
mixture is ``k`` Gaussian copulas, each with its own correlations and centre, which is what lets it
follow what one copula cannot (a category whose rows cluster elsewhere on a number).

The number of components is chosen by BIC among ``1 .. max_components`` (1, 2, 3, 4, 6, 8, 12, 16, ...
up to it), on at most ``SELECTION_ROWS`` rows, stopping once BIC has worsened twice in a row; the
chosen count is then fitted on every row.  BIC only reads counts that leave each component
``rows_per_dimension`` (15) training rows per dimension on average: a covariance read on ``n`` rows of
``d`` dimensions has its smallest eigenvalue about ``(1 - sqrt(d / n))^2`` of the true one
(Marchenko-Pastur), so a component on few rows per dimension is narrowest in the directions where
unseen rows are not, and its draws sit nearer the training rows (on the four small shared tables BIC
alone chose 2-16 components and the DCR share read over 0.53).

Codes' scores: a discrete sub-column's score is spread uniformly over its code's interval to begin
with, which owes nothing to the other columns and so flattens every dependence on the code (a store
size's on its number of visits: 1.7 times where the rows have 3.2).  After the mixture is fitted,
``code_rounds`` (``CODE_ROUNDS``, 5) Gibbs sweeps each draw every row's component from its posterior,
redraw each own discrete score within its code's interval from that component's conditional given
the row's other scores, and refit the mixture at the same count: the extended rank likelihood's
latent scores of a semiparametric copula, per component.  The sweeps mix slowly (a strong dependence
is reached a step at a time): on the deep schema the visits ratio reads 2.6 after 5 sweeps, 2.8
after 10 and 3.1 after 20 (real 3.2), so a database takes 20
(:data:`mirage.relational.DATABASE_PARAMS`).  With 5 sweeps, on the four small shared tables the
detection AUC fell by 0.04-0.06 on three and the DCR share rose by 0.006-0.010 (diabetes 0.007 over
60 split seeds, to 0.528).

Calibration: a mixture's own marginal of a dimension is close to, not exactly, the standard normal the
scores were made to be, which would move a rate (a missing flag's share) by a few points; so
``CALIBRATION_ROWS`` draws of the mixture give each dimension's quantiles, and a drawn score decodes at
its probability among them, which keeps every column's marginal the data's. The model file holds the
weights, means, covariances and calibration quantiles as arrays (never a pickled estimator); sampling
draws a component and a correlated normal per row with the block's own generator.

Variance floor: a mixture of many components on few rows puts components on a handful of rows each,
and its draws then sit nearer those rows than unseen ones would.  Unless ``smoothing`` is given, the
floor is chosen on a validation split: a mixture of the chosen count learned from four fifths of the
rows gives the fifth held out a log-likelihood under each floor of ``SMOOTHING_GRID`` (multiples of
Scott's kernel variance ``n ** (-2 / (d + 4))``), and the best floor (scaled to every row) is kept.  A
component's continuous dimension narrower than the floor is stretched to it (its row and column of the
covariance scaled, so its correlations stay); discrete dimensions keep their variance, since widening
a code's score moves rows into other groups.  ``smoothing=0`` keeps the components as fitted.  The
same held-out fifth chooses, jointly with the floor, how far each component's correlations are pulled
in: its covariances off the diagonal are scaled by ``1 - a``, ``a = min(1, shrinkage * d / n_c)`` for
``d`` dimensions and the component's ``n_c`` rows (``SHRINKAGE_GRID``; ``shrinkage`` sets it, 0 keeps
them).  Floor and shrinkage are recorded in the model file (``state.training.gmm``).  On insurance and
titanic the held-out fifth mostly chooses no shrinkage; it matters on wide tables of few rows.
``max_dcr_share`` (off by default, as for
``cart`` and ``argn``) runs the memorisation guard (:mod:`mirage.engines._guard`) over the largest
component count: the fit's own, then 4, 2 and 1 (one component is a Gaussian copula of the scores).

Marginal resolution: a continuous sub-column's quantile map has a knot per ``rare_min_count`` rows, at
most ``quantiles``.  ``quantiles=None`` chooses each map's knot count on held-out rows instead
(:func:`mirage.encoding.marginal.held_out_knot_count`, at most ``MOST_KNOTS``; recorded per column in
``state.training.gmm.knots``): a map of a knot per 10 rows is a histogram whose bins follow where 10
training rows happen to crowd, which unseen rows do not share, so on a table of few columns the draws
sit nearer the training rows (a lone normal column of 860 rows: DCR share 0.544).  A column flagged
``KEEP_RESOLUTION`` in its ``extra`` (a related table's children-per-row count, which ranks the parents)
keeps a knot per ``rare_min_count`` rows.  Not the default for
one table: on a wide table it gives many columns a few knots each, which a classifier tells (breast
cancer: detection AUC 0.74 against 0.68).

Context (tag ``context``): the mixture is over the joint scores ``[context, own]``, the context's
sub-columns scored the way the own ones are, through marginals of their own learned at fit (every
value kept: a context is conditioned on, never given back) and with each row's place within its ties
shared by both; component count, floor and shrinkage are chosen as above, the held-out fifth read on
the own scores' log-likelihood given the context's.  A row is drawn given its context row from the
exact conditional mixture: component ``k`` with probability proportional to
``pi_k N(c; mu_k^c, S_k^cc)`` (in log space), then ``N(mu_k^o + S_k^oc S_k^cc^-1 (c - mu_k^c),
S_k^oo - S_k^oc S_k^cc^-1 S_k^co)``, decoded as without a context.  A context value past the learned
range scores as its end (as the encoder clips), an unseen category as the code its encoder gives it.
Calibration draws are drawn given the training rows' contexts, the mixture's own marginal as sampled.

Conditions are met by the shared rejection fallback.  A scenario redraws the other sub-columns from
the mixture conditioned on the intervened scores (each row's component drawn from its posterior given
them, then the conditional Gaussian of that component).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp, ndtr, ndtri
from threadpoolctl import threadpool_limits

from mirage._progress import report
from mirage._validate import StateError, require_array, require_int, require_mapping
from mirage.encoding import SubColumn
from mirage.encoding.marginal import Marginal
from mirage.engines._base import EngineTags, Synthesizer, missing_flags
from mirage.engines._context import ContextParts
from mirage.engines._guard import PrivacyKnob
from mirage.engines._impute import impute_by_pattern
from mirage.engines._params import SEED, Param, integer, number
from mirage.engines._registry import register_engine
from mirage.engines._scorespace import ScoreSpace, to_scores
from mirage.schema import kept_at_resolution

__all__ = ["GmmSynthesizer"]

# default fewest training rows per component and dimension (on average) the BIC search may choose: a
# covariance read on n rows of d dimensions has its smallest eigenvalue about (1 - sqrt(d / n))^2 of
# the true one (Marchenko-Pastur), so a component on few rows per dimension is narrowest exactly where
# unseen rows are not (15 rows: about 0.55)
ROWS_PER_DIMENSION = 15
SELECTION_ROWS = 2_000  # rows the BIC comparison of component counts is read on
CANDIDATES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
CALIBRATION_ROWS = 20_000
# a continuous marginal's most quantile knots: the default ``quantiles`` (a knot per rare_min_count rows
# up to it) and the cap of a count chosen on held-out rows
MOST_KNOTS = 1000
CALIBRATION_KNOTS = 512
TOLERANCE = 1e-2  # EM stops when the mean log-likelihood gains less than this (scikit-learn's tol)
# Gibbs sweeps that redraw the discrete dimensions' scores within their codes' intervals, each followed
# by a refit of the mixture
CODE_ROUNDS = 5
WORSE_STEPS = 2  # stop the search after this many counts in a row that did not improve BIC
GUARD_COMPONENTS = (4, 2, 1)  # component counts the memorisation guard steps down through
# variance floors, as multiples of Scott's kernel, the held-out log-likelihood chooses among
SMOOTHING_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
# correlation shrinkage strengths (times dimensions per row of a component) the held-out fold chooses among
SHRINKAGE_GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def _component_counts(engine: GmmSynthesizer, rows: int) -> list[dict[str, int]]:
    """The largest component counts the memorisation guard tries: the fit's own, then fewer, down to
    one (a Gaussian copula of the scores)."""
    own = engine.n_components or engine.max_components
    key = "n_components" if engine.n_components else "max_components"
    return [{key: own}] + [{key: k} for k in GUARD_COMPONENTS if k < own]


@register_engine
class GmmSynthesizer(Synthesizer):
    name = "gmm"
    params: ClassVar[Mapping[str, Param]] = {
        "max_components": integer(1, 64),
        "n_components": integer(1, 64, optional=True),
        "reg_covar": number(0, low_open=True),
        "max_iter": integer(1),
        "rows_per_dimension": integer(1),
        "smoothing": number(0, optional=True),
        "shrinkage": number(0, optional=True),
        "max_dcr_share": number(0, 1, low_open=True, optional=True, note="(None: no check)"),
        "quantiles": integer(2, optional=True, note=f"(None: chosen on held-out rows, at most {MOST_KNOTS})"),
        "code_rounds": integer(0, 200),
        "seed": SEED,
    }
    privacy_knob = PrivacyKnob("components", _component_counts)
    tags = EngineTags(context=True, impute=True, scenario=True)

    def __init__(
        self,
        *,
        max_components: int = 16,
        n_components: int | None = None,
        reg_covar: float = 1e-3,
        max_iter: int = 100,
        rows_per_dimension: int = ROWS_PER_DIMENSION,
        smoothing: float | None = None,
        shrinkage: float | None = None,
        max_dcr_share: float | None = None,
        quantiles: int | None = MOST_KNOTS,
        code_rounds: int = CODE_ROUNDS,
        seed: int = 0,
    ) -> None:
        self.max_components = max_components
        self.n_components = n_components
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.rows_per_dimension = rows_per_dimension
        self.smoothing = smoothing
        self.shrinkage = shrinkage
        self.max_dcr_share = max_dcr_share
        self.quantiles = quantiles
        self.code_rounds = code_rounds
        self.seed = seed

    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        self._fit_scores(parts, subcolumns, None, rng)

    def _fit_given(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: ContextParts,
        rng: np.random.Generator,
    ) -> None:
        self._fit_scores(parts, subcolumns, context, rng)

    def _fit_scores(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: ContextParts | None,
        rng: np.random.Generator,
    ) -> None:
        """The mixture over the own scores, or with a context over the joint scores ``[context, own]``
        (the context's first)."""
        self.subcolumns_ = subcolumns
        knots_seed = None if self.quantiles is not None else int(rng.integers(2**31 - 1))
        self.space_ = self._space(parts, knots_seed)
        self.bic_: dict[int, float] = {}
        self.context_space_: ScoreSpace | None = None
        if context is not None:
            # every value a context holds is conditioned on, never given back: no end of its range is
            # held back (min_count 1), so a context near an end is told from one in the middle
            self.context_space_ = ScoreSpace.fit(
                context.parts,
                context.subcolumns,
                quantiles=self.quantiles or MOST_KNOTS,
                rare_min_count=1,
                discrete_scores=True,
                knots_seed=knots_seed,
            )
        if not subcolumns:
            self._keep_nothing()
            return
        bounds = self.space_.code_bounds(parts)
        if context is None:
            self._learn_mixture(self.space_.to_matrix(parts, rng), None, rng, bounds)
            return
        position = rng.random(context.n)  # each row's place within its ties, shared by context and own
        given = self._context_scores(context, rng, position)
        width = given.shape[1]
        bounds = {width + j: b for j, b in bounds.items()}
        self._learn_mixture(
            np.hstack([given, self.space_.to_matrix(parts, rng, position)]), given, rng, bounds
        )

    def _keep_nothing(self) -> None:
        """The model of no own sub-column: nothing to draw."""
        self.weights_, self.means_, self.covariances_ = np.ones(1), np.zeros((1, 0)), np.zeros((1, 0, 0))
        self.cholesky_ = self.covariances_
        self.calibration_ = np.zeros((0, CALIBRATION_KNOTS))

    @property
    def context_width_(self) -> int:
        """The context's dimensions in the mixture (first): 0 without a context or own sub-column."""
        return self.means_.shape[1] - len(self.subcolumns_)

    def _dimensions(self) -> list[SubColumn]:
        """The sub-columns of the mixture's dimensions: the context's (if any), then the own ones."""
        context = self.context_space_.subcolumns if self.context_space_ is not None else []
        return [*context, *self.subcolumns_] if self.subcolumns_ else []

    def _learn_mixture(
        self,
        z: np.ndarray,
        given: np.ndarray | None,
        rng: np.random.Generator,
        bounds: Mapping[int, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """The mixture of the scores ``z``, whose first columns are the context's scores ``given``;
        ``bounds``: the own discrete dimensions' score intervals, within which their scores are redrawn
        (:meth:`_redraw_codes`)."""
        d = z.shape[1]
        seed = int(rng.integers(2**31 - 1))
        with threadpool_limits(1, "blas"):
            chosen = self._guard_choice()
            n_components = chosen.get("n_components", self.n_components)
            if n_components is not None:
                k, mixture = min(int(n_components), len(z)), None
            else:
                k, mixture = self._select(z, seed, max(1, len(z) // (self.rows_per_dimension * d)))
                if len(z) > SELECTION_ROWS:  # chosen on a sample of the rows: fitted on all of them
                    mixture = None
            if mixture is None:
                mixture = self._mixture(k, seed).fit(z)
            redraw = np.random.default_rng([seed, 1])
            for _ in range(self.code_rounds if bounds else 0):
                z = self._redraw_codes(mixture, z, bounds or {}, redraw)
                mixture = self._mixture(k, seed).fit(z)
            floor, shrinkage = self._choose_regularisation(z, k, seed, 0 if given is None else given.shape[1])
        self.training_["gmm"] = {
            "components": int(k),
            "variance_floor": float(floor),
            "shrinkage": shrinkage,
            "knots": {
                s.name: int(m.table.size)
                for s, m in zip(self.subcolumns_, self.space_.marginals, strict=True)
                if not s.discrete
            },
        }
        self._keep(mixture, floor, shrinkage, len(z), rng, given)
        report("fit", 1, 1)

    @staticmethod
    def _redraw_codes(
        mixture: Any,
        z: np.ndarray,
        bounds: Mapping[int, tuple[np.ndarray, np.ndarray]],
        rng: np.random.Generator,
    ) -> np.ndarray:
        """``z`` with each discrete dimension's scores redrawn within their code's interval from the
        mixture's conditional given the row's other scores (one Gibbs sweep, each row in a component
        drawn from its posterior).  Spread uniformly within its interval, a code's score owes nothing
        to the other columns, which flattens every dependence on it (large stores' visits 1.7 times
        small ones' where the rows have 3.2); redrawn, it stands where the other columns place it."""
        z = z.copy()
        posterior = mixture.predict_proba(z)
        component = _draw_components(posterior, rng)
        columns = np.arange(z.shape[1])
        for k in range(posterior.shape[1]):
            rows = np.flatnonzero(component == k)
            if not rows.size:
                continue
            mean, covariance = mixture.means_[k], mixture.covariances_[k]
            for j, (low, high) in bounds.items():
                others = columns != j
                weights = np.linalg.solve(covariance[np.ix_(others, others)], covariance[others, j])
                centre = mean[j] + (z[np.ix_(rows, others)] - mean[others]) @ weights
                spread = float(np.sqrt(max(covariance[j, j] - covariance[j, others] @ weights, 1e-12)))
                a, b = ndtr((low[rows] - centre) / spread), ndtr((high[rows] - centre) / spread)
                u = np.clip(a + rng.random(rows.size) * (b - a), 1e-12, 1.0 - 1e-12)
                z[rows, j] = np.clip(centre + spread * ndtri(u), low[rows], high[rows])
        return z

    def _space(self, parts: Mapping[str, np.ndarray], knots_seed: int | None) -> ScoreSpace:
        return ScoreSpace.fit(
            parts,
            self.subcolumns_,
            quantiles=self.quantiles or MOST_KNOTS,
            rare_min_count=self.encoding_.rare_min_count,
            discrete_scores=True,
            knots_seed=knots_seed,
            finest=kept_at_resolution(self.schema_),
        )

    def _floor(self, n: int, d: int, smoothing: float | None = None) -> float:
        """``smoothing`` squared times the variance of Scott's kernel for ``n`` rows in ``d`` dimensions
        (``n ** (-2 / (d + 4))`` on unit scores): the kernel a density estimate of so few rows would use."""
        factor = self.smoothing if smoothing is None else smoothing
        return max(self.reg_covar, (factor or 0.0) ** 2 * n ** (-2.0 / (d + 4)))

    def _choose_regularisation(self, z: np.ndarray, k: int, seed: int, given: int = 0) -> tuple[float, float]:
        """The variance floor (of ``SMOOTHING_GRID``, scaled to every row) and the correlation shrinkage
        (of ``SHRINKAGE_GRID``) under which a mixture of ``k`` components learned from four fifths of
        the rows gives the highest log-likelihood to the fifth held out (of its last dimensions given
        its first ``given``, the context's): components tighter, or correlations sharper, than the rows
        learned support fit those rows, not unseen ones.  A given ``smoothing`` or ``shrinkage`` is
        kept as given."""
        floors = SMOOTHING_GRID if self.smoothing is None else (self.smoothing,)
        shrinkages = SHRINKAGE_GRID if self.shrinkage is None else (self.shrinkage,)
        rows = np.random.default_rng(seed).permutation(len(z))
        held, rest = rows[: len(z) // 5], rows[len(z) // 5 :]
        if len(held) < 2 or len(rest) < 2 or len(floors) * len(shrinkages) == 1:
            return self._floor(len(z), z.shape[1], floors[0]), shrinkages[0]
        mixture = self._mixture(min(k, len(rest)), seed).fit(z[rest])
        continuous = np.array([not s.discrete for s in self._dimensions()], dtype=bool)
        best, best_ll = (self.reg_covar, 0.0), -np.inf
        for shrinkage in shrinkages:
            shrunk = _shrunk(mixture.covariances_, mixture.weights_, shrinkage, len(rest))
            for smoothing in floors:
                floor = self._floor(len(rest), z.shape[1], smoothing)
                ll = _log_likelihood(
                    mixture.weights_, mixture.means_, _floored(shrunk, floor, continuous), z[held], given
                )
                if ll > best_ll:
                    best, best_ll = (self._floor(len(z), z.shape[1], smoothing), shrinkage), ll
        return best

    def _keep(
        self,
        mixture: Any,
        floor: float,
        shrinkage: float,
        rows: int,
        rng: np.random.Generator,
        given: np.ndarray | None = None,
    ) -> None:
        """The mixture's arrays, every component's correlations shrunk (``shrinkage`` times its
        dimensions per row) and its variance on the continuous dimensions at least ``floor`` (the
        scores have unit variance; the discrete ones keep theirs: widening a code's score moves rows
        across codes, into other groups), and its calibration (drawn given the training rows' context
        scores ``given`` when there is a context)."""
        self.weights_ = np.asarray(mixture.weights_, dtype="float64")
        self.means_ = np.asarray(mixture.means_, dtype="float64")
        continuous = np.array([not s.discrete for s in self._dimensions()], dtype=bool)
        shrunk = _shrunk(mixture.covariances_, self.weights_, shrinkage, rows)
        self.covariances_ = _floored(shrunk, floor, continuous)
        self.cholesky_ = _cholesky(self.covariances_)
        if given is None:
            self.calibration_ = self._calibrate(self._draw(CALIBRATION_ROWS, rng))
        else:
            rows_drawn = given[rng.integers(len(given), size=CALIBRATION_ROWS)]
            self.calibration_ = self._calibrate(self._draw_given(rows_drawn, rng))

    def _calibrate(self, z: np.ndarray) -> np.ndarray:
        """Per own dimension, the quantiles of the mixture's draws ``z`` of its own scores."""
        grid = np.linspace(0.0, 1.0, CALIBRATION_KNOTS)
        table = np.quantile(z, grid, axis=0).T
        # a value's marginal is the data's in the rows its flag says present (as the marginals were fitted)
        for j, f in missing_flags(self.subcolumns_).items():
            flag = self.space_.marginals[f].inverse(np.interp(z[:, f], table[f], grid))
            present = flag == 0
            if present.sum() >= CALIBRATION_KNOTS:
                table[j] = np.quantile(z[present, j], grid)
        return np.asarray(np.maximum.accumulate(table, axis=1), dtype="float64")

    def _draw_given(self, given: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The own scores of one row per row of the context's scores ``given``, each from the
        conditional mixture given it."""
        c, n = self.context_width_, len(given)
        if c == 0:
            return self._draw(n, rng)
        with threadpool_limits(1, "blas"):
            return _conditional_draw(
                self.weights_,
                self.means_,
                self.covariances_,
                list(range(c)),
                list(range(c, self.means_.shape[1])),
                given,
                n,
                rng,
            )

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = len(self.subcolumns_)
        component = _choose(self.weights_, n, rng)
        noise = rng.standard_normal((n, d))
        return np.asarray(self.means_[component] + np.einsum("nij,nj->ni", self.cholesky_[component], noise))

    def _mixture(self, k: int, seed: int) -> Any:
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(
            n_components=k,
            covariance_type="full",
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
            random_state=seed,
            init_params="k-means++",
            tol=TOLERANCE,
        )

    def _select(self, z: np.ndarray, seed: int, most: int) -> tuple[int, Any]:
        """The component count (at most ``most``) with the lowest BIC (read on at most
        ``SELECTION_ROWS`` rows), and its mixture fitted on those rows."""
        rows = np.random.default_rng(seed).permutation(len(z))[:SELECTION_ROWS]
        x = z[rows]
        best, best_bic, worse, chosen = 1, np.inf, 0, None
        largest = int(self._guard_choice().get("max_components", self.max_components))
        counts = [k for k in CANDIDATES if k <= min(largest, most, max(1, len(x) // 10))] or [1]
        for done, k in enumerate(counts, start=1):
            mixture = self._mixture(k, seed).fit(x)
            bic = float(mixture.bic(x))
            self.bic_[k] = round(bic, 3)
            report("components", done, len(counts), f"{k}: BIC {bic:.1f}")
            if bic < best_bic:
                best, best_bic, worse, chosen = k, bic, 0, mixture
            else:
                worse += 1
                if worse >= WORSE_STEPS:
                    break
        return best, chosen

    @property
    def n_components_(self) -> int:
        return int(self.weights_.size)

    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self.space_.from_matrix(self._draw(n, rng), self.calibration_)

    def _sample_given(self, context: ContextParts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        if not self.subcolumns_:
            return {}
        given = self._context_scores(context, rng)
        return self.space_.from_matrix(self._draw_given(given, rng), self.calibration_)

    def _context_scores(
        self, context: ContextParts, rng: np.random.Generator, position: np.ndarray | None = None
    ) -> np.ndarray:
        """The ``(context.n, context sub-columns)`` scores of the context rows."""
        assert self.context_space_ is not None
        if not self.context_space_.subcolumns:
            return np.zeros((context.n, 0))
        return self.context_space_.to_matrix(context.parts, rng, position)

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        subs = self.subcolumns_
        known = [j for j, s in enumerate(subs) if s.name in fixed]
        other = [j for j, s in enumerate(subs) if s.name not in fixed]
        if not known or not other:
            return parts
        n = len(parts[subs[known[0]].name])
        grid = np.linspace(0.0, 1.0, CALIBRATION_KNOTS)
        # each known value's probability under the data's marginal, read as the mixture's own score there
        z_known = np.column_stack(
            [
                np.interp(
                    ndtr(
                        to_scores(self.space_.marginals[j], np.asarray(parts[subs[j].name], dtype="float64"))
                    ),
                    grid,
                    self.calibration_[j],
                )
                for j in known
            ]
        )
        with threadpool_limits(1, "blas"):
            z_other = _conditional_draw(
                self.weights_, self.means_, self.covariances_, known, other, z_known, n, rng
            )
        z = np.zeros((n, len(subs)))
        z[:, known], z[:, other] = z_known, z_other
        drawn = self.space_.from_matrix(z, self.calibration_)
        out = dict(parts)
        for j in other:
            out[subs[j].name] = drawn[subs[j].name]
        return out

    def _impute_parts(
        self, parts: dict[str, np.ndarray], known: Mapping[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """The missing sub-columns drawn from the mixture conditioned on each row's known scores (each
        row's component from its posterior given them, then that component's conditional Gaussian),
        one draw per pattern of known sub-columns; a row with nothing known is a draw of the mixture."""
        return impute_by_pattern(
            self.subcolumns_,
            parts,
            known,
            lambda given, fixed: (
                self._propagate(given, fixed, rng)
                if fixed
                else self._sample(len(next(iter(given.values()))), rng)
            ),
        )

    # --- persistence ------------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "components": self.n_components_,
            "bic": {str(k): v for k, v in self.bic_.items()},
        }
        arrays = {
            k: v for j, m in enumerate(self.space_.marginals) for k, v in m.arrays(f"marginal.{j}").items()
        }
        arrays.update(weights=self.weights_, means=self.means_, covariances=self.covariances_)
        arrays["calibration"] = self.calibration_
        if self.context_space_ is not None:
            state["context_width"] = self.context_width_
            for j, m in enumerate(self.context_space_.marginals):
                arrays.update(m.arrays(f"context_marginal.{j}"))
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        subcolumns = self._restore_subcolumns(state)
        context = list(self.context_encoder_.subcolumns) if self.context_encoder_ is not None else []
        c = len(context) if subcolumns else 0  # a model of no own sub-column has no context dimension
        width = require_int(state, "context_width", low=0) if "context_width" in state else 0
        if width != c:
            raise StateError("context_width", f"expected {c}, the context dimensions of the mixture")
        context_space = (
            ScoreSpace(
                context,
                [Marginal.from_arrays(s, arrays, f"context_marginal.{j}") for j, s in enumerate(context)],
                discrete_scores=True,
            )
            if self.context_encoder_ is not None
            else None
        )
        d = c + len(subcolumns)
        k = require_int(state, "components", low=1)
        if "n_components" not in self._guard_choice():  # the guard may have chosen fewer than given
            self._require_recorded("n_components", k, "state.engine.components")
        marginals = [Marginal.from_arrays(s, arrays, f"marginal.{j}") for j, s in enumerate(subcolumns)]
        weights = require_array(arrays, "weights", kind="f", shape=(k,))
        if np.any(weights < 0) or abs(float(weights.sum()) - 1.0) > 1e-6:
            raise StateError("weights", "expected non-negative weights summing to 1", array=True)
        means = require_array(arrays, "means", kind="f", shape=(k, d))
        covariances = require_array(arrays, "covariances", kind="f", shape=(k, d, d))
        if not np.allclose(covariances, np.transpose(covariances, (0, 2, 1))):
            raise StateError("covariances", "expected symmetric matrices", array=True)
        try:
            cholesky = np.linalg.cholesky(covariances) if d else covariances
        except np.linalg.LinAlgError:
            raise StateError("covariances", "expected positive definite matrices", array=True) from None
        bic = require_mapping(state.get("bic", {}), "bic")
        self.subcolumns_ = subcolumns
        self.space_ = ScoreSpace(subcolumns, marginals, discrete_scores=True)
        calibration = require_array(
            arrays, "calibration", kind="f", shape=(len(subcolumns), CALIBRATION_KNOTS)
        )
        if np.any(np.diff(calibration, axis=1) < 0):
            raise StateError("calibration", "expected non-decreasing quantiles per dimension", array=True)
        self.weights_, self.means_, self.covariances_, self.cholesky_ = weights, means, covariances, cholesky
        self.calibration_ = calibration
        self.context_space_ = context_space
        try:
            self.bic_ = {int(key): float(value) for key, value in bic.items()}
        except (TypeError, ValueError):
            raise StateError("bic", "expected component counts mapped to numbers") from None


def _floored(covariances: np.ndarray, floor: float, continuous: np.ndarray) -> np.ndarray:
    """Each component's covariance with every continuous dimension's variance at least ``floor``: a
    narrower dimension is stretched (its row and column scaled), which keeps its correlations."""
    covariances = np.asarray(covariances, dtype="float64")
    variances = np.diagonal(covariances, axis1=1, axis2=2)
    scale = np.where(continuous, np.sqrt(np.maximum(floor / np.maximum(variances, 1e-12), 1.0)), 1.0)
    return np.asarray(covariances * scale[:, :, None] * scale[:, None, :])


def _shrunk(covariances: np.ndarray, weights: np.ndarray, shrinkage: float, rows: int) -> np.ndarray:
    """Each component's covariance with its covariances (off the diagonal) scaled by ``1 - a``, where
    ``a = min(1, shrinkage * d / n_c)`` for ``d`` dimensions and a component's ``n_c`` rows (its weight
    times ``rows``): a correlation read on few rows per dimension is mostly those rows' noise, and its
    sharpest directions (the smallest eigenvalues) are narrower than unseen rows are there."""
    covariances = np.asarray(covariances, dtype="float64")
    d = covariances.shape[1]
    if shrinkage <= 0 or d < 2:
        return covariances
    share = np.minimum(1.0, shrinkage * d / np.maximum(np.asarray(weights) * rows, 1.0))
    keep = (1.0 - share)[:, None, None] * np.ones((d, d)) + share[:, None, None] * np.eye(d)
    return np.asarray(covariances * keep)


def _log_likelihood(
    weights: np.ndarray, means: np.ndarray, covariances: np.ndarray, x: np.ndarray, given: int = 0
) -> float:
    """The mean log-likelihood of the rows ``x`` under a Gaussian mixture; with ``given``, of their
    last dimensions given their first ``given`` (the joint's less the first dimensions' marginal)."""
    joint = _row_log_likelihood(weights, means, covariances, x)
    if given:
        g = slice(0, given)
        joint = joint - _row_log_likelihood(weights, means[:, g], covariances[:, g, g], x[:, g])
    return float(np.mean(joint))


def _row_log_likelihood(
    weights: np.ndarray, means: np.ndarray, covariances: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """Each row's log-likelihood under a Gaussian mixture."""
    log_p = np.empty((len(x), len(weights)))
    for c, cholesky in enumerate(_cholesky(covariances)):
        solved = np.linalg.solve(cholesky, (x - means[c]).T)
        log_det = 2.0 * np.sum(np.log(np.diagonal(cholesky)))
        log_p[:, c] = np.log(max(float(weights[c]), 1e-300)) - 0.5 * (
            np.sum(solved * solved, axis=0) + log_det + x.shape[1] * np.log(2.0 * np.pi)
        )
    return np.asarray(logsumexp(log_p, axis=1), dtype="float64")


def _choose(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    cumulative = np.cumsum(weights)
    return np.minimum(
        np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right"), weights.size - 1
    )


def _draw_components(posterior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One component per row, drawn from the row's ``posterior`` (rows summing to 1; a rounding
    shortfall at the end falls to the last component)."""
    u = rng.random(len(posterior))
    return np.minimum((np.cumsum(posterior, axis=1) < u[:, None]).sum(axis=1), posterior.shape[1] - 1)


def _cholesky(covariances: np.ndarray) -> np.ndarray:
    out = np.empty_like(covariances)
    for i, cov in enumerate(covariances):
        for jitter in (0.0, 1e-8, 1e-6, 1e-4):
            try:
                out[i] = np.linalg.cholesky(cov + jitter * np.eye(cov.shape[0]))
                break
            except np.linalg.LinAlgError:
                continue
        else:
            eigval, eigvec = np.linalg.eigh(cov)
            out[i] = eigvec @ np.diag(np.sqrt(np.clip(eigval, 1e-6, None)))
    return out


def _conditional_draw(
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    known: list[int],
    other: list[int],
    z_known: np.ndarray,
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draws of dimensions ``other`` from the mixture given dimensions ``known`` at ``z_known``."""
    k = weights.size
    log_post = np.empty((n, k))
    regressions, remaining = [], []
    for c in range(k):
        cov = covariances[c]
        kk = cov[np.ix_(known, known)] + 1e-9 * np.eye(len(known))
        ko = cov[np.ix_(known, other)]
        centred = z_known - means[c, known]
        solved = np.linalg.solve(kk, centred.T).T
        _, logdet = np.linalg.slogdet(kk)
        log_post[:, c] = np.log(max(weights[c], 1e-300)) - 0.5 * (np.sum(centred * solved, axis=1) + logdet)
        regression = np.linalg.solve(kk, ko).T
        regressions.append(regression)
        rest = cov[np.ix_(other, other)] - regression @ ko
        remaining.append(_cholesky(((rest + rest.T) / 2.0)[None])[0])
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    component = _draw_components(post, rng)
    noise = rng.standard_normal((n, len(other)))
    out = np.empty((n, len(other)))
    for c in range(k):
        rows = component == c
        if rows.any():
            mean = means[c, other] + (z_known[rows] - means[c, known]) @ regressions[c].T
            out[rows] = mean + noise[rows] @ remaining[c].T
    return out
