"""Business rules a table's rows must satisfy, declared in Python or in the schema JSON.

Each rule names its columns, tells which rows of a frame break it (``violations``) and, except
``Predicate`` (Python code), writes itself to a JSON object and back.  How a fitted model makes
its rows satisfy the rules is :mod:`mirage.control._plan`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mirage.errors import SchemaError
from mirage.schema._column import Column, Kind
from mirage.schema._datetimes import read_datetimes

__all__ = [
    "AllowedCombinations",
    "Format",
    "Formula",
    "Inequality",
    "Predicate",
    "Range",
    "Rule",
    "Unique",
    "check_rules",
    "rule_from_dict",
    "rules_from_list",
]

OPERATORS = (">=", ">", "<=", "<")
ORDERED = (Kind.NUMERIC, Kind.DATETIME)
DISCRETE = (Kind.CATEGORICAL, Kind.BOOLEAN, Kind.NUMERIC)


class Rule:
    """Base class of the rules.  ``name`` is the rule's type in JSON (``{"rule": name, ...}``)."""

    name: ClassVar[str] = ""

    @property
    def used_columns(self) -> tuple[str, ...]:
        """Every column the rule reads."""
        raise NotImplementedError

    def violations(self, frame: pd.DataFrame, schema: Any = None) -> np.ndarray:
        """A boolean mask of the rows of ``frame`` that break the rule (missing values break none,
        except for ``Unique``, which ignores them too)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def check(self, schema: Any) -> None:
        """Raise ``SchemaError`` naming the rule and column when ``schema`` cannot hold the rule."""
        for column in self.used_columns:
            if column not in schema.names:
                raise SchemaError(f"rule {self.describe()}: no column {column!r} in the schema")


def _kind_check(rule: Rule, column: Column, kinds: Sequence[Kind], what: str) -> None:
    if column.kind not in kinds:
        raise SchemaError(
            f"rule {rule.describe()}: column {column.name!r} is {column.kind.value}; {what} needs "
            f"{' or '.join(k.value for k in kinds)} columns"
        )


def as_datetime(values: pd.Series, column: Column | None) -> pd.Series:
    """Values of a datetime column as pandas datetimes (text parsed with the column's format)."""
    if column is not None and column.datetime_format and not pd.api.types.is_datetime64_any_dtype(values):
        return read_datetimes(values, column.datetime_format, keep_offset=True)
    return pd.to_datetime(values, errors="coerce")


def comparable(values: pd.Series, column: Column | None) -> pd.Series:
    """Values made comparable across columns: datetimes as datetimes, the rest as floats."""
    if column is not None and column.kind is Kind.DATETIME:
        return as_datetime(values, column)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_numeric(values, errors="coerce").astype("float64")


def numeric_dtype(dtype: str) -> bool:
    try:
        return bool(pd.api.types.is_numeric_dtype(pd.api.types.pandas_dtype(dtype)))
    except TypeError:
        return False


def _column(schema: Any, name: str) -> Column | None:
    return schema[name] if schema is not None and name in schema.names else None


@dataclass(frozen=True)
class Inequality(Rule):
    """``left op right`` between two numeric or two datetime columns (``op``: >=, >, <= or <)."""

    left: str
    op: str
    right: str
    name: ClassVar[str] = "inequality"

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise SchemaError(f"rule {self.describe()}: op must be one of {', '.join(OPERATORS)}")
        if self.left == self.right:
            raise SchemaError(f"rule {self.describe()}: compares column {self.left!r} with itself")

    @property
    def used_columns(self) -> tuple[str, ...]:
        return (self.left, self.right)

    @property
    def high(self) -> str:
        return self.left if self.op.startswith(">") else self.right

    @property
    def low(self) -> str:
        return self.right if self.op.startswith(">") else self.left

    @property
    def strict(self) -> bool:
        return "=" not in self.op

    def violations(self, frame: pd.DataFrame, schema: Any = None) -> np.ndarray:
        high = comparable(frame[self.high], _column(schema, self.high))
        low = comparable(frame[self.low], _column(schema, self.low))
        both = high.notna() & low.notna()
        holds = (high > low) if self.strict else (high >= low)
        return np.asarray(both & ~holds.fillna(False), dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "left": self.left, "op": self.op, "right": self.right}

    def describe(self) -> str:
        return f"{self.left} {self.op} {self.right}"

    def check(self, schema: Any) -> None:
        super().check(schema)
        left, right = schema[self.left], schema[self.right]
        for column in (left, right):
            _kind_check(self, column, ORDERED, "an inequality")
        if left.kind is not right.kind:
            raise SchemaError(
                f"rule {self.describe()}: compares {left.kind.value} column {left.name!r} with "
                f"{right.kind.value} column {right.name!r}"
            )


def _bound(value: Any, where: str) -> Any:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            pd.Timestamp(value)
        except ValueError:
            raise SchemaError(f"{where}: {value!r} is neither a number nor a date") from None
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise SchemaError(f"{where}: {value!r} is neither a number nor a date")


@dataclass(frozen=True)
class Range(Rule):
    """``low <= column <= high`` (either bound may be None); dates as ISO text or Timestamps."""

    column: str
    low: Any = None
    high: Any = None
    name: ClassVar[str] = "range"

    def __post_init__(self) -> None:
        object.__setattr__(self, "low", _bound(self.low, f"rule {self.describe()}: low"))
        object.__setattr__(self, "high", _bound(self.high, f"rule {self.describe()}: high"))
        if self.low is None and self.high is None:
            raise SchemaError(f"rule range of {self.column!r}: give low, high or both")
        if self.low is not None and self.high is not None and self._value(self.low) > self._value(self.high):
            raise SchemaError(f"rule {self.describe()}: low is above high")

    @staticmethod
    def _value(bound: Any) -> Any:
        return pd.Timestamp(bound) if isinstance(bound, str) else bound

    @property
    def used_columns(self) -> tuple[str, ...]:
        return (self.column,)

    def bounds(self) -> tuple[Any, Any]:
        return (
            None if self.low is None else self._value(self.low),
            None if self.high is None else self._value(self.high),
        )

    def violations(self, frame: pd.DataFrame, schema: Any = None) -> np.ndarray:
        values = comparable(frame[self.column], _column(schema, self.column))
        low, high = self.bounds()
        bad = pd.Series(False, index=values.index)
        if low is not None:
            bad |= (values < low).fillna(False)
        if high is not None:
            bad |= (values > high).fillna(False)
        return np.asarray(bad, dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "column": self.column, "low": self.low, "high": self.high}

    def describe(self) -> str:
        low = "" if self.low is None else f"{self.low} <= "
        high = "" if self.high is None else f" <= {self.high}"
        return f"{low}{self.column}{high}"

    def check(self, schema: Any) -> None:
        super().check(schema)
        column = schema[self.column]
        _kind_check(self, column, ORDERED, "a range")
        for bound in (self.low, self.high):
            if bound is None:
                continue
            if (column.kind is Kind.DATETIME) != isinstance(bound, str):
                wanted = "a date" if column.kind is Kind.DATETIME else "a number"
                raise SchemaError(f"rule {self.describe()}: column {column.name!r} needs {wanted} as bound")


def _key(value: Any) -> Any:
    """A value as a hashable, JSON-able key (missing values as None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def combination_keys(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    arrays = [frame[c].astype(object).tolist() for c in columns]
    return [tuple(_key(v) for v in row) for row in zip(*arrays, strict=True)]


@dataclass(frozen=True)
class AllowedCombinations(Rule):
    """The values of ``columns`` (city within country) only come in ``combinations``; ``None``:
    the combinations seen in the training data, learned at fit."""

    columns: Sequence[str]
    combinations: Sequence[Sequence[Any]] | None = None
    name: ClassVar[str] = "allowed_combinations"

    def __post_init__(self) -> None:
        names = [self.columns] if isinstance(self.columns, str) else list(self.columns)
        object.__setattr__(self, "columns", tuple(str(c) for c in names))
        if len(self.columns) < 2 or len(set(self.columns)) != len(self.columns):
            raise SchemaError(f"rule {self.describe()}: needs two or more distinct columns")
        if self.combinations is not None:
            combos = tuple(tuple(_key(v) for v in combo) for combo in self.combinations)
            bad = [c for c in combos if len(c) != len(self.columns)]
            if bad:
                raise SchemaError(
                    f"rule {self.describe()}: combination {list(bad[0])} has {len(bad[0])} values for "
                    f"{len(self.columns)} columns"
                )
            object.__setattr__(self, "combinations", combos)

    @property
    def used_columns(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def allowed(self, learned: Sequence[Sequence[Any]] | None = None) -> set[tuple[Any, ...]]:
        combos = self.combinations if self.combinations is not None else learned or ()
        return {tuple(c) for c in combos}

    def violations(
        self, frame: pd.DataFrame, schema: Any = None, learned: Sequence[Sequence[Any]] | None = None
    ) -> np.ndarray:
        if self.combinations is None and learned is None:
            return np.zeros(len(frame), dtype=bool)  # learned from these very rows
        allowed = self.allowed(learned)
        return np.array([key not in allowed for key in combination_keys(frame, self.columns)], dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.name, "columns": list(self.columns)}
        if self.combinations is not None:
            out["combinations"] = [list(c) for c in self.combinations]
        return out

    def describe(self) -> str:
        return f"allowed combinations of {', '.join(self.columns)}"

    def check(self, schema: Any) -> None:
        super().check(schema)
        for name in self.used_columns:
            _kind_check(self, schema[name], DISCRETE, "allowed combinations")


@dataclass(frozen=True)
class Unique(Rule):
    """No two rows share the values of ``columns`` (one column or several together)."""

    columns: str | Sequence[str]
    name: ClassVar[str] = "unique"

    def __post_init__(self) -> None:
        names = [self.columns] if isinstance(self.columns, str) else list(self.columns)
        if not names:
            raise SchemaError("rule unique: give one or more columns")
        object.__setattr__(self, "columns", tuple(str(c) for c in names))

    @property
    def used_columns(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def violations(self, frame: pd.DataFrame, schema: Any = None) -> np.ndarray:
        """Rows repeating the values of an earlier row (the first of each value is kept)."""
        keys = frame[list(self.columns)]
        present = keys.notna().all(axis=1).to_numpy()
        return np.asarray(keys.duplicated(keep="first").to_numpy() & present, dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "columns": list(self.columns)}

    def describe(self) -> str:
        return f"unique {', '.join(self.columns)}"


_FORMULA_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load)
_FORMULA_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd)


def formula_names(expression: str, where: str) -> list[str]:
    """The column names of ``expression`` (+, -, *, / of columns and numbers), in order."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise SchemaError(f"{where}: {expression!r} is not an arithmetic expression") from None
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            if not isinstance(node.op, _FORMULA_OPS):
                raise SchemaError(f"{where}: only + - * / are allowed in {expression!r}")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise SchemaError(f"{where}: only numbers and column names are allowed in {expression!r}")
        elif isinstance(node, ast.Name):
            names.append(node.id)
        elif not isinstance(node, _FORMULA_NODES + _FORMULA_OPS):
            raise SchemaError(f"{where}: only + - * / of columns and numbers are allowed in {expression!r}")
    return list(dict.fromkeys(names))


def evaluate_formula(expression: str, frame: pd.DataFrame) -> pd.Series:
    """``expression`` computed on the columns of ``frame`` (as floats; missing in, missing out)."""

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))  # formula_names checked it
            return float(node.value)
        if isinstance(node, ast.Name):
            return pd.to_numeric(frame[node.id], errors="coerce").astype("float64").reset_index(drop=True)
        if isinstance(node, ast.UnaryOp):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        assert isinstance(node, ast.BinOp)
        left, right = value(node.left), value(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        return left / right

    result = value(ast.parse(expression, mode="eval"))
    if not isinstance(result, pd.Series):
        result = pd.Series(result, index=pd.RangeIndex(len(frame)), dtype="float64")
    return result


def formula_tolerance(column: Column | None, values: pd.Series) -> np.ndarray:
    """How far a stored result may sit from its formula: half its last decimal, else float noise."""
    scale = np.abs(values.to_numpy(dtype="float64", na_value=np.nan))
    noise = 1e-9 * np.maximum(scale, 1.0)
    if column is not None and column.decimals is not None and not column.integer:
        return np.maximum(noise, 0.5 * 10.0 ** (-column.decimals) + 1e-12)
    return noise


@dataclass(frozen=True)
class Formula(Rule):
    """``column = expression``: the expression (+ - * / of other numeric columns and numbers, such
    as ``"fare + tip + tolls"``) computes the column."""

    column: str
    expression: str
    name: ClassVar[str] = "formula"

    def __post_init__(self) -> None:
        parts = formula_names(self.expression, f"rule {self.describe()}")
        if not parts:
            raise SchemaError(f"rule {self.describe()}: the expression names no column")
        if self.column in parts:
            raise SchemaError(f"rule {self.describe()}: the column appears on both sides")

    @property
    def parts(self) -> list[str]:
        return formula_names(self.expression, f"rule {self.describe()}")

    @property
    def used_columns(self) -> tuple[str, ...]:
        return (self.column, *self.parts)

    def violations(self, frame: pd.DataFrame, schema: Any = None) -> np.ndarray:
        expected = evaluate_formula(self.expression, frame).to_numpy(dtype="float64", na_value=np.nan)
        actual_series = pd.to_numeric(frame[self.column], errors="coerce").astype("float64")
        actual = actual_series.to_numpy(dtype="float64", na_value=np.nan)
        tolerance = formula_tolerance(_column(schema, self.column), actual_series)
        both = ~np.isnan(expected) & ~np.isnan(actual)
        with np.errstate(invalid="ignore"):
            far = np.abs(expected - actual) > tolerance
        return np.asarray(both & far, dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "column": self.column, "expression": self.expression}

    def describe(self) -> str:
        return f"{self.column} = {self.expression}"

    def check(self, schema: Any) -> None:
        super().check(schema)
        _kind_check(self, schema[self.column], (Kind.NUMERIC,), "a formula's result")
        for name in self.parts:
            column = schema[name]
            if column.kind is Kind.CATEGORICAL and numeric_dtype(column.dtype):
                continue  # a few numbers learned as categories (tolls of 0, 2.5 or 5) are still numbers
            _kind_check(self, column, (Kind.NUMERIC,), "a formula")


@dataclass(frozen=True)
class Format(Rule):
    """Every present value of ``column``, as text, matches the regular expression ``pattern`` whole."""

    column: str
    pattern: str
    name: ClassVar[str] = "format"

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise SchemaError(f"rule {self.describe()}: not a regular expression ({exc})") from None

    @property
    def used_columns(self) -> tuple[str, ...]:
        return (self.column,)

    def violations(self, frame: pd.DataFrame, schema: Any = None) -> np.ndarray:
        compiled = re.compile(self.pattern)
        values = frame[self.column]
        present = values.notna().to_numpy()
        matched = np.array(
            [compiled.fullmatch(str(v)) is not None for v in values.astype(object)], dtype=bool
        )
        return present & ~matched

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "column": self.column, "pattern": self.pattern}

    def describe(self) -> str:
        return f"format of {self.column} {self.pattern!r}"


