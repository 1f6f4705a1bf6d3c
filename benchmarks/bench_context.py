"""Context conditioning: fit seconds, rows/s drawn given context rows, and how well each engine keeps a
child column's dependence on its context (best of three timings).

Child rows ``y = 2x + noise`` and ``k`` (shares depending on the context category ``g``) are learned
given their context ``(x, g)``; rows are then drawn given 200,000 context rows never seen.  Reported:
the correlation of ``x`` and the drawn ``y`` (0.99 in the real rows), the largest gap between the
drawn and the real shares of ``k`` given ``g``, and, beside the rows/s given a context, the rows/s of
the same engine sampling the joined table without one.  Run: ``python benchmarks/bench_context.py``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from _common import format_table

from mirage.engines import ENGINES

SHARES = {"a": [0.8, 0.1, 0.1], "b": [0.1, 0.8, 0.1], "c": [0.1, 0.1, 0.8]}
KINDS = ["u", "v", "w"]
PARAMS: dict[str, dict[str, object]] = {"argn": {"max_epochs": 30}}


def related(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice(list(SHARES), size=n)
    y = 2.0 * x + rng.normal(scale=0.3, size=n)
    cumulative = np.cumsum([SHARES[v] for v in g], axis=1)
    k = np.array(KINDS)[(rng.random(n)[:, None] >= cumulative).sum(axis=1).clip(max=2)]
    return pd.DataFrame({"y": y, "k": k}), pd.DataFrame({"x": x, "g": g})


def best(work: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    data, context = related(20_000, seed=0)
    _, unseen = related(200_000, seed=1)
    expected = pd.DataFrame(SHARES, index=KINDS).T
    rows = []
    for name in sorted(ENGINES):
        params = PARAMS.get(name, {})
        start = time.perf_counter()
        model = ENGINES[name](**params).fit(data, context=context)
        fit = time.perf_counter() - start
        synth = model.sample(context=unseen, seed=1)
        given = best(lambda: model.sample(context=unseen, seed=1))  # noqa: B023
        joint = ENGINES[name](**params).fit(pd.concat([data, context], axis=1))
        plain = best(lambda: joint.sample(len(unseen), seed=1))  # noqa: B023
        r = np.corrcoef(unseen["x"], synth["y"])[0, 1]
        shares = pd.crosstab(unseen["g"], synth["k"], normalize="index").reindex(columns=KINDS, fill_value=0)
        gap = float(np.abs(shares.loc[list(SHARES)].to_numpy() - expected.to_numpy()).max())
        rows.append(
            [
                name,
                f"{fit:.1f}",
                f"{len(unseen) / given:,.0f}",
                f"{len(unseen) / plain:,.0f}",
                f"{r:.3f}",
                f"{gap:.2f}",
            ]
        )
    headers = [
        "engine",
        "fit s",
        "rows/s given context",
        "rows/s joint, no context",
        "corr(x, y)",
        "max share gap",
    ]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
