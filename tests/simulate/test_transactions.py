"""Card transactions: keys, determinism across block splits, rhythms, fraud rate, each fraud pattern's
label against its injected behaviour, scenarios and bad input."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.errors import DataError, OptionError
from mirage.simulate import (
    FRAUD_PATTERNS,
    Scenario,
    load_scenario,
    population_blocks,
    simulate_transactions,
    transactions_database,
)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    # a high fraud rate so that every pattern has enough rows to check
    return simulate_transactions(4000, 60, seed=11, fraud_rate=0.02)


def _distance_km(lat1: pd.Series, lon1: pd.Series, lat2: pd.Series, lon2: pd.Series) -> np.ndarray:
    p1, p2 = np.radians(lat1.to_numpy()), np.radians(lat2.to_numpy())
    dlon = np.radians(lon2.to_numpy() - lon1.to_numpy())
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def _with_home(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    tx = tables["transactions"]
    return tx.merge(tables["customers"][["customer_id", "home_lat", "home_lon"]], on="customer_id")


def test_tables_keep_their_keys(tables: dict[str, pd.DataFrame]) -> None:
    assert set(tables) == {"customers", "merchants", "transactions"}
    assert transactions_database().integrity_problems(tables) == []
    tx = tables["transactions"]
    assert tx["transaction_id"].tolist() == list(range(len(tx)))
    assert (tx["amount"] > 0).all()
    assert tx["merchant_id"].isna().tolist() == (tx["kind"] == "salary").tolist()
    assert tx["is_fraud"].tolist() == tx["fraud_pattern"].notna().tolist()


def test_same_seed_same_tables_however_the_customers_are_split() -> None:
    whole = simulate_transactions(2300, 20, seed=5, fraud_rate=0.01)
    odd = simulate_transactions(
        2300, 20, seed=5, fraud_rate=0.01, blocks=[range(0, 3), range(3, 1999), range(1999, 2300)]
    )
    for name, frame in whole.items():
        pd.testing.assert_frame_equal(frame, odd[name])
    other = simulate_transactions(2300, 20, seed=6, fraud_rate=0.01)
    assert not other["transactions"]["amount"].equals(whole["transactions"]["amount"])


def test_blocks_run_in_other_processes_give_the_same_tables() -> None:
    here = simulate_transactions(1500, 15, seed=2, fraud_rate=0.01)
    with ProcessPoolExecutor(max_workers=2) as pool:
        there = simulate_transactions(
            1500, 15, seed=2, fraud_rate=0.01, blocks=population_blocks(1500, 200), executor=pool
        )
    for name, frame in here.items():
        pd.testing.assert_frame_equal(frame, there[name])


def test_a_customer_is_the_same_in_a_larger_population() -> None:
    small = simulate_transactions(300, 20, seed=9, fraud_rate=0)
    large = simulate_transactions(1300, 20, seed=9, fraud_rate=0)
    pd.testing.assert_frame_equal(small["customers"], large["customers"].iloc[:300])


def test_fraud_rate_as_asked() -> None:
    tx = simulate_transactions(20_000, 30, seed=1, fraud_rate=0.005)["transactions"]
    assert len(tx) > 500_000
    assert tx["is_fraud"].mean() == pytest.approx(0.005, rel=0.15)
    shares = tx.loc[tx["is_fraud"], "fraud_pattern"].value_counts(normalize=True)
    expected = {"card_testing": 0.3, "account_takeover": 0.3, "bust_out": 0.15, "merchant_compromise": 0.25}
    for pattern, share in expected.items():
        assert shares[pattern] == pytest.approx(share, abs=0.08), pattern
    none = simulate_transactions(2000, 10, seed=1, fraud_rate=0)["transactions"]
    assert not none["is_fraud"].any()
    only = simulate_transactions(3000, 20, seed=1, fraud_rate=0.01, fraud_mix={"bust_out": 1})["transactions"]
    assert set(only.loc[only["is_fraud"], "fraud_pattern"].unique()) == {"bust_out"}


def test_weekly_rhythm_and_salary_days(tables: dict[str, pd.DataFrame]) -> None:
    tx = tables["transactions"]
    purchases = tx[(tx["kind"] == "purchase") & ~tx["is_fraud"]]
    per_day = purchases.groupby(purchases["time"].dt.normalize()).size()
    weekday = per_day.groupby(pd.DatetimeIndex(per_day.index).day_of_week).mean()
    assert weekday[5] > 1.2 * weekday[[0, 1, 2]].mean()  # Saturdays busier than early weekdays
    assert weekday[6] < weekday[5]
    weekend = purchases["time"].dt.day_of_week >= 5
    restaurants = (purchases["category"] == "restaurants").groupby(weekend).mean()
    assert restaurants[True] > 1.15 * restaurants[False]  # the mix shifts towards going out at weekends
    salaries = tx[tx["kind"] == "salary"].merge(tables["customers"][["customer_id", "payday", "income"]])
    assert (salaries["time"].dt.day == salaries["payday"]).all()
    assert np.allclose(salaries["amount"], (salaries["income"] / 12).round(2))
    per_customer = salaries.groupby("customer_id").size()
    days = pd.date_range("2025-01-01", periods=60, freq="D")
    customers = tables["customers"].set_index("customer_id")
    paid_in_full = customers[customers["default_date"].isna()]
    expected = paid_in_full["payday"].map(lambda payday: int((days.day == payday).sum()))
    assert per_customer.reindex(expected.index, fill_value=0).tolist() == expected.tolist()
    # more purchases in the days from payday than in the days before it
    merged = purchases.merge(tables["customers"][["customer_id", "payday"]])
    since = merged["time"].dt.day - merged["payday"]
    assert (since.between(0, 2)).sum() / 3 > 1.15 * (since.between(-6, -4)).sum() / 3


def test_card_testing_rows_are_small_online_bursts_on_a_new_device(tables: dict[str, pd.DataFrame]) -> None:
    tx, customers = tables["transactions"], tables["customers"]
    rows = tx[tx["fraud_pattern"] == "card_testing"]
    assert len(rows) > 100
    assert (rows["amount"] < 5).all() and rows["online"].all()
    known = rows["device_id"].astype("int64") // 4
    assert (rows["device_id"].astype("int64") >= 10**12).all() and not (known == rows["customer_id"]).any()
    gaps = rows.groupby("customer_id")["time"].diff().dropna().dt.total_seconds()
    assert gaps.median() < 120  # seconds apart within a burst
    legit = tx[(tx["kind"] == "purchase") & ~tx["is_fraud"]]
    assert legit["amount"].median() > 10 * rows["amount"].median()
    assert len(customers) > 0


def test_account_takeover_rows_are_far_from_home_on_a_new_device_with_large_amounts(
    tables: dict[str, pd.DataFrame],
) -> None:
    tx = _with_home(tables)
    rows = tx[tx["fraud_pattern"] == "account_takeover"]
    assert len(rows) > 100
    assert (_distance_km(rows["lat"], rows["lon"], rows["home_lat"], rows["home_lon"]) > 600).all()
    assert (rows["device_id"].astype("int64") >= 10**12).all()
    legit = tx[(tx["kind"] == "purchase") & ~tx["is_fraud"]]
    assert rows["amount"].median() > 4 * legit["amount"].median()
    assert np.median(_distance_km(legit["lat"], legit["lon"], legit["home_lat"], legit["home_lon"])) < 50
    span = rows.groupby("customer_id")["time"].agg(lambda t: (t.max() - t.min()).total_seconds())
    assert (span <= 2 * 86_400).all()


def test_bust_out_builds_up_then_spends_the_credit_limit(tables: dict[str, pd.DataFrame]) -> None:
    tx = tables["transactions"].merge(tables["customers"][["customer_id", "credit_limit"]])
    rows = tx[tx["fraud_pattern"] == "bust_out"]
    assert rows["customer_id"].nunique() > 5
    checked = 0
    for _, scheme in rows.groupby("customer_id"):
        scheme = scheme.sort_values("time")
        limit = scheme["credit_limit"].iloc[0]
        last_day = scheme["time"].max() - pd.Timedelta(days=1)
        bust = scheme[scheme["time"] >= last_day]
        build = scheme[scheme["time"] < last_day]
        if len(build) < 5:
            continue
        checked += 1
        assert build["amount"].is_monotonic_increasing  # slow build-up
        assert bust["amount"].sum() == pytest.approx(0.95 * limit, rel=0.25)  # then the limit, at once
        assert bust["amount"].min() > build["amount"].max()
        assert (scheme["device_id"].astype("int64") // 4 == scheme["customer_id"]).all()  # their own device
    assert checked > 5


def test_merchant_compromise_many_cards_from_one_merchant_defrauded_later(
    tables: dict[str, pd.DataFrame],
) -> None:
    tx, merchants = tables["transactions"], tables["merchants"]
    compromised = set(merchants.loc[merchants["compromised"], "merchant_id"])
    rows = tx[tx["fraud_pattern"] == "merchant_compromise"]
    victims = rows.groupby("customer_id")["time"].min()
    assert len(victims) > 20
    visits = tx[tx["merchant_id"].isin(compromised) & ~tx["is_fraud"]]
    for customer, first_fraud in victims.items():
        before = visits[(visits["customer_id"] == customer) & (visits["time"] < first_fraud)]
        assert len(before), customer  # every victim used a compromised merchant before
        assert (first_fraud - before["time"].min()) >= pd.Timedelta(days=2)
    exposures = (
        visits[visits["customer_id"].isin(victims.index)].groupby("merchant_id")["customer_id"].nunique()
    )
    assert exposures.max() >= 5  # many cards from one merchant
    assert not rows["merchant_id"].isin(compromised).any()


def test_scenario_lowers_spend_raises_defaults_and_changes_the_fraud_mix(tmp_path: Path) -> None:
    path = tmp_path / "recession.yaml"
    path.write_text(
        "from: 2025-02-01\nspend: 0.6\ndefaults: 6\nfraud_rate: 0.01\nfraud_mix:\n  account_takeover: 1\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    assert scenario == Scenario(dt.date(2025, 2, 1), 0.6, 6.0, 0.01, {"account_takeover": 1.0})
    shifted = simulate_transactions(6000, 62, seed=4, fraud_rate=0.004, scenario=path)
    base = simulate_transactions(6000, 62, seed=4, fraud_rate=0.004)
    for tables, spend in ((base, 1.0), (shifted, 0.6)):
        tx = tables["transactions"]
        late = tx["time"] >= "2025-02-01"
        legit = tx[(tx["kind"] == "purchase") & ~tx["is_fraud"]]
        ratio = (
            legit.loc[legit["time"] >= "2025-02-01", "amount"].mean()
            / legit.loc[legit["time"] < "2025-02-01", "amount"].mean()
        )
        assert ratio == pytest.approx(spend, rel=0.08)
        assert tx.loc[~late, "is_fraud"].mean() == pytest.approx(0.004, rel=0.35)
    tx = shifted["transactions"]
    late = tx["time"] >= "2025-02-01"
    assert tx.loc[late, "is_fraud"].mean() == pytest.approx(0.01, rel=0.25)
    assert set(tx.loc[late & tx["is_fraud"], "fraud_pattern"].unique()) == {"account_takeover"}
    assert tx.loc[~late & tx["is_fraud"], "fraud_pattern"].nunique() == len(FRAUD_PATTERNS)

    def defaults_after(tables: dict[str, pd.DataFrame]) -> int:
        dates = tables["customers"]["default_date"].dropna()
        return int((dates >= "2025-02-01").sum())

    assert defaults_after(shifted) > 3 * max(defaults_after(base), 1)
    defaulted = shifted["customers"].dropna(subset=["default_date"])
    after = tx.merge(defaulted[["customer_id", "default_date"]])
    assert not ((after["time"] >= after["default_date"]) & ~after["is_fraud"]).any()  # a defaulted card stops


def test_customers_from_a_dataframe() -> None:
    given = pd.DataFrame({"income": [20_000, 90_000, 250_000], "segment": ["student", "worker", "affluent"]})
    tables = simulate_transactions(given, 30, seed=3, fraud_rate=0)
    customers = tables["customers"]
    assert customers["income"].tolist() == [20_000, 90_000, 250_000]
    assert customers["segment"].astype(str).tolist() == ["student", "worker", "affluent"]
    with pytest.raises(DataError, match="column 'segment', row 1: 'pilot'"):
        simulate_transactions(pd.DataFrame({"income": [1.0, 2.0], "segment": ["worker", "pilot"]}), 5)
    with pytest.raises(DataError, match="column 'income', row 0"):
        simulate_transactions(pd.DataFrame({"income": [-5.0]}), 5)


def test_bad_options_are_named(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="fraud_rate must be"):
        simulate_transactions(10, 5, fraud_rate=0.7)
    with pytest.raises(OptionError, match="unknown fraud pattern 'phishing'"):
        simulate_transactions(10, 5, fraud_mix={"phishing": 1})
    with pytest.raises(OptionError, match="days must be"):
        simulate_transactions(10, 0)
    with pytest.raises(OptionError, match="blocks must cover"):
        simulate_transactions(10, 5, blocks=[range(0, 5)])
    bad = tmp_path / "s.json"
    bad.write_text('{"from": "2025-01-10", "spending": 0.5}', encoding="utf-8")
    with pytest.raises(DataError, match="unknown key 'spending'"):
        load_scenario(bad)
    bad.write_text('{"spend": 0.5}', encoding="utf-8")
    with pytest.raises(DataError, match="needs 'from'"):
        load_scenario(bad)
    with pytest.raises(OptionError, match="no such file"):
        load_scenario(tmp_path / "missing.yaml")
