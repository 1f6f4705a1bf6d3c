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
  protection: a rare extreme is never drawn; the values beyond belong to the end intervals, and the
  share of an end sub-bin's rows that lay beyond is drawn from the tail past the edge,
  :mod:`mirage.encoding._tails`; dates keep within their edges).

With ``held_out_seed``, ``min_count`` is only the floor: each continuous piece's fewest rows per bin
is the row count per bin of the equal-mass histogram whose bin count gives held-out rows (five folds,
so seeded) the highest likelihood, recorded in ``piece_rows``.

Decoding draws a value uniformly within the sub-bin (an integer when every training value was one),
so ``encode(decode(tokens)) == tokens`` on the learned support.  Only edges and point values are
kept, never rows, and every piece describes at least ``min_count`` training rows.

Datetimes (sub-columns named in ``fit(..., dates=...)``, seconds since the epoch) are split into the
parts the datetime codec defines (:class:`~mirage.encoding.datetime.DateParts`): the day and the time
of day are continuous pieces as above, the day of the week a token of 7 codes; the codec joins them
back, drawing the day within its sub-bin on the drawn weekday.

What the token matrix's columns are is the discretiser's :class:`~mirage.encoding.Domain`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mirage._validate import (
    StateError,
    require,
    require_array,
    require_bool,
    require_int,
    require_mapping,
    require_subcolumns,
    within,
)
from mirage.encoding._base import SubColumn
from mirage.encoding._domain import ROLE_BIN, ROLE_CODE, ROLE_SUB, ROLE_WEEKDAY, Domain, Token
from mirage.encoding._pieces import Pieces, cut, draw_within
from mirage.encoding._tails import Tail, Tails
from mirage.encoding.datetime import DAY, SECONDS_PER_DAY, TIME, WEEKDAY, DateParts
from mirage.encoding.marginal import held_out_knot_count

__all__ = ["Discretiser", "Domain", "Token"]


