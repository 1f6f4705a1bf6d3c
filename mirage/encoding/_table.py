"""The table encoder: one codec per schema column, sub-columns concatenated in schema order."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import StateError, require, require_int, require_mapping, require_str, within
from mirage.encoding._base import Codec, EncodingOptions, SubColumn, as_dtype
from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.errors import OptionError
from mirage.schema import Column, Kind, Schema

__all__ = ["TableEncoder", "codec_for"]


def codec_for(column: Column, options: EncodingOptions) -> Codec[Any]:
    from mirage.encoding.categorical import BooleanCodec, CategoricalCodec
    from mirage.encoding.datetime import DatetimeCodec
    from mirage.encoding.identifier import IdentifierCodec
    from mirage.encoding.numeric import NumericCodec
    from mirage.encoding.pii import PIICodec
    from mirage.encoding.text import TextCodec

    classes: dict[Kind, type[Codec[Any]]] = {
        Kind.NUMERIC: NumericCodec,
        Kind.CATEGORICAL: CategoricalCodec,
        Kind.BOOLEAN: BooleanCodec,
        Kind.DATETIME: DatetimeCodec,
        Kind.IDENTIFIER: IdentifierCodec,
        Kind.PII: PIICodec,
        Kind.TEXT: TextCodec,
    }
    return classes[column.kind](column, options)


_STRING_DTYPES = ("str", "string", "string[python]", "string[pyarrow]")


def _restore_string_dtype(values: pd.Series, dtype: str) -> pd.Series:
    """Text comes back with the text dtype it was read with (pandas 3 reads CSV text as ``str``)."""
    if dtype in _STRING_DTYPES and values.dtype == object:
        return as_dtype(values, dtype)
    return values


def _from_zero(values: pd.Series) -> pd.Series:
    """``values.reset_index(drop=True)``, itself when its index already counts from zero."""
    index = values.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return values
    return values.reset_index(drop=True)


class TableEncoder:
    """Encodes a DataFrame into named arrays and decodes sampled arrays back into a DataFrame."""

    def __init__(self, schema: Schema, options: EncodingOptions | None = None) -> None:
        self.schema = schema
        self.options = options or EncodingOptions(locale=schema.locale)
        self.codecs: list[Codec[Any]] = [codec_for(c, self.options) for c in schema.columns]

    def fit(self, data: pd.DataFrame) -> TableEncoder:
        return self.reduce([self.analyze(data)])

    def analyze(self, data: pd.DataFrame) -> list[Any]:
        """One partition's stats, one per codec in schema order (see ``Codec.analyze``)."""
        self.schema.validate(data)
        return [codec.analyze(data[codec.column.name]) for codec in self.codecs]

    def reduce(
        self,
        partitions: Sequence[Sequence[Any]],
        *,
        budgets: Mapping[str, PrivacyBudget] | None = None,
        public: Mapping[str, PublicBounds] | None = None,
    ) -> TableEncoder:
        """Fit every codec on the merge of the partitions' stats (each from ``analyze``).

        ``budgets`` and ``public``: per column name, what its codec's ``reduce`` takes (see ``Codec.reduce``).
        """
        for option, given in (("budgets", budgets), ("public", public)):
            unknown = sorted(set(given or {}) - set(self.schema.names))
            if unknown:
                raise OptionError(f"{option}: the schema has no column {unknown[0]!r}")
        for i, codec in enumerate(self.codecs):
            name = codec.column.name
            codec.reduce(
                [stats[i] for stats in partitions],
                budget=(budgets or {}).get(name),
                public=(public or {}).get(name),
            )
        return self

    @property
    def subcolumns(self) -> list[SubColumn]:
        return [s for codec in self.codecs for s in codec.subcolumns]

    def encode(self, data: pd.DataFrame) -> dict[str, np.ndarray]:
        self.schema.validate(data)
        out: dict[str, np.ndarray] = {}
        for codec in self.codecs:
            out.update(codec.encode(data[codec.column.name]))
        return out

    def decode(
        self,
        parts: Mapping[str, np.ndarray],
        n: int,
        rng: np.random.Generator,
        start: int = 0,
        *,
        only: Collection[str] | None = None,
        known: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """``n`` rows from the engine's ``parts``.  ``only``: decode just these columns; ``known``:
        columns already decoded from the same parts, taken as they are (so a value a condition was
        tested on is the value returned, not a second draw of its rounding)."""
        columns = {}
        for codec in self.codecs:
            child = np.random.default_rng(rng.integers(2**63))  # drawn for every column, decoded or not
            name = codec.column.name
            if only is not None and name not in only:
                continue
            if known is not None and name in known.columns:
                values = _from_zero(known[name])
            else:
                values = _from_zero(codec.decode(parts, n, child, start))
            columns[name] = _restore_string_dtype(values, codec.column.dtype)
        # copy=False: the decoded columns are this frame's alone (a copy of each costs a pass over it)
        return pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        states: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for i, codec in enumerate(self.codecs):
            state, codec_arrays = codec.get_state()
            states[codec.column.name] = state
            for key, value in codec_arrays.items():
                arrays[f"encoder.{i}.{key}"] = value
        options = {"rare_min_count": self.options.rare_min_count, "locale": self.options.locale}
        return {"options": options, "codecs": states}, arrays

    @classmethod
    def from_state(
        cls, schema: Schema, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> TableEncoder:
        """Codecs restored from ``get_state``'s output; a ``StateError`` names a field that cannot be used."""
        options = require_mapping(require(state, "options"), "options")
        with within("options"):
            unknown = sorted(set(options) - {"rare_min_count", "locale"})
            if unknown:
                raise StateError(unknown[0], "unknown option")
            restored = EncodingOptions(
                require_int(options, "rare_min_count", low=1), require_str(options, "locale")
            )
        codecs = require_mapping(require(state, "codecs"), "codecs")
        for name in codecs:
            if name not in schema.names:
                raise StateError(f"codecs.{name}", "the schema has no such column")
        encoder = cls(schema, restored)
        for i, codec in enumerate(encoder.codecs):
            name = codec.column.name
            if name not in codecs:
                raise StateError(f"codecs.{name}", "missing: the schema's column has no learned state")
            prefix = f"encoder.{i}."
            own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            with within(f"codecs.{name}", prefix):
                try:
                    codec.set_state(dict(require_mapping(codecs[name])), own)
                except StateError as exc:
                    if exc.reason != "missing" or exc.array:
                        raise
                    kind = codec.column.kind.value
                    raise StateError(
                        exc.path,
                        f"missing (the schema says {name!r} is {kind}; a kind cannot change after fitting)",
                    ) from None
        return encoder
