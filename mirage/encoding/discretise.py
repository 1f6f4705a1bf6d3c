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
  the nearest point.  The outermost edges are the ``protect``-th smallest and largest values (value
  protection: a rare extreme is never drawn; the values beyond belong to the end intervals).

Decoding draws a value uniformly within the sub-bin (an integer when every training value was one),
so ``encode(decode(tokens)) == tokens`` on the learned support.  Only edges and point values are
kept, never rows, and every piece describes at least ``min_count`` training rows.

Datetimes (sub-columns named in ``fit(..., dates=...)``, seconds since the epoch) are split by parts:
the day (a continuous piece as above, in whole days), the day of the week (a token of 7 codes, when
the data spans at least a week) and the time of day (a continuous piece, when any value has one).
A date is decoded within its day sub-bin on the drawn weekday, so weekly rhythms (no orders on
Sundays) and daily ones (card payments by day, not at 3 a.m.) survive discretisation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mirage._validate import (
    StateError,
    require,
    require_array,
    require_bool,
    require_int,
    require_list,
    require_mapping,
    require_subcolumns,
    show,
    within,
)
from mirage.encoding._base import SubColumn

__all__ = ["Discretiser", "Token"]

ROLE_CODE = "code"
ROLE_BIN = "bin"
ROLE_SUB = "sub"
ROLE_WEEKDAY = "weekday"
SECONDS_PER_DAY = 86_400.0
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday is 0)


@dataclass(frozen=True)
class Token:
    """One categorical token column: codes in ``[0, cardinality)``."""

    name: str  # "<sub-column>#<role>"
    subcolumn: str
    column: str  # the schema column: tokens of one column move together in any order
    role: str  # "code" (a discrete sub-column), "bin" or "sub" (a continuous piece), "weekday"
    cardinality: int
    piece: str = ""  # for "bin" and "sub": the continuous piece (a sub-column, or a date's day or time)


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
    protect: int = 1,
) -> _Pieces:
    """Points for spikes, quantile intervals (each >= ``min_count`` rows) for the rest of sorted ``x``."""
    uniq, counts = np.unique(x, return_counts=True)
    spikes = uniq[counts >= spike_count]
    rest = x[~np.isin(x, spikes)] if spikes.size else x
    if 0 < rest.size < min_count and spikes.size:
        rest = rest[:0]  # too few to describe: they fold into the nearest point
    lo, hi, closed = list(spikes), list(spikes), [True] * spikes.size
    if rest.size:
        a, b = bounds if bounds is not None else _protected_ends(rest, protect)
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


def _protected_ends(rest: np.ndarray, k: int) -> tuple[float, float]:
    """The outer edges of a column's intervals: its ``k``-th smallest and largest values (sorted
    ``rest``), so that no value held by fewer than ``k`` rows (a rare extreme, the one timestamp far
    from the others) is drawn; values beyond fall in the end intervals.  Below ``3 k`` values, the
    range itself."""
    if k > 1 and rest.size >= 3 * k:
        return float(rest[k - 1]), float(rest[rest.size - k])
    return float(rest[0]), float(rest[-1])


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


@dataclass(frozen=True)
class _DateLayout:
    """Which parts of a datetime sub-column have tokens besides the day."""

    weekday: bool
    time: bool
    weekdays: tuple[bool, ...] = (True,) * 7  # weekdays with at least min_count training rows


