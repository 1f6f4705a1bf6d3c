"""How far each engine follows the deep schema's structure (``tests/relational/schemas.py``): a child
table's number of rows per parent given the parent's columns, and a self-reference's nulls given the row.

    python benchmarks/bench_relational_structure.py [--engines cart,gmm] [--seeds 0,1,2]

Three readings, real and per engine (fit seed, then sample seed 2): visits per large store over visits
per small store, purchases per online visit over purchases per walk-in visit, and the share of the
directors who report to no one (in the real rows exactly the directors do).  Prints the mean and the
range over the seeds; writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from _common import REPO_ROOT, environment_info, format_table, write_results

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

READINGS = ("visits large / small store", "purchases online / walk-in", "directors reporting to no one")


def structure(frames: dict[str, Any]) -> dict[str, float]:
    from tests.relational.schemas import children_per_parent

    visits = children_per_parent(frames, "stores", "store_id", "visits", "size")
    lines = children_per_parent(frames, "visits", "visit_id", "purchases", "channel")
    employees = frames["employees"]
    directors = employees["title"] == "director"
    return dict(
        zip(
            READINGS,
            (
                float(visits["large"] / visits["small"]),
                float(lines["online"] / lines["walk-in"]),
                float(employees.loc[directors, "reports_to"].isna().mean()),
            ),
            strict=True,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="cart,gmm", help="comma-separated, each for every table")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated fit seeds")
    args = parser.parse_args()
    from mirage.relational import RelationalSynthesizer
    from tests.relational.schemas import deep_database, deep_frames

    warnings.simplefilter("ignore")
    frames = deep_frames()
    database = deep_database(frames)
    results: dict[str, Any] = {"real": structure(frames)}
    rows = [["real", *(f"{v:.2f}" for v in results["real"].values())]]
    for engine in args.engines.split(","):
        runs = []
        for seed in (int(s) for s in args.seeds.split(",")):
            model = RelationalSynthesizer(database, engine=engine, seed=seed).fit(frames)
            synthetic = model.sample(seed=2)
            if database.integrity_problems(synthetic):
                raise SystemExit(f"{engine}, seed {seed}: integrity problems")
            runs.append(structure(synthetic))
        results[engine] = runs
        cells = []
        for reading in READINGS:
            values = [run[reading] for run in runs]
            cells.append(f"{sum(values) / len(values):.2f} ({min(values):.2f}-{max(values):.2f})")
        rows.append([engine, *cells])
    print(format_table(["engine", *READINGS], rows))
    write_results("relational_structure", {"environment": environment_info(), "results": results})


if __name__ == "__main__":
    main()
