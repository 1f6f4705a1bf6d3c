"""Primary keys regenerated unique in the source's format, never copied.

A key column that is not also a foreign key gets new values from the identifier codec
(:mod:`mirage.encoding.identifier`): integer ids stay integers counted up from the smallest real one,
``C-000123`` stays a template, ``ALFKI`` stays five capital letters (a salted permutation of the row
number, so keys are unique and do not look sequential), UUIDs stay UUIDs.  Only the format is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import require_mapping
from mirage.encoding import EncodingOptions
from mirage.encoding.identifier import IdentifierCodec
from mirage.schema import Column, Kind

__all__ = ["KeyGenerator"]


class KeyGenerator:
    """Unique keys for one column, in the format of the real keys it was fitted on."""

    def __init__(self, name: str, dtype: str) -> None:
        column = Column(name=name, kind=Kind.IDENTIFIER, dtype=dtype)
        self.codec = IdentifierCodec(column, EncodingOptions())

    @classmethod
    def fit(cls, values: pd.Series) -> KeyGenerator:
        generator = cls(str(values.name), str(values.dtype))
        generator.codec.fit(values.dropna())
        return generator

    @property
    def id_format(self) -> str:
        return self.codec.id_format

    def generate(self, n: int) -> pd.Series:
        """``n`` distinct keys (the same ``n`` keys every time: they follow the row number)."""
        return self.codec.decode({}, n, np.random.default_rng(0), 0).reset_index(drop=True)

    def get_state(self) -> dict[str, Any]:
        state, _ = self.codec.get_state()
        return {"dtype": self.codec.column.dtype, "codec": state}

    @classmethod
    def from_state(cls, name: str, state: Mapping[str, Any]) -> KeyGenerator:
        state = require_mapping(state)
        generator = cls(name, str(state.get("dtype", "object")))
        generator.codec.set_state(dict(require_mapping(state.get("codec"), "codec")), {})
        return generator
