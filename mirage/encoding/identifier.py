"""Identifier columns: keys regenerated in the source format, never learned, never sampled.

``fit`` infers only the *format* of the keys (unless ``column.id_format`` is set; schema inference sets it),
and keeps it in the codec's state (``IdentifierCodec.id_format``), never in the column:

* integers: the template ``"{:d}"``, numbered from the smallest key seen;
* strings made of a constant prefix/suffix around a digit run (``C-000123``): a template such as
  ``"C-{:06d}"`` (``"{:d}"`` when the digit run has no fixed width), numbered the same way;
* UUIDs: ``"uuid"``;
* other strings: a character-class pattern over the most common length, one symbol per position:
  ``A`` an upper-case letter, ``a`` a lower-case letter, ``9`` a digit, any other character itself;
  ``\\`` makes the next character literal (``\\A`` is the letter A).  Positions that hold the same
  character in every key (given at least 10 keys) are literals.

``decode`` maps the global row index ``start + i`` to a key with a deterministic bijection, so keys are
unique across separately sampled chunks and do not depend on how rows were chunked: templates count up
from the first key, patterns permute the index (a salted pseudo-random permutation of the pattern's
space, cycle-walked) and write it in mixed radix over the positions' alphabets, UUIDs come from a salted
60-bit permutation of the index.  Sampling more rows than the format can hold raises ``MirageError``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import StateError, require_bool, require_int, require_str
from mirage.encoding._base import Codec, EncodingOptions, SubColumn
from mirage.encoding._missing import MissingPart, MissingStats, apply_missing
from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.errors import DataError, MirageError, SchemaError
from mirage.schema._column import Column
from mirage.schema._id_format import CLASSES, UUID, infer_id_format, pattern_regex

__all__ = [
    "IdentifierCodec",
    "IdentifierFormat",
    "IdentifierStats",
    "infer_id_format",
    "parse_id_format",
    "random_codes",
    "smallest_number",
]

_SAMPLE_KEYS = 1000  # first distinct keys a partition keeps, to infer a format partitions disagree on
_LOW_LIMIT = 1 << 62  # the permuted positions of a pattern span at most this many keys
_MASK64 = (1 << 64) - 1

_TEMPLATE_RE = re.compile(r"^(?P<prefix>[^{}]*)\{:(?P<zero>0?)(?P<width>\d*)d\}(?P<suffix>[^{}]*)$")


@dataclass(frozen=True)
class IdentifierFormat:
    """A parsed ``id_format``: ``kind`` is "template", "pattern" or "uuid"."""

    kind: str
    text: str
    prefix: str = ""
    suffix: str = ""
    width: int = 0  # zero-padded width of a template's number, 0 for none
    # pattern: per position, the alphabet of a class or None for a literal, and the literal
    positions: tuple[tuple[str | None, str], ...] = ()

    @property
    def plain_integer(self) -> bool:
        return self.kind == "template" and not self.prefix and not self.suffix and not self.width

    def space(self) -> int | None:
        """How many distinct keys the format can write (None: unbounded)."""
        if self.kind == "pattern":
            size = 1
            for alphabet, _ in self.positions:
                if alphabet is not None:
                    size *= len(alphabet)
            return size
        if self.kind == UUID:
            return 1 << 60
        return None


def parse_id_format(text: str) -> IdentifierFormat:
    """Parse a template (``"C-{:06d}"``), ``"uuid"`` or a character-class pattern (``"AA-9999"``)."""
    if text == UUID:
        return IdentifierFormat(UUID, text)
    match = _TEMPLATE_RE.match(text)
    if match is not None:
        width = int(match["width"]) if match["zero"] and match["width"] else 0
        return IdentifierFormat("template", text, match["prefix"], match["suffix"], width)
    positions: list[tuple[str | None, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            positions.append((None, text[i + 1]))
            i += 2
            continue
        positions.append((CLASSES.get(char), char))
        i += 1
    if not positions:
        raise SchemaError("an identifier format cannot be empty")
    return IdentifierFormat("pattern", text, positions=tuple(positions))


# ------------------------------------------------------------------------------------------------
# deterministic bijections of the row index
# ------------------------------------------------------------------------------------------------


def _splitmix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 (a bijection of 64-bit words)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _round_keys(salt: int, rounds: int) -> list[tuple[int, int]]:
    """Per-round (addend, odd multiplier) pairs derived from the salt."""
    keys = _splitmix(np.arange(2 * rounds, dtype=np.uint64) + np.uint64(salt & _MASK64)).tolist()
    return [(int(keys[2 * r]), int(keys[2 * r + 1]) | 1) for r in range(rounds)]


def _permute_pow2(x: np.ndarray, bits: int, salt: int) -> np.ndarray:
    """A salted bijection of ``[0, 2**bits)`` (add, xorshift and odd-multiply rounds mod 2**bits)."""
    if bits == 0:
        return x.copy()
    mask = np.uint64((1 << bits) - 1)
    shift = np.uint64(max(1, bits // 2))
    x = x.astype(np.uint64, copy=True)
    for addend, multiplier in _round_keys(salt, 3):
        x = (x + np.uint64(addend)) & mask
        x ^= x >> shift
        x = (x * np.uint64(multiplier)) & mask  # wraps mod 2**64, exact mod 2**bits
        x ^= x >> shift
    return x


def permute_index(index: np.ndarray, size: int, salt: int) -> np.ndarray:
    """A salted pseudo-random bijection of ``[0, size)`` applied to ``index`` (cycle walking)."""
    if size <= 1:
        return np.zeros(index.shape, dtype=np.uint64)
    bits = (size - 1).bit_length()
    out = _permute_pow2(index.astype(np.uint64), bits, salt)
    todo = out >= np.uint64(size)
    while todo.any():  # stays in the cycle of a bijection, so every walk ends below size
        out[todo] = _permute_pow2(out[todo], bits, salt)
        todo = out >= np.uint64(size)
    return out


def random_codes(
    fmt: IdentifierFormat,
    n: int,
    rng: np.random.Generator,
    ranges: Sequence[tuple[int, int]] | None = None,
) -> list[str]:
    """``n`` codes drawn at random in ``fmt`` (not unique: for codes that repeat, not for keys); with
    ``ranges`` (:func:`number_ranges`), each number of the format (a template's, a pattern's run of
    digits) drawn within its range, so ``2024-W99`` writes weeks the column has, not ``2024-W81``."""
    if n == 0:
        return []
    if fmt.kind == UUID:
        return _uuids(rng.integers(0, 1 << 60, size=n, dtype=np.int64), int(rng.integers(1 << 62)))
    if fmt.kind == "template":
        low, high = ranges[0] if ranges else (0, (10**fmt.width if fmt.width else 1_000_000) - 1)
        return [fmt.text.format(int(v)) for v in rng.integers(low, high + 1, size=n).tolist()]
    chars = np.empty((n, len(fmt.positions)), dtype="<U1")
    for p, (alphabet, literal) in enumerate(fmt.positions):
        if alphabet is None:
            chars[:, p] = literal
        else:
            chars[:, p] = np.array(list(alphabet))[rng.integers(0, len(alphabet), size=n)]
    for (start, end), (low, high) in zip(digit_runs(fmt), ranges or (), strict=False):
        numbers = rng.integers(low, high + 1, size=n)
        for p in range(start, end):
            chars[:, p] = (numbers // 10 ** (end - 1 - p) % 10).astype(str)
    joined: list[str] = chars.view(f"<U{len(fmt.positions)}").reshape(n).tolist()
    return joined


def digit_runs(fmt: IdentifierFormat) -> list[tuple[int, int]]:
    """The positions ``[start, end)`` of each run of digit classes of a pattern (``AB-9999``: one)."""
    runs: list[tuple[int, int]] = []
    start = None
    for p, (alphabet, _) in enumerate((*fmt.positions, (None, ""))):
        digit = alphabet == CLASSES["9"]
        if digit and start is None:
            start = p
        elif not digit and start is not None:
            runs.append((start, p))
            start = None
    return runs


def number_count(fmt: IdentifierFormat) -> int:
    """How many numbers a code of ``fmt`` holds: a template's one, a pattern's runs of digits."""
    return 1 if fmt.kind == "template" else len(digit_runs(fmt)) if fmt.kind == "pattern" else 0


def number_ranges(
    fmt: IdentifierFormat, counts: Mapping[Any, int], min_count: int
) -> list[tuple[int, int]] | None:
    """For codes of ``fmt`` written ``counts`` times, each number of the format (a template's; each
    run of digits of a pattern) between its ``min_count``-th smallest and largest over the rows, so
    that no end of a range belongs to fewer than ``min_count`` rows; None for other formats or when no
    value is written in the format."""
    if fmt.kind == "template":
        pattern, spans = re.compile(_template_number(fmt)), [(0, 0)]
    elif fmt.kind == "pattern":
        pattern, spans = pattern_regex(fmt.text), digit_runs(fmt)
    else:
        return None
    if not spans:
        return None
    numbers: list[list[tuple[int, int]]] = [[] for _ in spans]
    for value, rows in counts.items():
        found = pattern.fullmatch(str(value))
        if found is None:
            continue
        for i, (start, end) in enumerate(spans):
            digits = found[1] if fmt.kind == "template" else found[0][start:end]
            numbers[i].append((int(digits), int(rows)))
    if not numbers[0]:
        return None
    return [_protected_range(sorted(found), min_count) for found in numbers]


def _protected_range(numbers: list[tuple[int, int]], min_count: int) -> tuple[int, int]:
    """The numbers at which the rows counted from below and from above first reach ``min_count``."""
    values = np.array([v for v, _ in numbers])
    rows = np.cumsum([r for _, r in numbers])
    low = int(values[min(int(np.searchsorted(rows, min_count)), len(values) - 1)])
    from_top = np.cumsum([r for _, r in reversed(numbers)])
    high = int(values[::-1][min(int(np.searchsorted(from_top, min_count)), len(values) - 1)])
    return (low, high) if low <= high else (high, low)


# ------------------------------------------------------------------------------------------------
# the codec
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentifierStats:
    """One partition of an identifier column: the format its keys share and where their numbers start.

    ``format`` is the column's declared format, else the one the partition's keys have (None: no keys);
    ``smallest`` the smallest key number under that format (None: no key fits a template); ``sample``
    the first distinct keys, used only when partitions infer different formats.
    """

    missing: MissingStats
    format: str | None
    numbers: bool  # the partition's keys are held as numbers
    smallest: int | None = None
    sample: tuple[str, ...] = ()


class IdentifierCodec(Codec[IdentifierStats]):
    """Regenerates unique keys in the source format; learns only the format."""

    def __init__(self, column: Column, options: EncodingOptions) -> None:
        super().__init__(column, options)
        self.format: IdentifierFormat | None = None
        self.id_start = 1
        self.salt = 0
        self.numeric = False  # the source held numbers: decode returns numbers of column.dtype
        self.missing = MissingPart(column.name)

    # fit / encode ---------------------------------------------------------------------------------
    def analyze(self, values: pd.Series) -> IdentifierStats:
        present = values.dropna()
        dtype = present.dtype
        numbers = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        text = self.column.id_format or (infer_id_format(values) if present.size else None)
        smallest = None
        if text is not None:
            fmt = parse_id_format(text)
            if fmt.kind == "template":
                smallest = smallest_number(fmt, present, numbers and fmt.plain_integer)
        first = dict.fromkeys(str(v) for v in present.iloc[: 4 * _SAMPLE_KEYS].tolist())
        sample = tuple(first)[:_SAMPLE_KEYS]
        return IdentifierStats(MissingStats.of(values), text, bool(numbers), smallest, sample)

    def reduce(
        self,
        stats: Sequence[IdentifierStats],
        *,
        budget: PrivacyBudget | None = None,
        public: PublicBounds | None = None,
    ) -> IdentifierStats:
        self.public_bounds(budget, public)  # nothing public applies; refuses a budget
        name = self.column.name
        if not stats:
            raise DataError(f"column {name!r}: nothing to learn from (no partition was analyzed)")
        missing = MissingStats.merge(p.missing for p in stats)
        numbers = all(p.numbers for p in stats)
        formats = list(dict.fromkeys(p.format for p in stats if p.format is not None))
        if len(formats) <= 1:
            text = formats[0] if formats else (self.column.id_format or infer_id_format(pd.Series([])))
            fmt = parse_id_format(text)
            found = [p.smallest for p in stats if p.smallest is not None]
            smallest = min(found) if found else None
        else:  # partitions read alone suggest different formats: infer one from their first keys
            keys = pd.Series([k for p in stats for k in p.sample], dtype=object)
            text = infer_id_format(keys)
            fmt = parse_id_format(text)
            smallest = smallest_number(fmt, keys, False) if fmt.kind == "template" else None
        self.missing = MissingPart(name)
        self.missing.learn(missing)
        self.format = fmt
        self.numeric = bool(fmt.plain_integer and numbers)
        self.id_start = (1 if smallest is None else smallest) if fmt.kind == "template" else 0
        self.salt = _salt(name, text)
        return IdentifierStats(missing, text, numbers, smallest)

    @property
    def subcolumns(self) -> list[SubColumn]:
        return self.missing.subcolumns

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        return self.missing.encode(values)

    # decode ---------------------------------------------------------------------------------------
    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        fmt = self._fmt()
        if start < 0:
            raise MirageError(f"column {self.column.name!r}: row index start must be >= 0, got {start}")
        space = fmt.space()
        if space is not None and start + n > space:
            raise MirageError(
                f"column {self.column.name!r}: identifier format {fmt.text!r} has room for {space} "
                f"distinct keys, but rows {start}..{start + n - 1} were asked for; "
                "set a longer id_format in the schema"
            )
        index = np.arange(start, start + n, dtype=np.int64)
        if fmt.kind == "template":
            out = self._decode_template(fmt, index)
        elif fmt.kind == UUID:
            out = pd.Series(_uuids(index, self.salt), dtype=object)
        else:
            out = pd.Series(self._decode_pattern(fmt, index), dtype=object)
        out.name = self.column.name
        return apply_missing(out, self.missing.mask(parts, n))

    def _decode_template(self, fmt: IdentifierFormat, index: np.ndarray) -> pd.Series:
        if self.numeric:
            try:
                dtype = pd.api.types.pandas_dtype(self.column.dtype)
            except TypeError:
                dtype = np.dtype("int64")
            if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
                dtype = np.dtype("int64")
            return pd.Series(self._key_numbers(index, dtype)).astype(dtype)
        template = fmt.text
        return pd.Series([template.format(self.id_start + v) for v in index.tolist()], dtype=object)

    def _key_numbers(self, index: np.ndarray, dtype: Any) -> np.ndarray:
        """The key numbers of rows ``index``, from ``id_start``, in integers wide enough to hold them
        exactly (unsigned 64-bit ones for keys past 2**63); a key past the widest is refused by name."""
        width = np.dtype("uint64") if pd.api.types.is_unsigned_integer_dtype(dtype) else np.dtype("int64")
        last = self.id_start + int(index.max()) if index.size else self.id_start
        if last > np.iinfo(width).max:
            raise MirageError(
                f"column {self.column.name!r}: key {last} is past the largest {width} number; "
                "draw fewer rows or give the column a template id_format"
            )
        return index.astype(width) + width.type(self.id_start)

    def _decode_pattern(self, fmt: IdentifierFormat, index: np.ndarray) -> list[str]:
        n = index.size
        length = len(fmt.positions)
        if n == 0:
            return []
        class_positions = [p for p, (alphabet, _) in enumerate(fmt.positions) if alphabet is not None]
        # the rightmost class positions whose joint space fits in 62 bits are a permutation of the
        # index (unique keys); positions further left are filled from a hash of the index
        low: list[int] = []
        low_size = 1
        for p in reversed(class_positions):
            radix = len(fmt.positions[p][0] or "")
            if low_size * radix > _LOW_LIMIT:
                break
            low.append(p)
            low_size *= radix
        if int(index[-1]) >= low_size:
            raise MirageError(
                f"column {self.column.name!r}: identifier format {fmt.text!r} cannot number more "
                f"than {low_size} keys uniquely; asked for row {int(index[-1])}"
            )
        chars = np.empty((n, length), dtype="<U1")
        for p, (alphabet, literal) in enumerate(fmt.positions):
            if alphabet is None:
                chars[:, p] = literal
        value = permute_index(index.astype(np.uint64), low_size, self.salt)
        for p in low:  # least significant digit first
            alphabet = fmt.positions[p][0] or ""
            base = np.uint64(len(alphabet))
            digits = (value % base).astype(np.int64)
            value //= base
            chars[:, p] = np.array(list(alphabet))[digits]
        rest = [p for p in class_positions if p not in set(low)]
        if rest:
            noise = _splitmix(index.astype(np.uint64) ^ np.uint64(self.salt))
            for p in rest:
                alphabet = fmt.positions[p][0] or ""
                noise = _splitmix(noise + np.uint64(p + 1))
                chars[:, p] = np.array(list(alphabet))[(noise % np.uint64(len(alphabet))).astype(np.int64)]
        joined: list[str] = chars.view(f"<U{length}").reshape(n).tolist()
        return joined

    # state ----------------------------------------------------------------------------------------
    @property
    def id_format(self) -> str:
        """The format keys are written in: the column's, else the one fitting inferred."""
        return self._fmt().text

    def _fmt(self) -> IdentifierFormat:
        if self.format is None:
            raise MirageError(f"column {self.column.name!r}: the identifier codec is not fitted")
        return self.format

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "id_format": self._fmt().text,
            "id_start": int(self.id_start),
            "salt": int(self.salt),
            "numeric": self.numeric,
            "missing": self.missing.get_state(),
        }
        return state, {}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        try:
            self.format = parse_id_format(require_str(state, "id_format"))
        except SchemaError as exc:
            raise StateError("id_format", str(exc)) from None
        self.id_start = require_int(state, "id_start")
        self.salt = require_int(state, "salt", low=0, high=(1 << 62) - 1)
        # numbers come back only for the plain integer format (an edited format writes text)
        self.numeric = require_bool(state, "numeric") and self.format.plain_integer
        self.missing = MissingPart.from_state(self.column.name, state)


