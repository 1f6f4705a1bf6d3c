"""Northwind's relational quality gaps over several seeds: integrity, the joined-view detection AUC per
parent table (0.5 = indistinguishable; also on the protected view, where real values the sample
withholds or replaces are hidden on both sides), children per parent (cardinality similarity per foreign key),
the correlation of an order line's price with its product's, and privacy (each table's DCR share and
the joined view's, against a holdout of whole families).

    python benchmarks/bench_relational_quality.py [--seeds 0,1,2,3,4] [--holdout 0.2] [--reference products]
                                                  [--product-folds 5]

Per seed: ``split_database`` keeps ``--holdout`` of the customers aside with their orders and lines
(products are matched to, so kept whole: their DCR share is the mean over ``--product-folds`` fits
that each hold out another fifth of the products, so every product is held out once; one fifth alone,
15 rows, leaves the share to a handful of rows), the model is fitted on the rest with that seed and
sampled with it; the scores are against the learned part.  ``DCR share products (folded view)`` is
the same share with the real rows' numeric categories (category_id, reorder_level, ...) moved to the
nearest value the sample holds, as the rare-category protection folds them for learning: what is left
once the choice of the values kept is taken out.  ``--reference`` declares lookup tables reference
data (copied as is, keys too): they are not learned, so their DCR share is not measured and the line says so.
Prints the mean and the range over the seeds; writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from _common import REPO_ROOT, environment_info, format_table, write_results

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def _price_correlation(frames: dict[str, Any]) -> float:
    lines = frames["order_details"].merge(frames["products"], on="product_id", suffixes=("", "_product"))
    return float(lines["unit_price"].corr(lines["unit_price_product"], method="pearson"))


def _unkeyed(database: Any, table: str, frame: Any) -> Any:
    keys = set(database.key_columns(table))
    return frame[[c for c in frame.columns if c not in keys]]


def _folded(database: Any, frame: Any, synthetic: Any) -> Any:
    """``frame`` with each numeric category column's values moved to the nearest value ``synthetic`` holds."""
    import numpy as np

    from mirage.schema import Kind

    out = frame.copy()
    for column in database["products"].schema:
        if column.kind is not Kind.CATEGORICAL or column.name not in out or not column.ordered:
            continue
        values = out[column.name].to_numpy(dtype=float)
        held = np.unique(synthetic[column.name].to_numpy(dtype=float))
        nearest = held[np.abs(values[:, None] - held[None, :]).argmin(axis=1)]
        out[column.name] = nearest.astype(out[column.name].dtype)
    return out


