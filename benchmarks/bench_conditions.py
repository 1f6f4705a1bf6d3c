"""Seconds to draw 20,000 rows under a condition that keeps one row in ten (copula, best of three).

The table has a key, an e-mail column (Faker) and learned columns: rejection sampling used to decode
every drawn row whole, generated columns included; it now tests drawn rows on their learned columns
and decodes only the kept rows whole.  Run: ``python benchmarks/bench_conditions.py``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import mirage


def main() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame(
        {
            "id": [f"C{i:06d}" for i in range(n)],
            "email": [f"user{i}@example.com" for i in range(n)],
            "level": rng.choice(["low", "mid", "high"], n, p=[0.6, 0.3, 0.1]),
            "amount": rng.gamma(2, 50, n),
        }
    )
    model = mirage.fit(frame, engine="copula")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        model.sample(20_000, seed=1, conditions={"level": "high"})
        times.append(time.perf_counter() - start)
    print(f"conditioned sample of 20,000 rows: {min(times):.3f} s")


if __name__ == "__main__":
    main()
