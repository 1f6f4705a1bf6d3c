"""Private preprocessing: the table encoder fitted from each learned column's public or private domain.

Each learned column's codec is reduced with a share of the budget (``TableEncoder.reduce(budgets=)``):
what the schema declares is public and free; the rest is released from noisy counts by the codec
(:mod:`mirage.privacy._domains`: categories by a thresholded noisy histogram, ranges by a noisy histogram
over a public grid), charged on the fit's ledger, and the codec learns only from the released domain.
Generated columns (keys, PII, text) are never measured: their codecs see only missing cells.  So nothing
exact from the data (minimum, maximum, median, category list, rare count) reaches the model file.

Then the engines need the rows mapped onto the released domains (:func:`restrict`) and a few public rows
spanning them (:func:`public_frame`), both read from the fitted codecs' state alone.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding import EncodingOptions, PrivacyBudget, TableEncoder
from mirage.encoding._base import Codec
from mirage.encoding.categorical import RARE_TOKEN, CategoricalCodec, categories_share
from mirage.encoding.datetime import DatetimeCodec, as_written
from mirage.encoding.numeric import NumericCodec
from mirage.privacy import Ledger
from mirage.privacy._domains import (
    COARSE_FALSE_BUCKETS,
    DATETIME_RANGE_SHARE,
    FALSE_BUCKETS,
    GRID_POINTS,
    coarse_datetime_grid,
    coarse_numeric_grid,
    threshold_deviations,
)
from mirage.schema import Column, Kind, Schema

__all__ = [
    "PrivateEncoder",
    "domain_shares",
    "needs_budget",
    "paid_columns",
    "private_encoder",
    "public_frame",
    "release_cut_rows",
    "restrict",
]

# each paid column's share of the domains' rho sized to what its release needs (False: even shares)
NEED_WEIGHTED = True


@dataclass(frozen=True)
class PrivateEncoder:
    """The table encoder fitted under a budget and the columns whose domain was paid for."""

    encoder: TableEncoder
    measured: tuple[str, ...]


def needs_budget(column: Column) -> bool:
    if column.kind is Kind.CATEGORICAL:
        return column.categories is None
    if column.kind is Kind.NUMERIC:
        return column.minimum is None or column.maximum is None
    return column.kind is Kind.DATETIME


def private_encoder(
    data: pd.DataFrame,
    schema: Schema,
    options: EncodingOptions,
    ledger: Ledger,
    rho: float,
    delta: float,
    rows: float | None = None,
) -> PrivateEncoder:
    """The table encoder of ``schema`` fitted on ``data`` spending at most ``rho`` and ``delta`` on
    ``ledger``, split over the columns whose domain the schema leaves open (:func:`domain_shares`).
    ``rows``: a noisy count of the rows (already paid for), which picks each range's grid (fine when
    None)."""
    paid = paid_columns(schema)
    delta_each = _delta_each(paid, delta)
    shares = domain_shares(paid, delta_each)
    budgets = {
        c.name: PrivacyBudget(rho=rho * shares.get(c.name, 1.0), ledger=ledger, delta=delta_each, rows=rows)
        for c in schema
        if c.kind.learned
    }
    # every row's value counted exactly (a private range cannot use a sketch's counts): fitting holds the
    # rows in memory already
    exact = dataclasses.replace(options, exact_values_limit=max(options.exact_values_limit, len(data), 1))
    encoder = TableEncoder(schema, exact)
    encoder.reduce([encoder.analyze(_unmeasured_blanked(data, schema))], budgets=budgets)
    return PrivateEncoder(encoder, tuple(c.name for c in paid))


def paid_columns(schema: Schema) -> list[Column]:
    """The learned columns whose domain the schema leaves open (their release is paid for)."""
    return [c for c in schema if c.kind.learned and needs_budget(c)]


def _delta_each(paid: list[Column], delta: float) -> float:
    return delta / max(sum(c.kind is Kind.CATEGORICAL for c in paid), 1)


def release_cut_rows(schema: Schema, rho: float, delta: float) -> float:
    """How many rows a category (or a range's bucket) must hold for its release to pass when the
    domains get ``rho`` and ``delta``, shared as :func:`domain_shares` does (with ``NEED_WEIGHTED`` the
    same for every release: ``sqrt(sum of needs / rho)``); 0 when nothing is paid for."""
    paid = paid_columns(schema)
    if not paid:
        return 0.0
    delta_each = _delta_each(paid, delta)
    shares = domain_shares(paid, delta_each)
    return max(math.sqrt(_release_need(c, delta_each) / (rho * shares[c.name])) for c in paid)


def domain_shares(paid: list[Column], delta_each: float) -> dict[str, float]:
    """Each paid column's share of the domains' rho, so that every release finds the same number of rows
    (with ``NEED_WEIGHTED``; else even shares).  A release passes a count ``z`` noise deviations above
    zero, ``z`` fixed by what it must keep false (:mod:`mirage.privacy._domains`); with rho the deviation
    is ``1 / sqrt(2 rho)``, so the rho that lets it see one row is ``z**2 / 2``: a categorical column's
    codec spends ``categories_share`` of its rho (all of it, or three quarters for text) on its
    categories, past ``z`` = isf(``delta_each``) (~6.5 deviations, the stability histogram's), and the
    rest of a text column's on the rows outside them, so it needs ``z**2 / 2 / share``; a number's range
    one histogram on the coarse grid (~5.3 deviations); a datetime's range 90% of its rho on years.  Even
    shares left a categorical column ~2.9 times the rows a number's range needs (bank marketing at
    epsilon 0.3: a 930-row class in 8,000 rows fell under a 1,170-row cut)."""
    if not NEED_WEIGHTED:
        return {c.name: 1.0 / max(len(paid), 1) for c in paid}
    needs = {c.name: _release_need(c, delta_each) for c in paid}
    total = sum(needs.values())
    return {name: need / total for name, need in needs.items()}


def _release_need(column: Column, delta_each: float) -> float:
    """The rho (in units of one row's noise) that lets ``column``'s domain release see one row."""
    from scipy.stats import norm

    if column.kind is Kind.CATEGORICAL:
        categories = max(threshold_deviations(delta_each), float(norm.isf(FALSE_BUCKETS)))
        return categories**2 / 2 / categories_share(column.dtype)
    runs = (coarse_numeric_grid(False) if column.kind is Kind.NUMERIC else coarse_datetime_grid()).size
    z = float(norm.isf(COARSE_FALSE_BUCKETS / runs))
    return z**2 / 2 / (DATETIME_RANGE_SHARE if column.kind is Kind.DATETIME else 1.0)


def _unmeasured_blanked(data: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """``data`` with every generated column (key, PII, text) made missing: its codec never reads it."""
    out = data.copy()
    for column in schema:
        if not column.kind.learned:
            out[column.name] = _missing_cells(len(out), out[column.name])
    return out


def _missing_cells(length: int, like: pd.Series) -> pd.Series:
    series = pd.Series([None] * length, dtype=object)
    # an unmeasured column (a numeric key): only its dtype, public, says it holds numbers
    return series.astype("float64") if pd.api.types.is_numeric_dtype(like.dtype) else series


def public_frame(encoder: TableEncoder, like: pd.DataFrame) -> pd.DataFrame:
    """A few rows made only of what the codecs released (every category, an even grid over each range,
    a missing cell where a column may be missing), in ``like``'s columns and dtypes; generated columns
    missing throughout."""
    columns: dict[str, list[object]] = {}
    missing: dict[str, bool] = {}
    for codec in encoder.codecs:
        name = codec.column.name
        if not codec.column.kind.learned:
            columns[name], missing[name] = [], True
            continue
        missing[name] = _may_be_missing(codec)
        if isinstance(codec, CategoricalCodec):
            columns[name] = list(codec.categories)
        elif isinstance(codec, NumericCodec):
            grid = np.linspace(codec.minimum, codec.maximum, GRID_POINTS)
            columns[name] = list(np.unique(np.round(grid))) if codec.integer else list(grid)
        elif isinstance(codec, DatetimeCodec):
            seconds = codec.finish(np.linspace(codec.minimum, codec.maximum, GRID_POINTS))
            stamps = pd.to_datetime(np.round(seconds * 1e9).astype("int64"))
            columns[name] = as_written(stamps, codec.column)
    length = max((len(v) for v in columns.values()), default=0) + 1
    frame = {name: _fill(values, length, like[name], missing[name]) for name, values in columns.items()}
    return pd.DataFrame(frame, columns=like.columns)


def restrict(data: pd.DataFrame, encoder: TableEncoder) -> pd.DataFrame:
    """``data`` with each categorical value outside the released categories made the rare token where
    the codec has one, else left out with its row (a row-by-row map through public domains, so it costs
    no privacy); likewise a row with a missing cell where the codec released none."""
    out = data.copy()
    keep = np.ones(len(out), dtype=bool)
    for codec in encoder.codecs:
        if not codec.column.kind.learned:
            continue
        name = codec.column.name
        values = out[name]
        if not _may_be_missing(codec):
            keep &= values.notna().to_numpy()
        if codec.column.kind is not Kind.CATEGORICAL or not isinstance(codec, CategoricalCodec):
            continue
        released = [c for c in codec.categories if c != RARE_TOKEN]
        allowed = values.isin(released) | values.isna()
        if bool(allowed.all()):
            continue
        if RARE_TOKEN in codec.categories:
            out[name] = values.astype(object).where(allowed, RARE_TOKEN).astype(values.dtype)
        else:
            keep &= allowed.to_numpy()
    return out[keep].reset_index(drop=True)


def _may_be_missing(codec: Codec[Any]) -> bool:
    """Whether a learned column's codec released a missing cell (every learned codec has a missing part)."""
    missing = getattr(codec, "missing", None)
    return bool(missing is not None and missing.present)


def _fill(values: list[object], length: int, like: pd.Series, missing: bool) -> pd.Series:
    """``values`` repeated to ``length`` rows (the last one missing if ``missing``), in ``like``'s dtype."""
    full = length - 1 if missing else length
    cells: list[object] = [values[i % len(values)] for i in range(full)] if values else []
    cells += [None] * (length - len(cells))
    series = pd.Series(cells, dtype=object)
    if not series.notna().any() and pd.api.types.is_numeric_dtype(like.dtype):
        return series.astype("float64")
    try:
        return series.astype(like.dtype) if series.notna().all() else series.infer_objects()
    except (TypeError, ValueError):
        return series.infer_objects()
