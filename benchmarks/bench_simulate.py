"""Patients per second of ``mirage.simulate.simulate_patients`` on the six shared Synthea modules,
20 years of records (every life runs from birth), in one process and over worker processes; with
``--mode transactions``, transactions per second of ``mirage.simulate.simulate_transactions``.

Run: ``python benchmarks/bench_simulate.py [--population 2000] [--workers 1,2] [--repeat 3]``, or
``python benchmarks/bench_simulate.py --mode transactions [--customers 50000] [--days 90]``.
The modules are read from ``$MIRAGE_SHARED_DATA/synthea/modules`` (the test fixtures' copy when that
is missing).  Figures are the best of ``--repeat`` runs (wall clock; CPU seconds of the launching
process are shown for one worker, where they are the whole work); the tables are built but not written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA_DIR, REPO_ROOT, environment_info, format_table, write_results


def _modules() -> Path:
    shared = DEFAULT_DATA_DIR / "synthea" / "modules"
    return shared if shared.is_dir() else REPO_ROOT / "tests" / "simulate" / "modules"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=int, default=2000)
    parser.add_argument("--years", type=float, default=20)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("patients", "transactions"), default="patients")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--fraud-rate", type=float, default=0.002)
    args = parser.parse_args()
    if args.mode == "transactions":
        transactions(args)
        return

    from concurrent.futures import ProcessPoolExecutor

    from mirage.simulate import population_blocks, simulate_patients

    modules = _modules()
    rows = []
    figures = []
    for workers in (int(w) for w in args.workers.split(",")):
        best_wall, best_cpu = float("inf"), float("inf")
        records = 0
        for _ in range(args.repeat):
            # blocks of 250 patients so that two workers share the work evenly (same output)
            blocks = population_blocks(args.population, 250)
            wall, cpu = time.perf_counter(), time.process_time()
            if workers == 1:
                tables = simulate_patients(modules, args.population, years=args.years, seed=7, blocks=blocks)
            else:
                with ProcessPoolExecutor(max_workers=workers) as pool:
                    tables = simulate_patients(
                        modules, args.population, years=args.years, seed=7, blocks=blocks, executor=pool
                    )
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
            records = sum(len(frame) for frame in tables.values())
        rate = args.population / best_wall
        figures.append(
            {
                "workers": workers,
                "population": args.population,
                "years": args.years,
                "seconds": best_wall,
                "patients_per_second": rate,
                "patients_per_cpu_second": args.population / best_cpu if workers == 1 else None,
                "rows": records,
            }
        )
        cpu_rate = f"{args.population / best_cpu:,.0f}" if workers == 1 else "-"
        rows.append([str(workers), f"{best_wall:.2f}", f"{rate:,.0f}", cpu_rate, f"{records:,}"])
    print(f"{args.population:,} patients, six modules ({modules}), {args.years:g} years of records")
    print(format_table(["workers", "seconds", "patients/s", "patients/CPU s", "rows"], rows))
    env = environment_info()
    print(f"load average at the end: {env.get('loadavg')}")
    write_results("bench_simulate", {"environment": env, "figures": figures})


def transactions(args: argparse.Namespace) -> None:
    """Transactions per second (the three tables built, not written), best of ``--repeat``."""
    from concurrent.futures import ProcessPoolExecutor

    from mirage.simulate import population_blocks, simulate_transactions

    rows = []
    figures = []
    for workers in (int(w) for w in args.workers.split(",")):
        best_wall, count = float("inf"), 0
        for _ in range(args.repeat):
            options = {"seed": 7, "fraud_rate": args.fraud_rate}
            wall = time.perf_counter()
            if workers == 1:
                tables = simulate_transactions(args.customers, args.days, **options)
            else:
                blocks = population_blocks(args.customers, 1000)
                with ProcessPoolExecutor(max_workers=workers) as pool:
                    tables = simulate_transactions(
                        args.customers, args.days, blocks=blocks, executor=pool, **options
                    )
            best_wall = min(best_wall, time.perf_counter() - wall)
            count = len(tables["transactions"])
        rate = count / best_wall
        figures.append(
            {
                "workers": workers,
                "customers": args.customers,
                "days": args.days,
                "seconds": best_wall,
                "transactions": count,
                "transactions_per_second": rate,
            }
        )
        rows.append([str(workers), f"{best_wall:.2f}", f"{count:,}", f"{rate:,.0f}"])
    print(f"{args.customers:,} customers, {args.days} days, fraud rate {args.fraud_rate:g}")
    print(format_table(["workers", "seconds", "transactions", "transactions/s"], rows))
    env = environment_info()
    print(f"load average at the end: {env.get('loadavg')}")
    write_results("bench_simulate_transactions", {"environment": env, "figures": figures})


if __name__ == "__main__":
    main()
