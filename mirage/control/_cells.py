"""Exact row counts for groups of column values, and the draw of each group with the conditions API.

A *group* is a set of values of one categorical or boolean column with a target share of the rows.
Several columns' groups combine into *cells* (every combination, its share the product of its groups'
shares): each cell is drawn with ``model.sample(count, conditions=...)`` on all its columns at once,
then the cells' rows are shuffled together.  Counts are whole rows: each column's groups get their
counts by the largest-remainder method, and the cells are rounded so that every column's group counts
are met exactly (a controlled rounding: an integral transportation problem, solved as a linear
programme whose vertex solutions are whole numbers).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mirage.engines._conditions import Between, Condition, OneOf
from mirage.errors import MirageError, OptionError
from mirage.schema import Kind

if TYPE_CHECKING:
    from mirage.encoding.categorical import CategoricalCodec
    from mirage.engines import Synthesizer

__all__ = [
    "Group",
    "Outside",
    "ValuesOf",
    "cell_chunks",
    "cell_counts",
    "largest_remainder",
    "learned_values",
    "resolve_seed",
    "sample_cells",
]

SHARE_TOLERANCE = 1e-9


class ValuesOf(OneOf):
    """Any of ``values``, where ``None`` stands for a missing value (``OneOf`` compares values only)."""

    def mask(self, values: pd.Series) -> np.ndarray:
        present = [v for v in self if v is not None]
        mask = values.isin(present).to_numpy(dtype=bool, copy=True)
        if len(present) < len(self):
            mask |= values.isna().to_numpy()
        return mask


class Outside(Condition):
    """A value in none of ``ranges`` (resolved ``Between`` conditions), a missing value included: the
    rows a rebalancing by ranges leaves to share the rest (met by the row filter)."""

    def __init__(self, ranges: Sequence[Between]) -> None:
        self.ranges = tuple(ranges)

    def __repr__(self) -> str:
        return f"Outside({list(self.ranges)!r})"

    def mask(self, values: pd.Series) -> np.ndarray:
        inside = np.zeros(len(values), dtype=bool)
        for between in self.ranges:
            inside |= between.mask(values)
        return ~inside


@dataclass(frozen=True)
class Group:
    """Rows of ``column`` whose value is one of ``values`` (None: missing), ``share`` of the rows;
    ``condition``, when given, says which rows instead (a range of a numeric or datetime column)."""

    column: str
    values: tuple[Any, ...]
    share: float
    label: str
    condition: Condition | None = None
    also: tuple[tuple[str, Condition], ...] = ()  # conditions on more columns (a joint group)

    def given(self) -> dict[str, Condition]:
        """The conditions its rows are drawn with."""
        own = ValuesOf(self.values) if self.condition is None else self.condition
        return {self.column: own, **dict(self.also)}


def resolve_seed(seed: int | None) -> int:
    if seed is None:
        return int(np.random.SeedSequence().generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def require_rows(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise OptionError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


def learned_values(model: Synthesizer, column: str, option: str) -> CategoricalCodec:
    """The fitted codec of ``column``, which must be a learned categorical or boolean column."""
    from mirage.encoding.categorical import CategoricalCodec

    schema = model.schema_
    if column not in schema.names:
        raise OptionError(f"{option}: unknown column {column!r} (columns: {', '.join(schema.names)})")
    kind = schema[column].kind
    if kind in (Kind.NUMERIC, Kind.DATETIME):
        raise OptionError(
            f"{option}: column {column!r} is {kind.value}; shares are given per category: bin it into a "
            "categorical column before fitting, or draw a range with "
            f"conditions={{{column!r}: Between(low, high)}}"
        )
    codec = next((c for c in model.encoder_.codecs if c.column.name == column), None)
    if not kind.learned or not isinstance(codec, CategoricalCodec):
        raise OptionError(f"{option}: column {column!r} is {kind.value}, not a learned categorical column")
    return codec


def match_value(value: Any, codec: CategoricalCodec, option: str) -> Any:
    """The category ``value`` names: itself, or the one category written the same way (``"True"``)."""
    from mirage.encoding.categorical import RARE_TOKEN

    column = codec.column.name
    if value is None:
        if not codec.missing.present:
            raise OptionError(f"{option}: column {column!r} has no missing values in this model")
        return None
    for category in codec.categories:
        if category == value and isinstance(category, bool) == isinstance(value, bool):
            if category == RARE_TOKEN:
                break
            return category
    written = [c for c in codec.categories if str(c) == str(value) and c != RARE_TOKEN]
    if len(written) == 1:
        return written[0]
    known = ", ".join(repr(c) for c in codec.categories if c != RARE_TOKEN)
    raise OptionError(
        f"{option}: column {column!r} has no value {value!r} this model can generate (never seen, or seen "
        f"in fewer than rare_min_count rows and folded into the rare class); known values: {known}"
    )


def largest_remainder(n: int, shares: Sequence[float]) -> np.ndarray:
    """Whole counts summing to ``n``, each the floor of ``n * share`` plus one for the largest remainders."""
    weights = np.asarray(shares, dtype="float64")
    total = weights.sum()
    exact = n * weights / total if total > 0 else np.zeros_like(weights)
    counts = np.floor(exact + SHARE_TOLERANCE).astype("int64")
    left = n - int(counts.sum())
    if left > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:left]] += 1
    return counts


def _controlled_rounding(exact: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Whole numbers, each the floor or ceiling of ``exact`` (a matrix), with the given row and column
    sums (whole numbers, the rounded sums of ``exact``)."""
    from scipy.optimize import linprog

    floor = np.floor(exact + SHARE_TOLERANCE)
    fraction = np.clip(exact - floor, 0.0, 1.0)
    k, m = exact.shape
    a_rows = np.kron(np.eye(k), np.ones((1, m)))
    a_columns = np.kron(np.ones((1, k)), np.eye(m))
    need = np.concatenate([rows - floor.sum(axis=1), columns - floor.sum(axis=0)])
    bounds = [(0.0, 1.0 if f > SHARE_TOLERANCE else 0.0) for f in fraction.ravel()]
    # the cost of rounding a cell up rather than down: the matrix is totally unimodular, so the
    # simplex's optimal vertex is whole
    result = linprog(
        1.0 - 2.0 * fraction.ravel(),
        A_eq=np.vstack([a_rows, a_columns]),
        b_eq=need,
        bounds=bounds,
        method="highs",
    )
    if result.status != 0:
        raise MirageError(f"no whole row counts meet every share ({result.message})")
    counts = floor + np.rint(result.x).reshape(k, m)
    if not (np.array_equal(counts.sum(axis=1), rows) and np.array_equal(counts.sum(axis=0), columns)):
        raise MirageError("no whole row counts meet every share")
    return counts.astype("int64")


