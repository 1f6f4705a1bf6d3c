"""The base population: who the patients are before any module runs.

Age (at the end date) follows the 2020 US age pyramid in 5-year bands; sex, race and ethnicity follow
US census shares with Synthea's category names; income is log-normal (median 55,000); names and
street addresses are Faker values of the chosen locale, placed by :mod:`mirage.simulate._places`
(state, city, postcode and coordinates agree).
Every draw comes from the patient's own generator, so the same seed gives the same people.
"""

from __future__ import annotations

import random
from typing import Any

from mirage.errors import OptionError
from mirage.simulate._places import home

__all__ = ["AGE_BANDS", "ETHNICITIES", "RACES", "demographics", "make_faker", "wellness_ages"]

YEAR_DAYS = 365.25
# share of the population per 5-year age band 0-4, 5-9, ..., 85-89 (US census 2020, rounded)
AGE_BANDS = (6.0, 6.2, 6.5, 6.5, 6.6, 7.0, 6.9, 6.6, 6.2, 6.2, 6.3, 6.6, 6.3, 5.3, 4.3, 2.9, 1.8, 1.9)
RACES = {"white": 0.72, "black": 0.13, "asian": 0.06, "native": 0.01, "hawaiian": 0.002, "other": 0.058}
ETHNICITIES = {"nonhispanic": 0.81, "hispanic": 0.19}
FEMALE_SHARE = 0.505


def make_faker(locale: str) -> Any:
    """A Faker for ``locale`` (re-seeded per patient); an unknown locale is an OptionError."""
    from faker import Faker

    try:
        return Faker(locale)
    except AttributeError:
        raise OptionError(f"locale: unknown Faker locale {locale!r}") from None


def _choice(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _optional(fake: Any, method: str) -> str:
    """A Faker value, or '' where the locale has no such provider (a county, a state)."""
    try:
        return str(getattr(fake, method)())
    except AttributeError:
        return ""


def demographics(rng: random.Random, fake: Any) -> dict[str, Any]:
    """One person's base attributes; ``age_days`` is the age at the end date, in days."""
    band = rng.choices(range(len(AGE_BANDS)), weights=AGE_BANDS)[0]
    age_days = (band * 5 + 5 * rng.random()) * YEAR_DAYS
    gender = "F" if rng.random() < FEMALE_SHARE else "M"
    race = _choice(rng, RACES)
    ethnicity = _choice(rng, ETHNICITIES)
    income = int(round(55_000 * rng.lognormvariate(0.0, 0.8), -2))
    married = age_days >= 18 * YEAR_DAYS and rng.random() < 0.5
    fake.seed_instance(rng.getrandbits(63))
    first = fake.first_name_female() if gender == "F" else fake.first_name_male()
    adult = age_days >= 18 * YEAR_DAYS
    where = home(rng, fake)
    born = home(rng, fake)
    return {
        "age_days": age_days,
        "GENDER": gender,
        "RACE": race,
        "ETHNICITY": ethnicity,
        "INCOME": income,
        "SSN": f"999-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "DRIVERS": f"S999{rng.randint(10000, 99999)}" if age_days >= 16 * YEAR_DAYS else None,
        "PASSPORT": f"X{rng.randint(10000000, 99999999)}X" if adult and rng.random() < 0.5 else None,
        "PREFIX": ("Mrs." if married else "Ms.") if adult and gender == "F" else ("Mr." if adult else None),
        "FIRST": first,
        "LAST": fake.last_name(),
        "SUFFIX": None,
        "MAIDEN": fake.last_name() if married and gender == "F" else None,
        "MARITAL": ("M" if married else "S") if adult else None,
        "BIRTHPLACE": f"{born.city}  {born.state}  {fake.current_country_code()}".strip(),
        "ADDRESS": fake.street_address(),
        "CITY": where.city,
        "STATE": where.state,
        "COUNTY": _optional(fake, "county") or None,
        "FIPS": None,
        "ZIP": where.postcode,
        "LAT": where.lat,
        "LON": where.lon,
    }


# Synthea's schedule of wellness visits: months 1..30 for toddlers, then every year to 19, every
# three years to 39, every two years to 49 and every year from 50.
_TODDLER_MONTHS = (1, 2, 4, 6, 9, 12, 15, 18, 24, 30)


def wellness_ages(max_age_days: float) -> list[float]:
    """Ages (in days) of a patient's wellness visits, up to ``max_age_days``."""
    ages = [m * YEAR_DAYS / 12 for m in _TODDLER_MONTHS]
    years = 3.0
    while years * YEAR_DAYS <= max_age_days:
        ages.append(years * YEAR_DAYS)
        years += 1 if years < 19 else 3 if years < 39 else 2 if years < 49 else 1
    return [a for a in ages if a <= max_age_days]