@dataclass
class _Continuous:
    """The token layout of one continuous sub-column: bins, and sub-bins padded to one width."""

    bins: Pieces
    lo: np.ndarray  # (bins, sub-bins) lower edges of the sub-bins, NaN past a bin's own count
    hi: np.ndarray
    closed: np.ndarray
    n_sub: np.ndarray  # (bins,) number of sub-bins of each bin
    integer: bool
    # the rows past the outer edges: each share is of the end sub-bin's rows, not of the column's
    tails: Tails = field(default_factory=Tails)

    @property
    def edges(self) -> tuple[float, float]:
        """The outermost edges of the intervals (NaN when every bin is a point)."""
        interval = self.bins.lo < self.bins.hi
        if not interval.any():
            return np.nan, np.nan
        return float(self.bins.lo[interval].min()), float(self.bins.hi[interval].max())

    @property
    def width(self) -> int:
        return int(self.lo.shape[1])

    @property
    def points(self) -> np.ndarray:
        """The values of the point pieces among the sub-bins, sorted."""
        known = ~np.isnan(self.lo)
        return np.unique(self.lo[known & (self.lo == self.hi)])

    def sub_pieces(self, k: int) -> Pieces:
        n = int(self.n_sub[k])
        return Pieces(self.lo[k, :n], self.hi[k, :n], self.closed[k, :n])


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
        tails: bool = False,
        held_out_seed: int | None = None,
        finest: Collection[str] = (),
    ):
        self.n_bins = n_bins
        self.protect = protect  # fit only: the outer edges leave out values held by fewer rows
        self.tails = tails  # fit only: the rows past protected edges are drawn from tails past them
        # fit only: choose each continuous piece's fewest rows per bin on held-out rows (folds so seeded)
        self.held_out_seed = held_out_seed
        self.finest = frozenset(finest)  # fit only: columns kept at min_count rows per bin all the same
        self.piece_rows: dict[str, int] = {}  # the fewest rows per bin and sub-bin, by continuous piece
        self.sub_bins = sub_bins
        self.min_count = min_count
        self.max_exact = max_exact
        self.subcolumns: list[SubColumn] = []
        self.domain = Domain()
        self._continuous: dict[str, _Continuous] = {}  # by piece: a sub-column, "<sub>@day", "<sub>@time"
        self._dates: dict[str, DateParts] = {}

    # --- learning -------------------------------------------------------------------------------
    def fit(
        self, parts: Mapping[str, np.ndarray], subcolumns: list[SubColumn], *, dates: Collection[str] = ()
    ) -> Discretiser:
        """Learn the pieces; ``dates`` names continuous sub-columns of seconds since the epoch."""
        self.subcolumns = list(subcolumns)
        self._continuous, self._dates, self.piece_rows = {}, {}, {}
        for sub in subcolumns:
            if sub.discrete:
                continue
            x = np.asarray(parts[sub.name], dtype="float64")
            if sub.name not in dates:
                self._continuous[sub.name] = self._with_tails(
                    self._fit_continuous(x, sub.name, sub.column), x
                )
                continue
            x = x[np.isfinite(x)]
            layout = self._dates[sub.name] = DateParts.learn(x, min_count=self.min_count)
            for part, values in layout.split(x).items():
                if part != WEEKDAY:
                    piece = f"{sub.name}@{part}"
                    self._continuous[piece] = self._fit_continuous(values, piece, sub.column)
        self._layout()
        return self

    def _fewest_rows(self, x: np.ndarray, piece: str, column: str) -> int:
        """The fewest rows a bin or sub-bin of ``x`` (sorted, finite) describes: ``min_count``, or with
        ``held_out_seed`` (and ``column`` not among the ``finest``) the rows per bin of the
        equal-mass histogram whose bin count
        (:func:`~mirage.encoding.marginal.held_out_knot_count`, at most ``n_bins * sub_bins`` bins)
        gives held-out rows the highest likelihood, when that is more."""
        if self.held_out_seed is None or x.size == 0 or column in self.finest:
            return self.min_count
        seed = int(np.random.SeedSequence([self.held_out_seed, *piece.encode()]).generate_state(1)[0])
        knots = held_out_knot_count(x, self.min_count, self.n_bins * self.sub_bins + 1, seed)
        rows = max(self.min_count, int(np.ceil(x.size / max(1, knots - 1))))
        self.piece_rows[piece] = rows
        return rows

    def _fit_continuous(self, x: np.ndarray, piece: str, column: str) -> _Continuous:
        x = np.sort(x[np.isfinite(x)])
        if x.size == 0:
            x = np.zeros(1)
        n, m = x.size, self._fewest_rows(x, piece, column)
        few_values = np.unique(x).size <= self.max_exact
        spike = m if few_values else max(m, int(np.ceil(n / self.n_bins)))
        bins = cut(x, parts=self.n_bins, min_count=m, spike_count=spike, protect=self.protect)
        which = bins.assign(x)
        subs: list[Pieces] = []
        for k in range(bins.lo.size):
            if bins.lo[k] == bins.hi[k]:
                subs.append(Pieces(bins.lo[k : k + 1], bins.hi[k : k + 1], np.ones(1, dtype=bool)))
                continue
            inside = x[which == k]
            if inside.size == 0:
                subs.append(Pieces(bins.lo[k : k + 1], bins.hi[k : k + 1], bins.closed[k : k + 1]))
                continue
            spike_k = max(m, int(np.ceil(inside.size / self.sub_bins)))
            subs.append(
                cut(
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

    def _with_tails(self, cont: _Continuous, x: np.ndarray) -> _Continuous:
        """``cont`` with the tails of ``x`` past its outer edges, when asked for (``tails``) and the edges
        protect values (``protect`` > 1); their shares are of the end sub-bins, where the rows past the
        edges fall."""
        low, high = cont.edges
        if not self.tails or self.protect <= 1 or not np.isfinite(low):
            return cont
        x = x[np.isfinite(x)]
        points = cont.bins.lo[cont.bins.lo == cont.bins.hi]
        rest = x[~np.isin(x, points)]
        tails = Tails.fit(rest, low, high)
        if not tails.any:
            return cont
        codes = np.column_stack(_encode_piece(cont, x))
        sides = []
        for tail, past in ((tails.low, rest < low), (tails.high, rest > high)):
            if tail.share == 0:
                sides.append(Tail())
                continue
            end = np.column_stack(_encode_piece(cont, rest[past][:1]))[0]
            held = int(np.all(codes == end, axis=1).sum())
            sides.append(dataclasses.replace(tail, share=int(past.sum()) / max(held, 1)))
        return dataclasses.replace(cont, tails=Tails(sides[0], sides[1]))

    def _layout(self) -> None:
        tokens: list[Token] = []
        for sub in self.subcolumns:
            if sub.discrete:
                tokens.append(
                    Token(f"{sub.name}#{ROLE_CODE}", sub.name, sub.column, ROLE_CODE, max(1, sub.cardinality))
                )
            elif sub.name in self._dates:
                layout = self._dates[sub.name]
                for part in layout.names:
                    if part == WEEKDAY:
                        cardinality = len(layout.weekdays)
                        tokens.append(
                            Token(
                                f"{sub.name}#{ROLE_WEEKDAY}", sub.name, sub.column, ROLE_WEEKDAY, cardinality
                            )
                        )
                    else:
                        tokens.extend(self._piece_tokens(sub, f"{sub.name}@{part}"))
            else:
                tokens.extend(self._piece_tokens(sub, sub.name))
        self.domain = Domain(tuple(tokens))

    def _piece_tokens(self, sub: SubColumn, piece: str) -> list[Token]:
        """The bin token of a continuous piece and, when any bin is split, its sub-bin token."""
        cont = self._continuous[piece]
        out = [Token(f"{piece}#{ROLE_BIN}", sub.name, sub.column, ROLE_BIN, cont.bins.lo.size, piece)]
        if cont.width > 1:
            out.append(Token(f"{piece}#{ROLE_SUB}", sub.name, sub.column, ROLE_SUB, cont.width, piece))
        return out

    # --- the codes each token may take, for engines (the tokens themselves: ``domain``) ------------
    def code_valid(self, j: int) -> np.ndarray | None:
        """For a weekday token ``j``: the weekdays it may take (seen in >= min_count rows); else None."""
        token = self.domain[j]
        if token.role != ROLE_WEEKDAY:
            return None
        return np.array(self._dates[token.subcolumn].weekdays, dtype=bool)

    def sub_bin_valid(self, j: int) -> np.ndarray | None:
        """For a sub-bin token ``j``: a (bins, sub-bins) mask of the sub-bins each bin has; else None."""
        token = self.domain[j]
        if token.role != ROLE_SUB:
            return None
        cont = self._continuous[token.piece]
        return np.arange(cont.width)[None, :] < cont.n_sub[:, None]

    def range_codes(self, j: int, low: float, high: float) -> np.ndarray | None:
        """The codes of token ``j`` whose pieces can hold a value of its sub-column in ``[low, high]``
        (a superset: a piece that only touches the range counts).  A bin token gives a mask of its
        bins, a sub-bin token a (bins, sub-bins) mask; None for other tokens and for a date's weekday
        and time of day (the range bounds only the day)."""
        token = self.domain[j]
        if token.role not in (ROLE_BIN, ROLE_SUB):
            return None
        if token.subcolumn in self._dates:
            if token.piece != f"{token.subcolumn}@{DAY}":
                return None
            low, high = float(np.floor(low / SECONDS_PER_DAY)), float(np.floor(high / SECONDS_PER_DAY))
        cont = self._continuous[token.piece]
        if token.role == ROLE_BIN:
            return np.asarray((cont.bins.lo <= high) & (cont.bins.hi >= low), dtype=bool)
        with np.errstate(invalid="ignore"):
            inside = (cont.lo <= high) & (cont.hi >= low)
        return np.asarray(inside & (np.arange(cont.width)[None, :] < cont.n_sub[:, None]), dtype=bool)

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
            for part, values in self._dates[sub.name].split(x).items():
                if part == WEEKDAY:
                    columns.append(values)
                else:
                    columns.extend(_encode_piece(self._continuous[f"{sub.name}@{part}"], values))
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
                cont = self._continuous[sub.name]
                lo, hi, closed, j = _decode_piece(cont, tokens, j)
                out[sub.name] = draw_within(lo, hi, closed, cont.integer, rng, cont.points)
                if cont.tails.any:
                    out[sub.name] = _draw_tails(cont, lo, hi, out[sub.name], rng)
                continue
            layout = self._dates[sub.name]
            lo, hi, closed, j = _decode_piece(self._continuous[f"{sub.name}@{DAY}"], tokens, j)
            weekday = None
            if layout.weekday:
                weekday, j = tokens[:, j], j + 1
            day = layout.draw_day(lo, hi, closed, weekday, rng)
            time = None
            if layout.time:
                cont = self._continuous[f"{sub.name}@{TIME}"]
                lo, hi, closed, j = _decode_piece(cont, tokens, j)
                time = draw_within(lo, hi, closed, cont.integer, rng)
            out[sub.name] = layout.join(day, time)
        return out

    # --- persistence -----------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "n_bins": self.n_bins,
            "sub_bins": self.sub_bins,
            "min_count": self.min_count,
            "max_exact": self.max_exact,
            "piece_rows": dict(self.piece_rows),
            "subcolumns": [asdict(s) for s in self.subcolumns],
            "integer": {name: c.integer for name, c in self._continuous.items()},
            "dates": {name: layout.to_dict() for name, layout in self._dates.items()},
        }
        arrays: dict[str, np.ndarray] = {}
        for prefix, piece in self._array_prefixes():
            c = self._continuous[piece]
            arrays[f"{prefix}bin_lo"], arrays[f"{prefix}bin_hi"] = c.bins.lo, c.bins.hi
            arrays[f"{prefix}bin_closed"] = c.bins.closed.astype("uint8")
            arrays[f"{prefix}lo"], arrays[f"{prefix}hi"] = c.lo, c.hi
            arrays[f"{prefix}closed"] = c.closed.astype("uint8")
            arrays[f"{prefix}n_sub"] = c.n_sub
            if c.tails.any:
                arrays[f"{prefix}tails"] = c.tails.to_array()
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
            parts = [part for part in self._dates[sub.name].names if part != WEEKDAY]
            out.extend((f"{i}.{part}.", f"{sub.name}@{part}") for part in parts)
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
                self._dates[name] = DateParts.from_dict(layout)
        integer = require_mapping(require(state, "integer"), "integer")
        for prefix, piece in self._array_prefixes():
            with within("integer"):
                flag = require_bool(integer, piece)
            self._continuous[piece] = _restore_piece(arrays, prefix, flag)
        piece_rows = require_mapping(state.get("piece_rows", {}), "piece_rows")
        for piece in piece_rows:
            if piece not in self._continuous:
                raise StateError(f"piece_rows.{piece}", "not a continuous piece of this discretiser")
            with within("piece_rows"):
                self.piece_rows[piece] = require_int(piece_rows, piece, low=self.min_count)
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
    tails = Tails.from_arrays(arrays, f"{prefix}tails", of_whole=False)
    return _Continuous(Pieces(bin_lo, bin_hi, bin_closed), lo, hi, closed, n_sub, integer, tails)


def _draw_tails(
    cont: _Continuous, lo: np.ndarray, hi: np.ndarray, drawn: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``drawn`` with the share of each end sub-bin's rows that lay past its outer edge drawn from that
    side's tail (:mod:`mirage.encoding._tails`), rounded up past the edge for integers."""
    low, high = cont.edges
    pick, s = rng.random(drawn.size), rng.random(drawn.size)
    out = drawn.copy()
    sides = (
        (cont.tails.low, (lo == low) & (lo < hi), -1.0, low),
        (cont.tails.high, (hi == high) & (lo < hi), 1.0, high),
    )
    for tail, end, sign, edge in sides:
        rows = end & (pick < tail.share)
        if not rows.any():
            continue
        excess = tail.excess(s[rows])
        out[rows] = edge + sign * (np.ceil(excess) if cont.integer else excess)
    return out


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
