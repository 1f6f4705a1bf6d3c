"""A spec from a fitted model (copula or cart) or from a schema, to edit and share.

A model's spec is estimated from rows the model draws itself, never from the rows it learned: each
numeric or date column as a few coarsened quantiles (rounded to a few significant digits, the extremes
cut to the 0.5% and 99.5% quantiles), each category's weight rounded (categories under ``min_share``
dropped), null rates rounded, and a Gaussian copula whose correlation matrix is that of the normal
scores of the drawn rows (rounded).  Keys, personal data and free text become identifier patterns and
Faker providers.  What this protects and what it does not is in the README ("Data from a spec").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from mirage.control._rules import AllowedCombinations, Formula
from mirage.errors import OptionError
from mirage.schema import Column, DatabaseSchema, Kind, Schema
from mirage.schema._datetimes import read_datetimes
from mirage.spec._spec import EPOCH, spec_from_dict

__all__ = ["EXPORTABLE_ENGINES", "spec_from_model", "spec_from_schema", "write_spec"]

EXPORTABLE_ENGINES = ("copula", "cart")
QUANTILES = (0.0, 0.01, 0.025, *(round(0.05 * i, 2) for i in range(1, 20)), 0.975, 0.99, 1.0)
TAIL = 0.005  # the ends of the quantiles are the 0.5% and 99.5% quantiles of the drawn rows
SIGNIFICANT = 4
MIN_SHARE = 0.01
MIN_CORRELATION = 0.05  # weaker correlations are written as 0
DEFAULT_ROWS = 1000


def _round(value: float, digits: int = SIGNIFICANT) -> float:
    if value == 0 or not np.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def spec_from_model(
    model: Any,
    *,
    rows: int | None = None,
    sample_rows: int = 20_000,
    seed: int = 0,
    min_share: float = MIN_SHARE,
    table: str = "table",
) -> dict[str, Any]:
    """The spec of a fitted copula or cart model (a dict ready for YAML or JSON; see the module doc)."""
    engine = getattr(model, "name", "")
    if engine not in EXPORTABLE_ENGINES:
        raise OptionError(
            f"a spec can be exported from a {' or '.join(EXPORTABLE_ENGINES)} model; this one is {engine!r}"
        )
    if not 0 <= min_share < 1:
        raise OptionError(f"min_share must be from 0 to below 1, got {min_share!r}")
    schema: Schema = model.schema_
    drawn = model.sample(sample_rows, seed=seed)
    columns: dict[str, Any] = {}
    correlated: list[str] = []
    scores: list[np.ndarray] = []
    formulas = {r.column: r.expression for r in schema.rules if isinstance(r, Formula)}
    for column in schema:
        values = drawn[column.name]
        if column.name in formulas:
            columns[column.name] = {"formula": formulas[column.name]}
            continue
        body = _column_spec(column, values, min_share)
        _with_written_format(body, column, schema)
        columns[column.name] = body
        if "distribution" in body:
            score = _normal_scores(column, values, body)
            if score is not None:
                correlated.append(column.name)
                scores.append(score)
    n = int(rows if rows is not None else model.training_.get("rows", DEFAULT_ROWS))
    out: dict[str, Any] = {
        "spec_version": 1,
        "locale": schema.locale,
        "description": f"exported from a {engine} model: coarsened statistics of rows the model drew",
        "tables": {table: {"rows": n, "columns": columns}},
    }
    if len(correlated) >= 2:
        matrix = np.corrcoef(np.vstack(scores))
        matrix = np.where(np.abs(matrix) < MIN_CORRELATION, 0.0, np.round(matrix, 3))
        np.fill_diagonal(matrix, 1.0)
        copula: dict[str, Any] = {"columns": correlated, "correlation": matrix.tolist()}
        if np.linalg.eigvalsh(matrix).min() < -1e-10:
            copula["repair"] = True  # rounding left it just outside: the nearest correlation matrix
        out["tables"][table]["copula"] = copula
    # a formula is its column's own; combinations learned at fit are not written (they are data)
    rules = [
        rule.to_dict()
        for rule in schema.rules
        if not isinstance(rule, Formula)
        and not (isinstance(rule, AllowedCombinations) and rule.combinations is None)
    ]
    if rules:
        out["tables"][table]["rules"] = rules
    spec_from_dict(out)  # what we write must read back
    return out


def _column_spec(column: Column, values: pd.Series, min_share: float) -> dict[str, Any]:
    body: dict[str, Any] = {}
    present = values.dropna()
    rate = _round(1 - len(present) / max(len(values), 1), 2)
    if column.kind is Kind.IDENTIFIER:
        pattern = column.id_format or "{:d}"
        start = _numbered_from(pattern, present)
        return {"pattern": pattern} if start in (None, 1) else {"pattern": pattern, "start": start}
    if column.kind is Kind.PII:
        return {"provider": {"name": column.pii_type or "person_name", "locale": column.locale or "en_US"}}
    if column.kind is Kind.TEXT:
        return {"provider": "sentence"}
    if rate > 0:
        body["nulls"] = min(rate, 0.99)
    if present.empty:
        body["distribution"] = {"type": "categorical", "weights": {"": 1}}
        body["kind"] = "categorical"
        return body
    if column.kind is Kind.BOOLEAN:
        share = float(present.astype(bool).mean())
        body["distribution"] = {"type": "bernoulli", "p": round(share, 3)}
        return body
    numeric_codes = pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(
        present.dtype
    )
    if column.kind is Kind.CATEGORICAL and not numeric_codes:
        body["kind"] = "categorical"
        body["distribution"] = {"type": "categorical", "weights": _weights(present, min_share)}
        return body
    if column.kind is Kind.DATETIME:
        stamps = read_datetimes(present, column.datetime_format, naive=True).dropna()
        days = ((stamps - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype="float64")
        whole = bool(np.all(np.mod(days, 1) == 0))
        q = _quantiles(days)
        body["kind"] = "datetime"
        dates = [
            (EPOCH + pd.Timedelta(days=float(v))).strftime("%Y-%m-%d" if whole else "%Y-%m-%dT%H:%M:%S")
            for v in q
        ]
        body["distribution"] = {"type": "empirical", "quantiles": dates, "probabilities": list(QUANTILES)}
        if whole:
            body["format"] = "date"
        return body
    if pd.api.types.is_timedelta64_dtype(present.dtype):  # a spec has no durations: their seconds
        present = present.dt.total_seconds()
        body["description"] = "a duration, in seconds"
    numbers = pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype="float64")
    distinct = np.unique(numbers)
    body["kind"] = "numeric"
    few = distinct.size <= 20 or column.kind is Kind.CATEGORICAL
    if few and np.all(np.mod(distinct, 1) == 0):  # a few whole numbers (or number codes): a table of them
        body["distribution"] = {
            "type": "categorical",
            "weights": _weights(pd.Series(numbers.astype(np.int64)), min_share),
        }
        return body
    quantiles = [_round(v) for v in _quantiles(numbers)]
    body["distribution"] = {"type": "empirical", "quantiles": quantiles, "probabilities": list(QUANTILES)}
    if column.integer:
        body["integer"] = True
    elif column.decimals is not None:
        body["decimals"] = int(column.decimals)
    return body


def _quantiles(x: np.ndarray) -> list[float]:
    probs = np.array(QUANTILES)
    probs[0], probs[-1] = TAIL, 1 - TAIL
    q = np.quantile(x, probs)
    return [float(v) for v in np.maximum.accumulate(q)]


def _weights(values: pd.Series, min_share: float) -> dict[str, float]:
    shares = values.astype(str).value_counts(normalize=True)
    kept = shares[shares >= min_share] if (shares >= min_share).any() else shares.head(1)
    kept = kept / kept.sum()
    return {str(k): round(float(v), 3) or 0.001 for k, v in kept.items()}


def _normal_scores(column: Column, values: pd.Series, body: dict[str, Any]) -> np.ndarray | None:
    """Normal scores of the drawn values in the order the spec's marginal maps ``u`` to values (mid-ranks
    for ties; a missing value scores 0)."""
    dist = body.get("distribution", {})
    if dist.get("type") == "categorical" and column.kind is not Kind.NUMERIC:
        order = {label: i for i, label in enumerate(dist["weights"])}
        keys = values.astype(str).map(order).where(values.notna())
        numeric = keys.to_numpy(dtype="float64", na_value=np.nan)
    elif column.kind is Kind.BOOLEAN:
        # the bernoulli's u < p means true: true ranks first
        numeric = (~values.astype("boolean")).astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    elif column.kind is Kind.DATETIME:
        stamps = read_datetimes(values, column.datetime_format, naive=True)
        numeric = ((stamps - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype="float64", na_value=np.nan)
    else:
        numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    present = ~np.isnan(numeric)
    if present.sum() < 10 or np.unique(numeric[present]).size < 2:
        return None
    ranks = stats.rankdata(numeric[present])
    out = np.zeros(numeric.size)
    out[present] = special.ndtri(ranks / (present.sum() + 1))
    return out


def spec_from_schema(schema: Schema | DatabaseSchema, *, rows: int = DEFAULT_ROWS) -> dict[str, Any]:
    """A starting spec from a table's or a database's schema: each column with a placeholder distribution
    from what the schema knows (bounds, categories, formats), keys and foreign keys as declared."""
    if isinstance(schema, Schema):
        tables = {"table": _schema_table(schema, rows, (), [])}
        return {"spec_version": 1, "locale": schema.locale, "tables": tables}
    out: dict[str, Any] = {"spec_version": 1, "tables": {}}
    for name in schema.order():
        table = schema[name]
        fks = schema.parents(name)
        body = _schema_table(table.schema, rows, table.primary_key, [c for fk in fks for c in fk.columns])
        if fks and not any(fk.self_reference for fk in fks):
            body.pop("rows")
            body["per_parent"] = {"table": fks[0].parent, "distribution": {"type": "poisson", "lam": 2}}
            body["foreign_keys"] = {fk.columns[0]: f"{fk.parent}.{fk.parent_columns[0]}" for fk in fks}
        own_key = [c for c in table.primary_key if c not in {k for fk in fks for k in fk.columns}]
        if own_key and len(own_key) == len(table.primary_key):  # a key made of foreign keys is left out
            body["primary_key"] = list(table.primary_key)
        out["tables"][name] = body
    return out


def _schema_table(schema: Schema, rows: int, keys: tuple[str, ...], foreign: list[str]) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for column in schema:
        if column.name in foreign:
            continue
        if column.name in keys and column.kind is not Kind.IDENTIFIER:
            columns[column.name] = {"pattern": "{:d}"}
            continue
        columns[column.name] = _with_written_format(_placeholder(column), column, schema)
    body: dict[str, Any] = {"rows": rows, "columns": columns}
    rules = [r.to_dict() for r in schema.rules]
    if rules:
        body["rules"] = rules
    return body


def _with_written_format(body: dict[str, Any], column: Column, schema: Schema) -> dict[str, Any]:
    """``body`` with the ``format`` its source wrote the column in: a date's strftime format, a number's
    currency sign or unit and decimals, with its negatives in parentheses, its plus signs and its
    trimmed decimals where it had them (a spec's times have no UTC offset: those are left ISO)."""
    if body.get("kind") == "datetime":
        fmt = column.datetime_format
        if fmt is not None and fmt != "%Y-%m-%d" and "%z" not in fmt and "%:z" not in fmt:
            body["format"] = fmt
    elif body.get("kind") == "numeric":
        written = schema.extra.get("csv", {})
        text = written.get("numbers", {}).get(column.name)
        styles: dict[str, Any] = {}
        if isinstance(text, dict):
            grouped = "," if text.get("grouped") else ""
            styles["number"] = f"{text['prefix']}{{:{grouped}.{int(text['decimals'])}f}}{text['suffix']}"
            if text.get("negative") in ("parentheses", "minus sign"):
                styles["negative"] = text["negative"]
            if text.get("trimmed"):
                styles["trimmed"] = True
        plus = written.get("signed", {}).get(column.name)
        if plus in ("positive", "non-negative"):
            styles["plus"] = plus
        if list(styles) == ["number"]:
            body["format"] = styles["number"]
        elif styles:
            body["format"] = styles
    return body


def _numbered_from(pattern: str, keys: pd.Series) -> int | None:
    """The smallest number the drawn ``keys`` of a numbered ``pattern`` (``C-{:06d}``) hold, so that a
    spec writes keys like the model's (19-digit ids stay 19 digits); None for other patterns."""
    from mirage.encoding.identifier import parse_id_format, smallest_number

    written = parse_id_format(pattern)
    if written.kind != "template":
        return None
    return smallest_number(written, keys.astype(str), False)


def _placeholder(column: Column) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if column.nullable:
        body["nulls"] = 0.05
    if column.kind is Kind.IDENTIFIER:
        return {"pattern": column.id_format or "{:d}"}
    if column.kind is Kind.PII:
        return {"provider": column.pii_type or "person_name"}
    if column.kind is Kind.TEXT:
        return {"provider": "sentence"}
    if column.kind is Kind.BOOLEAN:
        return {**body, "distribution": {"type": "bernoulli", "p": 0.5}}
    if column.kind is Kind.CATEGORICAL:
        categories = [str(c) for c in (column.categories or ["a", "b"])]
        weights = {c: 1 for c in categories}
        return {**body, "kind": "categorical", "distribution": {"type": "categorical", "weights": weights}}
    if column.kind is Kind.DATETIME:
        return {
            **body,
            "kind": "datetime",
            "distribution": {"type": "uniform", "low": "2020-01-01", "high": "2024-12-31"},
        }
    low = 0.0 if column.minimum is None else float(column.minimum)
    high = low + 100.0 if column.maximum is None else float(column.maximum)
    if high <= low:
        high = low + 1.0
    body.update(kind="numeric", distribution={"type": "uniform", "low": low, "high": high})
    if column.integer:
        body["integer"] = True
    elif column.decimals is not None:
        body["decimals"] = int(column.decimals)
    return body


def write_spec(spec: dict[str, Any], path: str | Path, *, force: bool = False) -> Path:
    """Write a spec as YAML (``.yaml``/``.yml``) or JSON (``.json``), atomically."""
    from mirage.io import atomic_path

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise OptionError(f"'{target}': a spec file is .yaml, .yml or .json")
    if suffix == ".json":
        text = json.dumps(spec, indent=2, ensure_ascii=False) + "\n"
    else:
        import yaml

        header = "# yaml-language-server: $schema=https://mirage-synth.dev/spec.schema.json\n"
        text = header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=110)
    with atomic_path(target, force=force) as temp:
        temp.write_text(text, encoding="utf-8")
    return target
