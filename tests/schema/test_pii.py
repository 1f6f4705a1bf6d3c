"""PII detection: shared real-world tables, Faker-made columns and look-alikes that must not match."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from faker import Faker

from mirage.schema._column import PII_TYPES
from mirage.schema._pii import detect_pii, name_tokens
from tests.conftest import SHARED


def _read(name: str) -> pd.DataFrame:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared dataset {name} is not available at {path}")
    return pd.read_csv(path)


def _detect_all(frame: pd.DataFrame) -> dict[str, str | None]:
    return {str(c): detect_pii(str(c), frame[c]) for c in frame.columns}


@pytest.mark.parametrize(
    "name",
    ["adult.csv", "bank_marketing.csv", "titanic.csv", "insurance.csv", "diabetes.csv", "breast_cancer.csv"],
)
def test_no_pii_in_plain_tables(name: str) -> None:
    found = {c: t for c, t in _detect_all(_read(name)).items() if t is not None}
    assert found == {}


@pytest.mark.parametrize(
    "name",
    ["adult.csv", "bank_marketing.csv", "titanic.csv", "insurance.csv", "diabetes.csv", "breast_cancer.csv"],
)
def test_no_pii_in_plain_tables_read_as_text(name: str) -> None:
    """Numbers held as strings (ages, amounts, codes) are not phones or IDs either."""
    frame = _read(name).astype(str)
    found = {c: t for c, t in _detect_all(frame).items() if t is not None}
    assert found == {}


def test_northwind_customers() -> None:
    result = _detect_all(_read("northwind/customers.csv"))
    assert result["contact_name"] == "person_name"
    assert result["address"] == "street_address"
    assert result["phone"] == "phone_number"
    assert result["fax"] == "phone_number"
    for column in (
        "customer_id",
        "company_name",
        "contact_title",
        "city",
        "region",
        "postal_code",
        "country",
    ):
        assert result[column] is None, column


def test_northwind_orders_and_products() -> None:
    orders = _detect_all(_read("northwind/orders.csv"))
    assert orders["ship_address"] == "street_address"
    assert {c: t for c, t in orders.items() if c != "ship_address" and t is not None} == {}
    products = _detect_all(_read("northwind/products.csv"))
    assert {c: t for c, t in products.items() if t is not None} == {}


def test_northwind_content_alone() -> None:
    """Without the name hints, phones and contact names are still recognised by their content."""
    frame = _read("northwind/customers.csv")
    assert detect_pii("c1", frame["contact_name"]) == "person_name"
    assert detect_pii("c2", frame["phone"]) == "phone_number"
    assert detect_pii("c3", frame["company_name"]) is None
    assert detect_pii("c4", frame["contact_title"]) is None


def _faker_column(method: str, n: int = 300, locale: str = "en_US", seed: int = 3) -> pd.Series:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return pd.Series([str(getattr(fake, method)()) for _ in range(n)])


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("email", "email"),
        ("free_email", "email"),
        ("credit_card_number", "credit_card"),
        ("iban", "iban"),
        ("ipv4", "ip_address"),
        ("ipv6", "ip_address"),
        ("ssn", "national_id"),
        ("phone_number", "phone_number"),
        ("street_address", "street_address"),
        ("name", "person_name"),
    ],
)
def test_content_alone_detects(method: str, expected: str) -> None:
    assert detect_pii("col", _faker_column(method)) == expected


@pytest.mark.parametrize("locale", ["de_DE", "fr_FR", "es_ES", "en_GB"])
def test_content_alone_other_locales(locale: str) -> None:
    assert detect_pii("col", _faker_column("name", locale=locale)) == "person_name"
    assert detect_pii("col", _faker_column("iban", locale=locale)) == "iban"
    assert detect_pii("col", _faker_column("email", locale=locale)) == "email"


@pytest.mark.parametrize(
    ("name", "method", "expected"),
    [
        ("email", "email", "email"),
        ("E-Mail", "email", "email"),
        ("customerEmail", "email", "email"),
        ("first_name", "first_name", "first_name"),
        ("FirstName", "first_name", "first_name"),
        ("given_name", "first_name", "first_name"),
        ("surname", "last_name", "last_name"),
        ("family_name", "last_name", "last_name"),
        ("full_name", "name", "person_name"),
        ("customer_name", "name", "person_name"),
        ("home_phone", "msisdn", "phone_number"),  # bare digits: the name decides
        ("address", "street_address", "street_address"),
        ("national_id", "ssn", "national_id"),
        ("credit_card_number", "credit_card_number", "credit_card"),
        ("iban", "iban", "iban"),
        ("ip_address", "ipv4", "ip_address"),
    ],
)
def test_name_hints(name: str, method: str, expected: str) -> None:
    assert detect_pii(name, _faker_column(method)) == expected


def test_numeric_columns_need_a_strong_name_hint() -> None:
    rng = np.random.default_rng(0)
    phones = pd.Series(rng.integers(2_000_000_000, 9_999_999_999, size=200))
    ssns = pd.Series(rng.integers(100_000_000, 899_999_999, size=200))
    assert detect_pii("phone", phones) == "phone_number"
    assert detect_pii("ssn", ssns) == "national_id"
    assert detect_pii("value", phones) is None
    assert detect_pii("age", pd.Series(rng.integers(18, 90, size=200))) is None
    assert detect_pii("phone_count", pd.Series(rng.integers(0, 4, size=200))) is None
    assert detect_pii("phone", pd.Series(rng.integers(0, 4, size=200))) is None
    assert detect_pii("email", pd.Series(rng.normal(size=200))) is None
    assert detect_pii("name", pd.Series([True, False] * 50)) is None


@pytest.mark.parametrize(
    "values",
    [
        [str(v) for v in range(18, 90)],  # ages as text
        [f"{v:05d}" for v in range(10000, 10300)],  # zip codes
        [f"{v / 7:.2f}" for v in range(1000, 1300)],  # prices
        [f"2020-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 28)],  # dates
        [f"{v}" for v in range(1_000_000, 1_000_300)],  # 7-digit counts without phone formatting
        ["Sales Representative", "Owner", "Marketing Manager", "Sales Agent", "Accountant"] * 10,
        ["red", "green", "blue", "yellow", "black"] * 20,
        ["Acme Corp", "Globex Inc", "Initech LLC", "Umbrella plc", "Stark Industries"] * 10,
        ["10 boxes x 20 bags", "24 - 12 oz bottles", "12 - 550 ml bottles", "48 - 6 oz jars"] * 10,
    ],
)
def test_look_alikes_are_not_pii(values: list[str]) -> None:
    assert detect_pii("col", pd.Series(values)) is None


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("email_verified", ["yes", "no"] * 50),
        ("card_type", ["Visa", "Mastercard", "Amex"] * 30),
        ("company_name", ["Acme Corp", "Globex Inc", "Initech LLC"] * 30),
        ("mobile", ["yes", "no"] * 50),
        ("address_type", ["home", "work"] * 50),
        ("name", ["a", "b"] * 50),  # person names need high cardinality
    ],
)
def test_name_hint_contradicted_by_values(name: str, values: list[str]) -> None:
    assert detect_pii(name, pd.Series(values)) is None


def test_result_is_a_pii_type_and_deterministic() -> None:
    values = _faker_column("email", n=2000)
    first = detect_pii("col", values)
    assert first in PII_TYPES
    assert detect_pii("col", values) == first


def test_nulls_and_empty_columns() -> None:
    emails = _faker_column("email", n=100).tolist()
    with_nulls = pd.Series(emails + [None] * 100, dtype=object)
    assert detect_pii("col", with_nulls) == "email"
    assert detect_pii("email", pd.Series([None, None], dtype=object)) is None
    assert detect_pii("email", pd.Series([], dtype=object)) is None


def test_name_tokens() -> None:
    assert name_tokens("contactName") == ["contact", "name"]
    assert name_tokens("IPAddress") == ["ip", "address"]
    assert name_tokens("e-mail address") == ["e", "mail", "address"]
    assert name_tokens("CUSTOMER_ID") == ["customer", "id"]


# --- PII held as whole numbers ------------------------------------------------------------------


def _luhn_numbers(rng: np.random.Generator, n: int, length: int = 16) -> list[int]:
    from stdnum import luhn

    out = []
    for _ in range(n):
        body = "4" + "".join(str(d) for d in rng.integers(0, 10, size=length - 2))
        out.append(int(body + luhn.calc_check_digit(body)))
    return out


def test_card_numbers_as_integers_are_found_by_content() -> None:
    rng = np.random.default_rng(0)
    cards = pd.Series(_luhn_numbers(rng, 300), dtype="int64")
    assert detect_pii("ref", cards) == "credit_card"
    assert detect_pii("ref", cards.astype(str)) == "credit_card"  # as its text form


def test_national_ids_as_integers_are_found_by_content() -> None:
    fake = Faker("nl_NL")
    fake.seed_instance(3)
    bsn = pd.Series([int(fake.ssn()) for _ in range(200)], dtype="int64")  # leading zeros lost
    assert detect_pii("person", bsn) == "national_id"
    fake = Faker("pl_PL")
    fake.seed_instance(3)
    assert detect_pii("x", pd.Series([int(fake.ssn()) for _ in range(200)])) == "national_id"


def test_international_phone_numbers_as_integers_are_found_by_content() -> None:
    rng = np.random.default_rng(1)
    mobiles = pd.Series(4915_100_000_000 + rng.choice(99_999_999, size=300, replace=False), dtype="int64")
    assert detect_pii("contact", mobiles) == "phone_number"


def test_account_numbers_need_their_name() -> None:
    rng = np.random.default_rng(2)
    accounts = pd.Series(rng.integers(10**9, 10**10, size=200), dtype="int64")
    assert detect_pii("account_number", accounts) == "account_number"
    assert detect_pii("acct", accounts.astype(str)) == "account_number"
    assert detect_pii("account_type", pd.Series(["savings", "checking"] * 50)) is None


@pytest.mark.parametrize(
    "values",
    [
        np.arange(1, 501),  # 1..n keys
        np.random.default_rng(0).integers(18, 90, size=500),  # ages
        np.random.default_rng(0).integers(0, 10**6, size=500),  # counts
        np.random.default_rng(0).integers(10**15, 10**16, size=500),  # long random numbers (10% pass Luhn)
        np.random.default_rng(0).integers(10**8, 10**9, size=500),  # 9 digits (8% pass the BSN check)
        np.random.default_rng(0).integers(10**10, 10**11, size=500),  # 11 digits
        np.random.default_rng(0).integers(2_000_000_000, 9_999_999_999, size=500),  # 10 digits (46% NANP)
        1_700_000_000 + np.arange(500) * 3_600,  # epoch seconds
        1_700_000_000_000 + np.arange(500) * 3_600_000,  # epoch milliseconds
        np.array(_luhn_numbers(np.random.default_rng(0), 6)),  # too few distinct values to say
    ],
)
def test_ordinary_integers_are_not_pii(values: np.ndarray) -> None:
    assert detect_pii("value", pd.Series(values, dtype="int64")) is None
    assert detect_pii("value", pd.Series(values.astype("float64"))) is None


def test_postal_codes_that_identify_are_replaced_and_those_that_place_are_learned() -> None:
    import warnings

    from mirage._warnings import MirageWarning
    from mirage.schema import Kind, infer_schema

    rng = np.random.default_rng(0)
    unique = pd.DataFrame({"zip": [f"{z:05d}" for z in rng.choice(99_999, 400, replace=False)]})
    with pytest.warns(MirageWarning, match="column 'zip': 400 distinct postal codes in 400 rows"):
        column = infer_schema(unique)["zip"]
    assert column.kind is Kind.PII and column.pii_type == "postal_code"
    places = pd.DataFrame({"postal_code": rng.choice(["02134", "10001", "94103", "60614"], 400)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", MirageWarning)
        assert infer_schema(places)["postal_code"].kind is Kind.CATEGORICAL
    assert infer_schema(unique.rename(columns={"zip": "order_code"}))["order_code"].kind is Kind.IDENTIFIER