def _date_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole days since the epoch and seconds into the day of ``x`` (seconds since the epoch)."""
    day = np.floor(x / SECONDS_PER_DAY)
    return day, x - day * SECONDS_PER_DAY


def _weekday(day: np.ndarray) -> np.ndarray:
    return ((day.astype("int64") + EPOCH_WEEKDAY) % 7).astype("int64")


class Discretiser:
    """Maps encoded sub-columns to an ``(n, tokens)`` int64 matrix of token codes and back."""

    def __init__(
        self,
        *,
        n_bins: int = 64,
        sub_bins: int = 16,
        min_count: int = 10,
        max_exact: int = 100,
        protect: int = 1,
    ):
        self.n_bins = n_bins
        self.protect = protect  # fit only: the outer edges leave out values held by fewer rows
        self.sub_bins = sub_bins
        self.min_count = min_count
        self.max_exact = max_exact
        self.subcolumns: list[SubColumn] = []
        self.tokens: list[Token] = []
        self._continuous: dict[str, _Continuous] = {}  # by piece: a sub-column, "<sub>@day", "<sub>@time"
        self._dates: dict[str, _DateLayout] = {}

    # --- learning -------------------------------------------------------------------------------
    def fit(
        self, parts: Mapping[str, np.ndarray], subcolumns: list[SubColumn], *, dates: Collection[str] = ()
    ) -> Discretiser:
        """Learn the pieces; ``dates`` names continuous sub-columns of seconds since the epoch."""
        self.subcolumns = list(subcolumns)
        self._continuous, self._dates = {}, {}
        for sub in subcolumns:
            if sub.discrete:
                continue
            x = np.asarray(parts[sub.name], dtype="float64")
            if sub.name not in dates:
                self._continuous[sub.name] = self._fit_continuous(x)
                continue
            day, time = _date_parts(x[np.isfinite(x)])
            counts = np.bincount(_weekday(day), minlength=7)
            layout = _DateLayout(
                weekday=bool(day.size and day.max() - day.min() >= 7),
                time=bool(np.any(time != 0)),
                weekdays=tuple(bool(c >= self.min_count) for c in counts)
                if counts.max() >= self.min_count
                else (True,) * 7,
            )
            self._dates[sub.name] = layout
            self._continuous[f"{sub.name}@day"] = self._fit_continuous(day)
            if layout.time:
                self._continuous[f"{sub.name}@time"] = self._fit_continuous(time)
        self._layout()
        return self

    def _fit_continuous(self, x: np.ndarray) -> _Continuous:
        x = np.sort(x[np.isfinite(x)])
        if x.size == 0:
            x = np.zeros(1)
        n, m = x.size, self.min_count
        few_values = np.unique(x).size <= self.max_exact
        spike = m if few_values else max(m, int(np.ceil(n / self.n_bins)))
        bins = _cut(x, parts=self.n_bins, min_count=m, spike_count=spike, protect=self.protect)
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
        tokens: list[Token] = []
        for sub in self.subcolumns:
            if sub.discrete:
                tokens.append(
                    Token(f"{sub.name}#{ROLE_CODE}", sub.name, sub.column, ROLE_CODE, max(1, sub.cardinality))
                )
            elif sub.name in self._dates:
                layout = self._dates[sub.name]
                tokens.extend(self._piece_tokens(sub, f"{sub.name}@day"))
                if layout.weekday:
                    tokens.append(Token(f"{sub.name}#{ROLE_WEEKDAY}", sub.name, sub.column, ROLE_WEEKDAY, 7))
                if layout.time:
                    tokens.extend(self._piece_tokens(sub, f"{sub.name}@time"))
            else:
                tokens.extend(self._piece_tokens(sub, sub.name))
        self.tokens = tokens

    def _piece_tokens(self, sub: SubColumn, piece: str) -> list[Token]:
        """The bin token of a continuous piece and, when any bin is split, its sub-bin token."""
        cont = self._continuous[piece]
        out = [Token(f"{piece}#{ROLE_BIN}", sub.name, sub.column, ROLE_BIN, cont.bins.lo.size, piece)]
        if cont.width > 1:
            out.append(Token(f"{piece}#{ROLE_SUB}", sub.name, sub.column, ROLE_SUB, cont.width, piece))
        return out

    # --- the layout, for engines -----------------------------------------------------------------
    @property
    def cardinalities(self) -> list[int]:
        return [t.cardinality for t in self.tokens]

    @property
    def groups(self) -> list[int]:
        """The group index of each token: tokens of one schema column share a group."""
        index: dict[str, int] = {}
        return [index.setdefault(t.column, len(index)) for t in self.tokens]

    def code_valid(self, j: int) -> np.ndarray | None:
        """For a weekday token ``j``: the weekdays it may take (seen in >= min_count rows); else None."""
        token = self.tokens[j]
        if token.role != ROLE_WEEKDAY:
            return None
        return np.array(self._dates[token.subcolumn].weekdays, dtype=bool)

    def sub_bin_valid(self, j: int) -> np.ndarray | None:
        """For a sub-bin token ``j``: a (bins, sub-bins) mask of the sub-bins each bin has; else None."""
        token = self.tokens[j]
        if token.role != ROLE_SUB:
            return None
        cont = self._continuous[token.piece]
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
            x = values.astype("float64")
            if sub.name not in self._dates:
                columns.extend(_encode_piece(self._continuous[sub.name], x))
                continue
            day, time = _date_parts(x)
            columns.extend(_encode_piece(self._continuous[f"{sub.name}@day"], day))
            if self._dates[sub.name].weekday:
                columns.append(_weekday(day))
            if self._dates[sub.name].time:
                columns.extend(_encode_piece(self._continuous[f"{sub.name}@time"], time))
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
            if sub.name not in self._dates:
                lo, hi, closed, j = _decode_piece(self._continuous[sub.name], tokens, j)
                out[sub.name] = _draw(lo, hi, closed, self._continuous[sub.name].integer, rng)
                continue
            layout = self._dates[sub.name]
            lo, hi, closed, j = _decode_piece(self._continuous[f"{sub.name}@day"], tokens, j)
            day = _draw(lo, hi, closed, True, rng)
            if layout.weekday:
                allowed = np.array(layout.weekdays, dtype=bool)
                day = _on_weekday(day, lo, hi, closed, tokens[:, j], allowed, rng)
                j += 1
            time = np.zeros_like(day)
            if layout.time:
                cont = self._continuous[f"{sub.name}@time"]
                lo, hi, closed, j = _decode_piece(cont, tokens, j)
                time = _draw(lo, hi, closed, cont.integer, rng)
            out[sub.name] = day * SECONDS_PER_DAY + time
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
            "dates": {name: asdict(layout) for name, layout in self._dates.items()},
        }
        arrays: dict[str, np.ndarray] = {}
        for prefix, piece in self._array_prefixes():
            c = self._continuous[piece]
            arrays[f"{prefix}bin_lo"], arrays[f"{prefix}bin_hi"] = c.bins.lo, c.bins.hi
            arrays[f"{prefix}bin_closed"] = c.bins.closed.astype("uint8")
            arrays[f"{prefix}lo"], arrays[f"{prefix}hi"] = c.lo, c.hi
            arrays[f"{prefix}closed"] = c.closed.astype("uint8")
            arrays[f"{prefix}n_sub"] = c.n_sub
        return state, arrays

    def _array_prefixes(self) -> list[tuple[str, str]]:
        """``(array name prefix, piece)`` of every continuous piece, by sub-column position."""
        out = []
        for i, sub in enumerate(self.subcolumns):
            if sub.discrete:
                continue
            if sub.name not in self._dates:
                out.append((f"{i}.", sub.name))
                continue
            out.append((f"{i}.day.", f"{sub.name}@day"))
            if self._dates[sub.name].time:
                out.append((f"{i}.time.", f"{sub.name}@time"))
        return out

    @classmethod
    def from_state(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Discretiser:
        """Restore ``get_state``'s output; every field is checked (a saved state is untrusted)."""
        self = cls(
            n_bins=require_int(state, "n_bins", low=1),
            sub_bins=require_int(state, "sub_bins", low=1),
            min_count=require_int(state, "min_count", low=1),
            max_exact=require_int(state, "max_exact", low=0),
        )
        self.subcolumns = require_subcolumns(state, "subcolumns")
        continuous = [s.name for s in self.subcolumns if not s.discrete]
        dates = require_mapping(state.get("dates", {}), "dates")
        for name, layout in dates.items():
            with within(f"dates.{name}"):
                if name not in continuous:
                    raise StateError("", "not a continuous sub-column of this discretiser")
                layout = require_mapping(layout)
                weekdays = require_list(layout, "weekdays", length=7)
                if not all(isinstance(w, bool) for w in weekdays):
                    raise StateError("weekdays", f"expected 7 booleans, got {show(weekdays)}")
                weekday, time = require_bool(layout, "weekday"), require_bool(layout, "time")
                self._dates[name] = _DateLayout(weekday, time, tuple(weekdays))
        integer = require_mapping(require(state, "integer"), "integer")
        for prefix, piece in self._array_prefixes():
            with within("integer"):
                flag = require_bool(integer, piece)
            self._continuous[piece] = _restore_piece(arrays, prefix, flag)
        self._layout()
        return self


