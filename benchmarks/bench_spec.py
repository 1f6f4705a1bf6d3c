"""Rows per second of ``mirage.spec`` generation: a 10-column table whose columns are all tied by a
Gaussian copula (normal, lognormal, uniform, empirical quantiles, whole numbers, categories, a
bernoulli, a Poisson count, a mixture, a date), in one process and split over worker processes (the
same seeded blocks, so the same rows); and, separately, columns provided by Faker (a name drawn from a
cached pool, an e-mail address, an IBAN made row by row).  Rows are built as DataFrames, not written.

Run: ``python benchmarks/bench_spec.py [--rows 2000000] [--workers 1,2] [--repeat 3] [--faker-rows 100000]``

With ``--export insurance,titanic,adult``: for each shared table (``$MIRAGE_SHARED_DATA``), a copula and
a cart model are fitted, exported as a spec (``mirage.spec.spec_from_model``), and the quality score
(mean of column shapes and column pairs against the real table) of data regenerated from the spec is
set beside that of the model's own samples (the target: within 0.05).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA_DIR, environment_info, format_table, load_table, write_results

COPULA_COLUMNS: dict[str, Any] = {
    "amount": {"distribution": {"type": "normal", "mean": 100, "std": 15}, "decimals": 2},
    "income": {"distribution": {"type": "lognormal", "mu": 10, "sigma": 0.5}, "decimals": 2},
    "share": {"distribution": {"type": "uniform", "low": 0, "high": 1}},
    "score": {"distribution": {"type": "empirical", "quantiles": [300, 550, 650, 700, 750, 850]}},
    "age": {"distribution": {"type": "normal", "mean": 40, "std": 12}, "min": 18, "max": 90, "integer": True},
    "segment": {
        "distribution": {"type": "categorical", "weights": {"a": 5, "b": 3, "c": 1, "d": 1, "e": 0.5}}
    },
    "churned": {"distribution": {"type": "bernoulli", "p": 0.05}},
    "visits": {"distribution": {"type": "poisson", "lam": 3}},
    "basket": {
        "distribution": {
            "type": "mixture",
            "components": [
                {"weight": 0.7, "type": "normal", "mean": 30, "std": 5},
                {"weight": 0.3, "type": "lognormal", "mu": 4, "sigma": 0.5},
            ],
        },
        "decimals": 2,
    },
    "joined": {
        "kind": "datetime",
        "distribution": {"type": "uniform", "low": "2015-01-01", "high": "2024-12-31"},
    },
}
FAKER_COLUMNS: dict[str, Any] = {
    "name (pool of 5000)": {"provider": "person_name"},
    "email (pooled user names)": {"provider": "email"},
    "iban (row by row)": {"provider": "iban"},
    "city (pool of 5000)": {"provider": "city"},
}


def copula_spec(rows: int) -> dict[str, Any]:
    names = list(COPULA_COLUMNS)
    k = len(names)
    correlation = [[round(0.3 ** abs(i - j), 6) for j in range(k)] for i in range(k)]
    return {
        "tables": {
            "t": {
                "rows": rows,
                "columns": COPULA_COLUMNS,
                "copula": {"columns": names, "correlation": correlation},
            }
        }
    }


def _share(spec: dict[str, Any], rows: int, worker: int, workers: int) -> int:
    from mirage.spec import BLOCK_ROWS, spec_from_dict
    from mirage.spec._generate import TableGenerator

    generator = TableGenerator(spec_from_dict(spec).tables["t"], 7)
    count = 0
    for index, start in enumerate(range(0, rows, BLOCK_ROWS)):
        if index % workers == worker:
            count += len(generator.block(index, min(BLOCK_ROWS, rows - start), {}))
    return count


def run(spec: dict[str, Any], rows: int, workers: int) -> tuple[float, float]:
    """Wall seconds and (one worker) CPU seconds of this process."""
    from concurrent.futures import ProcessPoolExecutor

    from mirage.spec import generate_chunks, spec_from_dict
    from mirage.spec._providers import provider_pool

    provider_pool.cache_clear()  # Faker pools built in each run: the cold rate
    parsed = spec_from_dict(spec)
    start, cpu = time.perf_counter(), time.process_time()
    if workers == 1:
        count = sum(len(chunk) for chunk in generate_chunks(parsed, seed=7, rows=rows))
    else:
        # each worker draws every workers-th block and keeps it (as it would write its own part file)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            shares = pool.map(_share, [spec] * workers, [rows] * workers, range(workers), [workers] * workers)
            count = sum(shares)
    assert count == rows
    return time.perf_counter() - start, time.process_time() - cpu


def export(tables: list[str]) -> None:
    import mirage
    from mirage.evaluation._pairs import column_pair_scores
    from mirage.evaluation._shapes import column_shape_scores
    from mirage.spec import generate, spec_from_dict, spec_from_model

    def quality(real: Any, synthetic: Any, schema: Any) -> float:
        shapes = column_shape_scores(real, synthetic, schema)
        _, pairs = column_pair_scores(real, synthetic, schema)
        return float((shapes["score"].mean() + pairs) / 2)

    rows, figures = [], []
    for name in tables:
        real = load_table(DEFAULT_DATA_DIR / f"{name}.csv")
        for engine, cls in (("copula", mirage.CopulaSynthesizer), ("cart", mirage.CartSynthesizer)):
            model = cls().fit(real)
            spec = spec_from_model(model, rows=len(real))
            own = quality(real, model.sample(len(real), seed=1), model.schema_)
            regenerated = quality(real, generate(spec_from_dict(spec), seed=1), model.schema_)
            figures.append(
                {"table": name, "engine": engine, "rows": len(real), "own": own, "spec": regenerated}
            )
            rows.append(
                [
                    name,
                    engine,
                    f"{len(real):,}",
                    f"{own:.4f}",
                    f"{regenerated:.4f}",
                    f"{regenerated - own:+.4f}",
                ]
            )
    print(format_table(["table", "engine", "rows", "model's samples", "from the spec", "difference"], rows))
    write_results("bench_spec_export", {"environment": environment_info(), "figures": figures})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--faker-rows", type=int, default=100_000)
    parser.add_argument(
        "--export", default=None, help="comma-separated shared tables: quality of a model's spec"
    )
    args = parser.parse_args()
    if args.export:
        export(args.export.split(","))
        return
    figures: list[dict[str, Any]] = []
    rows = []
    cases = [
        (f"10-column copula, {w} worker(s)", copula_spec(args.rows), args.rows, w)
        for w in (int(w) for w in args.workers.split(","))
    ]
    for label, column in FAKER_COLUMNS.items():
        spec = {"tables": {"t": {"rows": args.faker_rows, "columns": {"x": column}}}}
        cases.append((f"Faker {label}", spec, args.faker_rows, 1))
    for label, spec, n, workers in cases:
        wall, cpu = min(run(spec, n, workers) for _ in range(args.repeat))
        cpu_rate = n / cpu if workers == 1 and cpu > 0 else None
        figures.append(
            {
                "what": label,
                "workers": workers,
                "rows": n,
                "seconds": wall,
                "rows_per_second": n / wall,
                "rows_per_cpu_second": cpu_rate,
            }
        )
        rows.append(
            [
                label,
                f"{n:,}",
                f"{wall:.2f}",
                f"{n / wall:,.0f}",
                "-" if cpu_rate is None else f"{cpu_rate:,.0f}",
            ]
        )
    print(format_table(["table", "rows", "seconds", "rows/s", "rows/CPU s"], rows))
    env = environment_info()
    print(f"load average at the end: {env.get('loadavg')}")
    write_results("bench_spec", {"environment": env, "figures": figures})


if __name__ == "__main__":
    main()
