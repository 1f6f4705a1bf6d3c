"""Columns with mostly rare categories: said so at inference and at fit, and given a better kind."""

from __future__ import annotations

import re
import string
import warnings

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._warnings import MirageWarning
from mirage.encoding.categorical import RARE_TOKEN
from mirage.schema import Column, Kind, Schema, infer_schema

N = 5_000


def _codes(rng: np.random.Generator, n: int) -> list[str]:
    letters = rng.choice(list(string.ascii_uppercase), size=(n, 2))
    digits = rng.integers(0, 10_000, size=n)
    return [f"{a}{b}-{d:04d}" for (a, b), d in zip(letters.tolist(), digits.tolist(), strict=True)]


def _frame(values: list[str], rng: np.random.Generator, name: str = "code") -> pd.DataFrame:
    return pd.DataFrame({"x": rng.normal(size=len(values)), name: values})


def test_near_unique_codes_become_identifiers_with_a_warning() -> None:
    rng = np.random.default_rng(0)
    values = _codes(rng, N)  # about 4,900 distinct values in 5,000 rows
    with pytest.warns(MirageWarning, match=r"column 'code': .*distinct values in 5,000 rows.*identifier"):
        schema = infer_schema(_frame(values, rng))
    assert schema["code"].kind is Kind.IDENTIFIER


def test_structured_codes_that_repeat_keep_frequent_values_and_write_new_codes() -> None:
    rng = np.random.default_rng(1)
    frequent = _codes(rng, 20)
    values = [str(v) for v in rng.choice(frequent, size=2 * N // 5)] + _codes(rng, N - 2 * N // 5)
    frame = _frame(values, rng)
    with pytest.warns(MirageWarning, match=r"column 'code': .*inferred as categorical with id_format"):
        schema = infer_schema(frame)
    column = schema["code"]
    assert column.kind is Kind.CATEGORICAL and column.id_format == "AA-9999"
    synthetic = mirage.fit(frame, engine="copula", schema=schema).sample(2_000, seed=4)
    codes = synthetic["code"]
    assert RARE_TOKEN not in set(codes)
    assert codes.str.fullmatch(r"[A-Z]{2}-\d{4}").all()
    share_frequent = codes.isin(frequent).mean()
    assert 0.25 < share_frequent < 0.55  # the frequent 40% are learned, the rare rest written anew


def test_unique_single_words_are_not_a_column_of_rare_tokens() -> None:
    rng = np.random.default_rng(2)
    words = ["".join(rng.choice(list(string.ascii_lowercase), size=rng.integers(4, 12))) for _ in range(600)]
    frame = _frame(list(dict.fromkeys(words)), rng, name="word")
    with pytest.warns(MirageWarning, match="column 'word'.*identifier"):
        schema = infer_schema(frame)
    assert schema["word"].kind is Kind.IDENTIFIER
    synthetic = mirage.fit(frame, engine="copula", schema=schema).sample(200, seed=1)
    assert RARE_TOKEN not in set(synthetic["word"])


def test_fit_warns_when_a_categorical_column_would_be_mostly_rare() -> None:
    rng = np.random.default_rng(3)
    frame = _frame(_codes(rng, 2_000), rng)
    schema = Schema([Column("x", Kind.NUMERIC, dtype="float64"), Column("code", Kind.CATEGORICAL)])
    with pytest.warns(
        MirageWarning, match=r"column 'code': .* 100% of the rows hold values seen in fewer than 10 rows"
    ):
        model = mirage.fit(frame, engine="copula", schema=schema)
    assert (model.sample(100, seed=0)["code"] == RARE_TOKEN).all()  # what the warning is about


def test_fit_warning_suggests_a_kind() -> None:
    rng = np.random.default_rng(4)
    frame = _frame(_codes(rng, 2_000), rng)
    schema = Schema([Column("x", Kind.NUMERIC, dtype="float64"), Column("code", Kind.CATEGORICAL)])
    with pytest.warns(MirageWarning) as caught:
        mirage.fit(frame, engine="copula", schema=schema)
    messages = [str(w.message) for w in caught if "'code'" in str(w.message)]
    assert any(re.search(r"consider giving it this kind in the schema: identifier", m) for m in messages)


def test_ordinary_categories_give_no_warning(adult: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", MirageWarning)
        schema = infer_schema(adult)
        mirage.fit(adult.iloc[:1_000], engine="copula", schema=schema)
    assert schema["workclass"].kind is Kind.CATEGORICAL


def test_inference_and_fit_say_it_once() -> None:
    rng = np.random.default_rng(5)
    cities = [f"City{chr(65 + i % 26)}{'x' * (i % 7)}" for i in range(60)]
    frame = _frame([cities[i] for i in rng.integers(0, 60, size=300)], rng, name="city")
    with pytest.warns(MirageWarning) as caught:
        mirage.fit(frame, engine="copula")
    assert len([w for w in caught if "'city'" in str(w.message)]) == 1


def test_short_multi_word_values_inferred_as_text_are_said_so() -> None:
    rng = np.random.default_rng(5)
    values = [f"town {k}" for k in rng.integers(0, 2_000, size=3_000).tolist()]
    expected = r"column 'venue': .*distinct values in 3,000 rows.*inferred as text"
    with pytest.warns(MirageWarning, match=expected):
        schema = infer_schema(_frame(values, rng, name="venue"))
    assert schema["venue"].kind is Kind.TEXT


@pytest.mark.parametrize("name", ["city", "home_city", "Town", "Stadt", "ville"])
def test_a_city_column_of_mostly_rare_names_becomes_fake_cities(name: str) -> None:
    """Place names a few rows share identify those rows: not a key pattern of random letters
    ('Kpglmvwdji' for 'Lake Jeffery') nor all '_RARE_', but the locale's fake cities."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(1)
    rng = np.random.default_rng(1)
    cities = [fake.city() for _ in range(300)]
    frame = pd.DataFrame({name: cities, "spend": rng.gamma(2.0, 30.0, 300).round(2)})
    with pytest.warns(MirageWarning, match=rf"column '{name}': .* distinct cities in 300 rows"):
        schema = infer_schema(frame)
    assert schema[name].kind is Kind.PII and schema[name].pii_type == "city"
    drawn = mirage.fit(frame, schema=schema, engine="cart", seed=0).sample(50, seed=1)[name]
    assert drawn.str.contains(r"[aeiouy]", regex=True).all() and not drawn.isin(cities).all()


def test_a_city_column_of_frequent_cities_stays_categorical() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"city": rng.choice(["Berlin", "Köln", "München", "Hamburg"], 400)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", MirageWarning)
        assert infer_schema(frame)["city"].kind is Kind.CATEGORICAL
