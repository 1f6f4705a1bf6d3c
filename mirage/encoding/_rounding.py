"""How a number column is rounded, learned value by value, and the same mix given back at decode.

Real columns mix precisions: ages are whole years but for a few infants (0.42) and estimates (28.5);
fares end in whole pounds, in .5 or in four decimals; measurements lose trailing zeros.  Rounding
every synthetic value to the finest precision seen makes the rare kind the rule, and not rounding
at all leaves no whole number.  Instead each training value gets its *grid*: the coarsest step of
``1, 0.5, 0.1, 0.05, 0.01, ...`` (down to the column's stated decimals) it sits on, or none.

The mix of grids is learned per *piece* of the line (quantile intervals, as the discretiser cuts
them), so infants keep their decimals and adults their whole years.  At decode, a value already on a
grid its piece has seen stays: an engine that gives training values back exactly (the copula's
ties, a zero balance) keeps them, and decoding inverts encoding.  The other values (smoothed,
interpolated) draw their grid from what the piece's mix still lacks in the batch, and move to the
nearest number whose grid is exactly the one drawn (drawn "whole", 28.5 goes to 28 or 29; drawn
"half", 28 goes to 27.5 or 28.5), so values that land on a coarser grid by chance are not counted
twice.  Only cut points and shares are kept, never rows.

A column of whole numbers that all sit on a coarser step (order quantities in fives, prices in whole
tens, salaries in thousands, quantities in dozens) has that step as its one grid instead: the
greatest common divisor of its values, taken when its distinct values are too many to share it by
chance, ``step ** -(distinct - 1) < CHANCE`` (the chance that values unrelated to the step, one of
them free, all land on its multiples).  Columns with decimals keep their mix of grids: among values
on several grids a common step (ages in quarters once the infants are left out) is no precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mirage.encoding._pieces import Pieces, cut

__all__ = ["RoundingPattern"]

PIECES = 100  # quantile intervals of the line (at least min_count rows each), each with its mix of grids
FINEST_DECIMALS = 10  # the finest grid tried when the column states no precision
SIGNIFICANT_DIGITS = 14  # grids finer than this many digits below the largest value are float noise
CHANCE = 1e-3  # a common step of the distinct values is the column's when chance explains it less often

_ARRAYS = ("steps", "coarser", "lo", "hi", "closed", "mix")


def _chain(largest: float, decimals: int) -> list[float]:
    """The steps ``1, 0.5, 0.1, 0.05, ...`` down to ``10^-decimals``, coarsest first.

    Coarser steps (5, 10, 100) are left out: among whole numbers a multiple of ten is a value, not a
    precision, and values are the engines' to place.
    """
    top = math.floor(math.log10(largest)) if largest > 0 else 0
    bottom = max(-decimals, min(0, top - SIGNIFICANT_DIGITS))
    steps = [1.0]
    for e in range(-1, bottom - 1, -1):
        steps += [5.0 * 10.0**e, 10.0**e]
    return steps


def _on_grid(x: np.ndarray, step: float) -> np.ndarray:
    tolerance = np.minimum(1e-9 * np.maximum(1.0, np.abs(x)), step * 1e-3)
    return np.abs(np.round(x / step) * step - x) <= tolerance


def _decimals_of(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-12))


def _common_step(whole: np.ndarray) -> float:
    """The greatest common divisor of the distinct whole numbers ``whole`` when chance would give it
    less often than ``CHANCE``, else 1."""
    distinct = np.unique(np.abs(np.round(whole)))
    if distinct.size < 2 or distinct[-1] >= _EXACT_HALF:
        return 1.0
    step = int(np.gcd.reduce(distinct.astype("int64")))
    if step < 2 or (distinct.size - 1) * math.log(step) <= -math.log(CHANCE):
        return 1.0
    return float(step)


def _shares(counts: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Rows of ``counts`` as shares; an empty row takes ``fallback``'s row."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.where(totals > 0, counts / np.maximum(totals, 1.0), fallback)


@dataclass
class RoundingPattern:
    steps: np.ndarray  # (grids,) the step of each grid, coarsest first; 0.0 for "on no grid"
    coarser: np.ndarray  # (grids,) the step whose multiples a grid excludes (0.0: none)
    pieces: Pieces
    mix: np.ndarray  # (pieces, grids) shares of the grids among the training values of each piece

    @classmethod
    def learn(cls, x: np.ndarray, *, decimals: int | None, min_count: int) -> RoundingPattern:
        """The grids of the finite values ``x``; ``decimals`` is the finest precision allowed (None: any)."""
        x = np.sort(x[np.isfinite(x)])
        if x.size == 0:
            x = np.zeros(1)
        chain = _chain(float(np.abs(x).max()), FINEST_DECIMALS if decimals is None else decimals)
        grid = np.full(x.size, len(chain), dtype="int64")  # index in the chain; len(chain): no grid
        for i in range(len(chain) - 1, -1, -1):
            grid[_on_grid(x, chain[i])] = i
        used = np.unique(grid)
        steps = np.array([chain[i] if i < len(chain) else 0.0 for i in used])
        coarser = np.array([chain[i - 1] if 0 < i < len(chain) else 0.0 for i in used])
        if steps.tolist() == [1.0]:  # whole numbers, all of them
            steps[0] = _common_step(x)
        n = x.size
        pieces = cut(x, parts=PIECES, min_count=max(min_count, math.ceil(n / PIECES)), spike_count=n + 1)
        counts = np.zeros((pieces.lo.size, used.size))
        np.add.at(counts, (pieces.assign(x), np.searchsorted(used, grid)), 1.0)
        totals = counts.sum(axis=1, keepdims=True)
        overall = counts.sum(axis=0) / counts.sum()
        mix = np.where(totals > 0, counts / np.maximum(totals, 1.0), overall)
        return cls(steps, coarser, pieces, mix)

    def grid_of(self, x: np.ndarray) -> np.ndarray:
        """The grid each value sits on exactly, -1 for none of the learned grids."""
        out = np.full(x.size, -1, dtype="int64")
        for g in np.flatnonzero(self.steps > 0.0):
            on = _on_grid(x, float(self.steps[g]))
            if self.coarser[g] > 0.0:
                on &= ~_on_grid(x, float(self.coarser[g]))
            out[on & (out < 0)] = g
        return out

    def apply(self, x: np.ndarray, rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
        """``x`` (within ``[lo, hi]``) moved onto grids drawn so that each piece gets its learned mix.

        A value already on a grid its piece has seen (a training value given back exactly) stays; the
        others draw from what the piece's mix still lacks in this batch.
        """
        x = np.asarray(x, dtype="float64")
        if self.steps.size == 1:  # one grid for every value (whole numbers): nothing to draw
            step = float(self.steps[0])
            return _snap(x, step, 0.0, lo, hi) if step > 0.0 else x.copy()
        u = rng.random(x.size)
        piece = self.pieces.assign(x)
        own = self.grid_of(x)
        keep = own >= 0
        keep[keep] = self.mix[piece[keep], own[keep]] > 0.0
        k, grids = self.mix.shape
        held = np.bincount(piece, minlength=k).astype("float64")
        kept = np.zeros((k, grids))
        np.add.at(kept, (piece[keep], own[keep]), 1.0)
        lacking = np.clip(self.mix * held[:, None] - kept, 0.0, None)
        total = lacking.sum(axis=1, keepdims=True)
        wanted = np.where(total > 0.0, lacking / np.maximum(total, 1e-300), self.mix)
        rows = np.flatnonzero(~keep)
        cumulative = np.cumsum(wanted[piece[rows]], axis=1)
        grid = np.minimum((u[rows, None] >= cumulative).sum(axis=1), grids - 1)
        out = x.copy()
        for g in np.unique(grid):
            if self.steps[g] > 0.0:
                at = rows[grid == g]
                out[at] = _snap(x[at], float(self.steps[g]), float(self.coarser[g]), lo, hi)
        return out

    def get_arrays(self) -> dict[str, np.ndarray]:
        return {
            "rounding.steps": self.steps,
            "rounding.coarser": self.coarser,
            "rounding.lo": self.pieces.lo,
            "rounding.hi": self.pieces.hi,
            "rounding.closed": self.pieces.closed,
            "rounding.mix": self.mix,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> RoundingPattern | None:
        """The pattern ``get_arrays`` saved, or None for a model saved before patterns were learned.

        Raises ValueError naming what does not fit when the arrays are inconsistent.
        """
        if "rounding.steps" not in arrays:
            return None
        missing = [name for name in _ARRAYS if f"rounding.{name}" not in arrays]
        if missing:
            raise ValueError(f"the rounding pattern lacks {', '.join(missing)}")
        a: dict[str, Any] = {
            name: np.asarray(arrays[f"rounding.{name}"], dtype=bool if name == "closed" else "float64")
            for name in _ARRAYS
        }
        grids, k = a["steps"].size, a["lo"].size
        checks = {
            "steps": a["steps"].ndim == 1 and grids > 0 and bool(np.all(a["steps"] >= 0.0)),
            "coarser": a["coarser"].shape == (grids,) and bool(np.all(a["coarser"] >= 0.0)),
            "pieces": a["lo"].ndim == 1 and k > 0 and a["hi"].shape == a["closed"].shape == (k,),
            "mix": a["mix"].shape == (k, grids) and bool(np.all(a["mix"] >= 0.0)),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if not bad and not all(bool(np.all(np.isfinite(v))) for v in a.values()):
            bad = ["values (not finite)"]
        if bad:
            raise ValueError(f"the rounding pattern's {', '.join(bad)} do not fit together")
        return cls(a["steps"], a["coarser"], Pieces(a["lo"], a["hi"], a["closed"]), a["mix"])


#: below this, ``x - 0.5`` is exact for every float ``x >= 0.5`` (its spacing is at most 0.25)
_EXACT_HALF = 2.0**51


def _whole_and_nonnegative(x: np.ndarray, lo: float, hi: float) -> bool:
    """Whole bounds ``0 <= lo <= hi < _EXACT_HALF`` with every value of ``x`` within them (so its floor
    and ceiling are too); False for an empty ``x`` or one with a NaN.  Not below zero: for the one
    float just above -0.5, ``x - 0.5`` rounds to -1."""
    if not (x.size and lo >= 0.0 and hi < _EXACT_HALF):  # False for an infinite or NaN bound
        return False
    if not (lo == math.floor(lo) and hi == math.floor(hi)):
        return False
    return bool(x.min() >= lo and x.max() <= hi)


def _snap(x: np.ndarray, step: float, coarser: float, lo: float, hi: float) -> np.ndarray:
    """The nearest multiple of ``step`` that is no multiple of ``coarser`` (0: no exclusion) in bounds.

    A value with no such number within ``[lo, hi]`` (a range narrower than the step) stays as it is.
    """
    ratio = round(coarser / step) if coarser > 0.0 else 0
    if step == 1.0 and ratio < 2:  # whole numbers (most columns): the same numbers in fewer passes
        if _whole_and_nonnegative(x, lo, hi):
            # floor and ceiling both in bounds; the nearer, ties down, is ceil(x - 0.5), in 3 passes
            # rather than 8 (x - 0.5 is exact from 0.5 up; below it, any rounding stays within
            # (-1, 0)); abs gives floor's +0.0 for x in [0, 0.5), where ceil gives -0.0
            nearest = np.subtract(x, 0.5)
            np.ceil(nearest, out=nearest)
            return np.abs(nearest, out=nearest)
        down, up = np.floor(x), np.ceil(x)
        if x.size and down.min() >= lo and up.max() <= hi:  # both in bounds everywhere (False for a NaN)
            return np.where(x - down <= up - x, down, up)
    else:
        q = x / step
        below, above = np.floor(q), np.ceil(q)
        if ratio >= 2:
            below = np.where(np.mod(below, ratio) == 0, below - 1, below)
            above = np.where(np.mod(above, ratio) == 0, above + 1, above)
        decimals = _decimals_of(step)
        down, up = np.round(below * step, decimals), np.round(above * step, decimals)
    down_ok, up_ok = down >= lo, up <= hi
    nearer_down = (x - down) <= (up - x)
    return np.where(down_ok & (nearer_down | ~up_ok), down, np.where(up_ok, up, x))
