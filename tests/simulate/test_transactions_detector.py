"""A gradient-boosting detector trained on simulated transactions finds the fraud patterns at
different rates: the data is neither trivial (every pattern found) nor noise (nothing found)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.simulate import FRAUD_PATTERNS, simulate_transactions


def _features(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What a card issuer sees at each purchase (nothing from the labels)."""
    customers = tables["customers"][["customer_id", "home_lat", "home_lon", "credit_limit"]]
    tx = tables["transactions"]
    tx = tx[tx["kind"] == "purchase"].merge(customers, on="customer_id").sort_values(["customer_id", "time"])
    p1, p2 = np.radians(tx["lat"].to_numpy()), np.radians(tx["home_lat"].to_numpy())
    dlon = np.radians(tx["lon"].to_numpy() - tx["home_lon"].to_numpy())
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    seconds = tx["time"].astype("int64").to_numpy() / 1000
    same = tx["customer_id"].to_numpy()
    gap = np.diff(seconds, prepend=np.nan)
    gap[np.r_[True, same[1:] != same[:-1]]] = 1e7
    median = tx.groupby("customer_id")["amount"].transform("median")
    return pd.DataFrame(
        {
            "amount": tx["amount"].to_numpy(),
            "amount_to_median": (tx["amount"] / median).to_numpy(),
            "amount_to_limit": (tx["amount"] / tx["credit_limit"]).to_numpy(),
            "hour": tx["time"].dt.hour.to_numpy(),
            "online": tx["online"].to_numpy().astype(int),
            "km_from_home": 2 * 6371.0 * np.arcsin(np.sqrt(a)),
            "known_device": (tx["device_id"].astype("int64") // 4 == tx["customer_id"])
            .to_numpy()
            .astype(int),
            "seconds_since_last": gap,
            "category": tx["category"].cat.codes.to_numpy(),
            "customer_id": tx["customer_id"].to_numpy(),
            "is_fraud": tx["is_fraud"].to_numpy(),
            "pattern": tx["fraud_pattern"].astype(str).to_numpy(),
        }
    )


def detection_rates(
    customers: int, days: int, fraud_rate: float, seed: int
) -> tuple[dict[str, float], float]:
    """Share of each pattern's rows the detector flags (probability over 0.5) on customers it was not
    trained on, and the share of legitimate purchases it flags."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame = _features(simulate_transactions(customers, days, seed=seed, fraud_rate=fraud_rate))
    train = frame["customer_id"] % 2 == 0
    columns = [c for c in frame.columns if c not in ("customer_id", "is_fraud", "pattern")]
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0)
    model.fit(frame.loc[train, columns], frame.loc[train, "is_fraud"])
    test = frame[~train]
    flagged = model.predict_proba(test[columns])[:, 1] > 0.5
    rates = {p: float(flagged[(test["pattern"] == p).to_numpy()].mean()) for p in FRAUD_PATTERNS}
    return rates, float(flagged[~test["is_fraud"].to_numpy()].mean())


def _check(rates: dict[str, float], false_alarms: float) -> None:
    print(
        "detection rate by pattern:",
        {p: round(r, 3) for p, r in rates.items()},
        "false alarms:",
        false_alarms,
    )
    assert false_alarms < 0.001
    assert max(rates.values()) > 0.9  # the plainest pattern is found (not noise)
    assert min(rates.values()) < 0.7  # the subtlest is not (not trivial)
    assert max(rates.values()) - min(rates.values()) > 0.3  # patterns differ


def test_a_detector_finds_the_patterns_at_different_rates() -> None:
    rates, false_alarms = detection_rates(3000, 45, fraud_rate=0.02, seed=3)
    _check(rates, false_alarms)


@pytest.mark.slow
def test_a_detector_at_a_realistic_fraud_rate() -> None:
    rates, false_alarms = detection_rates(40_000, 90, fraud_rate=0.002, seed=7)
    _check(rates, false_alarms)
