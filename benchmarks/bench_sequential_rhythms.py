"""Do the generated transactions' rhythms survive argn's sequential mode, over several model seeds, for
two or more source trees side by side (e.g. two history networks)?

Each model seed fits, in every tree (each in its own process, the trees of a seed one after the other so
that they share the load), the slow test's model: ``ArgnSequenceSynthesizer(seed=S, max_epochs=25)`` on
``make_transactions(300, seed=0)`` with its customers as context; then reads what
``tests/sequential/test_argn_sequences.py::test_transactions_rhythms_survive_better_than_random`` asserts:
purchases on Saturdays (> 0.25), salaries on a payday (> 0.85), the salary median over 10 times the
purchase median, the length KS complement (>= 0.85), and for 100 histories drawn for retired customers
their salaries on the 15th (> 0.75, and over 4 times those on the 1st).  Fit CPU seconds per tree.

Run::

    nice -n 10 python benchmarks/bench_sequential_rhythms.py --tree old=/tmp/old --tree new=. \
        --seeds 0 1 2 3 4 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO_ROOT, environment_info, format_table, write_results


def _worker(seed: int, customers: int, epochs: int) -> dict[str, Any]:
    import warnings

    import numpy as np
    import pandas as pd

    warnings.simplefilter("ignore")
    from mirage.evaluation._sequential import ks_complement, sequence_lengths
    from mirage.sequential import ArgnSequenceSynthesizer, infer_sequence_schema, make_transactions

    events, customers_frame = make_transactions(customers, seed=0)
    schema = infer_sequence_schema(events, "customer_id", "timestamp")
    cpu = time.process_time()
    model = ArgnSequenceSynthesizer(seed=seed, max_epochs=epochs, max_training_time=3600).fit(
        events, schema, context=customers_frame
    )
    fit_cpu = time.process_time() - cpu
    synthetic = model.sample(context=customers_frame, seed=1)
    purchases = synthetic[synthetic["kind"] == "purchase"]
    salaries = synthetic[synthetic["kind"] == "salary"]
    retired = pd.DataFrame({"customer_id": np.arange(100), "age": 70, "segment": "retired"})
    paid = model.sample(context=retired, seed=4).query("kind == 'salary'")["timestamp"].dt.day
    return {
        "fit_cpu_seconds": fit_cpu,
        "epochs": model.training_.get("epochs"),
        "saturday_share": float((purchases["timestamp"].dt.day_of_week == 5).mean()),
        "payday_share": float(salaries["timestamp"].dt.day.isin([1, 15]).mean()),
        "salary_over_purchase": float(salaries["amount"].median() / purchases["amount"].median()),
        "length_ks": ks_complement(sequence_lengths(events, schema), sequence_lengths(synthetic, schema)),
        "retired_on_15th": float((paid == 15).mean()),
        "retired_on_1st": float((paid == 1).mean()),
        "retired_salaries": len(paid),
    }


def _passes(row: dict[str, Any]) -> bool:
    """The slow test's assertions on these figures."""
    return bool(
        row["saturday_share"] > 0.25
        and row["payday_share"] > 0.85
        and row["salary_over_purchase"] > 10
        and row["length_ks"] >= 0.85
        and row["retired_on_15th"] > 0.75
        and row["retired_on_15th"] > 4 * row["retired_on_1st"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tree", action="append", help="LABEL=PATH of a source tree (default: this tree)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5], help="model seeds")
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(_worker(args.worker, args.customers, args.epochs)))
        return
    trees = [t.split("=", 1) for t in (args.tree or [f"this={REPO_ROOT}"])]
    rows: list[dict[str, Any]] = []
    for seed in args.seeds:
        for label, root in trees:
            command = [sys.executable, __file__, "--worker", str(seed)]
            command += ["--customers", str(args.customers), "--epochs", str(args.epochs)]
            env = {**os.environ, "PYTHONPATH": str(Path(root).resolve())}
            load = os.getloadavg()[0]
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=root, check=False)
            row: dict[str, Any] = {"tree": label, "seed": seed, "load": load}
            if done.returncode != 0:
                row["error"] = (done.stderr.strip().splitlines() or ["failed"])[-1]
            else:
                row |= json.loads(done.stdout.strip().splitlines()[-1])
                row["passes"] = _passes(row)
            print(json.dumps(row), flush=True)
            rows.append(row)
    _print(rows)
    for path in write_results("sequential_rhythms", {"args": vars(args), "rows": rows, **environment_info()}):
        print(f"wrote {path}")


def _print(rows: list[dict[str, Any]]) -> None:
    columns = ["fit_cpu_seconds", "epochs", "saturday_share", "payday_share", "length_ks"]
    columns += ["retired_on_15th", "retired_on_1st"]
    table = []
    for label in dict.fromkeys(r["tree"] for r in rows):
        done = [r for r in rows if r["tree"] == label and "error" not in r]
        if not done:
            continue
        cells = [label, f"{sum(r['passes'] for r in done)}/{len(done)}"]
        for column in columns:
            values = [float(r[column]) for r in done]
            cells.append(f"{sum(values) / len(values):.3g} ({min(values):.3g}-{max(values):.3g})")
        table.append(cells)
    print(format_table(["tree", "passes", *columns], table, left=2))


if __name__ == "__main__":
    main()
