"""Each table's DCR share in a database, read over many held-out folds: a per-table figure to trust.

    python benchmarks/bench_relational_dcr.py [--datasets northwind,deep] [--roots northwind:products]
                                              [--seeds 0,1,2,3,4,5,6,7,8,9] [--folds 5] [--columns]
                                              [--samples 3]
                                              [--trees /tmp/main_tree,.] [--params '{"min_samples_leaf": 20}']
                                              [--engines cart,bayesnet]

The rows of each *root* table (a table with no parent: Northwind's customers and products, the deep
database's regions and items) are shuffled with the seed and cut into ``--folds`` parts; each part is
held out in turn with every row that refers to it, recursively (a held customer's orders and their
lines; an order line of a held product; a nullable reference to a held row is emptied instead), the
whole database is fitted on the rest with that seed and sampled, and every table that lost rows is
measured: its DCR share (:func:`mirage.evaluation._privacy.dcr`; 0.5: synthetic rows no closer to
the rows learned than to unseen ones, the project's bar 0.53) on its learned columns, keys left out,
its held rows being the holdout.  So one fit per fold measures a root table and all of its
descendants, each row held out once per seed.

A table of a few dozen rows leaves one fold's share to a handful of rows (the deep database's 60
regions: 12 held, about 48 synthetic rows, a 95% half-width near 0.3 per fold), so the figure is the
mean over every fold and seed, printed with its standard error over the folds, the range of the
seed means, the typical per-fold half-width and whether the mean is *measurable* against the bar
(its 95% half-width under the 0.03 between 0.5 and the bar).

``--samples``: each fold's fit is sampled that many times and its readings averaged, which takes the
sample's own noise out of a fold's reading (on Northwind's order lines held via 15 products the
standard deviation of two trees' fold-by-fold difference was 0.06 with one sample, 0.03 to 0.04 with
three).

``--columns`` also reads each learned column alone (the same folds, the same samples): which
columns carry the excess.  ``--trees``: Mirage source trees to compare side by side in one run (e.g.
a ``git archive`` of main next to this checkout); each seed runs in a fresh process per tree, the
trees taking turns, so both see the same machine load, and each later tree's share is also read
against the first's fold by fold (mean difference, standard error over the folds).  ``--params``:
engine hyperparameters (JSON) for every table.  ``--engines``: the tables' engines to compare the
same way (each a name for every table, or ``table=name+table=name`` with cart for the rest); every
tree runs with every engine, the variants taking turns.  Writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, environment_info, format_table, run_isolated, write_results

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

#: the distance between 0.5 and the bar (0.53): a mean is measurable when its 95% half-width is under it
MARGIN = 0.03
#: the sample seeds of a fold: its fit seed, then this far apart (``--samples``)
SAMPLE_SEED_STEP = 1_000_003


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


def roots(database: Any) -> list[str]:
    """The tables with no parent that are learned (a reference table is copied, never measured)."""
    return [n for n in database.order() if not database.parents(n) and not database[n].reference]


def without_rows(
    database: Any, frames: dict[str, Any], table: str, held: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``frames`` without ``table``'s rows at positions ``held``, nor the rows that refer to them
    (recursively; a nullable reference to a dropped row is emptied instead), and per table the mask
    of the source rows kept."""
    import numpy as np

    from mirage.relational._plan import row_positions

    out = dict(frames)
    kept = {name: np.ones(len(frame), dtype=bool) for name, frame in frames.items()}
    kept[table][held] = False
    out[table] = frames[table][kept[table]].reset_index(drop=True)
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
                still = np.flatnonzero(kept[fk.child])
                kept[fk.child][still[broken]] = False
                out[fk.child] = child[~broken].reset_index(drop=True)
            changed = True
    return out, kept


def one_seed(
    tree: str,
    dataset: str,
    root_tables: list[str],
    seed: int,
    folds: int,
    columns: bool,
    params: str,
    samples: int = 1,
    engine: str = "cart",
) -> dict[str, Any]:
    """Every measured table's fold readings for one seed, with the mirage of ``tree`` (own process);
    each reading the mean over ``samples`` samples of the fold's one fit."""
    sys.path.insert(0, tree)
    import warnings

    warnings.simplefilter("ignore")
    import numpy as np

    import mirage
    from mirage.relational import RelationalSynthesizer

    database, frames = _load(dataset)
    readings: dict[str, list[dict[str, Any]]] = {}
    for root in root_tables:
        order = np.random.default_rng(seed).permutation(len(frames[root]))
        for fold, held in enumerate(np.array_split(order, folds)):
            learned, kept = without_rows(database, frames, root, held)
            fold_seed = seed * 100 + fold
            model = RelationalSynthesizer(
                database, engine=_engine_spec(engine), seed=fold_seed, params=json.loads(params)
            )
            model.fit(learned)
            per_sample: dict[str, list[dict[str, Any]]] = {}
            for draw in range(samples):
                synthetic = model.sample(seed=fold_seed + SAMPLE_SEED_STEP * draw)
                for name in database.order():
                    reading = _reading(database, frames, kept, synthetic, name, seed, columns)
                    if reading is not None:
                        per_sample.setdefault(name, []).append(reading)
            for name, taken in per_sample.items():
                readings.setdefault(f"{name} (held via {root})", []).append({"root": root, **_mean(taken)})
    return {"mirage": str(Path(mirage.__file__).parent.parent), "readings": readings}


