"""Codec fitting speed: ``TableEncoder.fit`` on each shared table, and analyze over partitions + reduce.

    python benchmarks/bench_codecs.py [--data-dir DIR] [--partitions 4] [--repeat 3]

Prints one row per table: rows, whole-table fit seconds, partitioned fit seconds (median of the
repeats) and whether both fits give the same state.  Run it with another checkout first on
``PYTHONPATH`` to compare (a checkout without ``analyze`` reports only the whole-table fit).
This is a script, not a test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import warnings
from pathlib import Path

from _common import DEFAULT_DATA_DIR, load_table, median

TABLES = ("adult.csv", "bank_marketing.csv", "titanic.csv", "insurance.csv", "northwind/orders.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import numpy as np

    from mirage.encoding import TableEncoder
    from mirage.schema import infer_schema

    warnings.simplefilter("ignore")
    print(f"{'table':<22}{'rows':>8}{'fit s':>9}{'partitioned s':>15}  same state")
    for name in TABLES:
        frame = load_table(Path(args.data_dir) / name)
        schema = infer_schema(frame)
        whole: list[float] = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            encoder = TableEncoder(schema).fit(frame)
            whole.append(time.perf_counter() - start)
        row = f"{name:<22}{len(frame):>8}{median(whole):>9.3f}"
        if hasattr(encoder, "analyze"):
            cuts = np.linspace(0, len(frame), args.partitions + 1).astype(int)
            split: list[float] = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                merged = TableEncoder(schema)
                merged.reduce([merged.analyze(frame.iloc[a:b]) for a, b in itertools.pairwise(cuts)])
                split.append(time.perf_counter() - start)
            same = json.dumps(encoder.get_state()[0], sort_keys=True) == json.dumps(
                merged.get_state()[0], sort_keys=True
            )
            row += f"{median(split):>15.3f}  {same}"
        print(row)


if __name__ == "__main__":
    main()
