"""Scenarios for ``sample(scenario=...)``: draw rows under an intervention on some columns and let the
engine redraw the columns that depend on them, so a "what if" population keeps its learned links.

``scenario`` maps an intervention to its columns:

* ``{"shift": {"rate": 2.0}}`` adds 2.0 to every drawn value of a numeric column (kept within the
  values the model learned: decoding never leaves that range, so a shift past it piles at the end);
* ``{"set": {"region": "North"}}`` gives every row that value (any learned column);
* ``{"share": {"segment": {"retail": 0.3}}}`` makes 30% of the rows ``retail``; the other rows keep
  the other values in the proportions the model draws them.

Each engine draws a row as usual, the intervention replaces the intervened cells, and the engine
redraws the cells that depend on them given the new values (``Synthesizer._propagate``): cart the
sub-columns after the first intervened one in its tree order, argn the columns after it in the schema
order (partial-row sampling), copula every other column from the conditional Gaussian given the
intervened scores, gmm from the mixture's conditional, bayesnet every other token with the intervened
ones as evidence.  An engine without the ``scenario`` tag (kde) refuses a scenario.
What propagates is the association the engine learned along its order: columns
before the intervened one in that order keep their values, and a column learned as a predictor of
the intervened one is not changed by it.  It is not causal identification: an association learned
from confounded data propagates as if it were an effect.  Pick an order (the schema's column order)
with causes before effects for the result to read as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding import TableEncoder
from mirage.engines._conditions import round_trips
from mirage.errors import OptionError
from mirage.schema import Kind, Schema

__all__ = ["KINDS", "Scenario", "intervene", "resolve_scenario"]

KINDS = ("shift", "set", "share")


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: shifts in the column's units, set values and target shares per value."""

    shift: Mapping[str, float] = field(default_factory=dict)
    set: Mapping[str, Any] = field(default_factory=dict)
    share: Mapping[str, Mapping[Any, float]] = field(default_factory=dict)

    def columns(self) -> list[str]:
        return [*self.shift, *self.set, *self.share]


def resolve_scenario(scenario: Any, schema: Schema, encoder: TableEncoder) -> Scenario:
    """``scenario`` checked against the model: an ``OptionError`` names the intervention and column."""
    if not isinstance(scenario, Mapping) or not scenario:
        raise OptionError(f"scenario must map {', '.join(KINDS)} to columns, got {scenario!r}")
    unknown = [k for k in scenario if k not in KINDS]
    if unknown:
        raise OptionError(f"scenario: unknown intervention {unknown[0]!r} (valid: {', '.join(KINDS)})")
    codecs = {codec.column.name: codec for codec in encoder.codecs}
    seen: set[str] = set()
    out: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
    for kind, columns in scenario.items():
        if not isinstance(columns, Mapping) or not columns:
            raise OptionError(f"scenario.{kind} must map column names to values, got {columns!r}")
        for column, value in columns.items():
            where = f"scenario.{kind}.{column}"
            if column not in codecs:
                raise OptionError(f"{where}: unknown column {column!r}")
            if not schema[column].kind.learned:
                raise OptionError(f"{where}: {schema[column].kind.value} columns are generated, not learned")
            if column in seen:
                raise OptionError(f"{where}: a column takes one intervention")
            seen.add(column)
            out[kind][column] = _resolve(kind, where, schema, codecs[column], value)
    return Scenario(out["shift"], out["set"], out["share"])


def _resolve(kind: str, where: str, schema: Schema, codec: Any, value: Any) -> Any:
    column = codec.column.name
    if kind == "shift":
        if schema[column].kind is not Kind.NUMERIC:
            raise OptionError(f"{where}: a shift needs a numeric column, not {schema[column].kind.value}")
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.number))
            or not np.isfinite(value)
        ):
            raise OptionError(f"{where}: a shift must be a finite number, got {value!r}")
        return float(value)
    if kind == "set":
        if not round_trips(codec, [value])[0]:
            raise OptionError(f"{where}: the model never draws {value!r} in column {column!r}")
        return value
    if schema[column].kind not in (Kind.CATEGORICAL, Kind.BOOLEAN):
        raise OptionError(
            f"{where}: shares need a categorical or boolean column, not {schema[column].kind.value}"
        )
    if not isinstance(value, Mapping) or not value:
        raise OptionError(f"{where}: expected {{value: share}}, got {value!r}")
    shares: dict[Any, float] = {}
    for category, share in value.items():
        if isinstance(share, bool) or not isinstance(share, (int, float, np.number)) or not 0 <= share <= 1:
            raise OptionError(
                f"{where}: the share of {category!r} must be a number from 0 to 1, got {share!r}"
            )
        if not round_trips(codec, [category])[0]:
            raise OptionError(f"{where}: the model never draws {category!r} in column {column!r}")
        shares[category] = float(share)
    if sum(shares.values()) > 1 + 1e-9:
        raise OptionError(f"{where}: the shares add up to {sum(shares.values()):g}, more than 1")
    return shares


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.number))


def intervene(
    scenario: Scenario, parts: dict[str, np.ndarray], encoder: TableEncoder, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], set[str]]:
    """Drawn rows (encoded) with the scenario applied, and the sub-columns it fixed."""
    out = {name: np.array(values, copy=True) for name, values in parts.items()}
    n = len(next(iter(out.values()))) if out else 0
    codecs = {codec.column.name: codec for codec in encoder.codecs}
    fixed: set[str] = set()
    for column, delta in scenario.shift.items():
        codec: Any = codecs[column]  # a numeric column's: a value sub-column within learned bounds
        name = codec.value_name
        out[name] = np.clip(out[name] + delta, codec.minimum, codec.maximum)
        fixed.update(s.name for s in codec.subcolumns)
    for column, value in scenario.set.items():
        codec = codecs[column]
        encoded = codec.encode(pd.Series([value], dtype=object))
        for s in codec.subcolumns:
            out[s.name] = np.full(n, encoded[s.name][0], dtype=out[s.name].dtype)
            fixed.add(s.name)
    for column, shares in scenario.share.items():
        codec = codecs[column]
        listed = list(shares)
        encoded = codec.encode(pd.Series(listed, dtype=object))
        code_name = codec.subcolumns[-1].name  # the code; a missing flag comes before it
        codes = np.asarray(encoded[code_name], dtype="int64")
        drawn = out[code_name]
        others = np.flatnonzero(~np.isin(drawn, codes))
        u = rng.random(n)
        bounds = np.cumsum([shares[v] for v in listed])
        choice = np.searchsorted(bounds, u, side="right")
        rest = choice >= len(listed)
        new = np.empty(n, dtype="int64")
        new[~rest] = codes[choice[~rest]]
        if rest.any():
            # the other values keep the proportions the model drew them in
            pool = drawn[others] if others.size else codes
            new[rest] = pool[rng.integers(0, pool.size, int(rest.sum()))]
        for s in codec.subcolumns[:-1]:  # a missing flag: every row present
            out[s.name] = np.zeros(n, dtype=out[s.name].dtype)
        out[code_name] = new
        fixed.update(s.name for s in codec.subcolumns)
    return out, fixed
