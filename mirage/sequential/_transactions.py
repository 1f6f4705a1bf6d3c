"""A generated card-transactions table with known structure, to check that rhythms survive synthesis.

Each customer (an age, a segment) is paid on a fixed day of the month at 09:00 (workers on the 1st,
retired customers on the 15th; students are not paid); purchases come more often on Saturdays, and
a burst of three purchases follows each salary within hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PAYDAYS", "make_transactions"]

PAYDAYS = {"worker": 1, "retired": 15}  # the ground truth: the day of the month each segment is paid
_SALARY = {"worker": 2500.0, "retired": 1400.0}


def make_transactions(
    n_customers: int = 200, days: int = 91, *, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(events, customers)``: events ``customer_id, timestamp, kind, amount`` ordered per customer,
    customers ``customer_id, age, segment`` (one row each)."""
    rng = np.random.default_rng(seed)
    segments = rng.choice(["student", "worker", "retired"], size=n_customers, p=[0.25, 0.5, 0.25])
    ages = np.where(
        segments == "student",
        rng.integers(18, 27, n_customers),
        np.where(segments == "retired", rng.integers(62, 90, n_customers), rng.integers(25, 65, n_customers)),
    )
    customers = pd.DataFrame({"customer_id": np.arange(n_customers), "age": ages, "segment": segments})
    start = pd.Timestamp("2024-01-01")
    rows: list[tuple[int, pd.Timestamp, str, float]] = []
    for customer, segment in enumerate(segments):
        for day in range(days):
            date = start + pd.Timedelta(days=day)
            payday = PAYDAYS.get(str(segment))
            if payday is not None and date.day == payday:
                stamp = date + pd.Timedelta(hours=9)
                rows.append(
                    (customer, stamp, "salary", round(_SALARY[str(segment)] * rng.uniform(0.95, 1.05), 2))
                )
                for minutes in np.sort(rng.integers(10, 180, 3)):
                    amount = round(float(rng.lognormal(4.0, 0.6)), 2)
                    rows.append((customer, stamp + pd.Timedelta(minutes=int(minutes)), "purchase", amount))
            rate = 2.0 if date.day_of_week == 5 else 0.4
            for _ in range(rng.poisson(rate)):
                stamp = date + pd.Timedelta(minutes=int(rng.integers(10 * 60, 21 * 60)))
                rows.append((customer, stamp, "purchase", round(float(rng.lognormal(3.0, 0.8)), 2)))
    events = pd.DataFrame(rows, columns=["customer_id", "timestamp", "kind", "amount"])
    events = events.sort_values(["customer_id", "timestamp"], kind="mergesort").reset_index(drop=True)
    return events, customers
