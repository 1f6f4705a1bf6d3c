"""Variants of the dp engine's settings side by side, in one run, on the same splits (for tuning).

A variant is a name and module-level settings of ``mirage.engines.dp`` modules, set before its fits and
restored after (``param.NAME`` sets the engine's parameter NAME instead); the first variant is the
baseline.  Each (table, split seed, epsilon) fits every variant ``--repeats`` times (the noise is secure
and unseeded: fits of the same data differ) and scores each sample with ``bench_dp_peers.score``.  The
table: each metric's mean over seeds and repeats, and its ratio to the baseline's.

    python benchmarks/bench_dp_variants.py --tables insurance --epsilons 1,3 --seeds 5 \\
        --variants 'fixed=_engine.ADAPTIVE_GRIDS:false,_bins.ADAPTIVE_COARSE:false;adaptive='
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR

METRICS = ["marginal_k1", "marginal_k2", "marginal_k3", "detection_auc", "utility_ratio", "fit_s"]


def parse_variants(text: str) -> list[tuple[str, dict[tuple[str, str], Any]]]:
    """``'a=_tree.X:1,_bins.Y:2;b=...'`` -> [("a", {("_tree", "X"): 1, ...}), ...] (values as JSON)."""
    out = []
    for spec in text.split(";"):
        name, _, settings = spec.partition("=")
        values: dict[tuple[str, str], Any] = {}
        for setting in filter(None, settings.split(",")):
            target, _, value = setting.partition(":")
            module, _, attribute = target.rpartition(".")
            values[(module, attribute)] = json.loads(value)
        out.append((name.strip(), values))
    return out


def fit_variant(
    settings: dict[tuple[str, str], Any], train: Any, epsilon: float, seed: int, declared: bool
) -> tuple[Any, float]:
    """The dp engine fitted with ``settings`` in force (``param.NAME`` ones are the engine's parameters);
    its sample and fit seconds."""
    import time

    from bench_dp_peers import DELTA, declared_schema

    import mirage

    saved = {}
    params = {attribute: value for (module, attribute), value in settings.items() if module == "param"}
    for (module, attribute), value in settings.items():
        if module == "param":
            continue
        target = importlib.import_module(f"mirage.engines.dp.{module}")
        saved[(target, attribute)] = getattr(target, attribute)
        setattr(target, attribute, value)
    try:
        start = time.perf_counter()
        schema = declared_schema(train) if declared else None
        model = mirage.fit(
            train, engine="dp", epsilon=epsilon, delta=DELTA, seed=seed, schema=schema, **params
        )
        fit_s = time.perf_counter() - start
        return model.sample(len(train), seed=seed), fit_s
    finally:
        for (target, attribute), value in saved.items():
            setattr(target, attribute, value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", default="insurance")
    parser.add_argument("--epsilons", default="1,3")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--declared", choices=["yes", "no", "both"], default="yes")
    parser.add_argument("--max-rows", type=int, default=8000)
    parser.add_argument("--variants", required=True)
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    args = parser.parse_args(argv)
    from bench_dp_peers import score
    from bench_engines import load_table

    from mirage.evaluation import split_holdout

    variants = parse_variants(args.variants)
    declared = {"yes": [True], "no": [False], "both": [True, False]}[args.declared]
    rows: list[dict[str, Any]] = []
    for table in args.tables.split(","):
        frame = load_table(table, Path(args.data), args.max_rows)[0]
        for seed in range(args.seeds):
            train, held = split_holdout(frame, 0.2, seed)
            for epsilon in [float(e) for e in args.epsilons.split(",")]:
                for public in declared:
                    for repeat in range(args.repeats):
                        for name, settings in variants:
                            row: dict[str, Any] = {
                                "table": table, "epsilon": epsilon, "declared": public, "variant": name,
                                "seed": seed, "repeat": repeat,
                            }  # fmt: skip
                            try:
                                synthetic, fit_s = fit_variant(settings, train, epsilon, seed, public)
                                row.update(fit_s=fit_s, **score(table, train, held, synthetic, seed))
                            except Exception as exc:
                                row["error"] = f"{type(exc).__name__}: {exc}"[:200]
                            rows.append(row)
                            print(
                                json.dumps({k: row.get(k) for k in [*row.keys()][:6] + METRICS}), flush=True
                            )
    show(rows, variants[0][0])
    return 0


def show(rows: list[dict[str, Any]], baseline: str) -> None:
    groups: dict[tuple[str, float, bool], dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        key = (row["table"], row["epsilon"], row["declared"])
        groups.setdefault(key, {}).setdefault(row["variant"], []).append(row)
    print(" | ".join(["table", "eps", "declared", "variant", "n", *METRICS]))
    for (table, epsilon, public), by_variant in groups.items():
        means: dict[str, dict[str, float]] = {}
        for name, items in by_variant.items():
            good = [r for r in items if "error" not in r]
            means[name] = {m: sum(float(r[m]) for r in good) / len(good) for m in METRICS} if good else {}
            cells = [table, f"{epsilon:g}", str(public), name, f"{len(good)}/{len(items)}"]
            for m in METRICS:
                value = means[name].get(m)
                base = means.get(baseline, {}).get(m)
                ratio = f" ({value / base:.3f}x)" if value is not None and base and name != baseline else ""
                cells.append("-" if value is None else f"{value:.3f}{ratio}")
            print(" | ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