def _engine_spec(engine: str) -> str | dict[str, str]:
    """``--engines``' one item: a name for every table, or ``table=name+table=name`` (cart elsewhere)."""
    if "=" not in engine:
        return engine
    return dict(item.split("=", 1) for item in engine.split("+"))


def _reading(
    database: Any,
    frames: dict[str, Any],
    kept: dict[str, Any],
    synthetic: dict[str, Any],
    name: str,
    seed: int,
    columns: bool,
) -> dict[str, Any] | None:
    """Table ``name``'s DCR share in one sample (and each learned column's with ``columns``); None when
    the table is not measured (no learned column, no held row, no synthetic row, a reference)."""
    from mirage.evaluation._privacy import dcr
    from mirage.schema import Schema

    keys = set(database.key_columns(name))
    specs = [c for c in database[name].schema if c.name not in keys and c.kind.learned]
    names = [c.name for c in specs]
    holdout = frames[name][~kept[name]][names].reset_index(drop=True)
    if not specs or not len(holdout) or not len(synthetic[name]) or database[name].reference:
        return None
    train = frames[name][kept[name]][names].reset_index(drop=True)
    result = dcr(train, holdout, synthetic[name][names], Schema(specs), seed=seed, return_distances=False)
    low, high = result["dcr_share_ci"]
    reading: dict[str, Any] = {
        "share": float(result["dcr_share"]),
        "half_width": float(high - low) / 2,
        "train": len(train),
        "holdout": len(holdout),
        "synthetic": len(synthetic[name]),
        "exact_copy_rate": float(result["exact_copy_rate"]),
        "holdout_copy_rate": float(result["holdout_copy_rate"]),
    }
    if columns and len(specs) > 1:
        reading["columns"] = {
            spec.name: float(
                dcr(
                    train[[spec.name]],
                    holdout[[spec.name]],
                    synthetic[name][[spec.name]],
                    Schema([spec]),
                    seed=seed,
                    return_distances=False,
                )["dcr_share"]
            )
            for spec in specs
        }
    return reading


def _mean(readings: list[dict[str, Any]]) -> dict[str, Any]:
    """The readings of one fold's samples as one: every figure (and column share) their mean."""
    import numpy as np

    out: dict[str, Any] = {
        key: float(np.mean([r[key] for r in readings])) for key in readings[0] if key != "columns"
    }
    if "columns" in readings[0]:
        out["columns"] = {
            c: float(np.mean([r["columns"][c] for r in readings])) for c in readings[0]["columns"]
        }
    return out


def paired(base: list[list[dict[str, Any]]], other: list[list[dict[str, Any]]]) -> tuple[float, float]:
    """``other``'s share minus ``base``'s, fold by fold (the same folds): the mean and its standard
    error over the folds."""
    import numpy as np

    diff = np.asarray(
        [
            o["share"] - b["share"]
            for bs, os in zip(base, other, strict=True)
            for b, o in zip(bs, os, strict=True)
        ]
    )
    se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else float("nan")
    return float(diff.mean()), se