def one_seed(
    seed: int, fraction: float, reference: tuple[str, ...] = (), product_folds: int = 5
) -> dict[str, Any]:
    import numpy as np

    from mirage.evaluation import cardinality_similarity, relational_detection
    from mirage.evaluation._privacy import dcr
    from mirage.evaluation._relational_report import _joined_privacy
    from mirage.relational import RelationalSynthesizer, split_database
    from mirage.schema import DatabaseSchema, Schema
    from tests.relational.schemas import northwind_database, northwind_frames

    frames = northwind_frames()
    database = northwind_database(frames)
    if reference:  # lookup tables declared reference data: copied as is, so kept out of the DCR gate
        data = database.to_dict()
        for name in reference:
            data["tables"][name]["reference"] = True
        database = DatabaseSchema.from_dict(data)
    train, held = split_database(database, frames, fraction, seed)
    model = RelationalSynthesizer(database, seed=seed).fit(train)
    synthetic = model.sample(seed=seed)
    detection = relational_detection(database, train, synthetic, seed=seed, n_threads=1)
    out: dict[str, Any] = {
        "integrity_problems": len(database.integrity_problems(synthetic)),
        "detection_auc": {t: v["detection_auc"] for t, v in detection["per_table"].items()},
        "protected_view_auc": {t: v["protected_view_auc"] for t, v in detection["per_table"].items()},
        "cardinality": {
            k: v["score"]
            for k, v in cardinality_similarity(database, train, synthetic)["per_foreign_key"].items()
        },
        "price_correlation": _price_correlation(synthetic),
        "price_correlation_real": _price_correlation(train),
        "dcr_share": {},
    }
    for table in ("customers", "orders", "order_details"):
        columns = [c for c in database[table].schema if c.name not in set(database.key_columns(table))]
        result = dcr(
            _unkeyed(database, table, train[table]),
            _unkeyed(database, table, held[table]),
            _unkeyed(database, table, synthetic[table]),
            Schema(columns),
            seed=seed,
            return_distances=False,
        )
        out["dcr_share"][table] = result["dcr_share"]
    joined = _joined_privacy(database, train, held, synthetic, seed)
    out["dcr_share"].update({f"joined {t}": v["dcr_share"] for t, v in joined.items()})
    if "products" in reference:
        out["reference"] = list(reference)
        return out
    # products: kept whole above (lines are matched to them); measured apart, each fifth of the products
    # held out in turn from a fit of its own (a root table of 77 rows: one fifth's 15 held rows decide
    # on a few rows, so the share is the mean over the folds, each product held out once)
    products = frames["products"].sample(frac=1.0, random_state=seed).reset_index(drop=True)
    columns = [c for c in database["products"].schema if c.name not in set(database.key_columns("products"))]
    shares, folded = [], []
    for fold, held_rows in enumerate(np.array_split(np.arange(len(products)), product_folds)):
        kept = products.drop(index=held_rows).reset_index(drop=True)
        small = {**frames, "products": kept}
        small["order_details"] = frames["order_details"][
            frames["order_details"]["product_id"].isin(kept["product_id"])
        ].reset_index(drop=True)
        fold_seed = seed * 100 + fold
        alone = RelationalSynthesizer(database, seed=fold_seed).fit(small).sample(seed=fold_seed)
        learned, held, drawn = (
            _unkeyed(database, "products", f) for f in (kept, products.iloc[held_rows], alone["products"])
        )
        shares.append(
            dcr(learned, held, drawn, Schema(columns), seed=seed, return_distances=False)["dcr_share"]
        )
        learned, held = _folded(database, learned, drawn), _folded(database, held, drawn)
        folded.append(
            dcr(learned, held, drawn, Schema(columns), seed=seed, return_distances=False)["dcr_share"]
        )
    out["dcr_share"]["products"] = float(np.mean(shares))
    out["dcr_share"]["products (folded view)"] = float(np.mean(folded))
    out["products_fold_shares"] = shares
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument(
        "--reference",
        default="",
        help="tables to declare reference data (copied as is, excluded from the DCR gate), e.g. products",
    )
    parser.add_argument(
        "--product-folds",
        type=int,
        default=5,
        help="folds of the products' DCR share (each fifth held out once)",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    seeds = [int(s) for s in args.seeds.split(",")]
    reference = tuple(t for t in args.reference.split(",") if t)
    runs = [one_seed(seed, args.holdout, reference, args.product_folds) for seed in seeds]
    rows: list[list[str]] = []

    def add(name: str, values: list[float]) -> None:
        mean = sum(values) / len(values)
        rows.append([name, f"{mean:.3f}", f"{min(values):.3f}", f"{max(values):.3f}"])

    add("integrity problems", [r["integrity_problems"] for r in runs])
    for key in runs[0]["detection_auc"]:
        add(f"joined detection AUC {key}", [r["detection_auc"][key] for r in runs])
    for key in runs[0]["protected_view_auc"]:
        add(f"protected-view detection AUC {key}", [r["protected_view_auc"][key] for r in runs])
    for key in runs[0]["cardinality"]:
        add(f"cardinality {key}", [r["cardinality"][key] for r in runs])
    add("line price ~ product price (real)", [r["price_correlation_real"] for r in runs])
    add("line price ~ product price", [r["price_correlation"] for r in runs])
    for key in runs[0]["dcr_share"]:
        add(f"DCR share {key}", [r["dcr_share"][key] for r in runs])
    for name in reference:
        rows.append([f"DCR share {name} (reference, copied: not gated)", "-", "-", "-"])
    print(format_table(["measure", "mean", "min", "max"], rows))
    payload = {"args": vars(args), "environment": environment_info(), "runs": runs}
    for path in write_results("relational_quality", payload):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