def cell_counts(n: int, shares: Sequence[Sequence[float]]) -> np.ndarray:
    """Rows per cell (an array with one axis per column): the cells' shares are the products of their
    groups' shares, and every column's group counts are exactly its ``largest_remainder`` counts."""
    counts = largest_remainder(n, shares[0])
    for axis_shares in shares[1:]:
        weights = np.asarray(axis_shares, dtype="float64")
        weights = weights / weights.sum()
        flat = counts.reshape(-1)
        exact = np.outer(flat, weights)
        targets = largest_remainder(n, weights)
        counts = _controlled_rounding(exact, flat, targets).reshape(*counts.shape, len(weights))
    return counts


def sample_cells(
    model: Synthesizer,
    n: int,
    columns: Sequence[Sequence[Group]],
    *,
    seed: int,
    conditions: Mapping[str, Any] | None = None,
    scenario: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """``n`` rows, the cells of ``columns``' groups drawn with the conditions API in their exact counts,
    then shuffled; ``conditions`` (on other columns) hold in every row; ``scenario``: each cell drawn
    from the scenario's population."""
    chunks = list(cell_chunks(model, n, columns, seed=seed, conditions=conditions, scenario=scenario))
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


def cell_chunks(
    model: Synthesizer,
    n: int,
    columns: Sequence[Sequence[Group]],
    *,
    seed: int,
    conditions: Mapping[str, Any] | None = None,
    scenario: Mapping[str, Any] | None = None,
    block: int | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows of :func:`sample_cells` in blocks of ``block`` rows, so that
    no more than a block is held at once: each cell's count is split across the blocks in proportion
    to their sizes (rounded so that every cell's and every block's count is exact), and each block's
    rows are shuffled together (None: one block).  One block gives exactly the rows of a single draw.
    Bad options are refused here, before any row is drawn."""
    conditions = dict(conditions or {})
    clash = [name for groups in columns for name in groups[0].given() if name in conditions]
    if clash:
        raise OptionError(
            f"column {clash[0]!r} is both conditioned and given shares; give it one or the other"
        )
    counts = cell_counts(n, [[g.share for g in groups] for groups in columns])
    step = max(n, 1) if block is None else block
    sizes = np.array([min(step, n - start) for start in range(0, max(n, 1), step)], dtype="int64")
    flat = counts.reshape(-1)
    per_block = (
        flat[:, None] if sizes.size == 1 else _controlled_rounding(np.outer(flat, sizes) / n, flat, sizes)
    )
    cells = list(np.ndindex(counts.shape))
    return _draw_blocks(model, columns, cells, per_block, seed, conditions, scenario)


def _draw_blocks(
    model: Synthesizer,
    columns: Sequence[Sequence[Group]],
    cells: list[tuple[int, ...]],
    per_block: np.ndarray,
    seed: int,
    conditions: dict[str, Any],
    scenario: Mapping[str, Any] | None,
) -> Iterator[pd.DataFrame]:
    single = per_block.shape[1] == 1
    for b in range(per_block.shape[1]):
        frames = []
        for index, cell in enumerate(cells):
            size = int(per_block[index, b])
            if size == 0:
                continue
            given = dict(conditions)
            for groups, g in zip(columns, cell, strict=True):
                given.update(groups[g].given())
            key = [seed, 1, index] if single else [seed, 1, index, b]
            cell_seed = int(np.random.SeedSequence(key).generate_state(1)[0])
            frames.append(model.sample(size, seed=cell_seed, conditions=given, scenario=scenario))
        if not frames:
            yield model.sample(0, seed=seed)
            continue
        rows = pd.concat(frames, ignore_index=True)
        shuffle = np.random.SeedSequence([seed, 2] if single else [seed, 2, b])
        order = np.random.default_rng(shuffle).permutation(len(rows))
        yield rows.iloc[order].reset_index(drop=True)
