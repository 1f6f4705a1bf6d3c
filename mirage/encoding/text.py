"""Free-text columns: replaced with Faker text of a learned length (there is no text model yet).

The codec never learns or copies the content of the text.  It learns each value's length in characters
as the continuous sub-column ``<column>::length`` (plus the optional ``<column>::missing``), so engines
model the length jointly with the other columns, and it keeps the observed minimum and maximum length.
At decode time each row gets Faker text (lorem-style sentences of the column's locale) cut to the
sampled length, clipped to the observed range: lengths of 5 characters and more are slices of Faker
sentences starting at a sentence, shorter ones are Faker words cut to length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from faker import Faker

from mirage._validate import require_bounds, require_float, require_locale
from mirage.encoding._base import Codec, EncodingOptions, SubColumn
from mirage.encoding._missing import MissingPart, MissingStats, apply_missing, missing_mask
from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.encoding._stats import ValueCounts
from mirage.encoding.pii import make_faker
from mirage.errors import DataError, MirageError
from mirage.schema._column import Column

__all__ = ["LENGTH_PART", "SHORT_TEXT", "TextCodec", "TextStats"]

LENGTH_PART = "length"
SHORT_TEXT = 5  # below this many characters a value is a (cut) word rather than a sentence
_MIN_CORPUS = 20_000  # characters of Faker sentences generated per decode call at least
_WORDS = 300


@dataclass(frozen=True)
class TextStats:
    """One partition of a text column: whether it had nulls and its values' lengths (never the text)."""

    missing: MissingStats
    lengths: ValueCounts

    @classmethod
    def merge(cls, parts: Sequence[TextStats], column: str) -> TextStats:
        if not parts:
            raise DataError(f"column {column!r}: nothing to learn from (no partition was analyzed)")
        return cls(MissingStats.merge(p.missing for p in parts), ValueCounts.merge(p.lengths for p in parts))


class TextCodec(Codec[TextStats]):
    """Learns the length distribution of free text (through the engine) and writes Faker text."""

    def __init__(self, column: Column, options: EncodingOptions) -> None:
        super().__init__(column, options)
        self.locale = column.locale or options.locale
        self.min_length = 0
        self.max_length = 0
        self.fill = 0.0  # length encoded for missing rows (the median length)
        self.fitted = False
        self.missing = MissingPart(column.name)

    @property
    def length_name(self) -> str:
        return f"{self.column.name}::{LENGTH_PART}"

    def analyze(self, values: pd.Series) -> TextStats:
        lengths = ValueCounts.of(_lengths(values)[~missing_mask(values)])
        return TextStats(MissingStats.of(values), lengths)

    def reduce(
        self,
        stats: Sequence[TextStats],
        *,
        budget: PrivacyBudget | None = None,
        public: PublicBounds | None = None,
    ) -> TextStats:
        self.public_bounds(budget, public)  # nothing public applies; refuses a budget
        merged = TextStats.merge(stats, self.column.name)
        self.missing = MissingPart(self.column.name)
        self.missing.learn(merged.missing)
        lengths = merged.lengths.expand()
        if lengths.size:
            self.min_length = int(lengths.min())
            self.max_length = int(lengths.max())
            self.fill = float(np.median(lengths))
        self.fitted = True
        return merged

    @property
    def subcolumns(self) -> list[SubColumn]:
        return [*self.missing.subcolumns, self.sub(LENGTH_PART, discrete=False)]

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        parts = self.missing.encode(values)
        lengths = _lengths(values)
        lengths[missing_mask(values)] = self.fill
        parts[self.length_name] = lengths
        return parts

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        if not self.fitted:
            raise MirageError(f"column {self.column.name!r}: the text codec is not fitted")
        if self.length_name in parts:
            raw = np.asarray(parts[self.length_name], dtype="float64").reshape(-1)[:n]
            raw = np.where(np.isfinite(raw), raw, self.fill)
        else:
            raw = np.full(n, self.fill)
        lengths = np.clip(np.round(raw), self.min_length, self.max_length).astype(np.int64)
        fake = make_faker(self.locale, self.column.name, rng)
        out = pd.Series(_texts(fake, lengths, rng), dtype=object, name=self.column.name)
        return apply_missing(out, self.missing.mask(parts, n))

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "locale": self.locale,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "fill": self.fill,
            "missing": self.missing.get_state(),
        }
        return state, {}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.locale = require_locale(state, "locale")
        self.min_length, self.max_length = require_bounds(state, "min_length", "max_length", integer=True)
        self.fill = require_float(state, "fill", low=0.0)
        self.missing = MissingPart.from_state(self.column.name, state)
        self.fitted = True


def _lengths(values: pd.Series) -> np.ndarray:
    """Length in characters of each value as float64 (0 for nulls)."""
    return np.array([0.0 if _isna(v) else float(len(str(v))) for v in values.tolist()], dtype="float64")


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _texts(fake: Faker, lengths: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Faker text of exactly ``lengths[i]`` characters for every row."""
    n = lengths.size
    if n == 0:
        return []
    longest = int(lengths.max())
    out: list[str] = [""] * n
    long_rows = np.flatnonzero(lengths >= SHORT_TEXT)
    if long_rows.size:
        corpus, starts = _corpus(fake, max(_MIN_CORPUS, 3 * longest))
        need = lengths[long_rows]
        # sentence starts that leave room for the whole slice; starts[0] == 0 always qualifies
        room = np.searchsorted(starts, len(corpus) - need, side="right")
        begin = starts[(rng.random(long_rows.size) * room).astype(np.int64)]
        for row, b, k in zip(long_rows.tolist(), begin.tolist(), need.tolist(), strict=True):
            piece = corpus[b : b + k]
            out[row] = piece[:-1] + "." if piece[-1].isspace() else piece
    short_rows = np.flatnonzero((lengths > 0) & (lengths < SHORT_TEXT))
    if short_rows.size:
        words = sorted({w for w in fake.words(nb=_WORDS) if w.strip()}, key=lambda w: (-len(w), w))
        sizes = np.array([len(w) for w in words], dtype=np.int64)
        need = lengths[short_rows]
        count = np.searchsorted(-sizes, -need, side="right")  # words at least as long, longest first
        picks = (rng.random(short_rows.size) * count).astype(np.int64)
        for row, k, c, pick in zip(
            short_rows.tolist(), need.tolist(), count.tolist(), picks.tolist(), strict=True
        ):
            out[row] = words[pick][:k] if c else fake.lexify("?" * k)
    return out


def _corpus(fake: Faker, size: int) -> tuple[str, np.ndarray]:
    """Faker sentences joined by spaces, at least ``size`` characters, and where each one starts."""
    pieces: list[str] = []
    starts: list[int] = []
    total = 0
    while total < size:
        sentence = fake.sentence(nb_words=10)
        starts.append(total)
        pieces.append(sentence)
        total += len(sentence) + 1
    return " ".join(pieces), np.array(starts, dtype=np.int64)