def _restore_piece(arrays: Mapping[str, np.ndarray], prefix: str, integer: bool) -> _Continuous:
    """One continuous piece's saved bins and sub-bins, checked for shapes and order."""
    bin_lo = require_array(arrays, f"{prefix}bin_lo", kind="f", shape=(None,))
    n = bin_lo.size
    if n == 0:
        raise StateError(f"{prefix}bin_lo", "expected at least one bin", array=True)
    bin_hi = require_array(arrays, f"{prefix}bin_hi", kind="f", shape=(n,))
    bin_closed = require_array(arrays, f"{prefix}bin_closed", kind="b", shape=(n,))
    if np.any(bin_lo > bin_hi) or np.any(np.diff(bin_lo) < 0):
        raise StateError(f"{prefix}bin_lo", "expected sorted bins with lo <= hi", array=True)
    lo = require_array(arrays, f"{prefix}lo", kind="f", shape=(n, None), finite=False)
    width = lo.shape[1]
    hi = require_array(arrays, f"{prefix}hi", kind="f", shape=(n, width), finite=False)
    closed = require_array(arrays, f"{prefix}closed", kind="b", shape=(n, width))
    n_sub = require_array(arrays, f"{prefix}n_sub", kind="i", shape=(n,))
    if width == 0 or np.any(n_sub < 1) or np.any(n_sub > width):
        raise StateError(f"{prefix}n_sub", f"expected between 1 and {width} sub-bins per bin", array=True)
    used = np.arange(width)[None, :] < n_sub[:, None]
    if not (np.all(np.isfinite(lo[used])) and np.all(np.isfinite(hi[used])) and np.all(lo[used] <= hi[used])):
        raise StateError(f"{prefix}lo", "expected finite sub-bins with lo <= hi", array=True)
    return _Continuous(_Pieces(bin_lo, bin_hi, bin_closed), lo, hi, closed, n_sub, integer)


