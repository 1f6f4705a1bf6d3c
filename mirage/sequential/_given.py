"""The sequence model's per-step draws without a DataFrame per step.

Each step of a block draws one event for every active entity given its entity row, step and lags.
Through ``engine.sample(context=frame)`` every step would build a DataFrame (pandas 3 turns its
text into Arrow strings) and encode it row by row; here the context rows are encoded straight from
NumPy arrays into the matrix the engine compares, and drawn with the engine's own seeding, so the
histories are the same as through ``engine.sample``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding._continuous import ContinuousCodec
from mirage.encoding.categorical import CategoricalCodec
from mirage.encoding.numeric import NumericCodec

__all__ = ["EncodedDraw", "usable"]


def _plain(codec: Any) -> bool:
    """Whether ``codec`` encodes a value into one sub-column and no missing flag."""
    return not codec.missing.subcolumns


class EncodedDraw:
    """Draws of a fitted context engine (cart) given context columns held as NumPy arrays."""

    def __init__(self, engine: Any, needed: Collection[str] = ()) -> None:
        """``needed``: drawn columns read at every step (decoded at once whatever their codec)."""
        self.engine = engine
        encoder = engine.context_encoder_
        assert encoder is not None, "the event model is fitted with a context"
        self.codecs = {codec.column.name: codec for codec in encoder.codecs}
        self.order = [codec.column.name for codec in encoder.codecs]
        self.subcolumns = tuple(encoder.subcolumns)
        self._indexes: dict[str, tuple[pd.Index, np.ndarray]] = {}
        # the drawn columns decoded once per block: category tables without missing values or codes
        self.tables: dict[str, tuple[CategoricalCodec, np.ndarray]] = {
            codec.column.name: (codec, np.asarray([str(c) for c in codec.categories], dtype=object))
            for codec in engine.encoder_.codecs
            if type(codec) is CategoricalCodec
            and _plain(codec)
            and codec.categories
            and codec.column.id_format is None
            and codec.column.name not in needed
        }
        self._held: dict[str, list[np.ndarray]] = {name: [] for name in self.tables}

    def encode(self, name: str, values: np.ndarray) -> list[np.ndarray]:
        """Column ``name``'s values as the context encoder's sub-columns (float64, in its order)."""
        codec = self.codecs[name]
        if type(codec) is NumericCodec and _plain(codec) and values.dtype.kind in "iuf":
            x = values.astype("float64")
            return [np.where(np.isnan(x), codec.fill, x)]
        if type(codec) is CategoricalCodec and _plain(codec):
            return [self._codes(name, codec, values).astype("float64")]
        parts = codec.encode(pd.Series(values, name=name))
        return [np.asarray(parts[s.name], dtype="float64") for s in codec.subcolumns]

    def _codes(self, name: str, codec: CategoricalCodec, values: np.ndarray) -> np.ndarray:
        if name not in self._indexes:
            lookup = codec._lookup()
            self._indexes[name] = (
                pd.Index(list(lookup), dtype=object),
                np.asarray(list(lookup.values()), dtype="int64"),
            )
        index, targets = self._indexes[name]
        found = index.get_indexer(pd.Index(np.asarray(values, dtype=object), dtype=object))
        codes = np.where(found >= 0, targets[np.maximum(found, 0)], 0)
        other = np.flatnonzero(found < 0)
        if other.size:  # missing or unseen values: as the codec itself encodes them
            parts = codec.encode(pd.Series(np.asarray(values, dtype=object)[other], name=name))
            codes[other] = parts[f"{name}::code"]
        return codes

    def draw(self, columns: Mapping[str, list[np.ndarray]], n: int, seed: int) -> pd.DataFrame:
        """``n`` rows drawn given encoded context columns (:meth:`encode`'s output, by name), seeded as
        ``engine.sample(context=..., seed=seed)`` seeds its first block.  Plain categorical columns are
        left out: their codes are kept (:meth:`drawn_text`) and decoded once, by :meth:`held`."""
        from mirage.engines._context import ContextParts

        engine = self.engine
        matrix_parts: dict[str, np.ndarray] = {}
        for name in self.order:
            for sub, values in zip(self.codecs[name].subcolumns, columns[name], strict=True):
                matrix_parts[sub.name] = values
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
        parts = engine._sample_given(ContextParts(matrix_parts, self.subcolumns, n), rng)
        decoded = [c.column.name for c in engine.encoder_.codecs if c.column.name not in self.tables]
        frame: pd.DataFrame = engine.encoder_.decode(parts, n, rng, 0, only=decoded)
        for name in self.tables:
            self._held[name].append(np.asarray(parts[f"{name}::code"], dtype="int64"))
        return frame

    def drawn_text(self, name: str) -> np.ndarray | None:
        """Categorical column ``name`` of the last draw as text (as ``str`` of its values), or None when
        the draw decoded it (not a plain category table)."""
        if name not in self.tables:
            return None
        table = self.tables[name][1]
        return table[np.clip(self._held[name][-1], 0, len(table) - 1)]

    def held(self) -> dict[str, pd.Series]:
        """The categorical columns :meth:`draw` left out, decoded for all draws so far, in their order
        (a category table decodes its codes alike whatever the row: no randomness, no row number)."""
        from mirage.encoding._table import _restore_string_dtype

        out = {}
        for name, (codec, _) in self.tables.items():
            codes = np.concatenate(self._held[name]) if self._held[name] else np.zeros(0, dtype="int64")
            parts = {f"{name}::code": codes}
            values = codec.decode(parts, len(codes), np.random.default_rng(0), 0).reset_index(drop=True)
            out[name] = _restore_string_dtype(values, codec.column.dtype)
        return out


def usable(engine: Any, rows: int) -> bool:
    """Whether :class:`EncodedDraw` reproduces ``engine.sample(context=...)`` for ``rows`` rows: one
    engine block, no business rules, only codecs it knows or hands back to."""
    from mirage.engines._base import BLOCK_ROWS

    return (
        rows <= BLOCK_ROWS
        and getattr(engine, "rules_", None) is None
        and engine.context_encoder_ is not None
        and all(isinstance(c, (ContinuousCodec, CategoricalCodec)) for c in engine.context_encoder_.codecs)
    )
