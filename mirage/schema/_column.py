"""Column kinds and the description of one column: what inference finds and a user may edit."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mirage.errors import SchemaError

__all__ = ["KEEP_RESOLUTION", "PII_TYPES", "Column", "Kind", "kept_at_resolution"]

#: a ``Column.extra`` flag: an engine that chooses a number's resolution on held-out rows keeps this
#: column at its finest instead (the related tables' children-per-row counts: the model ranks the
#: parents by them, and a coarse bin draws its rows' ranks at random)
KEEP_RESOLUTION = "keep_resolution"


def kept_at_resolution(columns: Iterable[Column]) -> frozenset[str]:
    """The names of the ``columns`` flagged ``KEEP_RESOLUTION``."""
    return frozenset(c.name for c in columns if c.extra.get(KEEP_RESOLUTION))


class Kind(str, Enum):
    """What a column holds, which decides how it is encoded and whether it is learned at all."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    IDENTIFIER = "identifier"  # unique keys: regenerated in the same format, never learned
    PII = "pii"  # personal data: replaced with Faker values, never learned
    TEXT = "text"  # free text: replaced with Faker text of a learned length, never copied

    @property
    def learned(self) -> bool:
        return self in (Kind.NUMERIC, Kind.CATEGORICAL, Kind.BOOLEAN, Kind.DATETIME)


PII_TYPES = (
    "email",
    "phone_number",
    "person_name",
    "first_name",
    "last_name",
    "street_address",
    "city",
    "postal_code",
    "national_id",
    "credit_card",
    "iban",
    "ip_address",
    "account_number",
)


@dataclass
class Column:
    """One column of a table.

    ``dtype`` is the pandas dtype the column had when the schema was inferred; sampled data comes
    back with it.  Kind-specific fields are ``None`` where they do not apply.
    """

    name: str
    kind: Kind
    dtype: str = "object"
    nullable: bool = False
    # numeric
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    # categorical
    ordered: bool = False
    categories: list[Any] | None = None
    # datetime: a strftime format when the source held text, None for native datetimes
    datetime_format: str | None = None
    # identifier: a template such as "C-{:06d}" or a character-class pattern such as "AAAAA"
    id_format: str | None = None
    # pii
    pii_type: str | None = None
    locale: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # set by inference when it has warned about the column, so that fit does not say it twice;
    # never saved
    warned: bool = field(default=False, compare=False, repr=False, metadata={"transient": True})

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Kind):
            try:
                self.kind = Kind(self.kind)
            except ValueError:
                allowed = ", ".join(k.value for k in Kind)
                raise SchemaError(
                    f"column {self.name!r}: unknown kind {self.kind!r} (allowed: {allowed})"
                ) from None
        if self.kind is Kind.PII and self.pii_type not in PII_TYPES:
            raise SchemaError(
                f"column {self.name!r}: pii_type must be one of {', '.join(PII_TYPES)}, got {self.pii_type!r}"
            )
        if (
            self.minimum is not None
            and self.maximum is not None
            and float(self.minimum) > float(self.maximum)
        ):
            raise SchemaError(
                f"column {self.name!r}: minimum {self.minimum} is greater than maximum {self.maximum}"
            )
        if self.decimals is not None and self.decimals < 0:
            raise SchemaError(f"column {self.name!r}: decimals must be >= 0, got {self.decimals}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind.value}
        for f in dataclasses.fields(self):
            if f.name in ("name", "kind") or f.metadata.get("transient"):
                continue
            value = getattr(self, f.name)
            default = f.default if f.default is not dataclasses.MISSING else None
            if f.name == "extra" and not value:
                continue
            if value != default or f.name in ("dtype", "nullable"):
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Column:
        if "name" not in data or "kind" not in data:
            raise SchemaError(f"a column entry needs 'name' and 'kind': {data!r}")
        known = {f.name for f in dataclasses.fields(cls) if not f.metadata.get("transient")}
        unknown = set(data) - known
        if unknown:
            raise SchemaError(f"column {data['name']!r}: unknown field(s) {', '.join(sorted(unknown))}")
        return cls(**data)
