"""Numbers written with a currency sign or a unit (``$1,234.50``, ``27.0 %``, ``12,50 €``, ``EUR 80``,
``72.5 kg``, ``120 mmHg``, ``4.7 GB``).

:func:`split_affixes` finds a column whose every value is such a number with the same sign or unit, and
returns the numbers without it; readers then read them as numbers and writers put the sign back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = ["NumberText", "PerRowCurrency", "split_affixes", "split_currencies"]

MAX_CURRENCIES = 12  # more different signs than this in a column are not a currency per row

_SYMBOLS = r"R\$|US\$|[$€£¥₹₩₽¢]"
# ISO 4217 codes are only taken apart from the number ("EUR 80", "80 CHF"): "INV1001" is a key
_CODES = "USD|EUR|GBP|JPY|CHF|CAD|AUD|NZD|CNY|HKD|SGD|INR|SEK|NOK|DKK|PLN|CZK|HUF|BRL|MXN|ZAR|KRW|TRY|RUB"
# units of measure written after a number ("72.5 kg", "12ms"); case matters ("mm" is not "Mm")
_UNITS = (
    "mg/dL|mmol/L|µmol/L|g/dL|g/L|mg/L|IU/L|U/L|km/h|m/s|mmHg|kWh|MWh|Wh|kcal|kJ|cal|bpm|rpm|mph|psi|"
    "kHz|MHz|GHz|Hz|kPa|hPa|MPa|Pa|bar|dB|°C|°F|"
    "kg|mg|µg|lbs|lb|oz|km|cm|mm|µm|nm|mi|ft|yd|ml|mL|cl|dl|gal|"
    "ms|µs|min|hrs|hr|sec|"
    "kW|MW|GW|kV|mV|mA|KB|kB|MB|GB|TB|PB|"
    "m²|km²|m2|sqft|ha|px|pt|g|t|m|l|L|s|h|W|V|A|B"
)
_AFFIXED = re.compile(
    rf"(?P<sign>[+-]?)(?P<prefix>(?:{_SYMBOLS})[ \u00a0]?|(?:{_CODES})[ \u00a0])?(?P<inner>[+-]?)"
    r"(?P<number>\d(?:[\d.,'\u00a0\u202f ]*\d)?)"
    rf"(?P<suffix>[ \u00a0]?(?:%|‰|{_SYMBOLS}|{_UNITS})|[ \u00a0](?:{_CODES}))?"
)


@dataclass(frozen=True)
class NumberText:
    """How a column wrote its numbers: the text before and after each number."""

    prefix: str
    suffix: str


def split_affixes(values: pd.Series) -> tuple[NumberText, pd.Series] | None:
    """For text ``values`` (no missing ones) that all carry the same currency sign or unit: that sign and
    the values without it (a minus sign kept in front); None otherwise."""
    if values.empty:
        return None
    parts = values.astype(str).str.fullmatch(_AFFIXED.pattern)
    if not bool(parts.all()):
        return None
    found = values.astype(str).str.extract(_AFFIXED.pattern)
    prefixes = found["prefix"].fillna("").unique()
    suffixes = found["suffix"].fillna("").unique()
    if len(prefixes) != 1 or len(suffixes) != 1 or not (prefixes[0] or suffixes[0]):
        return None
    signs = found["sign"].fillna("") + found["inner"].fillna("")
    if bool((signs.str.len() > 1).any()):
        return None
    return NumberText(str(prefixes[0]), str(suffixes[0])), signs + found["number"]


@dataclass(frozen=True)
class PerRowCurrency:
    """Numbers each written with its own currency (``EUR 12``, ``USD 3.50``): on which side, with what
    between the currency and the number, each row's currency and the numbers without them."""

    side: str  # "prefix" or "suffix"
    space: str
    currencies: pd.Series
    numbers: pd.Series


_CURRENCY = re.compile(rf"(?:{_SYMBOLS}|{_CODES})")


def split_currencies(values: pd.Series) -> PerRowCurrency | None:
    """For text ``values`` (no missing ones) that are numbers written with two or more currencies, all
    on the same side (``EUR 12``, ``USD 3``; ``12 €``, ``3 $``): how; None otherwise."""
    if values.empty:
        return None
    text = values.astype(str)
    if not bool(text.str.fullmatch(_AFFIXED.pattern).all()):
        return None
    found = text.str.extract(_AFFIXED.pattern)
    prefixes, suffixes = found["prefix"].fillna(""), found["suffix"].fillna("")
    side, affixes = ("prefix", prefixes) if prefixes.nunique() > 1 else ("suffix", suffixes)
    other = suffixes if side == "prefix" else prefixes
    written = affixes.str.strip(" \u00a0")
    distinct = written.unique()
    if not 2 <= len(distinct) <= MAX_CURRENCIES or other.ne("").any():
        return None
    if not all(_CURRENCY.fullmatch(str(d)) for d in distinct):
        return None
    spaced = affixes.str.len() > written.str.len()
    signs = found["sign"].fillna("") + found["inner"].fillna("")
    if bool((signs.str.len() > 1).any()):
        return None
    space = " " if bool(spaced.mean() >= 0.5) else ""
    return PerRowCurrency(side, space, written, signs + found["number"])
