"""``kde``: kernel density estimation over the encoded sub-columns, with a bandwidth that must pass a
memorisation check before the model is kept.

Continuous sub-columns are normal scores (:mod:`mirage.engines._scorespace`: through quantile knots
whose ends leave the rarest extremes out, ties and tails spread over their probabilities); discrete ones
(codes, missing flags) stay codes.  The kernel around a centre row ``c`` is, on the scores, the
variance-kept Gaussian of Silverman's smoothed bootstrap, ``(c + h e) / sqrt(1 + h^2)`` (each score
keeps its unit variance however wide the kernel, so widening tends to the marginals instead of
piling draws on the end knots), and, on every code, the Aitchison-Aitken kernel: the centre's code with
probability ``1 - lam``, else a draw from the code's marginal.  The missing flags move together
instead: with probability ``lam`` all of them are another centre's (a pattern of columns missing
together stays one; a column that becomes present draws its value from its marginal).  A synthetic
row is a centre drawn at random plus one draw of its kernel.

Bandwidths: unless given, ``(h, lam)`` is the pair of a small grid (``h`` around Scott's factor)
that gives the highest log-likelihood to a validation split (the first of ``FOLDS`` folds of at most
``CHECK_ROWS`` rows, at most ``VALIDATION_ROWS`` of them), learned from the other folds.

Memorisation: a kernel narrower than the spacing of the data gives rows back, so the chosen pair
must pass the DCR check before the fit goes on: rows drawn from a kde fitted afresh on the rest (its
encoder and score space refitted on those rows alone, as a user's fit would be; a model whose knots
were also placed on the held-out rows reads low) are compared, by
:func:`mirage.evaluation._privacy.dcr` (the figure the report reads), with the rest and with the
held-out rows; while the DCR share reads above ``dcr_share_limit - DCR_MARGIN`` (the margin for the
noise of a reading on a few hundred rows), the pair is widened: the ladder of ``h`` grown by ``widen``
(1.4) and ``1 - lam`` shrunk by it, up to ``WIDEN_STEPS`` times, is searched by bisection for its
narrowest passing step (:func:`mirage.engines._memorisation.first_passing`; a step one fold already
reads above, its interval wholly over the limit, fails without reading the others; a setting is kept
only on the mean of all).  A table whose widest step still reads above gets the last resort with a warning:
independent columns (every score a standard normal draw, every code from its marginal; the missing
patterns still those of training rows), which reproduce no row.  The readings (and a fallback) are
recorded in the model file (``state.training.kde``).  ``dcr_share_limit=None`` turns the
check off; below ``CHECK_MIN_ROWS`` rows there is too little to read it on, and the widest setting of
the grid is used instead.

Centres: a KDE is its centres, and those are derived from training rows.  The model file holds them
*jittered*: each centre is one draw of half the kernel around its training row (on scores
``(c + h1 e) / s1`` with ``s1 = (1 + h^2)^(1/4)``, ``h1 = sqrt(s1^2 - 1)``; the code kernels with
``lam' = 1 - sqrt(1 - lam)``), and
sampling adds the other half.  Two half-kernels make one kernel, so the sampled distribution is the
KDE's, while the file never holds a training row verbatim: its numbers are training values moved by
noise of the kernel's own width, still close to them (that closeness is what the DCR check bounds).
Do not share a kde model file where a training row's neighbourhood is itself sensitive.

Conditions are met by the shared rejection fallback.  Scenarios are refused (tag ``scenario`` off): the
kernel the DCR check leaves is wide enough to weaken the links between columns (a variance-kept kernel
of width ``h`` scales every correlation by ``1 / (1 + h^2)``), so an intervention would move what
depends on it by too little to read as its effect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp

from mirage._progress import report
from mirage._validate import StateError, require_array, require_float
from mirage._warnings import warn
from mirage.encoding import SubColumn
from mirage.encoding._base import MISSING_PART
from mirage.encoding.marginal import Marginal
from mirage.engines._base import EngineTags, Synthesizer, missing_flags
from mirage.engines._memorisation import (
    CHECK_MIN_ROWS,
    DCR_MARGIN,
    READ_FOLDS,
    MemorisationCheck,
    Trial,
    first_passing,
)
from mirage.engines._params import QUANTILES, SEED, Param, number
from mirage.engines._registry import register_engine
from mirage.engines._scorespace import ScoreSpace

__all__ = ["KdeSynthesizer"]

VALIDATION_ROWS = 1_000
SCOTT_FACTORS = (0.5, 0.7, 1.0, 1.4, 2.0)
CODE_BANDWIDTHS = (0.05, 0.15, 0.3, 0.5)
WIDEN_STEPS = 6
SMALL_TABLE = (1.0, 0.5)  # (h, lam) below CHECK_MIN_ROWS rows
IMPUTE_CELLS = 2_000_000  # rows x centres weighed at once when imputing
# (h, lam) of the last resort: scores ~ N(0, 1) and codes from their marginals, whatever the centre
INDEPENDENT = (1e6, 1.0)


@register_engine
class KdeSynthesizer(Synthesizer):
    name = "kde"
    params: ClassVar[Mapping[str, Param]] = {
        "bandwidth": number(0, low_open=True, optional=True),
        "code_bandwidth": number(0, 1, optional=True),
        "dcr_share_limit": number(0.5, 1, optional=True),
        "widen": number(1, low_open=True),
        "quantiles": QUANTILES,
        "seed": SEED,
    }
    tags = EngineTags(impute=True)

    def __init__(
        self,
        *,
        bandwidth: float | None = None,
        code_bandwidth: float | None = None,
        dcr_share_limit: float | None = 0.53,
        widen: float = 1.4,
        quantiles: int = 1000,
        seed: int = 0,
    ) -> None:
        self.bandwidth = bandwidth
        self.code_bandwidth = code_bandwidth
        self.dcr_share_limit = dcr_share_limit
        self.widen = widen
        self.quantiles = quantiles
        self.seed = seed

    # --- learning -----------------------------------------------------------------------------
    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        self.subcolumns_ = subcolumns
        self.space_ = ScoreSpace.fit(
            parts,
            subcolumns,
            quantiles=self.quantiles,
            rare_min_count=self.encoding_.rare_min_count,
            discrete_scores=False,
            tail_blocks=True,
        )
        z = self.space_.to_matrix(parts, rng)
        n = len(z)
        record: dict[str, Any] = {"readings": []}
        if n < CHECK_MIN_ROWS:
            h, lam = self.bandwidth or SMALL_TABLE[0], self.code_bandwidth or SMALL_TABLE[1]
            record["skipped"] = f"fewer than {CHECK_MIN_ROWS} rows"
        else:
            folds = MemorisationCheck.folds_of(n, rng)
            held, rest = folds[0][:VALIDATION_ROWS], np.concatenate(folds[1:])
            h, lam = self._choose_bandwidths(z[rest], z[held])
            if self.dcr_share_limit is not None:
                h, lam = self._check(parts, folds, h, lam, record, rng)
        self.bandwidth_, self.code_bandwidth_ = float(h), float(lam)
        record.update(bandwidth=round(self.bandwidth_, 6), code_bandwidth=round(self.code_bandwidth_, 6))
        self.training_["kde"] = record
        self.centres_ = self._jitter(z, rng)
        report("fit", 1, 1)

    def _choose_bandwidths(self, centres: np.ndarray, held: np.ndarray) -> tuple[float, float]:
        """The given bandwidths, else the grid pair with the highest validation log-likelihood."""
        scored = self.space_.scored
        d = int(scored.sum())
        scott = len(centres) ** (-1.0 / (d + 4)) if d else 1.0
        hs = [self.bandwidth] if self.bandwidth is not None else [scott * f for f in SCOTT_FACTORS]
        lams = [self.code_bandwidth] if self.code_bandwidth is not None else list(CODE_BANDWIDTHS)
        if len(hs) == 1 and len(lams) == 1:
            return float(hs[0]), float(lams[0])
        a, b = centres[:, scored], held[:, scored]
        best, best_ll = (float(hs[0]), float(lams[0])), -np.inf
        for lam in lams:
            codes = self._code_log_kernel(centres, held, lam)
            for h in hs:
                # the variance-kept kernel: centre c / s, spread h / s (s = sqrt(1 + h^2))
                s = math.sqrt(1.0 + h * h)
                squared = (
                    np.square(b).sum(axis=1)[:, None]
                    + np.square(a / s).sum(axis=1)[None, :]
                    - 2.0 * (b @ (a / s).T)
                ).clip(0.0)
                log_k = codes - 0.5 * squared * (s * s) / (h * h) - d * math.log(h / s)
                ll = float(np.mean(logsumexp(log_k, axis=1)))
                if ll > best_ll:
                    best, best_ll = (float(h), float(lam)), ll
        return best

    def _code_log_kernel(self, centres: np.ndarray, held: np.ndarray, lam: float) -> np.ndarray:
        """Per held row and centre, the log of the code kernels' product (each code: the centre's with
        probability ``1 - lam``, else a draw from the code's marginal)."""
        out = np.zeros((len(held), len(centres)))
        for j in np.flatnonzero(~self.space_.scored):
            p = self.space_.code_probabilities(int(j))
            x = np.clip(held[:, j].astype("int64"), 0, p.size - 1)
            other = np.log(np.maximum(lam * p[x], 1e-300))
            same = np.log((1.0 - lam) + lam * p[x])
            out += np.where(held[:, j][:, None] == centres[:, j][None, :], same[:, None], other[:, None])
        return out

    def _check(
        self,
        parts: Mapping[str, np.ndarray],
        folds: list[np.ndarray],
        h: float,
        lam: float,
        record: dict[str, Any],
        rng: np.random.Generator,
    ) -> tuple[float, float]:
        """Widen ``(h, lam)`` until the DCR share of the memorisation check (every fold's model a kde
        refitted, encoder and score space included, on the other folds with the setting given) passes;
        ``INDEPENDENT``, with a warning, when even the widest setting reads above."""
        assert self.dcr_share_limit is not None
        check = MemorisationCheck(self, parts, folds, rng, limit=self.dcr_share_limit, seed=self.seed)
        ladder = [(h * self.widen**i, 1.0 - (1.0 - lam) / self.widen**i) for i in range(WIDEN_STEPS + 1)]

        def trial(setting: tuple[float, float]) -> Trial:
            return {"bandwidth": setting[0], "code_bandwidth": setting[1], "dcr_share_limit": None}

        def describe(setting: tuple[float, float]) -> dict[str, Any]:
            return {"bandwidth": round(setting[0], 6), "code_bandwidth": round(setting[1], 6)}

        passed = first_passing(check, ladder, trial, describe, record["readings"], rng)
        if passed is not None:
            return passed
        share = record["readings"][-1]["dcr_share"]
        warn(
            f"kde: even at bandwidth {ladder[-1][0]:.3g} the synthetic rows sit closer to the rows learned "
            f"than to unseen rows (DCR share {share:.3f} over {READ_FOLDS} folds of the training rows, above "
            f"dcr_share_limit {self.dcr_share_limit} less a margin of {DCR_MARGIN}); the model falls back to "
            "independent columns (each drawn from its marginal, missing patterns kept): use another engine "
            "(copula, cart, bayesnet) for this table"
        )
        record["fallback"] = "independent columns"
        return INDEPENDENT

    def _jitter(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``z`` moved by half a kernel: the centres the model keeps."""
        return self._half_kernel(z, z, rng)

    def _half_kernel(self, z: np.ndarray, donors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One draw of half the kernel around each row of ``z``: scores ``(z + h1 e) / s1``; each code,
        with probability ``lam'``, a draw from its marginal; the missing flags, with probability
        ``lam'``, all taken from a random row of ``donors`` (a pattern of columns missing together
        stays one), a column that becomes present getting a value from its marginal."""
        scored = self.space_.scored
        subs = self.subcolumns_
        out = z.copy()
        n = len(z)
        h, shrink = _half_bandwidth(self.bandwidth_)
        lam = 1.0 - math.sqrt(1.0 - self.code_bandwidth_)
        out[:, scored] = (out[:, scored] + h * rng.standard_normal((n, int(scored.sum())))) / shrink
        flags = np.array([j for j, s in enumerate(subs) if s.part == MISSING_PART], dtype="int64")
        for j in map(int, np.flatnonzero(~scored)):
            if j not in flags:
                swap = rng.random(n) < lam
                out[swap, j] = self._marginal_codes(j, int(swap.sum()), rng)
        if flags.size:
            rows = np.flatnonzero(rng.random(n) < lam)
            donor = rng.integers(0, len(donors), rows.size)
            out[np.ix_(rows, flags)] = donors[np.ix_(donor, flags)]
            for j, f in missing_flags(subs).items():
                appeared = (z[:, f] != 0) & (out[:, f] == 0)
                count = int(appeared.sum())
                if count:
                    out[appeared, j] = (
                        rng.standard_normal(count) if scored[j] else self._marginal_codes(j, count, rng)
                    )
        return out

    def _marginal_codes(self, j: int, n: int, rng: np.random.Generator) -> np.ndarray:
        cumulative = np.cumsum(self.space_.code_probabilities(j))
        codes = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
        return np.minimum(codes, cumulative.size - 1).astype("float64")

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        picked = (
            self.centres_[rng.integers(0, len(self.centres_), n)] if len(self.centres_) else np.zeros((n, 0))
        )
        return self._half_kernel(picked, self.centres_, rng)

    # --- sampling -----------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self.space_.from_matrix(self._draw(n, rng))

    def _impute_parts(
        self, parts: dict[str, np.ndarray], known: Mapping[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """The missing sub-columns of each row drawn from the kde given its known ones: a centre drawn
        with the conditional kernel weights (each centre's weight is its kernel's density at the row's
        known scores times its code kernels' probability of the row's known codes), then one draw of
        the kernel around it, whose missing sub-columns are kept.  A value the draw's own missing flags
        would leave out is drawn from its marginal (the row's flags are known: an imputed cell is
        present), so the flags weigh no centre."""
        subs = self.subcolumns_
        out = {name: np.array(values, copy=True) for name, values in parts.items()}
        n = len(next(iter(parts.values()))) if parts else 0
        if not subs or n == 0:
            return out
        z = self.space_.to_matrix(parts, rng)
        mask = np.column_stack([np.asarray(known[s.name], dtype=bool) for s in subs])
        flags = set(missing_flags(subs).values())
        scored = self.space_.scored
        centres = self.centres_
        h1, s1 = _half_bandwidth(self.bandwidth_)
        lam = 1.0 - math.sqrt(1.0 - self.code_bandwidth_)
        chosen = np.empty(n, dtype="int64")
        batch = max(1, IMPUTE_CELLS // len(centres))
        for lo in range(0, n, batch):
            rows = slice(lo, min(n, lo + batch))
            log_w = np.zeros((z[rows].shape[0], len(centres)))
            for j in range(len(subs)):
                if j in flags or not mask[rows, j].any():
                    continue
                if scored[j]:
                    term = -0.5 * np.square((z[rows, j][:, None] - centres[None, :, j] / s1) * (s1 / h1))
                else:
                    p = self.space_.code_probabilities(j)
                    x = np.clip(np.nan_to_num(z[rows, j]).astype("int64"), 0, p.size - 1)
                    same = np.log((1.0 - lam) + lam * p[x])
                    other = np.log(np.maximum(lam * p[x], 1e-300))
                    term = np.where(x[:, None] == centres[None, :, j], same[:, None], other[:, None])
                log_w += np.where(mask[rows, j][:, None], term, 0.0)
            gumbel = -np.log(-np.log(rng.random(log_w.shape).clip(1e-300, 1.0 - 1e-16)))
            chosen[rows] = np.argmax(log_w + gumbel, axis=1)  # a centre drawn with its weight
        drawn = self._half_kernel(centres[chosen], centres, rng)
        for j, f in missing_flags(subs).items():
            gone = drawn[:, f] != 0
            count = int(gone.sum())
            if count:
                marginal = rng.standard_normal(count) if scored[j] else self._marginal_codes(j, count, rng)
                drawn[gone, j] = marginal
        decoded = self.space_.from_matrix(drawn)
        for j, s in enumerate(subs):
            holes = ~mask[:, j]
            out[s.name][holes] = decoded[s.name][holes]
        return out

    # --- persistence ------------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "bandwidth": self.bandwidth_,
            "code_bandwidth": self.code_bandwidth_,
        }
        arrays = {
            k: v for j, m in enumerate(self.space_.marginals) for k, v in m.arrays(f"marginal.{j}").items()
        }
        arrays["centres"] = self.centres_
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        subcolumns = self._restore_subcolumns(state)
        marginals = [Marginal.from_arrays(s, arrays, f"marginal.{j}") for j, s in enumerate(subcolumns)]
        h = require_float(state, "bandwidth", low=0.0)
        lam = require_float(state, "code_bandwidth", low=0.0)
        if lam > 1.0:
            raise StateError("code_bandwidth", f"expected a number in [0, 1], got {lam!r}")
        centres = require_array(arrays, "centres", kind="f", shape=(self.n_training_rows_, len(subcolumns)))
        if len(centres) == 0:
            raise StateError("centres", "expected at least one centre", array=True)
        space = ScoreSpace(subcolumns, marginals, discrete_scores=False, tail_blocks=True)
        for j in np.flatnonzero(~space.scored):
            codes = centres[:, j]
            if (
                np.any(codes != np.round(codes))
                or np.any(codes < 0)
                or np.any(codes >= max(1, subcolumns[j].cardinality))
            ):
                raise StateError("centres", f"column {j} ({subcolumns[j].name}) expected codes", array=True)
        self.subcolumns_, self.space_ = subcolumns, space
        self.bandwidth_, self.code_bandwidth_, self.centres_ = h, lam, centres


def _half_bandwidth(h: float) -> tuple[float, float]:
    """``(h1, s1)``: two steps ``y = (x + h1 e) / s1`` make one of the variance-kept kernel
    ``y = (x + h e) / sqrt(1 + h^2)`` (Silverman's smoothed bootstrap, whose draws keep each score's
    unit variance however wide the kernel, so a wide one tends to the marginals, never past the ends)."""
    s1 = (1.0 + h * h) ** 0.25
    return math.sqrt(s1 * s1 - 1.0), s1
