"""The locale of personal data, read from e-mail domains, phone country codes and IBANs."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from faker import Faker

from mirage.schema import infer_schema
from mirage.schema._locale import guess_locale


def people(locale: str, rows: int = 120, seed: int = 0) -> pd.DataFrame:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return pd.DataFrame(
        {
            "name": [fake.name() for _ in range(rows)],
            "email": [fake.free_email() for _ in range(rows)],
            "iban": [fake.iban() for _ in range(rows)],
        }
    )


@pytest.mark.parametrize("locale", ["de_DE", "fr_FR", "pl_PL"])
def test_the_locale_of_personal_data_is_read_from_the_values(locale: str) -> None:
    with pytest.warns(UserWarning, match=f"replaced in locale {locale}, read from .*IBANs"):
        schema = infer_schema(people(locale))
    assert schema.locale == locale
    assert {schema[c].locale for c in ("name", "email", "iban")} == {locale}


def test_a_locale_given_is_kept_and_nothing_is_guessed() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = infer_schema(people("de_DE"), locale="en_GB")
    assert schema["name"].locale == "en_GB"


def test_values_that_name_no_country_leave_the_default() -> None:
    data = pd.DataFrame({"email": [f"user{i}@example.com" for i in range(100)]})
    assert infer_schema(data).locale == "en_US"


def test_phone_country_codes_count_and_national_numbers_do_not() -> None:
    german = [f"+49 30 9018{i:02d}" for i in range(14)]
    french = [f"+33 1 42 68 53 {i:02d}" for i in range(11)]
    national = [f"030 9018{i:02d}" for i in range(60)]
    assert (
        guess_locale([("phone", "phone_number", pd.Series(german + french + national))]) is None
    )  # 14 of 25
    assert guess_locale([("phone", "phone_number", pd.Series(german[:5] * 10))]) is None  # each counts once
    guess = guess_locale(
        [("phone", "phone_number", pd.Series([f"+49 30 9019{i:02d}" for i in range(30)] + national))]
    )
    assert guess is not None and guess.locale == "de_DE" and "phone country codes" in guess.reason


def test_a_few_values_naming_a_country_are_not_enough() -> None:
    data = pd.DataFrame(
        {"email": [f"user{i}@mail.de" for i in range(5)] + [f"u{i}@x.com" for i in range(95)]}
    )
    assert guess_locale([("email", "email", data["email"])]) is None
