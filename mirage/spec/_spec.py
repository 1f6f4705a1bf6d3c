"""A spec: tables of declared columns, keys, dependencies and rules, read from YAML or JSON.

Every error names its place in the spec (``tables.orders.columns.total.formula``).  A parsed spec holds
the same objects the learned models use: each table's :class:`~mirage.schema.Schema` (with its rules,
from :mod:`mirage.control`) and one :class:`~mirage.schema.DatabaseSchema` for keys and foreign keys.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mirage.control._rules import AllowedCombinations, Formula, Rule, formula_names, rules_from_list
from mirage.errors import DataError, SchemaError
from mirage.schema import PII_TYPES, Column, DatabaseSchema, ForeignKey, Kind, Schema, Table
from mirage.spec._copula import Copula, copula_from_dict
from mirage.spec._distributions import Distribution, Truncated, Uniform, distribution_from_dict
from mirage.spec._providers import ROW_PROVIDERS, check_provider, faker_method

__all__ = [
    "SPEC_VERSION",
    "Bins",
    "ColumnSpec",
    "Conditional",
    "Provider",
    "Spec",
    "TableSpec",
    "load_spec",
    "spec_from_dict",
]

SPEC_VERSION = 1
DEFAULT_RULE_TRIES = 100
DEFAULT_POOL = 5000
EPOCH = pd.Timestamp("1970-01-01")
SECONDS_PER_DAY = 86400.0
KINDS = ("numeric", "categorical", "boolean", "datetime", "identifier", "pii", "text")
_TOP_FIELDS = {"spec_version", "locale", "description", "tables"}
_TABLE_FIELDS = {
    "description",
    "rows",
    "per_parent",
    "primary_key",
    "foreign_keys",
    "columns",
    "copula",
    "rules",
    "rule_tries",
}
_COLUMN_FIELDS = {
    "description",
    "kind",
    "distribution",
    "formula",
    "bins",
    "provider",
    "pattern",
    "start",
    "nulls",
    "integer",
    "decimals",
    "min",
    "max",
    "format",
}


@dataclass(frozen=True)
class Provider:
    """Realistic values from Faker: ``name`` a Mirage PII type (``iban``) or any Faker method
    (``company``); ``pool`` distinct values drawn per column and reused (0: one per row)."""

    name: str
    locale: str
    pool: int

    @property
    def faker_method(self) -> str:
        return faker_method(self.name)


@dataclass(frozen=True)
class Bins:
    """A categorical column cut from a numeric one: ``labels[i]`` for ``edges[i] <= x < edges[i+1]``."""

    column: str
    edges: tuple[float, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Conditional:
    """A distribution per value of the categorical column ``on`` (``default`` for the values not listed)."""

    on: str
    cases: dict[Any, Distribution]
    default: Distribution | None


@dataclass
class ColumnSpec:
    name: str
    kind: Kind
    path: str
    distribution: Distribution | None = None
    conditional: Conditional | None = None
    formula: str | None = None
    bins: Bins | None = None
    provider: Provider | None = None
    pattern: str | None = None
    start: int | None = None  # the first number a numbered pattern ({:d}, C-{:06d}) writes (default 1)
    nulls: float = 0.0  # the null rate (for the rows no case of ``null_cases`` covers)
    null_given: str | None = None
    null_cases: dict[Any, float] = field(default_factory=dict)
    integer: bool = False
    decimals: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    date_only: bool = False
    # how a CSV writes the column: a datetime's strftime format ("%d/%m/%Y"); a number's text around it
    # ({"prefix": "$", "suffix": "", "decimals": 2, "grouped": True}, as a CSV dialect's "numbers")
    datetime_format: str | None = None
    number_text: dict[str, Any] | None = None
    plus: str | None = None  # "positive" or "non-negative": the numbers a CSV writes with a plus sign
    key: bool = False  # a primary or foreign key column: filled by the generator

    @property
    def sampled(self) -> bool:
        """Drawn from its own marginal (so it may join a copula)."""
        return self.distribution is not None

    @property
    def needs(self) -> list[str]:
        if self.formula is not None:
            return formula_names(self.formula, self.path)
        if self.bins is not None:
            return [self.bins.column]
        given = [self.null_given] if self.null_given is not None else []
        if self.conditional is not None:
            return [self.conditional.on, *given]
        return given

    @property
    def may_be_null(self) -> bool:
        return self.nulls > 0 or any(rate > 0 for rate in self.null_cases.values())

    @property
    def dtype(self) -> str:
        if self.kind is Kind.NUMERIC:
            if self.integer:
                return "Int64" if self.may_be_null else "int64"
            return "float64"
        if self.kind is Kind.BOOLEAN:
            return "boolean" if self.may_be_null else "bool"
        if self.kind is Kind.DATETIME:
            return "datetime64[s]"
        if self.kind is Kind.IDENTIFIER and self.pattern in (None, "{:d}"):
            return "int64"
        return "object"

    def to_column(self, locale: str) -> Column:
        pii_type = None
        kind = self.kind
        if self.provider is not None:
            if self.provider.name in PII_TYPES:
                kind, pii_type = Kind.PII, self.provider.name
            else:
                kind = Kind.TEXT
        categories = None
        if self.kind is Kind.CATEGORICAL:
            categories = self.categories()
        return Column(
            name=self.name,
            kind=kind,
            dtype=self.dtype,
            nullable=self.may_be_null,
            integer=self.integer,
            minimum=self.minimum if self.kind is Kind.NUMERIC else None,
            maximum=self.maximum if self.kind is Kind.NUMERIC else None,
            decimals=0 if self.integer and self.kind is Kind.NUMERIC else self.decimals,
            categories=categories,
            id_format=(self.pattern or "{:d}") if self.kind is Kind.IDENTIFIER else None,
            pii_type=pii_type,
            locale=self.provider.locale if self.provider is not None else None,
        )

    def categories(self) -> list[Any] | None:
        """The values a categorical column can take, when the spec lists them."""
        from mirage.spec._distributions import Categorical

        if self.bins is not None:
            return list(self.bins.labels)
        if isinstance(self.distribution, Categorical):
            return [v for v in self.distribution.values.tolist()]
        if self.conditional is not None:
            values: dict[Any, None] = {}
            for dist in [*self.conditional.cases.values(), self.conditional.default]:
                if isinstance(dist, Categorical):
                    values.update(dict.fromkeys(dist.values.tolist()))
                elif dist is not None:
                    return None
            return list(values)
        return None


@dataclass
class TableSpec:
    name: str
    columns: dict[str, ColumnSpec]
    rows: int | None = None
    per_parent: tuple[str, Distribution] | None = None
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    copula: Copula | None = None
    rules: list[Rule] = field(default_factory=list)
    rule_tries: int = DEFAULT_RULE_TRIES
    schema: Schema = field(default_factory=lambda: Schema([]))

    @property
    def path(self) -> str:
        return f"tables.{self.name}"


@dataclass
class Spec:
    """A parsed spec: its tables in the order they are generated (parents first) and its database
    schema (keys and foreign keys)."""

    tables: dict[str, TableSpec]
    database: DatabaseSchema
    locale: str = "en_US"
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def single(self) -> bool:
        return len(self.tables) == 1

    def order(self) -> list[str]:
        return self.database.order()


# reading ------------------------------------------------------------------------------------------
def load_spec(path: str | Path) -> Spec:
    """Read a spec from a ``.yaml``/``.yml`` or ``.json`` file; errors name the file and the spec path."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"spec file '{file}' does not exist")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read spec file '{file}': {exc}") from None
    data = parse_spec_text(text, file)
    try:
        return spec_from_dict(data)
    except SchemaError as exc:
        raise SchemaError(f"{file}: {exc}") from None


