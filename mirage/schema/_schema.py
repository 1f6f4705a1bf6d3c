"""A table's schema: its columns in order, with a JSON round trip a user can edit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from mirage.errors import SchemaError
from mirage.schema._column import Column, Kind

if TYPE_CHECKING:
    from mirage.control._rules import Rule

__all__ = ["SCHEMA_FORMAT_VERSION", "Schema", "load_json_file", "parse_json"]

T = TypeVar("T")

SCHEMA_FORMAT_VERSION = 1


ON_RULE_VIOLATION = ("warn", "error", "drop")


@dataclass
class Schema:
    """The columns of a table in order, with the business rules its rows satisfy.

    ``rules`` (see :mod:`mirage.control`) hold on every row a model fitted with this schema draws;
    ``suggested_rules`` (written by ``mirage schema --suggest-rules``) are not enforced until moved
    into ``rules``.  ``on_rule_violation``: what fit does with training rows that break a rule,
    ``"warn"`` (learn them, naming the rows), ``"error"`` or ``"drop"`` (leave them out).
    """

    columns: list[Column]
    locale: str = "en_US"
    extra: dict[str, Any] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    suggested_rules: list[Rule] = field(default_factory=list)
    on_rule_violation: str = "warn"

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for column in self.columns:
            if column.name in seen:
                raise SchemaError(f"column {column.name!r} appears twice in the schema")
            seen.add(column.name)
        self.check_rules()

    def check_rules(self) -> None:
        """Raise ``SchemaError`` naming the first rule that is malformed or names a column it cannot use."""
        from mirage.control._rules import check_rules

        if self.on_rule_violation not in ON_RULE_VIOLATION:
            raise SchemaError(
                f"on_rule_violation must be one of {', '.join(ON_RULE_VIOLATION)}, "
                f"got {self.on_rule_violation!r}"
            )
        self.rules = list(self.rules)
        self.suggested_rules = list(self.suggested_rules)
        check_rules(self.rules, self, "rules")
        check_rules(self.suggested_rules, self, "suggested_rules")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise SchemaError(f"no column {name!r} in the schema (columns: {', '.join(self.names)})")

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def of_kind(self, *kinds: Kind) -> list[Column]:
        return [c for c in self.columns if c.kind in kinds]

    def validate(self, data: pd.DataFrame) -> None:
        """Raise SchemaError naming the first column that the data lacks or has in excess."""
        missing = [n for n in self.names if n not in data.columns]
        if missing:
            raise SchemaError(f"column {missing[0]!r} is in the schema but not in the data")
        extra = [str(c) for c in data.columns if c not in set(self.names)]
        if extra:
            raise SchemaError(f"column {extra[0]!r} is in the data but not in the schema")

    # JSON round trip -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format_version": SCHEMA_FORMAT_VERSION,
            "locale": self.locale,
            "columns": [c.to_dict() for c in self.columns],
        }
        if self.extra:
            out["extra"] = self.extra
        for name in ("rules", "suggested_rules"):
            rules = getattr(self, name)
            if rules:
                out[name] = [rule.to_dict() for rule in rules]
        if self.on_rule_violation != "warn":
            out["on_rule_violation"] = self.on_rule_violation
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        if not isinstance(data, dict) or "columns" not in data:
            raise SchemaError("a schema is a JSON object with a 'columns' list")
        version = data.get("format_version", SCHEMA_FORMAT_VERSION)
        if version > SCHEMA_FORMAT_VERSION:
            raise SchemaError(
                f"schema format version {version} is newer than this Mirage reads "
                f"({SCHEMA_FORMAT_VERSION}); upgrade mirage-synth"
            )
        from mirage.control._rules import rules_from_list

        columns = [Column.from_dict(c) for c in data["columns"]]
        return cls(
            columns=columns,
            locale=data.get("locale", "en_US"),
            extra=data.get("extra", {}),
            rules=rules_from_list(data.get("rules", []), "rules"),
            suggested_rules=rules_from_list(data.get("suggested_rules", []), "suggested_rules"),
            on_rule_violation=data.get("on_rule_violation", "warn"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=_json_default)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        return cls.from_dict(parse_json(text, "schema"))

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        return load_json_file(path, "schema", cls.from_json)


def parse_json(text: str, what: str) -> Any:
    """``text`` parsed as JSON; invalid JSON is a ``SchemaError`` naming ``what`` and the line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{what} is not valid JSON: line {exc.lineno}: {exc.msg}") from None


def load_json_file(path: str | Path, what: str, build: Callable[[str], T]) -> T:
    """``build`` applied to the UTF-8 text of ``path``; every ``SchemaError`` names the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"cannot read {what} file {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SchemaError(f"{what} file {str(path)!r} is not UTF-8 JSON text") from None
    try:
        return build(text)
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from None


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")