@dataclass(frozen=True)
class Predicate(Rule):
    """Any Python test of the rows: ``function(frame)`` returns a boolean per row (True: the row is
    valid).  Python only: it is code, so it cannot be written to the schema JSON or a model file.
    Enforced by drawing rows again, so a rare predicate is slow (bounded, then an error)."""

    function: Callable[[pd.DataFrame], Any] = field(compare=False)
    label: str = ""
    name: ClassVar[str] = "predicate"

    def __post_init__(self) -> None:
        if not callable(self.function):
            raise SchemaError(f"rule predicate: expected a function of the rows, got {self.function!r}")

    @property
    def used_columns(self) -> tuple[str, ...]:
        return ()

    def violations(self, frame: pd.DataFrame, schema: Any = None) -> np.ndarray:
        result = np.asarray(self.function(frame))
        if result.shape != (len(frame),):
            raise SchemaError(
                f"rule {self.describe()}: returned {result.shape} values for {len(frame)} rows; it must "
                "return one boolean per row"
            )
        return ~result.astype(bool)

    def to_dict(self) -> dict[str, Any]:
        raise SchemaError(
            f"rule {self.describe()} is Python code and cannot be written to JSON (a schema file or a "
            "model file); remove it from schema.rules to save, and add it again after loading"
        )

    def describe(self) -> str:
        label = self.label or getattr(self.function, "__name__", "")
        return f"predicate {label}".rstrip()


