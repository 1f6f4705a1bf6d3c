"""Rebalancing (target shares for column values) and fairness (an outcome independent of a protected
column), both drawn as exact cells with the conditions API (:mod:`mirage.control._cells`).

Rebalancing: ``{"income": {">50K": 0.5}}`` gives the named values their shares exactly; the column's
other values (and its missing values) share the rest of the rows as the model draws them given that
the value is none of the named ones, so in their learned proportions.  Several columns combine into
cells whose shares are the products of the columns' shares: the rebalanced columns are drawn
independent of each other, every other column follows the model given the cell.

Fairness: ``{"outcome": "income", "protected": "sex"}`` draws each (protected value, outcome value)
cell in ``n * P(protected) * P(outcome)`` rows, with the learned (training) proportions.  It keeps
both columns' marginal shares and, within each cell, the model's distribution of every other column
given the two; it changes the association between the outcome and the protected column (now none),
and so the overall distribution of the columns that depend on either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mirage.control._cells import (
    SHARE_TOLERANCE,
    Group,
    Outside,
    cell_chunks,
    learned_values,
    match_value,
    require_rows,
    resolve_seed,
    sample_cells,
)
from mirage.engines._conditions import Between
from mirage.errors import OptionError
from mirage.schema import Column, Kind

if TYPE_CHECKING:
    from mirage.encoding.categorical import CategoricalCodec
    from mirage.engines import Synthesizer

__all__ = [
    "controlled_chunks",
    "fair_groups",
    "joint_groups",
    "range_groups",
    "rebalance_groups",
    "sample_controlled",
    "sample_fair",
    "sample_rebalanced",
]

PILOT_ROWS = 10_000  # rows drawn to estimate the joint shares of several protected columns


def _all_values(codec: CategoricalCodec) -> list[Any]:
    return [*codec.categories, *([None] if codec.missing.present else [])]


def _label(value: Any) -> str:
    return "(missing)" if value is None else str(value)


def _check_share(option: str, value: Any, share: Any) -> float:
    if isinstance(share, bool) or not isinstance(share, (int, float, np.number)) or not 0 <= share <= 1:
        raise OptionError(f"{option}: the share of {value!r} must be a number from 0 to 1, got {share!r}")
    return float(share)


def _as_range(value: Any, column: Column, option: str) -> Between:
    """A range key of a numeric or datetime column: a ``(low, high)`` tuple, a ``Between``, or text
    ``"low..high"`` (either end may be left out), resolved against the column."""
    if isinstance(value, str) and ".." in value:
        low, _, high = value.partition("..")
        value = (low.strip() or None, high.strip() or None)
    if isinstance(value, tuple) and len(value) == 2:
        value = Between(*value)
    if not isinstance(value, Between):
        raise OptionError(
            f"{option}: column {column.name!r} is {column.kind.value}; shares are given per range: "
            f"a (low, high) tuple, Between(low, high) or 'low..high', got {value!r}"
        )
    try:
        resolved = value.resolved(column)
    except OptionError as exc:
        raise OptionError(f"{option}: {exc}") from None
    assert isinstance(resolved, Between)
    return resolved


def _range_label(between: Between) -> str:
    low = "" if between.low is None else between.low
    high = "" if between.high is None else between.high
    return f"[{low}, {high}]"


def _overlap(a: Between, b: Between) -> bool:
    def below(x: Between, y: Between) -> bool:  # every value of x is under every value of y
        return x.high is not None and y.low is not None and x.high < y.low

    return not (below(a, b) or below(b, a))


def range_groups(model: Synthesizer, column: str, shares: Mapping[Any, Any], option: str) -> list[Group]:
    """The groups of a numeric or datetime column's target ``shares`` ({(low, high): share}, both ends
    included); the values in none of the ranges (and missing values) share the rest as learned."""
    spec = model.schema_[column]
    groups: list[Group] = []
    ranges: list[Between] = []
    for value, share in shares.items():
        between = _as_range(value, spec, option)
        for other in ranges:
            if _overlap(between, other):
                raise OptionError(
                    f"{option}: the ranges {_range_label(other)} and {_range_label(between)} overlap"
                )
        ranges.append(between)
        label = _range_label(between)
        groups.append(Group(column, (), _check_share(option, value, share), label, condition=between))
    total = sum(g.share for g in groups)
    if total > 1 + SHARE_TOLERANCE:
        raise OptionError(f"{option}: the shares add up to {total:g}, over 1")
    left = max(0.0, 1.0 - total)
    if left > SHARE_TOLERANCE:
        groups.append(Group(column, (), left, "(other values)", condition=Outside(ranges)))
    return groups


def rebalance_groups(model: Synthesizer, column: str, shares: Any) -> list[Group]:
    """The groups of one column's target ``shares`` ({value: share}, or {(low, high): share} on a
    numeric or datetime column), the rest as one more group."""
    option = f"rebalance[{column!r}]"
    if not isinstance(shares, Mapping) or not shares:
        raise OptionError(f"{option} must map values to shares, e.g. {{'yes': 0.5}}, got {shares!r}")
    schema = model.schema_
    if column in schema.names and schema[column].kind in (Kind.NUMERIC, Kind.DATETIME):
        return range_groups(model, column, shares, option)
    codec = learned_values(model, column, option)
    groups: list[Group] = []
    named: list[Any] = []
    for value, share in shares.items():
        _check_share(option, value, share)
        matched = match_value(value, codec, option)
        if matched in named:
            raise OptionError(f"{option}: value {value!r} is given twice")
        named.append(matched)
        groups.append(Group(column, (matched,), float(share), _label(matched)))
    total = sum(g.share for g in groups)
    if total > 1 + SHARE_TOLERANCE:
        raise OptionError(f"{option}: the shares add up to {total:g}, over 1")
    rest = [v for v in _all_values(codec) if v not in named]
    left = max(0.0, 1.0 - total)
    if left > SHARE_TOLERANCE:
        if not rest:
            raise OptionError(
                f"{option}: the shares add up to {total:g} but name every value of the column; "
                "they must add up to 1"
            )
        groups.append(Group(column, tuple(rest), left, "(other values)"))
    return groups


def fair_groups(model: Synthesizer, column: str, option: str) -> list[Group]:
    """One group per value the model learned, with its training share; the rows in none of them
    (rare values folded together, missing values) form one more group."""
    codec = learned_values(model, column, option)
    groups = [
        Group(column, (value,), count / model.n_training_rows_, _label(value))
        for value, count in zip(codec.categories, codec.counts, strict=True)
        if count > 0
    ]
    left = model.n_training_rows_ - sum(codec.counts)
    rest = [v for v, c in zip(codec.categories, codec.counts, strict=True) if c == 0]
    rest += [None] if codec.missing.present else []
    if left > 0 and rest:
        groups.append(Group(column, tuple(rest), left / model.n_training_rows_, "(other values)"))
    return groups


def sample_rebalanced(
    model: Synthesizer,
    n: int,
    rebalance: Mapping[str, Mapping[Any, float]],
    *,
    seed: int | None = None,
    conditions: Mapping[str, Any] | None = None,
    scenario: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """``n`` rows where each named value of each column has exactly its share of the rows (rounded by
    the largest-remainder method); see the module's docstring for the rest and for several columns."""
    model._require_fitted()
    n = require_rows(n)
    return sample_cells(
        model, n, _rebalance_columns(model, rebalance), seed=resolve_seed(seed), conditions=conditions,
        scenario=scenario,
    )  # fmt: skip


