"""PII columns: personal data replaced with Faker values, never learned, never copied.

PII held as whole numbers (card numbers, national ids, phone and account numbers read as int64)
comes back as numbers of the column's dtype with the digit counts the column had: card numbers pass
Luhn, national ids their scheme's check, phone numbers keep the leading digits most of the column
shares (a country or area code).  Phone numbers held as text come back in the column's own shapes
(``+1 ###-###-####``, each kept when at least ``rare_min_count`` rows share it), starting with the
column's common leading digits: international numbers (written with ``+``) with those of its
international numbers (a country code), national ones with those of its national ones (a trunk or area
code), each lead held by at least ``rare_min_count`` rows; Faker's when no shape is that common.

The codec learns only where values are missing (the optional ``<column>::missing`` sub-column).  At
decode time it seeds a Faker instance from the generator it is given, so the output is reproducible,
and for speed draws rows from a pool of at most ``POOL_SIZE`` generated values.  E-mail addresses are
built from a pool of local parts, a number and a reserved example domain (``example.com``/``.org``/
``.net``), so they are unique-ish and never a real person's address.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from faker import Faker

from mirage._validate import (
    StateError,
    require_counts,
    require_locale,
    require_mapping,
    require_optional_str,
    require_str,
    show,
)
from mirage.encoding._base import Codec, EncodingOptions, SubColumn
from mirage.encoding._missing import MissingPart, MissingStats, apply_missing
from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.encoding._stats import merge_counts
from mirage.errors import DataError, MirageError, SchemaError
from mirage.schema._column import PII_TYPES, Column
from mirage.schema._pii import integer_digits, national_id_scheme

__all__ = ["FAKER_METHODS", "POOL_SIZE", "PIICodec", "PIIStats", "make_faker"]

POOL_SIZE = 5000  # Faker values generated per decode call at most; rows are drawn from them
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved (RFC 2606): never real

# pii_type -> Faker method ("email" is assembled from user_name, see _emails)
FAKER_METHODS: dict[str, str] = {
    "email": "user_name",
    "phone_number": "phone_number",
    "person_name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "street_address": "street_address",
    "city": "city",
    "postal_code": "postcode",
    "national_id": "ssn",
    "credit_card": "credit_card_number",
    "iban": "iban",
    "ip_address": "ipv4",
    "account_number": "bban",
}
# national-id schemes (see mirage.schema._pii) whose numbers a Faker locale writes
_SCHEME_LOCALES = {
    "nl.bsn": "nl_NL",
    "se.personnummer": "sv_SE",
    "no.fodselsnummer": "no_NO",
    "pl.pesel": "pl_PL",
    "br.cpf": "pt_BR",
    "fr.nir": "fr_FR",
}
_INT64_DIGITS = 18  # any number of this many digits fits an int64
_SCHEME_SAMPLE = 500  # distinct numbers (the first seen) a national-id scheme is recognised from
_PREFIX_DIGITS = 3  # the longest shared leading digits of phone numbers that are kept
_SEPARATOR = r"[ \t]*\r?\n[ \t]*|,[ \t]*"  # between an address's parts: a new line or a comma
_SEPARATOR_RE = re.compile(_SEPARATOR)
_LAYOUT_RE = re.compile(rf"\*(?:(?:{_SEPARATOR})\*)*")
_STREET_ALONE = "*"


def make_faker(locale: str, column: str, rng: np.random.Generator) -> Faker:
    """A new Faker for ``locale`` seeded from ``rng``, for one decode call.

    Never shared: two samplings at once (threads of a service) cannot reseed each other's generator.
    A Faker costs about a millisecond to build.
    """
    try:
        fake = Faker(locale)
    except (AttributeError, ValueError, ImportError):
        raise SchemaError(f"column {column!r}: unknown Faker locale {locale!r}") from None
    fake.seed_instance(int(rng.integers(2**63)))
    return fake


def _method(fake: Faker, name: str, locale: str, column: str) -> Callable[[], Any]:
    try:
        method: Callable[[], Any] = getattr(fake, name)
    except AttributeError:
        raise MirageError(f"column {column!r}: Faker locale {locale!r} cannot generate {name!r}") from None
    return method


@dataclass(frozen=True)
class PIIStats:
    """One partition of a PII column: never values, only the shape of numbers held as numbers.

    ``whole`` is False when some value is not a non-negative whole number (then no number is learned);
    ``lengths`` counts rows per digit count, ``heads[k - 1]`` rows per first ``k`` digits among numbers
    longer than ``k``, ``first`` the first distinct numbers seen (for recognising a national-id scheme).
    Phone numbers held as text count rows per ``shapes`` (``+1 ###-###-####``: every digit a ``#``),
    ``heads`` over the digits of those written without ``+`` and ``plus_heads`` of those with.  Street
    addresses count rows per ``layouts``: the parts a value is written in, each part a ``*`` between
    the separators (``*, *, *`` for ``1 Main St, Springfield, IL 62704``; ``*`` for a street alone).
    """

    missing: MissingStats
    whole: bool = True
    lengths: tuple[tuple[int, int], ...] = ()
    heads: tuple[tuple[tuple[str, int], ...], ...] = ()
    first: tuple[str, ...] = ()
    shapes: tuple[tuple[str, int], ...] = ()
    plus_heads: tuple[tuple[tuple[str, int], ...], ...] = ()
    layouts: tuple[tuple[str, int], ...] = ()

    @classmethod
    def merge(cls, parts: Sequence[PIIStats], column: str) -> PIIStats:
        if not parts:
            raise DataError(f"column {column!r}: nothing to learn from (no partition was analyzed)")
        heads = _merged_heads([p.heads for p in parts])
        first = tuple(dict.fromkeys(d for p in parts for d in p.first))[:_SCHEME_SAMPLE]
        return cls(
            MissingStats.merge(p.missing for p in parts),
            all(p.whole for p in parts),
            tuple(sorted(merge_counts(p.lengths for p in parts).items())),
            heads,
            first,
            tuple(sorted(merge_counts(p.shapes for p in parts).items())),
            _merged_heads([p.plus_heads for p in parts]),
            tuple(sorted(merge_counts(p.layouts for p in parts).items())),
        )


class PIICodec(Codec[PIIStats]):
    """Generates Faker values of ``column.pii_type``; learns only the missing rate's sub-column."""

    def __init__(self, column: Column, options: EncodingOptions) -> None:
        super().__init__(column, options)
        self.pii_type = column.pii_type or ""
        self.locale = column.locale or options.locale
        self.missing = MissingPart(column.name)
        self.digits: dict[int, int] = {}  # numbers: rows per digit count; empty for text
        self.scheme: str | None = None
        self.prefix = ""
        self.shapes: dict[str, int] = {}  # phone numbers held as text: rows per shape (``###-####``)
        # phone numbers held as text: rows per leading digits, of national and of international numbers
        self.leads: dict[str, int] = {}
        self.plus_leads: dict[str, int] = {}
        # street addresses held as text: rows per layout (``*, *, *``), each kept by rare_min_count rows
        self.layouts: dict[str, int] = {}

    @property
    def numeric(self) -> bool:
        return bool(self.digits)

    def analyze(self, values: pd.Series) -> PIIStats:
        missing = MissingStats.of(values)
        numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
        if not numeric:
            if self.pii_type == "street_address":
                layouts = Counter(_layout(str(v)) for v in values.dropna())
                return PIIStats(missing, whole=False, layouts=tuple(sorted(layouts.items())))
            if self.pii_type != "phone_number":
                return PIIStats(missing, whole=False)
            return _phone_text_stats(missing, values.dropna().astype(str))
        if not values.notna().any():
            return PIIStats(missing)
        digits = integer_digits(values)
        if digits is None:
            return PIIStats(missing, whole=False)
        lengths = Counter(len(d) for d in digits)
        heads = _heads(digits)
        first = tuple(dict.fromkeys(digits))[:_SCHEME_SAMPLE]
        return PIIStats(missing, True, tuple(sorted(lengths.items())), heads, first)

    def reduce(
        self,
        stats: Sequence[PIIStats],
        *,
        budget: PrivacyBudget | None = None,
        public: PublicBounds | None = None,
    ) -> PIIStats:
        self.public_bounds(budget, public)  # nothing public applies; refuses a budget
        if self.pii_type not in PII_TYPES:
            raise SchemaError(
                f"column {self.column.name!r}: pii_type must be one of {', '.join(PII_TYPES)}, "
                f"got {self.column.pii_type!r}"
            )
        merged = PIIStats.merge(stats, self.column.name)
        self.missing = MissingPart(self.column.name)
        self.missing.learn(merged.missing)
        self.digits, self.scheme, self.prefix = {}, None, ""
        self.shapes, self.leads, self.plus_leads = {}, {}, {}
        layouts = {layout: rows for layout, rows in merged.layouts if rows >= self.options.rare_min_count}
        self.layouts = layouts if set(layouts) - {_STREET_ALONE} else {}
        if merged.shapes:
            kept = {shape: rows for shape, rows in merged.shapes if rows >= self.options.rare_min_count}
            if kept:
                self.shapes = kept
                self.leads = _leads(merged.heads, self.options.rare_min_count)
                self.plus_leads = _leads(merged.plus_heads, self.options.rare_min_count)
        if merged.whole and merged.lengths:
            self.digits = dict(merged.lengths)
            if self.pii_type == "national_id":
                self.scheme = national_id_scheme(list(merged.first))
            if self.pii_type == "phone_number":
                self.prefix = _shared_prefix(merged.heads, sum(self.digits.values()))
        return merged

    @property
    def subcolumns(self) -> list[SubColumn]:
        return self.missing.subcolumns

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        return self.missing.encode(values)

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        fake = make_faker(self.locale, self.column.name, rng)
        if self.numeric:
            return self._numbers(n, rng, parts)
        if n == 0:
            values: list[Any] = []
        elif self.shapes:
            values = _draw([self._phone(rng) for _ in range(min(n, POOL_SIZE))], n, rng)
        elif self.pii_type == "email":
            values = self._emails(fake, n, rng)
        elif self.layouts:
            values = _draw(self._addresses(fake, min(n, POOL_SIZE), rng), n, rng)
        else:
            method = _method(fake, FAKER_METHODS[self.pii_type], self.locale, self.column.name)
            values = _draw([str(method()) for _ in range(min(n, POOL_SIZE))], n, rng)
        out = pd.Series(values, dtype=object, name=self.column.name)
        return apply_missing(out, self.missing.mask(parts, n))

    def _emails(self, fake: Faker, n: int, rng: np.random.Generator) -> list[str]:
        """``<local part><number>@example.<tld>``: a pool of local parts times a random number."""
        user_name = _method(fake, "user_name", self.locale, self.column.name)
        pool = np.array([_ascii_local(str(user_name())) for _ in range(min(n, POOL_SIZE // 2 or 1))])
        locals_ = pool[rng.integers(0, pool.size, size=n)]
        digits = max(2, math.ceil(math.log10(max(100.0 * n / pool.size, 1.0))))
        numbers = rng.integers(0, 10**digits, size=n)
        domains = np.array(EMAIL_DOMAINS)[rng.integers(0, len(EMAIL_DOMAINS), size=n)]
        return [
            f"{a}{b}@{c}"
            for a, b, c in zip(locals_.tolist(), numbers.tolist(), domains.tolist(), strict=True)
        ]

    def _addresses(self, fake: Faker, n: int, rng: np.random.Generator) -> list[str]:
        """Faker's addresses written in the column's layouts, as often as the column has each."""
        address = _method(fake, "address", self.locale, self.column.name)
        layouts = list(self.layouts)
        weights = np.array(list(self.layouts.values()), dtype="float64")
        picks = rng.choice(len(layouts), size=n, p=weights / weights.sum())
        return [
            _written_in(self._address_of(address, layouts[int(k)]), layouts[int(k)]) for k in picks.tolist()
        ]

    @staticmethod
    def _address_of(address: Callable[[], Any], layout: str, tries: int = 4) -> str:
        """One of Faker's addresses with at least as many parts as ``layout`` where a few draws give one
        (en_US writes one in ten as a military ``Unit 5069 Box 9205`` / ``DPO AE 46758``, of two parts)."""
        drawn = str(address())
        for _ in range(tries - 1):
            if len(_address_parts(drawn)) >= layout.count("*"):
                break
            drawn = str(address())
        return drawn

    def _numbers(self, n: int, rng: np.random.Generator, parts: Mapping[str, np.ndarray]) -> pd.Series:
        """Numbers of the learned digit counts (and scheme or prefix), with the column's dtype."""
        lengths = np.array(list(self.digits), dtype=np.int64)
        weights = np.array(list(self.digits.values()), dtype="float64")
        pool = rng.choice(lengths, size=min(n, POOL_SIZE), p=weights / weights.sum())
        if self.pii_type == "national_id" and self.scheme in _SCHEME_LOCALES:
            texts = _national_ids(self.scheme, pool, self.column.name, rng)
        else:
            texts = [self._digits(int(k), rng) for k in pool.tolist()]
        numbers = np.array([int(t) for t in _draw(texts, n, rng)], dtype=np.int64)
        mask = self.missing.mask(parts, n)
        dtype = self.column.dtype
        if mask.any():
            dtype = "Int64" if dtype.startswith(("int", "uint", "Int", "UInt")) else dtype
            out = pd.Series(numbers, name=self.column.name).astype(pd.api.types.pandas_dtype(dtype))
            return out.mask(pd.Series(mask))
        try:
            return pd.Series(numbers, name=self.column.name).astype(pd.api.types.pandas_dtype(dtype))
        except (TypeError, ValueError):
            return pd.Series(numbers, name=self.column.name)

    def _phone(self, rng: np.random.Generator) -> str:
        """A phone number in one of the column's shapes: leading digits of its kind (international or
        national) drawn as often as the column has them, then random ones."""
        shapes = list(self.shapes)
        weights = np.array(list(self.shapes.values()), dtype="float64")
        shape = shapes[int(rng.choice(len(shapes), p=weights / weights.sum()))]
        slots = shape.count("#")
        leads = (
            (self.plus_leads or self.leads)
            if shape.lstrip().startswith("+")
            else (self.leads or self.plus_leads)
        )
        digits: list[str] = []
        if leads:
            counts = np.array(list(leads.values()), dtype="float64")
            digits = list(list(leads)[int(rng.choice(len(leads), p=counts / counts.sum()))][:slots])
        digits += [str(d) for d in rng.integers(0, 10, size=slots - len(digits)).tolist()]
        filled = iter(digits)
        return "".join(next(filled) if c == "#" else c for c in shape)

    def _digits(self, length: int, rng: np.random.Generator) -> str:
        """One number of ``length`` digits: Luhn-valid for cards, the learned prefix for phones."""
        length = min(max(length, 1), _INT64_DIGITS)
        check = self.pii_type == "credit_card" or self.scheme == "in_.aadhaar"
        head = "4" if self.pii_type == "credit_card" else self.prefix[: max(length - 1, 0)]
        if self.scheme == "in_.aadhaar":
            head = str(int(rng.integers(2, 10)))
        body_length = length - len(head) - (1 if check else 0)
        body = "".join(str(d) for d in rng.integers(0, 10, size=max(body_length, 0)).tolist())
        text = head + body
        if not text or text[0] == "0":
            text = str(int(rng.integers(1, 10))) + text[1:]
        if self.pii_type == "credit_card":
            from stdnum import luhn

            return text + str(luhn.calc_check_digit(text))
        if self.scheme == "in_.aadhaar":
            from stdnum import verhoeff

            return text + str(verhoeff.calc_check_digit(text))
        return text

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state: dict[str, Any] = {
            "pii_type": self.pii_type,
            "locale": self.locale,
            "missing": self.missing.get_state(),
        }
        if self.digits:
            state.update(digits={str(k): v for k, v in self.digits.items()}, scheme=self.scheme)
            state["prefix"] = self.prefix
        if self.shapes:
            state.update(shapes=dict(self.shapes), leads=dict(self.leads), plus_leads=dict(self.plus_leads))
        if self.layouts:
            state["layouts"] = dict(self.layouts)
        return state, {}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.pii_type = require_str(state, "pii_type", choices=PII_TYPES)
        self.locale = require_locale(state, "locale")
        self.missing = MissingPart.from_state(self.column.name, state)
        digits = require_mapping(state.get("digits", {}), "digits")
        try:
            self.digits = {int(k): int(v) for k, v in digits.items()}
        except (TypeError, ValueError):
            raise StateError("digits", f"expected digit counts, got {show(digits)}") from None
        self.scheme = require_optional_str(state, "scheme") if "scheme" in state else None
        self.prefix = require_str(state, "prefix") if "prefix" in state else ""
        shapes = require_mapping(state.get("shapes", {}), "shapes")
        if not all(_is_count(v) and v > 0 for v in shapes.values()):
            raise StateError("shapes", f"expected row counts per phone shape, got {show(shapes)}")
        if not self.prefix.isdigit() and self.prefix:
            raise StateError("prefix", f"expected digits, got {show(self.prefix)}")
        self.shapes = {str(k): int(v) for k, v in shapes.items()}
        self.layouts = _layouts_state(state.get("layouts", {}))
        if "leads" in state or "plus_leads" in state:
            self.leads = _leads_state(state.get("leads", {}), "leads")
            self.plus_leads = _leads_state(state.get("plus_leads", {}), "plus_leads")
        else:  # written before leads (stop 32): one shared prefix and the digit after it, for every shape
            next_digit = require_counts(state, "next_digit", 10) if state.get("next_digit", []) != [] else []
            self.leads = {self.prefix + str(d): int(c) for d, c in enumerate(next_digit) if c > 0}
            if not self.leads and self.prefix:
                self.leads = {self.prefix: 1}
            self.plus_leads = dict(self.leads)


def _layout(address: str) -> str:
    """The parts ``address`` is written in: ``1 Main St, Springfield, IL 62704`` -> ``*, *, *``."""
    return "*".join(["", *_SEPARATOR_RE.findall(address.strip()), ""])


def _address_parts(address: str) -> list[str]:
    """Faker's multi-line ``address`` as parts: its first line (the street, which may hold a comma:
    ``5, avenue Samson``), then its later lines split at their commas (``Springfield``, ``IL 62704``)."""
    first, *rest = address.strip().split("\n")
    return [first.strip()] + [p.strip() for line in rest for p in line.split(",") if p.strip()]


def _written_in(address: str, layout: str) -> str:
    """Faker's multi-line ``address`` in ``layout``'s parts and separators: a layout of fewer parts keeps
    the first ones (``street, city``); one of more parts than the address has keeps them all."""
    parts = _address_parts(address)
    separators = layout.strip("*").split("*")[: len(parts) - 1] if layout != _STREET_ALONE else []
    parts = parts[: len(separators) + 1]
    return parts[0] + "".join(sep + part for sep, part in zip(separators, parts[1:], strict=True))


def _shared_prefix(heads: tuple[tuple[tuple[str, int], ...], ...], rows: int, share: float = 0.5) -> str:
    """The longest leading digits that more than ``share`` of the ``rows`` numbers have.

    ``heads[k - 1]``: rows per first ``k`` digits among numbers longer than ``k``.
    """
    prefix = ""
    for counts in heads:
        if not counts:
            break
        head, most = max(counts, key=lambda item: item[1])
        if most <= share * rows:
            break
        prefix = head
    return prefix


def _phone_text_stats(missing: MissingStats, phones: pd.Series) -> PIIStats:
    """Rows per shape of phone numbers written as text, and per leading digits of the national and of
    the international (``+``) ones."""
    shapes = Counter(phones.str.replace(r"\d", "#", regex=True))
    digits = phones.str.replace(r"\D", "", regex=True)
    plus = phones.str.lstrip().str.startswith("+").to_numpy(dtype=bool)
    return PIIStats(
        missing,
        whole=False,
        heads=_heads(digits[~plus].tolist()),
        shapes=tuple(sorted(shapes.items())),
        plus_heads=_heads(digits[plus].tolist()),
    )


def _merged_heads(
    parts: Sequence[tuple[tuple[tuple[str, int], ...], ...]],
) -> tuple[tuple[tuple[str, int], ...], ...]:
    return tuple(
        tuple(merge_counts(heads[k] for heads in parts if k < len(heads)).items())
        for k in range(max((len(heads) for heads in parts), default=0))
    )


def _leads(
    heads: tuple[tuple[tuple[str, int], ...], ...], rare_min_count: int, cover: float = 0.9
) -> dict[str, int]:
    """Rows per leading digits to start drawn numbers with: the first digit's counts, or the longest
    leads (up to ``_PREFIX_DIGITS``) each held by ``rare_min_count`` rows or more that together cover
    ``cover`` of the numbers that long, so no lead belongs to a handful of people."""
    leads: dict[str, int] = {}
    for depth, counts in enumerate(heads, start=1):
        total = sum(rows for _, rows in counts)
        kept = {head: rows for head, rows in counts if depth == 1 or rows >= rare_min_count}
        if not total or sum(kept.values()) < cover * total:
            break
        leads = dict(sorted(kept.items()))
    return leads


def _leads_state(value: Any, name: str) -> dict[str, int]:
    leads = require_mapping(value, name)
    if not all(isinstance(k, str) and k.isdigit() and _is_count(v) and v > 0 for k, v in leads.items()):
        raise StateError(name, f"expected row counts per leading digits, got {show(leads)}")
    return {str(k): int(v) for k, v in leads.items()}


def _layouts_state(value: Any) -> dict[str, int]:
    layouts = require_mapping(value, "layouts")
    if not all(
        isinstance(k, str) and _LAYOUT_RE.fullmatch(k) and _is_count(v) and v > 0 for k, v in layouts.items()
    ):
        raise StateError("layouts", f"expected row counts per address layout (`*, *`), got {show(layouts)}")
    return {str(k): int(v) for k, v in layouts.items()}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _heads(digits: Sequence[str]) -> tuple[tuple[tuple[str, int], ...], ...]:
    """Rows per first ``k`` digits among numbers longer than ``k``, for ``k`` up to ``_PREFIX_DIGITS``."""
    return tuple(
        tuple(Counter(d[:k] for d in digits if len(d) > k).items()) for k in range(1, _PREFIX_DIGITS + 1)
    )


def _national_ids(scheme: str, lengths: np.ndarray, column: str, rng: np.random.Generator) -> list[str]:
    """Valid ids of ``scheme`` written by Faker, as digits without the leading zeros numbers lose."""
    fake = make_faker(_SCHEME_LOCALES[scheme], column, rng)
    out: list[str] = []
    for _ in range(lengths.size):
        digits = re.sub(r"\D", "", str(fake.ssn())).lstrip("0") or "0"
        out.append(digits[:_INT64_DIGITS])
    return out


def _draw(pool: list[str], n: int, rng: np.random.Generator) -> list[str]:
    """The pool itself when it holds ``n`` values, else ``n`` draws from it."""
    if len(pool) >= n:
        return pool[:n]
    picks = rng.integers(0, len(pool), size=n)
    arr = np.array(pool, dtype=object)
    chosen: list[str] = arr[picks].tolist()
    return chosen


def _ascii_local(local: str) -> str:
    """An e-mail local part made of ASCII letters, digits, dots and underscores."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    cleaned = "".join(c for c in ascii_text.lower() if c.isalnum() or c in "._")
    return cleaned.strip("._") or "user"