_RULES: dict[str, type[Rule]] = {
    cls.name: cls for cls in (Inequality, Range, AllowedCombinations, Unique, Formula, Format)
}
_FIELDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # required, optional
    "inequality": (("left", "op", "right"), ()),
    "range": (("column",), ("low", "high")),
    "allowed_combinations": (("columns",), ("combinations",)),
    "unique": (("columns",), ()),
    "formula": (("column", "expression"), ()),
    "format": (("column", "pattern"), ()),
}


def rule_from_dict(data: Any, where: str = "rule") -> Rule:
    """A rule from its JSON object; a ``SchemaError`` names ``where`` and the field at fault."""
    if not isinstance(data, Mapping) or not isinstance(data.get("rule"), str):
        raise SchemaError(f"{where}: expected an object with a 'rule' name ({', '.join(_RULES)})")
    kind = data["rule"]
    if kind == "predicate":
        raise SchemaError(f"{where}: a predicate is Python code; declare it in Python, not in JSON")
    if kind not in _RULES:
        raise SchemaError(f"{where}: unknown rule {kind!r} (known: {', '.join(_RULES)})")
    required, optional = _FIELDS[kind]
    unknown = sorted(set(data) - {"rule", *required, *optional})
    if unknown:
        raise SchemaError(f"{where}: unknown field {unknown[0]!r} for a {kind} rule")
    missing = [name for name in required if name not in data]
    if missing:
        raise SchemaError(f"{where}: a {kind} rule needs {missing[0]!r}")
    for name in ("left", "op", "right", "column", "expression", "pattern"):
        if name in data and not isinstance(data[name], str):
            raise SchemaError(f"{where}.{name}: expected a string, got {data[name]!r}")
    if "columns" in data and not (
        isinstance(data["columns"], list) and all(isinstance(c, str) for c in data["columns"])
    ):
        raise SchemaError(f"{where}.columns: expected a list of column names")
    if data.get("combinations") is not None and not (
        isinstance(data["combinations"], list) and all(isinstance(c, list) for c in data["combinations"])
    ):
        raise SchemaError(f"{where}.combinations: expected a list of lists of values")
    values = {name: data[name] for name in (*required, *optional) if name in data}
    try:
        return _RULES[kind](**values)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None


def rules_from_list(data: Any, where: str = "rules") -> list[Rule]:
    if not isinstance(data, list):
        raise SchemaError(f"{where}: expected a list of rules")
    return [rule_from_dict(item, f"{where}[{i}]") for i, item in enumerate(data)]


def check_rules(rules: Sequence[Any], schema: Any, where: str = "rules") -> None:
    """Raise ``SchemaError`` for the first rule that is not a ``Rule`` or that ``schema`` cannot hold."""
    for i, rule in enumerate(rules):
        if not isinstance(rule, Rule):
            raise SchemaError(f"{where}[{i}]: expected a rule (mirage.control), got {type(rule).__name__}")
        try:
            rule.check(schema)
        except SchemaError as exc:
            raise SchemaError(f"{where}[{i}]: {exc}") from None