def _rebalance_columns(model: Synthesizer, rebalance: Any) -> list[list[Group]]:
    if not isinstance(rebalance, Mapping) or not rebalance:
        raise OptionError(f"rebalance must map columns to {{value: share}}, got {rebalance!r}")
    return [rebalance_groups(model, str(column), shares) for column, shares in rebalance.items()]


def sample_fair(
    model: Synthesizer,
    n: int,
    fair: Mapping[str, Any],
    *,
    seed: int | None = None,
    conditions: Mapping[str, Any] | None = None,
    scenario: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """``n`` rows whose ``fair["outcome"]`` column is independent of its ``fair["protected"]`` column:
    each (protected, outcome) cell holds ``n * P(protected) * P(outcome)`` rows (learned shares).

    ``fair["protected"]`` may list several columns: the outcome is then independent of their
    combinations (intersectional groups), whose shares are the model's joint ones."""
    model._require_fitted()
    n = require_rows(n)
    seed = resolve_seed(seed)
    columns = _fair_columns(model, fair, seed)
    return sample_cells(model, n, columns, seed=seed, conditions=conditions, scenario=scenario)


def _fair_columns(model: Synthesizer, fair: Any, seed: int) -> list[list[Group]]:
    if not isinstance(fair, Mapping) or set(fair) != {"outcome", "protected"}:
        raise OptionError(f"fair must be {{'outcome': COLUMN, 'protected': COLUMN}}, got {fair!r}")
    outcome, protected = fair["outcome"], _protected_columns(fair["protected"])
    if outcome in protected:
        raise OptionError(f"fair: the outcome and a protected column are both {outcome!r}")
    if len(protected) == 1:
        groups = fair_groups(model, protected[0], "fair['protected']")
    else:
        groups = joint_groups(model, protected, seed)
    return [groups, fair_groups(model, outcome, "fair['outcome']")]


def _protected_columns(protected: Any) -> list[str]:
    """``fair["protected"]``: a column, or a list of columns (their combinations are the groups)."""
    names = [protected] if isinstance(protected, str) else protected
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(name, str) for name in names):
        raise OptionError(f"fair['protected'] must be a column or a list of columns, got {protected!r}")
    if len(set(names)) < len(names):
        raise OptionError(f"fair['protected'] names a column twice: {list(names)!r}")
    return list(names)