def _encode_piece(cont: _Continuous, x: np.ndarray) -> list[np.ndarray]:
    """The bin codes of ``x`` and, when the piece has sub-bins, the sub-bin codes within each bin."""
    bins = cont.bins.assign(x)
    if cont.width == 1:
        return [bins]
    fine = np.zeros(x.size, dtype="int64")
    for k in np.unique(bins):
        rows = bins == k
        fine[rows] = cont.sub_pieces(int(k)).assign(x[rows])
    return [bins, fine]


def _decode_piece(
    cont: _Continuous, tokens: np.ndarray, j: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The sub-bin edges the tokens at ``j`` (and ``j + 1``) name, and the next token's index."""
    k = np.clip(tokens[:, j], 0, cont.bins.lo.size - 1)
    j += 1
    if cont.width > 1:
        f = np.minimum(tokens[:, j], cont.n_sub[k] - 1)
        j += 1
    else:
        f = np.zeros_like(k)
    return cont.lo[k, f], cont.hi[k, f], cont.closed[k, f], j


def _on_weekday(
    day: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    closed: np.ndarray,
    weekday: np.ndarray,
    allowed: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """A day drawn uniformly among the days of ``[lo, hi]`` on ``weekday``.

    Where the piece (shorter than a week) has no such day, a day of the piece on a weekday the data
    has (``allowed``); ``day`` itself for point pieces and where neither exists.
    """
    first = np.ceil(lo)
    last = np.where(closed, np.floor(hi), np.ceil(hi) - 1.0)
    start = first + np.mod(weekday - _weekday(first), 7)
    count = np.floor((last - start) / 7.0) + 1.0
    u = rng.random(day.size)
    pick = np.minimum(start + 7.0 * np.floor(u * np.maximum(count, 1.0)), last)
    candidates = first[:, None] + np.arange(7.0)[None, :]
    valid = (candidates <= last[:, None]) & allowed[_weekday(candidates)]
    n_valid = valid.sum(axis=1)
    rank = np.minimum(np.floor(u * np.maximum(n_valid, 1)), np.maximum(n_valid - 1, 0))
    nth = np.argmax(np.cumsum(valid, axis=1) > rank[:, None], axis=1)
    fallback = np.where(n_valid > 0, candidates[np.arange(day.size), nth], day)
    return np.where(lo == hi, day, np.where(count >= 1, pick, fallback))


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
