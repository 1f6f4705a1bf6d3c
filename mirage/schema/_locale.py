"""The locale of a table's personal data, read from the values that name a country.

E-mail addresses under a country's domain (``.de``), phone numbers written with a country code
(``+49``) and IBANs (``DE89...``) say where the people in a table are; the replacement names,
addresses and phone numbers are then drawn in that country's Faker locale, not in American English.
Generic domains (``.com``) and numbers without a country code say nothing.  A locale is taken only
when the values that say something mostly agree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

__all__ = ["LocaleGuess", "guess_locale"]

DEFAULT_LOCALE = "en_US"
SAMPLE = 2000  # distinct values read per column at most
MIN_EVIDENCE = 20  # values that name a country, over the table, before a guess is made
AGREEMENT = 0.6  # share of those values that must name the same locale

# country (ISO 3166 alpha-2, as IBANs and phone regions write it) -> Faker locale
COUNTRY_LOCALES = {
    "AT": "de_AT",
    "AU": "en_AU",
    "BE": "nl_BE",
    "BG": "bg_BG",
    "BR": "pt_BR",
    "CA": "en_CA",
    "CH": "de_CH",
    "CZ": "cs_CZ",
    "DE": "de_DE",
    "DK": "da_DK",
    "EE": "et_EE",
    "ES": "es_ES",
    "FI": "fi_FI",
    "FR": "fr_FR",
    "GB": "en_GB",
    "GR": "el_GR",
    "HR": "hr_HR",
    "HU": "hu_HU",
    "IE": "en_IE",
    "IN": "en_IN",
    "IT": "it_IT",
    "JP": "ja_JP",
    "LT": "lt_LT",
    "LV": "lv_LV",
    "MX": "es_MX",
    "NL": "nl_NL",
    "NO": "no_NO",
    "NZ": "en_NZ",
    "PL": "pl_PL",
    "PT": "pt_PT",
    "RO": "ro_RO",
    "RU": "ru_RU",
    "SE": "sv_SE",
    "SI": "sl_SI",
    "SK": "sk_SK",
    "TR": "tr_TR",
    "UA": "uk_UA",
    "US": "en_US",
}
_DOMAIN_COUNTRIES = {"uk": "GB", "gr": "GR", "us": "US"}  # top-level domains that are not the country code
_EMAIL_DOMAIN = re.compile(r"@[^@\s]+\.([A-Za-z]{2})\s*$")
_IBAN = re.compile(r"^\s*([A-Z]{2})\d\d[\dA-Z ]{8,}$")


@dataclass(frozen=True)
class LocaleGuess:
    locale: str
    reason: str  # what the guess was read from, for the message that says so


def guess_locale(pii: Iterable[tuple[str, str | None, pd.Series]]) -> LocaleGuess | None:
    """The locale most of the country-naming values of the PII columns ``(name, pii_type, values)``
    agree on, or None where too few values name a country or they disagree."""
    votes: Counter[str] = Counter()
    sources: dict[str, Counter[str]] = {}
    for _, pii_type, values in pii:
        reader = _READERS.get(pii_type or "")
        if reader is None:
            continue
        sample = pd.Series(values.dropna().astype(str).unique()[:SAMPLE])
        for country in reader(sample):
            locale = COUNTRY_LOCALES.get(country)
            if locale is not None:
                votes[locale] += 1
                sources.setdefault(locale, Counter())[_SOURCE_NAMES[pii_type or ""]] += 1
    total = sum(votes.values())
    if total < MIN_EVIDENCE:
        return None
    locale, count = votes.most_common(1)[0]
    if count < AGREEMENT * total or not _faker_has(locale):
        return None
    read_from = ", ".join(f"{n} {what}" for what, n in sources[locale].most_common())
    return LocaleGuess(locale, f"{read_from} of {total} values naming a country")


def _email_countries(values: pd.Series) -> list[str]:
    found = values.str.extract(_EMAIL_DOMAIN)[0].dropna().str.lower()
    return [_DOMAIN_COUNTRIES.get(tld, tld.upper()) for tld in found]


def _phone_countries(values: pd.Series) -> list[str]:
    import phonenumbers

    countries = []
    for value in values:
        if not value.lstrip().startswith(("+", "00")):
            continue  # a national number names no country
        text = "+" + value.lstrip()[2:] if value.lstrip().startswith("00") else value
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(text, None))
        except phonenumbers.NumberParseException:
            continue
        if region and region != "ZZ":
            countries.append(region)
    return countries


def _iban_countries(values: pd.Series) -> list[str]:
    return values.str.upper().str.extract(_IBAN)[0].dropna().tolist()


_READERS = {"email": _email_countries, "phone_number": _phone_countries, "iban": _iban_countries}
_SOURCE_NAMES = {"email": "e-mail domains", "phone_number": "phone country codes", "iban": "IBANs"}


def _faker_has(locale: str) -> bool:
    from faker.config import AVAILABLE_LOCALES

    return locale in AVAILABLE_LOCALES
