"""Small tables of a database: each table's DCR share with every fifth of its rows held out in turn.

    python benchmarks/bench_relational_dcr.py [--tables northwind:products,northwind2:orders,deep:regions]
                                              [--seeds 0,1,2,3,4,5,6,7,8,9] [--folds 5]
                                              [--trees /tmp/main_tree,.]

For each seed the table's rows are shuffled and cut into ``--folds`` parts; each part is held out in
turn (with the rows of other tables that refer to it: an order line of a held product goes too; a
nullable reference is emptied), the whole database is fitted on the rest with that seed and sampled,
and the DCR share (:func:`mirage.evaluation._privacy.dcr`; 0.5: synthetic rows no closer to the rows
learned than to unseen ones, the project's bar 0.53) is measured on the table's learned columns, keys
left out.  A table of a few dozen rows leaves one fold's share to a handful of rows, so the figure is
the mean over every fold and seed (each row held out once per seed).

``--trees``: Mirage source trees to compare side by side in one run (e.g. a ``git archive`` of main
next to this checkout); each seed runs in a fresh process per tree, the trees taking turns, so both
see the same machine load.  Prints each tree's mean, its standard error over the folds and the range
over the seeds; writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, environment_info, format_table, run_isolated, write_results

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def _load(dataset: str) -> tuple[Any, dict[str, Any]]:
    from tests.relational.schemas import deep_database, deep_frames, northwind_database, northwind_frames

    if dataset == "northwind":
        frames = northwind_frames()
        return northwind_database(frames), frames
    if dataset == "deep":
        frames = deep_frames()
        return deep_database(frames), frames
    if dataset == "northwind2":  # without customers: orders <- order_details -> products
        from bench_relational import load

        return load(dataset, 0, 1, 0)
    raise SystemExit(f"unknown dataset {dataset!r} (northwind, northwind2, deep)")


def without_rows(database: Any, frames: dict[str, Any], table: str, held: Any) -> dict[str, Any]:
    """``frames`` without ``table``'s rows at positions ``held``, nor the rows that refer to them
    (recursively); a nullable reference to a dropped row is emptied instead."""
    import numpy as np

    from mirage.relational._plan import row_positions

    out = dict(frames)
    keep = np.ones(len(frames[table]), dtype=bool)
    keep[held] = False
    out[table] = frames[table][keep].reset_index(drop=True)
    changed = True
    while changed:
        changed = False
        for fk in database.foreign_keys:
            child, parent = out[fk.child], out[fk.parent]
            positions = row_positions(parent, fk.parent_columns, child, fk.columns)
            broken = (positions < 0) & child[list(fk.columns)].notna().all(axis=1).to_numpy()
            if not broken.any():
                continue
            if fk.nullable:
                child = child.copy()
                for column in fk.columns:
                    child[column] = child[column].astype(object).where(~broken, None)
                    child[column] = child[column].infer_objects()
                out[fk.child] = child
            else:
                out[fk.child] = child[~broken].reset_index(drop=True)
            changed = True
    return out


def one_seed(tree: str, dataset: str, tables: list[str], seed: int, folds: int) -> dict[str, Any]:
    """Every table's fold shares for one seed, with the mirage of ``tree`` (run in its own process)."""
    sys.path.insert(0, tree)
    import warnings

    warnings.simplefilter("ignore")
    import numpy as np

    import mirage
    from mirage.evaluation._privacy import dcr
    from mirage.relational import RelationalSynthesizer
    from mirage.schema import Schema

    database, frames = _load(dataset)
    shares: dict[str, list[float]] = {}
    for table in tables:
        keys = set(database.key_columns(table))
        columns = [c for c in database[table].schema if c.name not in keys and c.kind.learned]
        names = [c.name for c in columns]
        order = np.random.default_rng(seed).permutation(len(frames[table]))
        shares[table] = []
        for fold, held in enumerate(np.array_split(order, folds)):
            kept = without_rows(database, frames, table, held)
            fold_seed = seed * 100 + fold
            synthetic = RelationalSynthesizer(database, seed=fold_seed).fit(kept).sample(seed=fold_seed)
            result = dcr(
                kept[table][names],
                frames[table].iloc[held][names].reset_index(drop=True),
                synthetic[table][names],
                Schema(columns),
                seed=seed,
                return_distances=False,
            )
            shares[table].append(float(result["dcr_share"]))
    return {"mirage": str(Path(mirage.__file__).parent.parent), "shares": shares}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="northwind:products,deep:items,deep:regions")
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--trees", default=str(REPO_ROOT), help="comma-separated Mirage source trees")
    args = parser.parse_args()
    import numpy as np

    seeds = [int(s) for s in args.seeds.split(",")]
    trees = [str(Path(t).resolve()) for t in args.trees.split(",")]
    wanted: dict[str, list[str]] = {}
    for item in args.tables.split(","):
        dataset, _, table = item.partition(":")
        wanted.setdefault(dataset, []).append(table)
    runs: dict[str, dict[str, list[list[float]]]] = {t: {} for t in trees}
    for seed in seeds:
        for dataset, tables in wanted.items():
            for tree in trees:  # the trees take turns, so both see the same load
                run = run_isolated(one_seed, tree, dataset, tables, seed, args.folds)
                if not run.ok:
                    raise SystemExit(f"{tree}: {dataset} seed {seed} failed: {run.error}")
                assert run.result is not None
                for table, values in run.result["shares"].items():
                    runs[tree].setdefault(f"{dataset}:{table}", []).append(values)
    rows = []
    for key in runs[trees[0]]:
        row = [key]
        for tree in trees:
            per_seed = np.asarray(runs[tree][key])
            flat = per_seed.ravel()
            means = per_seed.mean(axis=1)
            row.append(
                f"{flat.mean():.3f} ± {flat.std(ddof=1) / np.sqrt(flat.size):.3f} "
                f"({means.min():.3f}-{means.max():.3f})"
            )
        rows.append(row)
    print(format_table(["table", *trees], rows))
    payload = {"args": vars(args), "environment": environment_info(), "runs": runs}
    for path in write_results("relational_dcr", payload):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