def parse_spec_text(text: str, file: Path) -> Any:
    if file.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise DataError(f"spec file '{file}' is not valid JSON: {exc}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"spec file '{file}' is not valid YAML{where}: {problem}") from None


def _unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(str(k) for k in data if k not in allowed)
    if extra:
        prefix = f"{where}." if where else ""
        raise SchemaError(f"{prefix}{extra[0]}: unknown field (known: {', '.join(sorted(allowed))})")


def _mapping(value: Any, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SchemaError(f"{where}: expected {what}")
    return value


def spec_from_dict(data: Any) -> Spec:
    """A :class:`Spec` from its parsed YAML/JSON object."""
    top = _mapping(data, "spec", "an object with 'tables'")
    _unknown(top, _TOP_FIELDS, "")
    version = top.get("spec_version", SPEC_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > SPEC_VERSION:
        raise SchemaError(f"spec_version: {version!r} is newer than this Mirage reads ({SPEC_VERSION})")
    locale = top.get("locale", "en_US")
    if not isinstance(locale, str):
        raise SchemaError("locale: expected a Faker locale such as en_US")
    tables_raw = _mapping(top.get("tables"), "tables", "an object of table name: table")
    if not tables_raw:
        raise SchemaError("tables: declare at least one table")
    tables = {str(name): _table(str(name), raw, locale, f"tables.{name}") for name, raw in tables_raw.items()}
    _link(tables)
    database = _database(tables)
    ordered = {name: tables[name] for name in database.order()}
    return Spec(tables=ordered, database=database, locale=locale, source=dict(top))


def _table(name: str, data: Any, locale: str, where: str) -> TableSpec:
    raw = _mapping(data, where, "an object with 'columns'")
    _unknown(raw, _TABLE_FIELDS, where)
    columns_raw = _mapping(raw.get("columns", {}), f"{where}.columns", "an object of column name: column")
    columns: dict[str, ColumnSpec] = {}
    for column, body in columns_raw.items():
        columns[str(column)] = _column(str(column), body, locale, f"{where}.columns.{column}")
    table = TableSpec(name=name, columns=columns)
    if "rows" in raw:
        table.rows = _count(raw["rows"], f"{where}.rows")
    if "per_parent" in raw:
        table.per_parent = _per_parent(raw["per_parent"], f"{where}.per_parent")
    if table.rows is not None and table.per_parent is not None:
        raise SchemaError(f"{where}: give rows (a root table) or per_parent (a child table), not both")
    if "primary_key" in raw:
        table.primary_key = _names(raw["primary_key"], f"{where}.primary_key")
    table.rule_tries = _count(raw.get("rule_tries", DEFAULT_RULE_TRIES), f"{where}.rule_tries")
    for key in table.primary_key:
        if key not in table.columns:
            table.columns = {key: ColumnSpec(key, Kind.IDENTIFIER, f"{where}.columns.{key}"), **table.columns}
        key_column = table.columns[key]
        declared_values = key_column.sampled or key_column.formula or key_column.bins or key_column.provider
        if key_column.kind is Kind.NUMERIC and not declared_values and not key_column.conditional:
            key_column.kind = Kind.IDENTIFIER  # a key declared without values: integers 1, 2, ...
        if key_column.kind is not Kind.IDENTIFIER:
            raise SchemaError(
                f"{where}.primary_key: column {key!r} is {key_column.kind.value}; a key is an identifier"
            )
        if key_column.may_be_null:
            raise SchemaError(f"{where}.columns.{key}.nulls: a primary key has no nulls")
    fks = _mapping(raw.get("foreign_keys", {}), f"{where}.foreign_keys", "an object of column: parent table")
    for column, target in fks.items():
        here = f"{where}.foreign_keys.{column}"
        if not isinstance(target, str) or not target:
            raise SchemaError(f"{here}: expected a parent table ('customers') or 'table.column'")
        parent, _, parent_column = target.partition(".")
        table.foreign_keys.append(
            ForeignKey(child=name, columns=(str(column),), parent=parent, parent_columns=(parent_column,))
        )
        if str(column) in table.columns:
            declared = table.columns[str(column)]
            if declared.sampled or declared.formula or declared.provider or declared.bins:
                raise SchemaError(
                    f"{here}: a foreign key column is filled with parent keys; declare no values"
                )
    if "copula" in raw:
        table.copula = copula_from_dict(raw["copula"], f"{where}.copula")
        for i, column in enumerate(table.copula.columns):
            if column not in table.columns:
                raise SchemaError(f"{where}.copula.columns[{i}]: no column {column!r} in the table")
            if not table.columns[column].sampled:
                raise SchemaError(
                    f"{where}.copula.columns[{i}]: column {column!r} has no distribution of its own "
                    "(a formula, bins, a conditional or a provider cannot join a copula)"
                )
            if table.columns[column].null_given is not None:
                raise SchemaError(
                    f"{where}.columns.{column}.nulls.given: a copula column takes a null rate, "
                    "not null rates by another column"
                )
    table.rules = rules_from_list(raw.get("rules", []), f"{where}.rules")
    return table


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SchemaError(f"{where}: expected a whole number >= 0, got {value!r}")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SchemaError(f"{where}: expected a column name or a list of them")


def _per_parent(data: Any, where: str) -> tuple[str, Distribution]:
    raw = _mapping(data, where, "an object with 'table' and 'distribution'")
    _unknown(raw, {"table", "distribution", "min", "max"}, where)
    if not isinstance(raw.get("table"), str):
        raise SchemaError(f"{where}.table: expected the parent table's name")
    dist = distribution_from_dict(raw.get("distribution"), f"{where}.distribution", value_of=_as_number)
    low = raw.get("min", 0)
    high = raw.get("max")
    for bound, value in (("min", low), ("max", high)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise SchemaError(f"{where}.{bound}: expected a whole number >= 0")
    if not isinstance(dist, Uniform):
        dist = Truncated(dist, low, high, where)
    return raw["table"], dist


def _as_number(label: Any, where: str) -> float:
    try:
        value = float(label)
    except (TypeError, ValueError):
        raise SchemaError(f"{where}: a value of a numeric column is a number, got {label!r}") from None
    if not math.isfinite(value):
        raise SchemaError(f"{where}: a value must be finite")
    return value


def _as_bool(label: Any, where: str) -> bool:
    if isinstance(label, bool):
        return label
    text = str(label).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise SchemaError(f"{where}: a boolean column's values are true and false, got {label!r}")


def _as_label(label: Any, where: str) -> str:
    if isinstance(label, (Mapping, list)):
        raise SchemaError(f"{where}: a category is a single value")
    return str(label)


def as_days(value: Any, where: str) -> float:
    """A date (ISO text or a date object) or a number of days since 1970-01-01, as days."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise SchemaError(f"{where}: expected a date such as 2024-01-31, got {value!r}") from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)
    return float((stamp - EPOCH) / pd.Timedelta(days=1))


def _kind(raw: Mapping[str, Any], where: str) -> Kind:
    if "kind" in raw:
        if raw["kind"] not in KINDS:
            raise SchemaError(f"{where}.kind: unknown kind {raw['kind']!r} (known: {', '.join(KINDS)})")
        return Kind(raw["kind"])
    if "provider" in raw:
        return Kind.PII
    if "pattern" in raw:
        return Kind.IDENTIFIER
    if "bins" in raw:
        return Kind.CATEGORICAL
    dist = raw.get("distribution")
    if isinstance(dist, Mapping):
        kind = dist.get("type")
        if kind == "bernoulli":
            return Kind.BOOLEAN
        if kind == "categorical":
            weights = dist.get("weights")
            numeric = isinstance(weights, Mapping) and all(_is_number(k) for k in weights)
            return Kind.NUMERIC if numeric else Kind.CATEGORICAL
        if kind == "conditional":
            cases = dist.get("cases")
            first = next(iter(cases.values()), None) if isinstance(cases, Mapping) else None
            if isinstance(first, Mapping):
                return _kind({"distribution": first}, where)
    return Kind.NUMERIC


def _is_number(label: Any) -> bool:
    try:
        float(label)
    except (TypeError, ValueError):
        return False
    return not isinstance(label, bool)


# text around one number: "${:,.2f}", "{:.1f} kg", "{:,d} EUR"
_NUMBER_FORMAT = re.compile(
    r"(?P<prefix>[^{}\"\r\n]*)\{:(?P<grouped>,?)(?:\.(?P<decimals>\d{1,2})f|d)\}(?P<suffix>[^{}\"\r\n]*)"
)
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%f", "%p", "%X", "%c", "%T", "%R")


# a number format's styles beside its text: {"number": "{:,.2f}", "negative": "parentheses",
# "plus": "positive", "trimmed": true}
_NUMBER_STYLES = {"number", "negative", "plus", "trimmed"}


def _plus(value: Any, where: str) -> str | None:
    if value is not None and value not in ("positive", "non-negative"):
        raise SchemaError(
            f"{where}: 'positive' (+3, 0) or 'non-negative' (+3, +0), the numbers written with a plus, "
            f"got {value!r}"
        )
    return None if value is None else str(value)


def _number_styles(styles: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The ``negative`` and ``trimmed`` styles of a number format, as a CSV dialect's numbers hold them."""
    out: dict[str, Any] = {}
    negative = styles.get("negative", "minus")
    if negative not in ("minus", "parentheses", "minus sign"):
        raise SchemaError(
            f"{where}.negative: 'minus' (-1,200.50), 'parentheses' ((1,200.50)) or 'minus sign' (U+2212), "
            f"got {negative!r}"
        )
    if negative != "minus":
        out["negative"] = negative
    trimmed = styles.get("trimmed", False)
    if not isinstance(trimmed, bool):
        raise SchemaError(f"{where}.trimmed: expected true or false (as few decimals as each number needs)")
    if trimmed:
        out["trimmed"] = True
    return out


def _format(column: ColumnSpec, value: Any, where: str) -> None:
    """A column's ``format``: a datetime's ``date``, ``datetime`` or strftime format; a number's text."""
    if column.kind is Kind.DATETIME:
        if value in ("date", "datetime"):
            column.date_only = value == "date"
            return
        if not isinstance(value, str) or "%" not in value or '"' in value or "\n" in value:
            raise SchemaError(
                f"{where}: 'date', 'datetime' or a strftime format such as '%d/%m/%Y', for a datetime column"
            )
        if "%z" in value or "%:z" in value or "%Z" in value:
            raise SchemaError(f"{where}: a spec's times have no UTC offset or zone; drop %z from {value!r}")
        try:
            pd.Timestamp("2024-01-31 13:45:30").strftime(value)
        except ValueError as exc:
            raise SchemaError(f"{where}: {value!r} is not a strftime format ({exc})") from None
        column.datetime_format = value
        column.date_only = not any(directive in value for directive in _TIME_DIRECTIVES)
        return
    if column.kind is Kind.NUMERIC:
        styles: Mapping[str, Any] = {}
        if isinstance(value, Mapping):
            styles = value
            _unknown(styles, _NUMBER_STYLES, where)
            column.plus = _plus(styles.get("plus"), f"{where}.plus")
            if "number" not in styles:
                if {"negative", "trimmed"} & styles.keys():
                    raise SchemaError(f"{where}.number: missing (negative and trimmed style its text)")
                return
            value = styles["number"]
            where = f"{where}.number"
        found = _NUMBER_FORMAT.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise SchemaError(
                f"{where}: a number format such as '${{:,.2f}}' or '{{:.1f}} kg' (text around {{:.Nf}} or "
                f"{{:d}}, a ',' for thousands groups), got {value!r}"
            )
        column.number_text = {
            "prefix": found["prefix"],
            "suffix": found["suffix"],
            "decimals": int(found["decimals"] or 0),
            "grouped": found["grouped"] == ",",
            **_number_styles(styles, where.removesuffix(".number")),
        }
        return
    raise SchemaError(f"{where}: a format applies to a datetime or numeric column")


def _column(name: str, data: Any, locale: str, where: str) -> ColumnSpec:
    raw: Mapping[str, Any] = {} if data is None else _mapping(data, where, "an object describing the column")
    _unknown(raw, _COLUMN_FIELDS, where)
    kind = _kind(raw, where)
    column = ColumnSpec(name=name, kind=kind, path=where)
    sources = [k for k in ("distribution", "formula", "bins", "provider", "pattern") if k in raw]
    if len(sources) > 1:
        raise SchemaError(
            f"{where}.{sources[1]}: a column takes one of distribution, formula, bins, provider "
            f"or pattern (it also has {sources[0]})"
        )
    if "nulls" in raw:
        _parse_nulls(column, raw["nulls"], f"{where}.nulls")
    if "integer" in raw:
        if not isinstance(raw["integer"], bool):
            raise SchemaError(f"{where}.integer: expected true or false")
        column.integer = raw["integer"]
    if "decimals" in raw:
        column.decimals = _count(raw["decimals"], f"{where}.decimals")
    if "format" in raw:
        _format(column, raw["format"], f"{where}.format")
    convert = as_days if kind is Kind.DATETIME else None
    for bound in ("min", "max"):
        if bound in raw:
            value = raw[bound]
            if convert is not None:
                number = convert(value, f"{where}.{bound}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SchemaError(f"{where}.{bound}: expected a number, got {value!r}")
            else:
                number = float(value)
            setattr(column, "minimum" if bound == "min" else "maximum", number)
            if kind not in (Kind.NUMERIC, Kind.DATETIME):
                raise SchemaError(f"{where}.{bound}: min and max apply to numeric and datetime columns")
    if column.minimum is not None and column.maximum is not None and column.minimum > column.maximum:
        raise SchemaError(f"{where}.min: above max")
    value_of = {Kind.NUMERIC: _as_number, Kind.BOOLEAN: _as_bool, Kind.DATETIME: as_days}.get(kind, _as_label)
    if "distribution" in raw:
        dist_raw = raw["distribution"]
        if isinstance(dist_raw, Mapping) and dist_raw.get("type") == "conditional":
            column.conditional = _conditional(dist_raw, f"{where}.distribution", value_of, convert, column)
        else:
            column.distribution = _bounded(
                distribution_from_dict(dist_raw, f"{where}.distribution", value_of=value_of, convert=convert),
                column,
                f"{where}.distribution",
            )
            _check_kind(column, column.distribution, f"{where}.distribution")
            if column.distribution.discrete and column.kind is Kind.NUMERIC and "integer" not in raw:
                column.integer = bool(np.all(np.mod(_support(column.distribution), 1) == 0))
    elif "formula" in raw:
        if not isinstance(raw["formula"], str):
            raise SchemaError(f"{where}.formula: expected an expression such as 'price * quantity'")
        if kind is not Kind.NUMERIC:
            raise SchemaError(f"{where}.formula: a formula computes a numeric column")
        try:
            Formula(name, raw["formula"])
        except SchemaError as exc:
            raise SchemaError(f"{where}.formula: {exc}") from None
        if column.integer:
            raise SchemaError(
                f"{where}.integer: a formula's result is not rounded (its inputs decide); drop it"
            )
        column.formula = raw["formula"]
    elif "bins" in raw:
        column.bins = _bins(raw["bins"], f"{where}.bins")
    elif "provider" in raw:
        column.provider = _provider(raw["provider"], locale, f"{where}.provider")
        if kind not in (Kind.PII, Kind.TEXT):
            raise SchemaError(f"{where}.kind: a provider's column is pii or text")
    elif "pattern" in raw:
        if not isinstance(raw["pattern"], str) or not raw["pattern"]:
            raise SchemaError(
                f"{where}.pattern: expected a template (C-{{:06d}}), uuid or a pattern (AA-9999)"
            )
        from mirage.encoding.identifier import parse_id_format

        try:
            parse_id_format(raw["pattern"])
        except Exception as exc:  # the parser's own errors name no spec path
            raise SchemaError(f"{where}.pattern: {exc}") from None
        column.pattern = raw["pattern"]
        if kind is not Kind.IDENTIFIER:
            raise SchemaError(f"{where}.kind: a pattern makes an identifier column")
    if "start" in raw:
        start = raw["start"]
        if "pattern" not in raw or "{" not in raw["pattern"]:
            raise SchemaError(f"{where}.start: the first number of a numbered pattern (C-{{:06d}}); add one")
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < 2**63:
            raise SchemaError(f"{where}.start: expected a whole number from 0, got {start!r}")
        column.start = start
    if kind is Kind.IDENTIFIER and column.may_be_null:
        raise SchemaError(f"{where}.nulls: identifiers are unique keys without nulls")
    return column


def _check_kind(column: ColumnSpec, dist: Distribution, where: str) -> None:
    from mirage.spec._distributions import Categorical

    labels = isinstance(dist, Categorical) and not dist.numeric
    booleans = (
        isinstance(dist, Categorical) and set(dist.values.tolist()) <= {True, False} and not dist.numeric
    )
    if column.kind is Kind.BOOLEAN and not booleans:
        raise SchemaError(f"{where}: a boolean column takes a bernoulli or a categorical over true/false")
    if column.kind is Kind.CATEGORICAL and not (labels or isinstance(dist, Categorical)):
        raise SchemaError(f"{where}: a categorical column takes a categorical distribution")
    if column.kind in (Kind.NUMERIC, Kind.DATETIME) and labels:
        raise SchemaError(f"{where}: a {column.kind.value} column's categories must be numbers")
    if column.kind in (Kind.IDENTIFIER, Kind.PII, Kind.TEXT):
        raise SchemaError(f"{where}: a {column.kind.value} column takes a provider or a pattern")


def _support(dist: Distribution) -> np.ndarray:
    base = dist.base if isinstance(dist, Truncated) else dist
    return np.asarray(getattr(base, "values", np.zeros(0)), dtype="float64")


def _bounded(dist: Distribution, column: ColumnSpec, where: str) -> Distribution:
    if column.minimum is None and column.maximum is None:
        return dist
    return Truncated(dist, column.minimum, column.maximum, where)


def _conditional(
    raw: Mapping[str, Any], where: str, value_of: Any, convert: Any, column: ColumnSpec
) -> Conditional:
    _unknown(raw, {"type", "given", "cases", "default"}, where)
    if not isinstance(raw.get("given"), str):
        raise SchemaError(f"{where}.given: expected the name of a categorical or boolean column")
    cases_raw = _mapping(raw.get("cases"), f"{where}.cases", "an object of value: distribution")
    if not cases_raw:
        raise SchemaError(f"{where}.cases: give a distribution for one or more values")
    cases: dict[Any, Distribution] = {}
    for label, body in cases_raw.items():
        here = f"{where}.cases.{label}"
        dist = _bounded(distribution_from_dict(body, here, value_of=value_of, convert=convert), column, here)
        _check_kind(column, dist, here)
        cases[label] = dist
    default = None
    if "default" in raw:
        here = f"{where}.default"
        default = _bounded(
            distribution_from_dict(raw["default"], here, value_of=value_of, convert=convert), column, here
        )
        _check_kind(column, default, here)
    return Conditional(on=raw["given"], cases=cases, default=default)


def _bins(data: Any, where: str) -> Bins:
    raw = _mapping(data, where, "an object with column, edges and labels")
    _unknown(raw, {"column", "edges", "labels"}, where)
    if not isinstance(raw.get("column"), str):
        raise SchemaError(f"{where}.column: expected the numeric column to cut")
    edges = raw.get("edges")
    if not isinstance(edges, list) or len(edges) < 2 or not all(_is_number(e) for e in edges):
        raise SchemaError(f"{where}.edges: expected two or more increasing numbers")
    numbers = [float(e) for e in edges]
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        raise SchemaError(f"{where}.edges: must increase")
    labels = raw.get("labels")
    if labels is None:
        labels = [f"{_fmt(a)}-{_fmt(b)}" for a, b in itertools.pairwise(numbers)]
    if not isinstance(labels, list) or len(labels) != len(numbers) - 1:
        raise SchemaError(f"{where}.labels: expected one label per bin ({len(numbers) - 1})")
    return Bins(raw["column"], tuple(numbers), tuple(str(label) for label in labels))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _provider(data: Any, locale: str, where: str) -> Provider:
    if isinstance(data, str):
        data = {"name": data}
    raw = _mapping(data, where, "a provider name (email, iban, ...) or an object with name and locale")
    _unknown(raw, {"name", "locale", "pool"}, where)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise SchemaError(f"{where}.name: expected a provider name such as email, iban or company")
    here_locale = raw.get("locale", locale)
    if not isinstance(here_locale, str):
        raise SchemaError(f"{where}.locale: expected a Faker locale such as de_DE")
    default_pool = 0 if name in ROW_PROVIDERS else DEFAULT_POOL
    pool = _count(raw.get("pool", default_pool), f"{where}.pool")
    check_provider(name, here_locale, where)
    return Provider(name=name, locale=here_locale, pool=pool)


# linking the tables --------------------------------------------------------------------------------
def _link(tables: dict[str, TableSpec]) -> None:
    """Check the references between columns and tables; add key columns a table did not declare."""
    for table in tables.values():
        where = table.path
        added_keys: list[str] = []
        for fk in table.foreign_keys:
            here = f"{where}.foreign_keys.{fk.columns[0]}"
            if fk.parent not in tables:
                raise SchemaError(f"{here}: no table {fk.parent!r} (tables: {', '.join(tables)})")
            if fk.parent == table.name:
                raise SchemaError(f"{here}: a table referring to itself is not supported in a spec yet")
            parent = tables[fk.parent]
            parent_column = fk.parent_columns[0] or (
                parent.primary_key[0] if len(parent.primary_key) == 1 else ""
            )
            if not parent_column:
                raise SchemaError(f"{here}: table {fk.parent!r} has no single-column primary_key to refer to")
            if parent_column not in parent.columns:
                raise SchemaError(f"{here}: table {fk.parent!r} has no column {parent_column!r}")
            index = table.foreign_keys.index(fk)
            table.foreign_keys[index] = ForeignKey(fk.child, fk.columns, fk.parent, (parent_column,))
            key = fk.columns[0]
            if key in table.primary_key:
                raise SchemaError(
                    f"{here}: column {key!r} is also in the primary key; a spec's primary key is a column "
                    "of its own (composite keys are not supported yet)"
                )
            template = parent.columns[parent_column]
            if key not in table.columns:  # after the primary key and the keys added before it
                added = ColumnSpec(key, template.kind, f"{where}.columns.{key}")
                names = list(table.columns)
                at = max([names.index(c) + 1 for c in (*table.primary_key, *added_keys)], default=0)
                items = list(table.columns.items())
                table.columns = dict([*items[:at], (key, added), *items[at:]])
                added_keys.append(key)
            table.columns[key].kind = template.kind
            table.columns[key].pattern = template.pattern
            table.columns[key].key = True
        for key in table.primary_key:
            table.columns[key].key = True
        if table.per_parent is not None:
            parent_name = table.per_parent[0]
            if not any(fk.parent == parent_name for fk in table.foreign_keys):
                raise SchemaError(
                    f"{where}.per_parent.table: {parent_name!r} is not the parent of any of the table's "
                    "foreign_keys"
                )
        elif table.rows is None:
            raise SchemaError(f"{where}: give rows (a root table) or per_parent (rows per parent row)")
        _fold_formulas(table)
        _check_columns(table)
        _rules(table)


def _check_columns(table: TableSpec) -> None:
    from mirage.spec._distributions import Categorical

    for column in table.columns.values():
        if column.bins is not None:
            source = table.columns.get(column.bins.column)
            if source is None or source.kind is not Kind.NUMERIC:
                raise SchemaError(
                    f"{column.path}.bins.column: {column.bins.column!r} is not a numeric column"
                )
        if column.conditional is not None:
            on = table.columns.get(column.conditional.on)
            where = f"{column.path}.distribution.given"
            if on is None or on.kind not in (Kind.CATEGORICAL, Kind.BOOLEAN):
                raise SchemaError(
                    f"{where}: {column.conditional.on!r} is not a categorical or boolean column"
                )
            labels = on.categories()
            if on.kind is Kind.BOOLEAN:
                cases: dict[Any, Distribution] = {
                    _as_bool(k, f"{column.path}.distribution.cases.{k}"): v
                    for k, v in column.conditional.cases.items()
                }
                labels = [True, False]
            else:
                cases = {str(k): v for k, v in column.conditional.cases.items()}
            column.conditional = Conditional(column.conditional.on, cases, column.conditional.default)
            if labels is not None and column.conditional.default is None:
                missing = [v for v in labels if v not in cases]
                if missing:
                    raise SchemaError(
                        f"{column.path}.distribution.cases: no case for {missing[0]!r} of column "
                        f"{on.name!r}; add it or a default"
                    )
            if labels is not None:
                extra = [k for k in cases if k not in labels]
                if extra:
                    raise SchemaError(
                        f"{column.path}.distribution.cases.{extra[0]}: column {on.name!r} never takes it"
                    )
        if column.kind is Kind.CATEGORICAL and column.distribution is not None:
            assert isinstance(column.distribution, Categorical)
        if not (
            column.sampled
            or column.formula
            or column.bins
            or column.conditional
            or column.provider
            or column.key
            or column.kind is Kind.IDENTIFIER
        ):
            raise SchemaError(
                f"{column.path}: say how to generate it (distribution, formula, bins, provider or pattern)"
            )
    # a formula's, bins' or conditional's inputs come first; a cycle cannot be generated
    generation_order(table)


def _null_rate(rate: Any, where: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise SchemaError(f"{where}: a rate from 0 to below 1, got {rate!r}")
    return float(rate)


def _parse_nulls(column: ColumnSpec, raw: Any, where: str) -> None:
    """``nulls``: a rate, or rates by the value of another column (``given``, ``cases``, ``default``)."""
    if not isinstance(raw, Mapping):
        column.nulls = _null_rate(raw, where)
        return
    _unknown(raw, {"given", "cases", "default"}, where)
    given, cases = raw.get("given"), raw.get("cases")
    if not isinstance(given, str) or not given:
        raise SchemaError(f"{where}.given: name the column whose value sets the null rate")
    if given == column.name:
        raise SchemaError(f"{where}.given: a column's nulls cannot depend on itself")
    if not isinstance(cases, Mapping) or not cases:
        raise SchemaError(f"{where}.cases: map values of {given!r} to null rates")
    column.null_given = given
    column.null_cases = {label: _null_rate(rate, f"{where}.cases.{label}") for label, rate in cases.items()}
    column.nulls = _null_rate(raw.get("default", 0.0), f"{where}.default")


def generation_order(table: TableSpec) -> list[str]:
    """The table's columns in an order where each comes after the columns it is computed from."""
    done: list[str] = []
    visiting: list[str] = []

    def visit(name: str, where: str) -> None:
        if name in done:
            return
        if name not in table.columns:
            raise SchemaError(f"{where}: no column {name!r} in table {table.name!r}")
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name) :], name])
            raise SchemaError(f"{where}: the columns depend on each other in a cycle ({cycle})")
        visiting.append(name)
        column = table.columns[name]
        field_name = "formula" if column.formula else "bins.column" if column.bins else "distribution.given"
        for need in column.needs:
            visit(need, f"{column.path}.{'nulls.given' if need == column.null_given else field_name}")
        visiting.pop()
        done.append(name)

    for name in table.columns:
        visit(name, table.columns[name].path)
    return done


def _fold_formulas(table: TableSpec) -> None:
    """A formula rule computes its column: it becomes the column's formula."""
    for i, rule in enumerate(table.rules):
        if isinstance(rule, Formula):
            here = f"{table.path}.rules[{i}]"
            column = table.columns.get(rule.column)
            if column is None:
                raise SchemaError(f"{here}: no column {rule.column!r} in the table")
            if column.formula not in (None, rule.expression) or column.sampled or column.conditional:
                raise SchemaError(
                    f"{here}: column {rule.column!r} has values of its own; a formula rule computes it, "
                    "so declare no distribution for it"
                )
            column.kind = Kind.NUMERIC
            column.formula = rule.expression


def _rules(table: TableSpec) -> None:
    """Build the table's schema and check every rule on it."""
    for i, rule in enumerate(table.rules):
        if isinstance(rule, AllowedCombinations) and rule.combinations is None:
            raise SchemaError(f"{table.path}.rules[{i}].combinations: a spec lists the allowed combinations")
    declared = {r.column for r in table.rules if isinstance(r, Formula)}
    rules = list(table.rules)  # in the spec's order: errors name rules[i]
    rules += [
        Formula(c.name, c.formula)
        for c in table.columns.values()
        if c.formula is not None and c.name not in declared
    ]
    table.rules = rules
    columns = [c.to_column("en_US") for c in table.columns.values()]
    numbers = {c.name: c.number_text for c in table.columns.values() if c.number_text is not None}
    dates = {c.name: c.datetime_format for c in table.columns.values() if c.datetime_format is not None}
    signed = {c.name: c.plus for c in table.columns.values() if c.plus is not None}
    # written by a CSV as a source's dialect is: mirage.io.output_dialect reads it
    written = {
        **({"numbers": numbers} if numbers else {}),
        **({"signed": signed} if signed else {}),
        **({"dates": dates} if dates else {}),
    }
    try:
        table.schema = Schema(columns, rules=list(rules), extra={"csv": written} if written else {})
    except SchemaError as exc:
        raise SchemaError(f"{table.path}.rules: {exc}") from None
    generation_order(table)


def _never_null(column: ColumnSpec) -> bool:
    """Declared NOT NULL in a database the spec is written to: drawn from a distribution, a provider or
    a pattern with no null rate (formulas, bins and conditionals can inherit a null from a column they
    read)."""
    drawn = column.distribution is not None or column.provider is not None or column.pattern is not None
    return drawn and not column.key and not column.may_be_null


def _database(tables: dict[str, TableSpec]) -> DatabaseSchema:
    built = {
        name: Table(
            name=name,
            schema=t.schema,
            primary_key=t.primary_key,
            sql_types={c.name: "DATE" for c in t.columns.values() if c.date_only},
            not_null=tuple(c.name for c in t.columns.values() if _never_null(c)),
        )
        for name, t in tables.items()
    }
    try:
        return DatabaseSchema(built, [fk for t in tables.values() for fk in t.foreign_keys])
    except SchemaError as exc:
        raise SchemaError(f"tables: {exc}") from None