def _template_number(fmt: IdentifierFormat) -> str:
    """The regular expression of a template's keys, its number the first group (``C-(\\d+)``)."""
    return re.escape(fmt.prefix) + r"(\d+)" + re.escape(fmt.suffix)


def smallest_number(fmt: IdentifierFormat, present: pd.Series, numbers: bool) -> int | None:
    """The smallest key number of a template seen in ``present`` (None when no key fits)."""
    found: list[int] = []
    if numbers:  # read as the integers they are: through float64, 19-digit ids would be rounded
        found = [int(v) for v in present.tolist() if v == v]
    else:
        pattern = re.compile(_template_number(fmt) + "$")
        for value in present.tolist():
            match = pattern.match(str(value))
            if match is not None:
                found.append(int(match.group(1)))
    return min(found) if found else None


def _salt(column: str, id_format: str) -> int:
    digest = hashlib.blake2b(f"{column}\x00{id_format}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 62) - 1)


def _uuids(index: np.ndarray, salt: int) -> list[str]:
    """Version-4-shaped UUIDs: 60 bits from a salted permutation of the index (unique), 62 hashed."""
    if index.size == 0:
        return []
    unique = permute_index(index.astype(np.uint64), 1 << 60, salt)
    noise = _splitmix(unique ^ np.uint64(salt))
    high = ((unique >> np.uint64(12)) << np.uint64(16)) | np.uint64(0x4000) | (unique & np.uint64(0xFFF))
    low = (noise & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    out: list[str] = []
    for hi, lo in zip(high.tolist(), low.tolist(), strict=True):
        h = f"{hi:016x}{lo:016x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out