def joint_groups(model: Synthesizer, columns: list[str], seed: int) -> list[Group]:
    """One group per combination of the protected ``columns``' groups, with its share of the model's own
    rows (a seeded draw of ``PILOT_ROWS``: the model file keeps each column's shares, not their joint)."""
    per_column = [fair_groups(model, column, f"fair['protected'] column {column!r}") for column in columns]
    pilot = model.sample(PILOT_ROWS, seed=int(np.random.SeedSequence([seed, 3]).generate_state(1)[0]))
    index = np.full((len(pilot), len(columns)), -1)
    for k, groups in enumerate(per_column):
        for g, group in enumerate(groups):
            hit = group.given()[group.column].mask(pilot[group.column]) & (index[:, k] < 0)
            index[hit, k] = g
    seen = index[(index >= 0).all(axis=1)]
    if seen.size == 0:
        raise OptionError(f"fair['protected']: the model draws no combination of {columns!r}")
    combinations, counts = np.unique(seen, axis=0, return_counts=True)
    out = []
    for combination, count in zip(combinations, counts, strict=True):
        members = [per_column[k][g] for k, g in enumerate(combination)]
        label = ", ".join(f"{m.column}={m.label}" for m in members)
        also = tuple((m.column, m.given()[m.column]) for m in members[1:])
        first = members[0]
        out.append(Group(first.column, first.values, int(count) / len(seen), label, also=also))
    return out


def sample_controlled(
    model: Synthesizer,
    n: int | None,
    *,
    seed: int | None,
    conditions: Mapping[str, Any] | None,
    context: Any,
    rebalance: Mapping[str, Mapping[Any, float]] | None,
    fair: Mapping[str, Any] | None,
    scenario: Mapping[str, Any] | None = None,
    block: int | None = None,
) -> pd.DataFrame:
    """``Synthesizer.sample`` with ``rebalance`` or ``fair``."""
    chunks = list(
        controlled_chunks(
            model, n, seed=seed, conditions=conditions, context=context, rebalance=rebalance, fair=fair,
            scenario=scenario, block=block,
        )
    )  # fmt: skip
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


def controlled_chunks(
    model: Synthesizer,
    n: int | None,
    *,
    seed: int | None,
    conditions: Mapping[str, Any] | None,
    context: Any,
    rebalance: Mapping[str, Mapping[Any, float]] | None,
    fair: Mapping[str, Any] | None,
    scenario: Mapping[str, Any] | None = None,
    block: int | None = None,
) -> Iterator[pd.DataFrame]:
    """``Synthesizer.sample_chunks`` with ``rebalance`` or ``fair``: the rows in blocks (see
    :func:`mirage.control._cells.cell_chunks`); every option is checked before the first block."""
    if rebalance is not None and fair is not None:
        raise OptionError("give rebalance or fair, not both")
    if context is not None:
        raise OptionError(
            "rebalance and fair cannot be combined with a context yet (one row is drawn per context "
            "row, so the shares are not free to set); sample with one of them"
        )
    model._require_fitted()
    rows = require_rows(n)
    drawn_seed = resolve_seed(seed)
    if rebalance is not None:
        columns = _rebalance_columns(model, rebalance)
    else:
        columns = _fair_columns(model, fair, drawn_seed)
    return cell_chunks(
        model, rows, columns, seed=drawn_seed, conditions=conditions, scenario=scenario, block=block
    )
