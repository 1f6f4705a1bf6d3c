"""Time and memory of the DCR check: Adult at full size, and 1M x 1M rows of random mixed data.

Run from the repository root (it is a script, not a test):

    python benchmarks/bench_distance.py                 # both cases, library defaults
    python benchmarks/bench_distance.py --rows 200000   # a smaller random case
    python benchmarks/bench_distance.py --skip-adult --max-pairs 1e11   # a 1M-row reference

Peak memory is reported two ways: ``tracemalloc`` (Python and NumPy allocations made during the
call) and the process's peak resident set size (``ru_maxrss``, everything including the input data).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mirage.evaluation._distance import DEFAULT_MAX_PAIRS  # noqa: E402
from mirage.evaluation._privacy import dcr  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def measure(label: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    tracemalloc.start()
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    plan = result["plan"]
    print(
        f"{label}: {seconds:.1f} s, tracemalloc peak {peak / 2**20:.0f} MiB, "
        f"peak RSS {peak_rss_mib():.0f} MiB\n"
        f"    dcr_share={result['dcr_share']:.4f} +- {result['share_error_bound']:.4f} (subsampling), "
        f"ci={[round(x, 4) for x in result['dcr_share_ci']]}\n"
        f"    query {plan['n_query_used']:,}/{plan['n_query']:,} rows, "
        f"train {plan['n_train_used']:,}/{plan['n_train']:,}, holdout {plan['n_holdout_used']:,}/"
        f"{plan['n_holdout']:,} rows, "
        f"encoded width {result['encoding']['width']}",
        flush=True,
    )
    return result


def adult(max_pairs: float) -> None:
    import mirage
    from mirage.evaluation._holdout import split_holdout

    path = Path(os.environ.get("MIRAGE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "adult.csv"
    if not path.exists():
        print(f"adult: skipped, {path} not found")
        return
    train, holdout = split_holdout(pd.read_csv(path), 0.2, 0)
    synthetic = mirage.fit(train, engine="copula").sample(len(train), seed=0)
    print(f"adult: train {len(train):,}, holdout {len(holdout):,}, synthetic {len(synthetic):,} (copula)")
    measure("adult DCR", lambda: dcr(train, holdout, synthetic, max_pairs=max_pairs, return_distances=False))


def random_mixed(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Four numeric, four categorical (3 to 30 levels), one boolean and one datetime column."""
    days = rng.integers(0, 3650, size=n).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.lognormal(size=n).round(2),
            "x3": rng.integers(18, 90, size=n),
            "x4": np.where(rng.random(n) < 0.05, np.nan, rng.gamma(2.0, 1000.0, size=n)),
            "c1": rng.choice(np.array(["a", "b", "c"]), size=n),
            "c2": rng.choice(np.array([f"k{i}" for i in range(10)]), size=n),
            "c3": rng.choice(np.array([f"g{i}" for i in range(30)]), size=n, p=np.arange(30, 0, -1) / 465),
            "c4": rng.choice(np.array(["u", "v", "w", "z", "y"]), size=n),
            "b": rng.random(n) < 0.3,
            "when": np.datetime64("2015-01-01") + days,
        }
    )


def large(n: int, max_pairs: float) -> None:
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    train, holdout, synthetic = random_mixed(n, rng), random_mixed(n, rng), random_mixed(n, rng)
    print(
        f"random mixed: {n:,} rows each for train, holdout, synthetic ({time.perf_counter() - start:.1f} s)"
    )
    measure(
        f"random {n:,} x {n:,} DCR",
        lambda: dcr(train, holdout, synthetic, max_pairs=max_pairs, return_distances=False),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per table in the random case")
    parser.add_argument("--max-pairs", type=float, default=DEFAULT_MAX_PAIRS, help="pairs per search")
    parser.add_argument("--skip-adult", action="store_true")
    parser.add_argument("--skip-random", action="store_true")
    args = parser.parse_args()
    print(f"max_pairs={args.max_pairs:.3g}, numpy {np.__version__}, pandas {pd.__version__}")
    if not args.skip_adult:
        adult(args.max_pairs)
    if not args.skip_random:
        large(args.rows, args.max_pairs)


if __name__ == "__main__":
    main()