def summary(per_seed: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Mean, standard error over the folds, the seed means' range, the typical fold half-width."""
    import numpy as np

    flat = np.asarray([r["share"] for seed in per_seed for r in seed])
    means = np.asarray([np.mean([r["share"] for r in seed]) for seed in per_seed])
    se = float(flat.std(ddof=1) / np.sqrt(flat.size)) if flat.size > 1 else float("nan")
    out: dict[str, Any] = {
        "mean": float(flat.mean()),
        "se": se,
        "seed_min": float(means.min()),
        "seed_max": float(means.max()),
        "fold_half_width": float(np.median([r["half_width"] for seed in per_seed for r in seed])),
        "holdout_rows": float(np.mean([r["holdout"] for seed in per_seed for r in seed])),
        "synthetic_rows": float(np.mean([r["synthetic"] for seed in per_seed for r in seed])),
        "exact_copy_rate": float(np.mean([r["exact_copy_rate"] for seed in per_seed for r in seed])),
        "holdout_copy_rate": float(np.mean([r["holdout_copy_rate"] for seed in per_seed for r in seed])),
        "measurable": bool(1.96 * se < MARGIN),
    }
    columns = [r["columns"] for seed in per_seed for r in seed if "columns" in r]
    if columns:
        out["columns"] = {c: float(np.mean([r[c] for r in columns])) for c in columns[0]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="northwind,deep")
    parser.add_argument("--roots", default="", help="only these roots, e.g. northwind:products,deep:regions")
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--columns", action="store_true", help="also each learned column alone")
    parser.add_argument(
        "--samples", type=int, default=1, help="samples of each fold's fit, readings averaged"
    )
    parser.add_argument("--params", default="{}", help="engine hyperparameters for every table (JSON)")
    parser.add_argument("--trees", default=str(REPO_ROOT), help="comma-separated Mirage source trees")
    parser.add_argument(
        "--engines", default="cart", help="comma-separated: a name for every table, or table=name+table=name"
    )
    args = parser.parse_args()

    seeds = [int(s) for s in args.seeds.split(",")]
    engines = args.engines.split(",")
    trees = [
        (str(Path(t).resolve()), engine) for t in args.trees.split(",") for engine in engines
    ]  # a tree with an engine: one variant
    label = {v: v[0] if len(engines) == 1 else f"{v[0]} [{v[1]}]" for v in trees}
    chosen: dict[str, list[str]] = {}
    for item in filter(None, args.roots.split(",")):
        dataset, _, table = item.partition(":")
        chosen.setdefault(dataset, []).append(table)
    wanted: dict[str, list[str]] = {}
    for dataset in args.datasets.split(","):
        database, _ = _load(dataset)
        wanted[dataset] = chosen.get(dataset) or roots(database)
    runs: dict[str, dict[str, list[list[dict[str, Any]]]]] = {label[v]: {} for v in trees}
    for seed in seeds:
        for dataset, tables in wanted.items():
            for variant in trees:  # the variants take turns, so all see the same load
                tree, engine = variant
                run = run_isolated(
                    one_seed,
                    tree,
                    dataset,
                    tables,
                    seed,
                    args.folds,
                    args.columns,
                    args.params,
                    args.samples,
                    engine,
                )
                if not run.ok:
                    raise SystemExit(f"{label[variant]}: {dataset} seed {seed} failed: {run.error}")
                assert run.result is not None
                for table, readings in run.result["readings"].items():
                    runs[label[variant]].setdefault(f"{dataset}:{table}", []).append(readings)
                    shares = " ".join(f"{r['share']:.2f}" for r in readings)
                    print(f"seed {seed} {label[variant]} {dataset}:{table}: {shares}", flush=True)
    summaries = {tree: {key: summary(v) for key, v in by_table.items()} for tree, by_table in runs.items()}
    names = [label[v] for v in trees]
    for tree in names:
        rows = []
        for key, s in summaries[tree].items():
            rows.append(
                [
                    key,
                    f"{s['mean']:.3f} ± {s['se']:.3f}",
                    f"{s['seed_min']:.3f}-{s['seed_max']:.3f}",
                    f"{s['fold_half_width']:.2f}",
                    f"{s['holdout_rows']:.0f} / {s['synthetic_rows']:.0f}",
                    f"{s['exact_copy_rate']:.3f} / {s['holdout_copy_rate']:.3f}",
                    "yes" if s["measurable"] else "no",
                ]
            )
        headers = [
            "table",
            "DCR share ± s.e.",
            "seed means",
            "fold ±",
            "held / synth rows",
            "copies / holdout's",
            "measurable",
        ]
        print(f"{tree} ({len(seeds)} seeds x {args.folds} folds)")
        print(format_table(headers, rows))
        if args.columns:
            for key, s in summaries[tree].items():
                if "columns" in s:
                    print(f"  {key}: " + ", ".join(f"{c} {v:.3f}" for c, v in s["columns"].items()))
    for tree in names[1:]:
        print(f"{tree} - {names[0]}, fold by fold (mean ± s.e. over the folds):")
        for key in runs[names[0]]:
            mean, se = paired(runs[names[0]][key], runs[tree][key])
            print(f"  {key}: {mean:+.4f} ± {se:.4f}")
    payload = {"args": vars(args), "environment": environment_info(), "runs": runs, "summaries": summaries}
    for path in write_results("relational_dcr", payload):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
