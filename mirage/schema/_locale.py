"""The locale of a table's personal data, read from the values that name a country.

E-mail addresses under a country's domain (``.de``), phone numbers written with a country code
(``+49``), IBANs (``DE89...``) and street addresses written the way one country writes them (a German
street and postcode, ``Drubinstraße 47, 06690 Groß-Gerau``; a British postcode, ``SW1A 1AA``) say
where the people in a table are; the replacement names, addresses and phone numbers are then drawn in
that country's Faker locale, not in American English.  Generic domains (``.com``), numbers without a
country code and addresses that more than one country's way of writing explains say nothing.  A
locale is taken only when the values that say something mostly agree.
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


_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|"
    "ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
_FIVE_DIGITS_THEN_TOWN = r"(?<!\d)\d{5}\s+[^\W\d]"
# How each country writes a street address: its postcode, and its street words (German and Dutch
# streets end in them, French, Spanish, Italian and Polish ones begin with them); a British postcode or
# an American state and ZIP code says it alone.  Austria and Switzerland (four-digit postcodes and
# German street words both) are told apart by nothing here, so neither is read.
_ADDRESS_WAYS = {
    "DE": (
        re.compile(_FIVE_DIGITS_THEN_TOWN),
        re.compile(
            r"[^\W\d]*(?:(?:straße|strasse|weg|allee|platz|gasse|ring|damm|ufer|chaussee|pfad|steig)\b|str\.)"
            r"|^\s*(?:Am|An der|An den|Im|In der|Zum|Zur|Auf der|Unter den)\s",
            re.IGNORECASE,
        ),
    ),
    "NL": (
        re.compile(r"(?<!\d)[1-9]\d{3}\s?[A-Z]{2}(?![^\W\d_])"),
        re.compile(
            r"[^\W\d]*(?:straat|laan|weg|plein|gracht|kade|singel|dijk|steeg|dreef|pad|markt|hof|ring|"
            r"boulevard|park|baan|wal)\b",
            re.IGNORECASE,
        ),
    ),
    "FR": (
        re.compile(_FIVE_DIGITS_THEN_TOWN),
        re.compile(
            r"^\s*(?:\d+\s*(?:bis|ter)?\s*,?\s*)?(?:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|place|"
            r"quai|route|cours|square|passage|faubourg|rond-point)\s",
            re.IGNORECASE,
        ),
    ),
    "ES": (
        re.compile(r"(?<!\d)\d{5}(?!\d)"),
        re.compile(
            r"^\s*(?:calle|c/|avenida|avda\.|plaza|paseo|camino|carretera|callejón|ronda|alameda|travesía|"
            r"glorieta|rambla)\s",
            re.IGNORECASE,
        ),
    ),
    "IT": (
        re.compile(r"(?<!\d)\d{5}(?!\d)"),
        re.compile(
            r"^\s*(?:via|viale|piazza|piazzale|corso|vicolo|contrada|largo|borgo|lungomare|strada)\s",
            re.IGNORECASE,
        ),
    ),
    "PL": (
        re.compile(r"(?<!\d)\d{2}-\d{3}(?!\d)"),
        re.compile(r"^\s*(?:ul\.|ulica|al\.|aleja|pl\.|plac|os\.|osiedle)\s", re.IGNORECASE),
    ),
}
_ADDRESS_POSTCODES = {
    "GB": re.compile(r"(?<![A-Za-z\d])[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}(?![A-Za-z\d])"),
    "US": re.compile(rf"(?<![A-Za-z])(?:{_US_STATES})\s+\d{{5}}(?:-\d{{4}})?(?!\d)"),
}


def _street_then_postcode(value: str, street: re.Pattern[str], postcode: re.Pattern[str]) -> bool:
    """Whether ``value`` names a street, then a postcode (a house number before the street is none)."""
    named = street.search(value)
    return named is not None and postcode.search(value, named.end()) is not None


def _address_countries(values: pd.Series) -> list[str]:
    """The country of each address only one country's way of writing addresses explains."""
    countries = []
    for value in values:
        found = [
            c for c, (post, street) in _ADDRESS_WAYS.items() if _street_then_postcode(value, street, post)
        ]
        found += [c for c, post in _ADDRESS_POSTCODES.items() if post.search(value)]
        if len(found) == 1:
            countries.append(found[0])
    return countries


_READERS = {
    "email": _email_countries,
    "phone_number": _phone_countries,
    "iban": _iban_countries,
    "street_address": _address_countries,
}
_SOURCE_NAMES = {
    "email": "e-mail domains",
    "phone_number": "phone country codes",
    "iban": "IBANs",
    "street_address": "street addresses",
}


def _faker_has(locale: str) -> bool:
    from faker.config import AVAILABLE_LOCALES

    return locale in AVAILABLE_LOCALES
