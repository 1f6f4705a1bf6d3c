"""PII columns: personal data replaced with Faker values, never learned, never copied.

The codec learns only where values are missing (the optional ``<column>::missing`` sub-column).  At
decode time it seeds a Faker instance from the generator it is given, so the output is reproducible,
and for speed draws rows from a pool of at most ``POOL_SIZE`` generated values.  E-mail addresses are
built from a pool of local parts, a number and a reserved example domain (``example.com``/``.org``/
``.net``), so they are unique-ish and never a real person's address.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from faker import Faker

from mirage._validate import require_locale, require_str
from mirage.encoding._base import Codec, EncodingOptions, SubColumn
from mirage.encoding._missing import MissingPart, apply_missing
from mirage.errors import MirageError, SchemaError
from mirage.schema._column import PII_TYPES, Column

__all__ = ["FAKER_METHODS", "POOL_SIZE", "PIICodec", "make_faker"]

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
}

_FAKERS: dict[str, Faker] = {}


def make_faker(locale: str, column: str, rng: np.random.Generator) -> Faker:
    """A Faker for ``locale`` seeded from ``rng`` (one instance per locale, reseeded on every call)."""
    fake = _FAKERS.get(locale)
    if fake is None:
        try:
            fake = Faker(locale)
        except (AttributeError, ValueError, ImportError):
            raise SchemaError(f"column {column!r}: unknown Faker locale {locale!r}") from None
        _FAKERS[locale] = fake
    fake.seed_instance(int(rng.integers(2**63)))
    return fake


def _method(fake: Faker, name: str, locale: str, column: str) -> Callable[[], Any]:
    try:
        method: Callable[[], Any] = getattr(fake, name)
    except AttributeError:
        raise MirageError(f"column {column!r}: Faker locale {locale!r} cannot generate {name!r}") from None
    return method


class PIICodec(Codec):
    """Generates Faker values of ``column.pii_type``; learns only the missing rate's sub-column."""

    def __init__(self, column: Column, options: EncodingOptions) -> None:
        super().__init__(column, options)
        self.pii_type = column.pii_type or ""
        self.locale = column.locale or options.locale
        self.missing = MissingPart(column.name)

    def fit(self, values: pd.Series) -> None:
        if self.pii_type not in PII_TYPES:
            raise SchemaError(
                f"column {self.column.name!r}: pii_type must be one of {', '.join(PII_TYPES)}, "
                f"got {self.column.pii_type!r}"
            )
        self.missing = MissingPart(self.column.name)
        self.missing.fit(values)

    @property
    def subcolumns(self) -> list[SubColumn]:
        return self.missing.subcolumns

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        return self.missing.encode(values)

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        fake = make_faker(self.locale, self.column.name, rng)
        if n == 0:
            values: list[Any] = []
        elif self.pii_type == "email":
            values = self._emails(fake, n, rng)
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

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {"pii_type": self.pii_type, "locale": self.locale, "missing": self.missing.get_state()}
        return state, {}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.pii_type = require_str(state, "pii_type", choices=PII_TYPES)
        self.locale = require_locale(state, "locale")
        self.missing = MissingPart.from_state(self.column.name, state)


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
