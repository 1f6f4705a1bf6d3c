"""How the dp engine shares its domains' budget: each paid column by what its release needs, and the
domains' part of rho by the smallest class the noisy row count says a release should keep."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mirage.encoding import EncodingOptions
from mirage.engines.dp import _domains, _engine
from mirage.engines.dp._domains import domain_shares, paid_columns, private_encoder, release_cut_rows
from mirage.engines.dp._engine import domain_share, inferred_public_schema
from mirage.privacy import GaussianMechanism, Ledger
from mirage.privacy._domains import threshold
from mirage.schema import Column, Kind, Schema

pytest.importorskip("opendp")

DELTA = 5e-10


def mixed(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "answer": rng.choice(["no", "yes"], rows, p=[0.88, 0.12]),
            "colour": rng.choice(["red", "green", "blue"], rows),
            "amount": np.round(rng.gamma(2.0, 40.0, rows), 2),
            "age": rng.integers(18, 90, rows),
        }
    )


def public_schema() -> Schema:
    schema = inferred_public_schema(mixed())
    assert schema is not None
    return schema


def test_every_release_sees_the_same_number_of_rows() -> None:
    """A text column's codec spends three quarters of its share on its categories (cut ~6.5 deviations
    for delta) and a quarter on the rows outside them; a number's range one histogram (~5.3 deviations):
    shared by need, the categories' cut and the range's coarse-grid cut are the same number of rows."""
    schema = public_schema()
    paid = paid_columns(schema)
    delta_each = DELTA / 2
    shares = domain_shares(paid, delta_each)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["answer"] == pytest.approx(shares["colour"])
    runs = _domains.coarse_numeric_grid(False).size
    z_categories, z_range = norm.isf(delta_each), norm.isf(_domains.COARSE_FALSE_BUCKETS / runs)
    assert shares["answer"] / shares["amount"] == pytest.approx(z_categories**2 / 0.75 / z_range**2)
    rho = 1e-4
    categories = GaussianMechanism(rho=rho * shares["answer"] * 0.75).sigma
    cut_categories = threshold(categories, delta_each) - 2.0  # less the lattice's two rows
    number = GaussianMechanism(rho=rho * shares["amount"]).sigma
    cut_range = float(norm.isf(_domains.COARSE_FALSE_BUCKETS / runs)) * number
    assert cut_categories == pytest.approx(cut_range, rel=1e-9)
    assert release_cut_rows(schema, rho, DELTA) == pytest.approx(cut_range, rel=1e-9)


def test_even_shares_when_need_weighting_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_domains, "NEED_WEIGHTED", False)
    shares = domain_shares(paid_columns(public_schema()), DELTA / 2)
    assert list(shares.values()) == pytest.approx([0.25] * 4)


def test_the_cut_falls_as_one_over_the_root_of_rho() -> None:
    schema = public_schema()
    assert release_cut_rows(schema, 4e-4, DELTA) == pytest.approx(release_cut_rows(schema, 1e-4, DELTA) / 2)
    declared = Schema([Column("flag", Kind.CATEGORICAL, categories=["a", "b"])])
    assert release_cut_rows(declared, 1e-4, DELTA) == 0.0


def test_the_domains_get_more_only_where_half_would_lose_a_tenth_of_the_rows() -> None:
    schema = public_schema()
    rho = Ledger(1.0, 1e-9).rho_budget
    half_cut = release_cut_rows(schema, rho * _engine.PREPROCESS_SHARE, DELTA)
    plenty = 20 * half_cut / _engine.SMALLEST_CLASS
    assert domain_share(schema, rho, DELTA, plenty) == _engine.PREPROCESS_SHARE
    assert domain_share(schema, rho, DELTA, None) == _engine.PREPROCESS_SHARE
    # the share that brings the cut down to a tenth of the rows, where that is under the ceiling
    rows = half_cut / 1.2 / _engine.SMALLEST_CLASS
    share = domain_share(schema, rho, DELTA, rows)
    assert _engine.PREPROCESS_SHARE < share < _engine.PREPROCESS_MAX_SHARE
    cut = release_cut_rows(schema, rho * share, DELTA)
    assert cut == pytest.approx(_engine.SMALLEST_CLASS * rows, rel=1e-9)
    assert domain_share(schema, rho, DELTA, half_cut) == _engine.PREPROCESS_MAX_SHARE  # capped


def test_a_small_budget_spends_the_larger_share_on_the_domains_and_never_overspends() -> None:
    """At epsilon 0.3 on 2,000 rows half of rho leaves the categories' cut over 200 rows: the fit spends
    more on the domains (up to 80%), the categories' measurement at the matching deviation, and the
    ledger still adds up to the budget."""
    data = mixed()
    model = _engine.DPSynthesizer(epsilon=0.3).fit(data)
    ledger = model.ledger_
    rho = ledger.rho_budget
    domains = sum(
        e.rho for e in ledger.entries if e.what.split(" of ")[0] in ("range", "categories", "rare rows")
    )
    assert domains / rho > _engine.PREPROCESS_SHARE + 0.05
    assert domains / rho <= _engine.PREPROCESS_MAX_SHARE * (1 + 1e-9)
    assert ledger.epsilon_spent <= 0.3 * (1 + 1e-12)
    assert math.isclose(sum(e.rho for e in ledger.entries), rho, rel_tol=1e-9)


def test_private_encoder_charges_each_column_its_share() -> None:
    data = mixed()
    schema = public_schema()
    ledger = Ledger(1.0, 1e-9)
    rho = ledger.rho_budget / 2
    private_encoder(data, schema, EncodingOptions(), ledger, rho, DELTA, rows=2000.0)
    shares = domain_shares(paid_columns(schema), DELTA / 2)
    spent: dict[str, float] = {}
    for entry in ledger.entries:
        column = entry.what.split(" of ")[-1]
        spent[column] = spent.get(column, 0.0) + entry.rho
    for name, share in shares.items():
        assert spent[name] == pytest.approx(rho * share, rel=1e-9), name


def test_a_table_of_numbers_keeps_half_for_its_ranges() -> None:
    """The larger share is for classes: with no categories paid for, the domains keep half."""
    numbers = inferred_public_schema(mixed()[["amount", "age"]])
    assert numbers is not None
    rho = Ledger(0.3, 1e-9).rho_budget
    assert domain_share(numbers, rho, DELTA, 100.0) == _engine.PREPROCESS_SHARE
    assert domain_share(public_schema(), rho, DELTA, 100.0) == _engine.PREPROCESS_MAX_SHARE
