"""The schema of an event table: which column names the entity, which orders its events.

Each entity's events are ordered by ``order`` (a timestamp or a step number); the model learns the
gaps between consecutive events and each entity's first value, never absolute positions.  Columns
constant within every entity (a subject's group, a customer's segment) are entity attributes: drawn
once per entity, so they stay consistent along its history.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mirage._warnings import MirageWarning
from mirage.errors import DataError, OptionError, SchemaError
from mirage.schema import Column, Kind, Schema, infer_schema
from mirage.sequential._keys import CLOCK, written_clock

__all__ = [
    "SEQUENCE_SCHEMA",
    "SequenceSchema",
    "history_columns",
    "infer_sequence_schema",
    "is_sequence_schema",
]

SEQUENCE_SCHEMA = "sequence"  # the "kind" field of a sequence schema's JSON


@dataclass
class SequenceSchema:
    """An event table's columns (``columns``), its entity key and its order column."""

    entity: str
    order: str
    columns: Schema

    def __post_init__(self) -> None:
        for option, name in (("entity", self.entity), ("order", self.order)):
            if name not in self.columns.names:
                raise SchemaError(f"{option} column {name!r} is not a column of the event table")
        if self.entity == self.order:
            raise SchemaError(f"the entity and order columns are both {self.entity!r}")
        kind = self.columns[self.order].kind
        if kind not in (Kind.NUMERIC, Kind.DATETIME):
            raise SchemaError(
                f"order column {self.order!r} is {kind.value}: it must be a timestamp or a step number"
            )

    @property
    def timestamped(self) -> bool:
        return self.columns[self.order].kind is Kind.DATETIME

    @property
    def value_columns(self) -> list[str]:
        """The columns learned per event or per entity: all but the entity key and the order."""
        return [c.name for c in self.columns if c.name not in (self.entity, self.order)]

    def validate(self, events: pd.DataFrame) -> None:
        self.columns.validate(events)
        if events[self.entity].isna().any():
            raise DataError(f"entity column {self.entity!r} has missing values")
        if events[self.order].isna().any():
            raise DataError(f"order column {self.order!r} has missing values")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": SEQUENCE_SCHEMA, "entity": self.entity, "order": self.order} | {
            "columns": self.columns.to_dict()
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SequenceSchema:
        if not is_sequence_schema(data):
            raise SchemaError('not a sequence schema (no "kind": "sequence")')
        return cls(str(data["entity"]), str(data["order"]), Schema.from_dict(dict(data["columns"])))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    @classmethod
    def load(cls, path: str | Path) -> SequenceSchema:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SchemaError(f"cannot read the schema {path}: {exc}") from None
        return cls.from_dict(data)


def is_sequence_schema(data: object) -> bool:
    """Whether parsed schema JSON is a sequence schema."""
    return isinstance(data, dict) and data.get("kind") == SEQUENCE_SCHEMA


def infer_sequence_schema(
    events: pd.DataFrame, entity: str, order: str, *, locale: str | None = None
) -> SequenceSchema:
    """The sequence schema of ``events``: its columns inferred (the entity key is never learned).

    An order column of few distinct step numbers (0, 1, 2, 3 in every history), or of numbers each
    used once, is a step number, not a category or an identifier."""
    for option, name in (("--entity", entity), ("--order", order)):
        if name not in events.columns:
            raise OptionError(f"{option}: no column {name!r} in the event table")
    with warnings.catch_warnings():  # the entity key is never learned: how it would be learned is noise
        warnings.filterwarnings("ignore", message=re.escape(f"column {entity!r}:"), category=MirageWarning)
        columns = infer_schema(events, locale=locale)
    values = events[order]
    clock = written_clock(values, columns[order])
    if clock is not None:
        columns[order].extra[CLOCK] = clock
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
    if columns[order].kind in (Kind.CATEGORICAL, Kind.IDENTIFIER) and numeric:
        numbers = values.astype("float64")
        whole = bool((numbers % 1 == 0).all())
        step = Column(
            name=order,
            kind=Kind.NUMERIC,
            dtype=str(values.dtype),
            integer=whole,
            minimum=float(numbers.min()),
            maximum=float(numbers.max()),
            decimals=0 if whole else None,
        )
        columns = Schema(
            [step if c.name == order else c for c in columns], locale=columns.locale, extra=columns.extra
        )
    return SequenceSchema(entity, order, columns)


_MIN_HISTORIES = 10  # fewer entities than this read as a table sorted by a category, not as histories


def history_columns(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The ``(entity, order)`` column pairs under which ``frame`` reads as event histories, as an
    event file is written (and as a sequence model samples them): the rows of each entity together,
    at least :data:`_MIN_HISTORIES` entities with two events each on average, and an order column
    (numbers or times, never missing) that never goes back within an entity and moves in some.

    Empty when the frame is not laid out as histories; several pairs when the layout cannot tell
    which columns are meant."""
    n = len(frame)
    if n < 2 * _MIN_HISTORIES:
        return []
    entities: list[tuple[str, np.ndarray]] = []
    for name in frame.columns:
        values = frame[name]
        if values.isna().any() or pd.api.types.is_float_dtype(values.dtype):
            continue
        if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(values.dtype):
            continue
        codes, uniques = pd.factorize(values, sort=False)
        if not _MIN_HISTORIES <= len(uniques) <= n // 2:
            continue
        starts = np.r_[True, codes[1:] != codes[:-1]]
        if int(starts.sum()) == len(uniques):  # each entity's rows in one run
            entities.append((str(name), starts))
    if not entities:
        return []
    orders: list[tuple[str, np.ndarray]] = []
    for name in frame.columns:
        numbers = _order_numbers(frame[name])
        if numbers is not None:
            orders.append((str(name), numbers))
    pairs = []
    for entity, starts in entities:
        inner = ~starts[1:]
        for order, numbers in orders:
            if order == entity:
                continue
            step = np.diff(numbers)[inner]
            if step.size and bool((step >= 0).all()) and bool((step > 0).any()):
                pairs.append((entity, order))
    return pairs


def _order_numbers(values: pd.Series) -> np.ndarray | None:
    """A column as order numbers (times as nanoseconds), or None when it cannot order events."""
    if values.isna().any() or pd.api.types.is_bool_dtype(values.dtype):
        return None
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype="float64")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        naive = values.dt.tz_localize(None) if values.dt.tz is not None else values
        return naive.astype("int64").to_numpy(dtype="float64")
    if not pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return None
    text = values.astype(str)
    if not text.str.match(r"^\d{4}-\d\d-\d\d").all():  # ISO dates and times only: no guessing
        return None
    stamps = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    if stamps.isna().any():
        return None
    return stamps.dt.tz_localize(None).astype("int64").to_numpy(dtype="float64")
