"""Sub-columns as categorical *tokens*, for engines that model tables as sequences of categories.

Discrete sub-columns pass through as one token.  A continuous sub-column becomes a coarse *bin* token
and, when any bin is split further, a fine *sub-bin* token within the bin:

* a value whose share of the rows is large enough to fill a bin by itself (a spike, such as a zero
  balance) is a *point* piece of its own, decoded exactly; when the sub-column has at most
  ``max_exact`` distinct values, every value seen at least ``min_count`` times is a point (integers
  with few values come back exact);
* the other values are cut at their quantiles into intervals, and neighbouring intervals are merged
  until each holds at least ``min_count`` training rows; sub-bins split a bin the same way, within
  the bin's edges.  A handful of leftover values too few to form an interval of their own fold into
  the nearest point.

Decoding draws a value uniformly within the sub-bin (an integer when every training value was one),
so ``encode(decode(tokens)) == tokens`` on the learned support.  Only edges and point values are
kept, never rows, and every piece describes at least ``min_count`` training rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mirage.encoding._base import SubColumn

__all__ = ["Discretiser", "Token"]

ROLE_CODE = "code"
ROLE_BIN = "bin"
ROLE_SUB = "sub"


@dataclass(frozen=True)
class Token:
    """One categorical token column: codes in ``[0, cardinality)``."""

    name: str  # "<sub-column>#<role>"
    subcolumn: str
    column: str  # the schema column: tokens of one column move together in any order
    role: str  # "code" (a discrete sub-column), "bin" or "sub" (a continuous one)
    cardinality: int


@dataclass
class _Pieces:
    """Sorted pieces ``[lo, hi)`` (``closed``: ``[lo, hi]``) of a line; ``lo == hi`` is a point."""

    lo: np.ndarray
    hi: np.ndarray
    closed: np.ndarray

    def assign(self, x: np.ndarray) -> np.ndarray:
        """The piece of each value: its point if it has one, else the interval holding it."""
        point = self.lo == self.hi
        out = np.zeros(x.size, dtype="int64")
        intervals = np.flatnonzero(~point)
        points = np.flatnonzero(point)
        if intervals.size:
            k = np.searchsorted(self.lo[intervals], x, side="right") - 1
            out = intervals[np.clip(k, 0, intervals.size - 1)]
        if points.size:
            values = self.lo[points]
            j = np.clip(np.searchsorted(values, x), 0, points.size - 1)
            if intervals.size:
                hit = values[j] == x
                out[hit] = points[j[hit]]
            else:
                left = np.clip(j - 1, 0, points.size - 1)
                nearer_left = np.abs(values[left] - x) <= np.abs(values[j] - x)
                out = points[np.where(nearer_left, left, j)]
        return out


def _cut(
    x: np.ndarray,
    *,
    parts: int,
    min_count: int,
    spike_count: int,
    bounds: tuple[float, float] | None = None,
    closed_top: bool = True,
) -> _Pieces:
    """Points for spikes, quantile intervals (each >= ``min_count`` rows) for the rest of sorted ``x``."""
    uniq, counts = np.unique(x, return_counts=True)
    spikes = uniq[counts >= spike_count]
    rest = x[~np.isin(x, spikes)] if spikes.size else x
    if 0 < rest.size < min_count and spikes.size:
        rest = rest[:0]  # too few to describe: they fold into the nearest point
    lo, hi, closed = list(spikes), list(spikes), [True] * spikes.size
    if rest.size:
        a, b = bounds if bounds is not None else (float(rest[0]), float(rest[-1]))
        k = max(1, min(parts - spikes.size, rest.size // max(min_count, 1)))
        inner = _quantile_cuts(rest, k)
        edges = np.unique(np.concatenate([[a], inner[(inner > a) & (inner < b)], [b]]))
        if edges.size == 1:
            lo.append(a)
            hi.append(a)
            closed.append(True)
        else:
            m = edges.size - 1
            cell = np.clip(np.searchsorted(edges, rest, side="right") - 1, 0, m - 1)
            held = np.bincount(cell, minlength=m)
            keep, acc = [0], 0
            for i in range(m - 1):
                acc += int(held[i])
                if acc >= min_count:
                    keep.append(i + 1)
                    acc = 0
            if acc + int(held[m - 1]) < min_count and len(keep) > 1:
                keep.pop()
            edges = edges[[*keep, m]]
            lo.extend(edges[:-1])
            hi.extend(edges[1:])
            closed.extend([False] * (edges.size - 2) + [closed_top])
    lo_a, hi_a = np.asarray(lo, dtype="float64"), np.asarray(hi, dtype="float64")
    order = np.lexsort((lo_a != hi_a, lo_a))
    return _Pieces(lo_a[order], hi_a[order], np.asarray(closed, dtype=bool)[order])


def _quantile_cuts(x: np.ndarray, k: int) -> np.ndarray:
    """``k - 1`` cuts splitting sorted ``x`` into ``k`` equal-count parts, each halfway between two rows."""
    if k < 2 or x.size < 2:
        return np.zeros(0)
    m = np.clip(np.round(np.linspace(0.0, x.size, k + 1)[1:-1]).astype("int64"), 1, x.size - 1)
    cuts: np.ndarray = (x[m - 1] + x[m]) / 2.0
    return cuts


@dataclass
class _Continuous:
    """The token layout of one continuous sub-column: bins, and sub-bins padded to one width."""

    bins: _Pieces
    lo: np.ndarray  # (bins, sub-bins) lower edges of the sub-bins, NaN past a bin's own count
    hi: np.ndarray
    closed: np.ndarray
    n_sub: np.ndarray  # (bins,) number of sub-bins of each bin
    integer: bool

    @property
    def width(self) -> int:
        return int(self.lo.shape[1])

    def sub_pieces(self, k: int) -> _Pieces:
        n = int(self.n_sub[k])
        return _Pieces(self.lo[k, :n], self.hi[k, :n], self.closed[k, :n])


class Discretiser:
    """Maps encoded sub-columns to an ``(n, tokens)`` int64 matrix of token codes and back."""

    def __init__(self, *, n_bins: int = 64, sub_bins: int = 16, min_count: int = 10, max_exact: int = 100):
        self.n_bins = n_bins
        self.sub_bins = sub_bins
        self.min_count = min_count
        self.max_exact = max_exact
        self.subcolumns: list[SubColumn] = []
        self.tokens: list[Token] = []
        self._continuous: dict[str, _Continuous] = {}

    # --- learning -------------------------------------------------------------------------------
    def fit(self, parts: Mapping[str, np.ndarray], subcolumns: list[SubColumn]) -> Discretiser:
        self.subcolumns = list(subcolumns)
        self._continuous = {}
        for sub in subcolumns:
            if not sub.discrete:
                self._continuous[sub.name] = self._fit_continuous(
                    np.asarray(parts[sub.name], dtype="float64")
                )
        self._layout()
        return self

    def _fit_continuous(self, x: np.ndarray) -> _Continuous:
        x = np.sort(x[np.isfinite(x)])
        if x.size == 0:
            x = np.zeros(1)
        n, m = x.size, self.min_count
        few_values = np.unique(x).size <= self.max_exact
        spike = m if few_values else max(m, int(np.ceil(n / self.n_bins)))
        bins = _cut(x, parts=self.n_bins, min_count=m, spike_count=spike)
        which = bins.assign(x)
        subs: list[_Pieces] = []
        for k in range(bins.lo.size):
            if bins.lo[k] == bins.hi[k]:
                subs.append(_Pieces(bins.lo[k : k + 1], bins.hi[k : k + 1], np.ones(1, dtype=bool)))
                continue
            inside = x[which == k]
            if inside.size == 0:
                subs.append(_Pieces(bins.lo[k : k + 1], bins.hi[k : k + 1], bins.closed[k : k + 1]))
                continue
            spike_k = max(m, int(np.ceil(inside.size / self.sub_bins)))
            subs.append(
                _cut(
                    inside,
                    parts=self.sub_bins,
                    min_count=m,
                    spike_count=spike_k,
                    bounds=(float(bins.lo[k]), float(bins.hi[k])),
                    closed_top=bool(bins.closed[k]),
                )
            )
        width = max(p.lo.size for p in subs)
        lo = np.full((len(subs), width), np.nan)
        hi = np.full((len(subs), width), np.nan)
        closed = np.zeros((len(subs), width), dtype=bool)
        for k, p in enumerate(subs):
            lo[k, : p.lo.size], hi[k, : p.lo.size], closed[k, : p.lo.size] = p.lo, p.hi, p.closed
        n_sub = np.array([p.lo.size for p in subs], dtype="int64")
        integer = bool(np.all(x == np.round(x)))
        return _Continuous(bins, lo, hi, closed, n_sub, integer)

    def _layout(self) -> None:
        tokens = []
        for sub in self.subcolumns:
            if sub.discrete:
                tokens.append(
                    Token(f"{sub.name}#{ROLE_CODE}", sub.name, sub.column, ROLE_CODE, max(1, sub.cardinality))
                )
                continue
            cont = self._continuous[sub.name]
            tokens.append(Token(f"{sub.name}#{ROLE_BIN}", sub.name, sub.column, ROLE_BIN, cont.bins.lo.size))
            if cont.width > 1:
                tokens.append(Token(f"{sub.name}#{ROLE_SUB}", sub.name, sub.column, ROLE_SUB, cont.width))
        self.tokens = tokens

    # --- the layout, for engines -----------------------------------------------------------------
    @property
    def cardinalities(self) -> list[int]:
        return [t.cardinality for t in self.tokens]

    @property
    def groups(self) -> list[int]:
        """The group index of each token: tokens of one schema column share a group."""
        index: dict[str, int] = {}
        return [index.setdefault(t.column, len(index)) for t in self.tokens]

    def sub_bin_valid(self, j: int) -> np.ndarray | None:
        """For a sub-bin token ``j``: a (bins, sub-bins) mask of the sub-bins each bin has; else None."""
        token = self.tokens[j]
        if token.role != ROLE_SUB:
            return None
        cont = self._continuous[token.subcolumn]
        return np.arange(cont.width)[None, :] < cont.n_sub[:, None]

    # --- encoding --------------------------------------------------------------------------------
    def encode(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        """The token matrix of encoded rows (codes outside a discrete cardinality are clipped)."""
        columns: list[np.ndarray] = []
        n = 0
        for sub in self.subcolumns:
            values = np.asarray(parts[sub.name])
            n = values.size
            if sub.discrete:
                columns.append(np.clip(values.astype("int64"), 0, max(1, sub.cardinality) - 1))
                continue
            cont = self._continuous[sub.name]
            x = values.astype("float64")
            bins = cont.bins.assign(x)
            columns.append(bins)
            if cont.width > 1:
                fine = np.zeros(x.size, dtype="int64")
                for k in np.unique(bins):
                    rows = bins == k
                    fine[rows] = cont.sub_pieces(int(k)).assign(x[rows])
                columns.append(fine)
        if not columns:
            return np.zeros((n, 0), dtype="int64")
        return np.column_stack(columns).astype("int64")

    def decode(self, tokens: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Sub-column arrays (int64 codes, float64 values) from a token matrix."""
        out: dict[str, np.ndarray] = {}
        j = 0
        for sub in self.subcolumns:
            if sub.discrete:
                out[sub.name] = tokens[:, j].astype("int64")
                j += 1
                continue
            cont = self._continuous[sub.name]
            k = np.clip(tokens[:, j], 0, cont.bins.lo.size - 1)
            j += 1
            if cont.width > 1:
                f = np.minimum(tokens[:, j], cont.n_sub[k] - 1)
                j += 1
            else:
                f = np.zeros_like(k)
            out[sub.name] = _draw(cont.lo[k, f], cont.hi[k, f], cont.closed[k, f], cont.integer, rng)
        return out

    # --- persistence -----------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "n_bins": self.n_bins,
            "sub_bins": self.sub_bins,
            "min_count": self.min_count,
            "max_exact": self.max_exact,
            "subcolumns": [asdict(s) for s in self.subcolumns],
            "integer": {name: c.integer for name, c in self._continuous.items()},
        }
        arrays: dict[str, np.ndarray] = {}
        for i, sub in enumerate(self.subcolumns):
            if sub.discrete:
                continue
            c = self._continuous[sub.name]
            arrays[f"{i}.bin_lo"], arrays[f"{i}.bin_hi"] = c.bins.lo, c.bins.hi
            arrays[f"{i}.bin_closed"] = c.bins.closed.astype("uint8")
            arrays[f"{i}.lo"], arrays[f"{i}.hi"] = c.lo, c.hi
            arrays[f"{i}.closed"] = c.closed.astype("uint8")
            arrays[f"{i}.n_sub"] = c.n_sub
        return state, arrays

    @classmethod
    def from_state(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Discretiser:
        self = cls(
            n_bins=int(state["n_bins"]),
            sub_bins=int(state["sub_bins"]),
            min_count=int(state["min_count"]),
            max_exact=int(state["max_exact"]),
        )
        self.subcolumns = [SubColumn(**s) for s in state["subcolumns"]]
        for i, sub in enumerate(self.subcolumns):
            if sub.discrete:
                continue
            bins = _Pieces(
                np.asarray(arrays[f"{i}.bin_lo"], dtype="float64"),
                np.asarray(arrays[f"{i}.bin_hi"], dtype="float64"),
                np.asarray(arrays[f"{i}.bin_closed"]).astype(bool),
            )
            self._continuous[sub.name] = _Continuous(
                bins,
                np.asarray(arrays[f"{i}.lo"], dtype="float64"),
                np.asarray(arrays[f"{i}.hi"], dtype="float64"),
                np.asarray(arrays[f"{i}.closed"]).astype(bool),
                np.asarray(arrays[f"{i}.n_sub"], dtype="int64"),
                bool(state["integer"][sub.name]),
            )
        self._layout()
        return self


def _draw(
    lo: np.ndarray, hi: np.ndarray, closed: np.ndarray, integer: bool, rng: np.random.Generator
) -> np.ndarray:
    """A value uniformly within each piece: exact for points, an integer of the piece when ``integer``."""
    u = rng.random(lo.size)
    if not integer:
        return np.where(lo == hi, lo, lo + u * (hi - lo))
    first = np.ceil(lo)
    last = np.where(closed, np.floor(hi), np.ceil(hi) - 1.0)
    span = np.maximum(last - first + 1.0, 1.0)
    drawn = first + np.minimum(np.floor(u * span), span - 1.0)
    return np.where((lo == hi) | (last < first), np.round(lo), drawn)
