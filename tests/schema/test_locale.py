"""The locale of personal data, read from e-mail domains, phone country codes, IBANs and street addresses."""

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


# addresses as people write them in each country (not Faker's, which the rules were first tried on)
WRITTEN_ADDRESSES = {
    "de_DE": (
        "{street} {n}, {post:05d} {town}",
        ["Drubinstraße", "Bahnhofstr.", "Lindenweg", "Marktplatz"],
        ["Groß-Gerau", "Köln", "Bad Homburg"],
    ),
    "fr_FR": (
        "{n}, {street}, {post:05d} {town}",
        ["rue de la Paix", "avenue Jean Jaurès", "bd Voltaire"],
        ["Paris", "Lyon", "Aix-en-Provence"],
    ),
    "en_GB": (
        "{n} {street}, {town} {post}",
        ["High Street", "Station Road", "Church Lane"],
        ["London", "Leeds", "Bath"],
    ),
    "nl_NL": (
        "{street} {n}, {post} {town}",
        ["Kerkstraat", "Dorpsweg", "Stationsplein", "Prinsengracht"],
        ["Utrecht", "Den Haag", "Zwolle"],
    ),
    "it_IT": (
        "{street} {n}, {post:05d} {town}",
        ["Via Roma", "Piazza Garibaldi", "Corso Vittorio Emanuele"],
        ["Milano", "Torino", "Bari"],
    ),
    "es_ES": (
        "{street} {n}, {post:05d} {town}",
        ["Calle Mayor", "Avenida de América", "Paseo del Prado"],
        ["Madrid", "Sevilla", "Bilbao"],
    ),
    "pl_PL": (
        "{street} {n}, {post} {town}",
        ["ul. Długa", "al. Jerozolimskie", "pl. Bankowy"],
        ["Warszawa", "Gdańsk", "Kraków"],
    ),
}


def _postcode(locale: str, k: int) -> object:
    if locale == "en_GB":
        return f"{['SW', 'LS', 'BA'][k % 3]}{k % 9 + 1} {k % 10}{['AB', 'XY', 'QD'][k % 3]}"
    if locale == "nl_NL":
        return f"{1000 + 37 * k} {['AB', 'KL', 'XZ'][k % 3]}"
    if locale == "pl_PL":
        return f"{10 + k % 80:02d}-{100 + 7 * k:03d}"
    return 1067 + 311 * k


def written_addresses(locale: str, rows: int = 40) -> pd.Series:
    layout, streets, towns = WRITTEN_ADDRESSES[locale]
    return pd.Series(
        [
            layout.format(
                street=streets[k % len(streets)], n=k + 1, post=_postcode(locale, k), town=towns[k % 3]
            )
            for k in range(rows)
        ]
    )


@pytest.mark.parametrize("locale", sorted(WRITTEN_ADDRESSES))
def test_the_locale_is_read_from_street_addresses(locale: str) -> None:
    guess = guess_locale([("address", "street_address", written_addresses(locale))])
    assert guess is not None and guess.locale == locale and "street addresses" in guess.reason


def test_addresses_of_several_countries_or_of_none_name_no_locale() -> None:
    mixed = pd.concat([written_addresses("de_DE", 20), written_addresses("fr_FR", 20)], ignore_index=True)
    assert guess_locale([("address", "street_address", mixed)]) is None
    # a four-digit postcode with a German street is Austrian or Swiss: nothing tells which
    alpine = pd.Series([f"Hauptstrasse {k}, {1000 + 13 * k} Bern" for k in range(1, 41)])
    assert guess_locale([("address", "street_address", alpine)]) is None
    # a house number of five digits before an American street is no German postcode
    american = pd.Series([f"{10000 + k} Spring Road, Springfield" for k in range(40)])
    assert guess_locale([("address", "street_address", american)]) is None


def test_a_table_of_german_addresses_gets_german_replacements() -> None:
    data = pd.DataFrame({"adresse": written_addresses("de_DE", 120), "betrag": range(120)})
    with pytest.warns(UserWarning, match="replaced in locale de_DE, read from 120 street addresses"):
        schema = infer_schema(data)
    assert schema["adresse"].pii_type == "street_address" and schema["adresse"].locale == "de_DE"
