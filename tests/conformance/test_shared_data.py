"""Every engine fits and samples every shared CSV with an inferred schema, keeping names and dtypes."""

from __future__ import annotations

import pandas as pd
import pytest

from mirage.engines import ENGINES
from mirage.io import read_table
from mirage.schema import Kind

from ..conftest import shared_csv
from . import STRUCTURAL

SMALL = [
    "titanic.csv",
    "insurance.csv",
    "diabetes.csv",
    "breast_cancer.csv",
    "fmri_sequences.csv",
    "northwind/customers.csv",
    "northwind/orders.csv",
    "northwind/order_details.csv",
    "northwind/products.csv",
]
LARGE = ["adult.csv", "bank_marketing.csv"]
CHANCE_MATCHES = {"person_name", "first_name", "last_name", "city", "postal_code"}


def check(name: str, engine: str, reader: str) -> None:
    path = shared_csv(name)
    real = read_table(path) if reader == "mirage" else pd.read_csv(path)
    model = ENGINES[engine](**STRUCTURAL.get(engine, {})).fit(real)
    synth = model.sample(700, seed=3)
    assert list(synth.columns) == list(real.columns)
    for column in model.schema_:
        assert synth[column.name].dtype == real[column.name].dtype, column.name
        if column.kind is Kind.IDENTIFIER:
            assert synth[column.name].dropna().is_unique, column.name  # missing keys stay missing
        if column.kind in (Kind.PII, Kind.TEXT):
            copied = set(synth[column.name].dropna()) & set(real[column.name].dropna())
            if column.pii_type in CHANCE_MATCHES:
                # Faker draws names independently of the data, so a common name can match a real one
                # by chance (e.g. "Elizabeth Brown" in Northwind); that is coincidence, not copying.
                assert len(copied) <= max(2, 0.02 * synth[column.name].nunique()), (column.name, copied)
            else:
                assert not copied, (column.name, sorted(copied)[:3])


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("reader", ["mirage", "pandas"])
def test_small_shared_tables(name: str, engine: str, reader: str) -> None:
    check(name, engine, reader)


@pytest.mark.slow
@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", LARGE)
def test_large_shared_tables(name: str, engine: str) -> None:
    check(name, engine, "mirage")
