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

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mirage.control._cells import (
    SHARE_TOLERANCE,
    Group,
    learned_values,
    match_value,
    require_rows,
    resolve_seed,
    sample_cells,
)
from mirage.errors import OptionError

if TYPE_CHECKING:
    from mirage.encoding.categorical import CategoricalCodec
    from mirage.engines import Synthesizer

__all__ = ["fair_groups", "rebalance_groups", "sample_controlled", "sample_fair", "sample_rebalanced"]


def _all_values(codec: CategoricalCodec) -> list[Any]:
    return [*codec.categories, *([None] if codec.missing.present else [])]


def _label(value: Any) -> str:
    return "(missing)" if value is None else str(value)


def rebalance_groups(model: Synthesizer, column: str, shares: Any) -> list[Group]:
    """The groups of one column's target ``shares`` ({value: share}), the rest as one more group."""
    option = f"rebalance[{column!r}]"
    codec = learned_values(model, column, option)
    if not isinstance(shares, Mapping) or not shares:
        raise OptionError(f"{option} must map values to shares, e.g. {{'yes': 0.5}}, got {shares!r}")
    groups: list[Group] = []
    named: list[Any] = []
    for value, share in shares.items():
        if isinstance(share, bool) or not isinstance(share, (int, float, np.number)) or not 0 <= share <= 1:
            raise OptionError(f"{option}: the share of {value!r} must be a number from 0 to 1, got {share!r}")
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
) -> pd.DataFrame:
    """``n`` rows where each named value of each column has exactly its share of the rows (rounded by
    the largest-remainder method); see the module's docstring for the rest and for several columns."""
    model._require_fitted()
    n = require_rows(n)
    if not isinstance(rebalance, Mapping) or not rebalance:
        raise OptionError(f"rebalance must map columns to {{value: share}}, got {rebalance!r}")
    columns = [rebalance_groups(model, str(column), shares) for column, shares in rebalance.items()]
    return sample_cells(model, n, columns, seed=resolve_seed(seed), conditions=conditions)


def sample_fair(
    model: Synthesizer,
    n: int,
    fair: Mapping[str, str],
    *,
    seed: int | None = None,
    conditions: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """``n`` rows whose ``fair["outcome"]`` column is independent of its ``fair["protected"]`` column:
    each (protected, outcome) cell holds ``n * P(protected) * P(outcome)`` rows (learned shares)."""
    model._require_fitted()
    n = require_rows(n)
    if not isinstance(fair, Mapping) or set(fair) != {"outcome", "protected"}:
        raise OptionError(f"fair must be {{'outcome': COLUMN, 'protected': COLUMN}}, got {fair!r}")
    outcome, protected = fair["outcome"], fair["protected"]
    if outcome == protected:
        raise OptionError(f"fair: the outcome and the protected column are both {outcome!r}")
    columns = [
        fair_groups(model, protected, "fair['protected']"),
        fair_groups(model, outcome, "fair['outcome']"),
    ]
    return sample_cells(model, n, columns, seed=resolve_seed(seed), conditions=conditions)


def sample_controlled(
    model: Synthesizer,
    n: int | None,
    *,
    seed: int | None,
    conditions: Mapping[str, Any] | None,
    context: Any,
    rebalance: Mapping[str, Mapping[Any, float]] | None,
    fair: Mapping[str, str] | None,
) -> pd.DataFrame:
    """``Synthesizer.sample`` with ``rebalance`` or ``fair``."""
    if rebalance is not None and fair is not None:
        raise OptionError("give rebalance or fair, not both")
    if context is not None:
        raise OptionError("rebalance and fair cannot be combined with a context yet")
    rows = require_rows(n)
    if rebalance is not None:
        return sample_rebalanced(model, rows, rebalance, seed=seed, conditions=conditions)
    assert fair is not None
    return sample_fair(model, rows, fair, seed=seed, conditions=conditions)
