"""Realistic values from Faker, seeded: a pool per column reused across blocks (values that may
repeat: names, cities, companies), or one value per row (IBANs, card numbers, phone numbers)."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from mirage.errors import SchemaError

__all__ = ["ROW_PROVIDERS", "check_provider", "faker_method", "provider_pool", "provider_values"]

# providers whose values should rarely repeat: drawn row by row, not from a pool
ROW_PROVIDERS = {"iban", "credit_card", "account_number", "national_id", "phone_number", "bban", "ssn"}


@lru_cache(maxsize=64)
def _faker(locale: str) -> Any:
    from faker import Faker

    return Faker(locale)


def faker_method(name: str) -> str:
    """The Faker method behind a provider name (a Mirage PII type or a Faker method's own name)."""
    from mirage.encoding.pii import FAKER_METHODS  # imports Faker: only when a provider is drawn

    return name if name == "email" else FAKER_METHODS.get(name, name)


def check_provider(name: str, locale: str, where: str) -> None:
    """Raise ``SchemaError`` naming ``where`` when Faker has no such locale or provider."""
    try:
        fake = _faker(locale)
    except (AttributeError, ValueError, ImportError):
        raise SchemaError(f"{where}.locale: unknown Faker locale {locale!r}") from None
    if name == "email":
        return
    method = getattr(fake, faker_method(name), None)
    if not callable(method):
        raise SchemaError(f"{where}.name: Faker ({locale}) has no provider {name!r}")


def _generate(name: str, locale: str, n: int, seed: int) -> list[str]:
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    if name == "email":
        return _emails(fake, n, np.random.default_rng(seed))
    method = getattr(fake, faker_method(name))
    return [str(method()) for _ in range(n)]


def _emails(fake: Any, n: int, rng: np.random.Generator) -> list[str]:
    """``<user name><number>@example.<tld>``: Faker user names times a random number (valid addresses)."""
    import unicodedata

    pool_size = max(1, min(n, 2500))
    names = []
    for _ in range(pool_size):
        text = unicodedata.normalize("NFKD", str(fake.user_name())).encode("ascii", "ignore").decode()
        names.append("".join(c for c in text.lower() if c.isalnum() or c in "._").strip("._") or "user")
    local = np.array(names, dtype=object)[rng.integers(0, pool_size, size=n)]
    digits = max(2, math.ceil(math.log10(max(100.0 * n / pool_size, 1.0))))
    numbers = rng.integers(0, 10**digits, size=n)
    from mirage.encoding.pii import EMAIL_DOMAINS

    domains = np.array(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), size=n)]
    return [f"{a}{b}@{c}" for a, b, c in zip(local.tolist(), numbers.tolist(), domains.tolist(), strict=True)]


@lru_cache(maxsize=256)
def provider_pool(name: str, locale: str, size: int, seed: int) -> np.ndarray:
    """``size`` values of the provider, the same for the same seed (cached: every block reuses them)."""
    return np.array(_generate(name, locale, size, seed), dtype=object)


def provider_values(
    name: str, locale: str, pool: int, n: int, rng: np.random.Generator, seed: int
) -> np.ndarray:
    """``n`` values: drawn from the column's pool (``pool > 0``), else generated one per row from ``rng``."""
    if n == 0:
        return np.array([], dtype=object)
    if pool > 0:
        values = provider_pool(name, locale, pool, seed)
        return np.asarray(values[rng.integers(0, values.size, size=n)])
    return np.array(_generate(name, locale, n, int(rng.integers(2**63))), dtype=object)
