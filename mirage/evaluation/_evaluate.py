"""``mirage.evaluate``: every fidelity, utility and privacy score of a synthetic table in one report.

``real`` is the data the synthesizer learned, ``holdout`` real rows of the same population it never
saw.  Fidelity compares ``synthetic`` with ``real``; utility trains on ``synthetic`` and on ``real``
and tests both on ``holdout``; privacy asks whether ``synthetic`` sits closer to ``real`` than to
``holdout``.  Beside each fidelity score the report gives the *reference*: the same score with the
holdout in place of the synthetic data, the best a perfect generator can do at that sample size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from mirage._progress import report as report_progress
from mirage.errors import DataError, OptionError
from mirage.evaluation._align import align_to_real
from mirage.evaluation._coverage import coverage_scores
from mirage.evaluation._detection import detection_scores
from mirage.evaluation._directions import DIRECTIONS
from mirage.evaluation._features import FeatureEncoder
from mirage.evaluation._marginals import kway_marginal_accuracy
from mirage.evaluation._pairs import column_pair_scores
from mirage.evaluation._report import Report, clean_json
from mirage.evaluation._shapes import column_shape_scores
from mirage.evaluation._stats import is_finite_number
from mirage.evaluation._verdicts import judge
from mirage.schema import Schema, infer_schema

__all__ = ["DIRECTIONS", "Report", "evaluate"]


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: Schema | None = None,
    seed: int = 0,
    n_threads: int | None = 1,
    n_attacks: int = 1000,
    reference: bool = True,
    fairness: Mapping[str, Any] | None = None,
) -> Report:
    """Score ``synthetic`` against ``real`` (and ``holdout`` for utility, privacy and the reference).

    ``fairness`` ({"outcome": column, "protected": column, "positive": value (optional)}) adds the
    fairness section: outcome rates per protected group, their demographic parity difference and,
    with a holdout, the equalised-odds gap of a model trained on each (:mod:`mirage.evaluation._fairness`).
    """
    schema = schema or infer_schema(real)
    for name, frame in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        if frame is not None and len(frame) == 0:
            raise DataError(f"the {name} data has no rows")
    synthetic = align_to_real(real, synthetic, schema, "synthetic")
    if holdout is not None:
        holdout = align_to_real(real, holdout, schema, "holdout")
    if target is not None and target not in schema.names:
        raise OptionError(f"target {target!r} is not a column (columns: {', '.join(schema.names)})")
    if fairness is not None:
        from mirage.evaluation._fairness import resolve_fairness

        resolve_fairness(fairness, schema)  # before the long scores, not after them
    if target is not None and holdout is None:
        raise OptionError(
            f"the utility scores (target={target!r}) need a holdout: real rows the model never saw"
        )
    details: dict[str, Any] = {}
    runs = {
        "fidelity": True,
        "reference": holdout is not None and reference,
        "utility": holdout is not None and target is not None,
        "privacy": holdout is not None,
        "fairness": fairness is not None,
    }
    stages = [name for name, run in runs.items() if run]

    def stage(name: str) -> None:  # progress for the mirage report command (mirage._progress)
        report_progress("scoring", stages.index(name) if name in stages else len(stages), len(stages), name)

    stage("fidelity")
    features = FeatureEncoder(schema).fit(real)  # the detection's coding of the real rows, fitted once
    scores = _fidelity(real, synthetic, schema, seed, n_threads, features, details)
    ref: dict[str, float | None] = {}
    if holdout is not None and reference:
        stage("reference")
        ref = _fidelity(real, holdout, schema, seed, n_threads, features, {})
    elif reference:
        details["resampled_reference"] = _resampled_reference(real, len(synthetic), schema, seed)
    if holdout is not None and target is not None:
        stage("utility")
        from mirage.evaluation._utility import utility_scores

        utility = utility_scores(real, synthetic, holdout, target, schema, seed=seed, n_threads=n_threads)
        details["utility"] = utility
        scores.update(
            tstr=utility["tstr"],
            trtr=utility["trtr"],
            utility_ratio=utility["ratio"],
            importance_agreement=utility.get("importance_agreement"),
        )
        if "macro_f1" in utility.get("tstr_metrics", {}):
            scores["macro_f1_tstr"] = utility["tstr_metrics"]["macro_f1"]
            scores["macro_f1_trtr"] = utility["trtr_metrics"]["macro_f1"]
        ref.update(tstr=utility["trtr"], utility_ratio=1.0)
    if holdout is not None:
        stage("privacy")
        from mirage.evaluation._privacy import privacy_report

        privacy = privacy_report(
            real, holdout, synthetic, schema, seed=seed, n_attacks=n_attacks, return_distances=True
        )
        details["privacy"] = privacy
        dcr = privacy["dcr"]
        scores.update(
            dcr_share=dcr["dcr_share"],
            exact_copy_rate=dcr["exact_copy_rate"],
            holdout_copy_rate=dcr["holdout_copy_rate"],
            nndr_p5=dcr["nndr_p5"],
            mia_auc=privacy["membership_inference"]["auc"],
            singling_out_risk=privacy["singling_out"]["risk"],
            linkability_risk=privacy["linkability"]["risk"],
            inference_risk=privacy["inference"]["risk"],
        )
        ref.update(
            dcr_share=0.5,
            exact_copy_rate=dcr["holdout_copy_rate"],
            nndr_p5=dcr["nndr_holdout_p5"],
            mia_auc=0.5,
            singling_out_risk=0.0,
            linkability_risk=0.0,
            inference_risk=0.0,
        )
    if fairness is not None:
        stage("fairness")
        from mirage.evaluation._fairness import fairness_scores

        fair = fairness_scores(real, synthetic, holdout, fairness, schema, seed=seed, n_threads=n_threads)
        details["fairness"] = fair
        scores["parity_difference"] = fair["synthetic"]["parity_difference"]
        ref["parity_difference"] = fair["real"]["parity_difference"]
        if "model" in fair["synthetic"]:
            scores["equalised_odds_gap"] = fair["synthetic"]["model"]["equalised_odds_gap"]
            ref["equalised_odds_gap"] = fair["real"]["model"]["equalised_odds_gap"]
    stage("done")
    scores.update(_summary(scores, details))
    if ref:
        ref["fidelity"] = _fidelity_blend(ref)
    judged = judge(scores, ref, details)
    details["verdicts"] = {name: verdict.to_dict() for name, verdict in judged.items()}
    meta = {
        "rows": {
            "real": len(real),
            "synthetic": len(synthetic),
            "holdout": None if holdout is None else len(holdout),
        },
        "target": target,
        "fairness": None if fairness is None else dict(fairness),
        "seed": seed,
        "columns": [{"name": c.name, "kind": c.kind.value} for c in schema],
    }
    frames = {"real": real, "synthetic": synthetic}
    if holdout is not None:
        frames["holdout"] = holdout
    return Report(
        scores=clean_json(scores),
        reference=clean_json(ref),
        details=details,
        verdicts={name: verdict.text for name, verdict in judged.items()},
        meta=meta,
        frames=frames,
        schema=schema,
    )


def _fidelity(
    real: pd.DataFrame,
    other: pd.DataFrame,
    schema: Schema,
    seed: int,
    n_threads: int | None,
    features: FeatureEncoder,
    details: dict[str, Any],
) -> dict[str, float | None]:
    shapes = column_shape_scores(real, other, schema)
    pairs, pair_mean = column_pair_scores(real, other, schema)
    marginals = kway_marginal_accuracy(real, other, schema, seed=seed)
    detection = detection_scores(real, other, schema, seed=seed, n_threads=n_threads, features=features)
    coverage_table, coverage = coverage_scores(real, other, schema)
    details.update(
        column_shapes=shapes.to_dict(orient="records"),
        column_pairs=pairs.to_dict(orient="records"),
        marginals=marginals,
        detection=detection,
        coverage=coverage_table.to_dict(orient="records"),
    )
    column_shapes = float(shapes["score"].mean()) if len(shapes) else math.nan
    parts = [v for v in (column_shapes, pair_mean) if not math.isnan(v)]
    return {
        "quality": sum(parts) / len(parts) if parts else None,
        "column_shapes": column_shapes,
        "column_pairs": pair_mean,
        "marginal_k1": marginals.get("k1"),
        "marginal_k2": marginals.get("k2"),
        "marginal_k3": marginals.get("k3"),
        "marginal_accuracy": marginals.get("overall"),
        "detection_auc": detection["detection_auc"],
        "detection_score": detection["detection_score"],
        "coverage": coverage["coverage"],
        "tail_coverage": coverage["tail_coverage"],
    }


def _resampled_reference(
    real: pd.DataFrame, synthetic_rows: int, schema: Schema, seed: int
) -> dict[str, Any]:
    """Without a holdout, what a perfect generator's quality and marginal accuracy would be: the real
    rows split in random halves scored against each other (two splits), each score's shortfall from
    1 scaled by ``sqrt((1/n + 1/m) / (1/a + 1/b))`` from halves of ``a`` and ``b`` rows to ``n`` real
    against ``m`` synthetic ones (sampling noise).  On small tables a perfect generator's 3-way
    marginal accuracy is far below 1 (400 rows: about 0.5), so an absolute bar would call it
    distinguishable.  Resampling the real rows instead reads too high: a resample never falls in a
    cell the real rows leave empty."""
    n, m = len(real), synthetic_rows
    if n < 4:
        return {}
    scores: dict[str, list[float]] = {"quality": [], "marginal_accuracy": []}
    for split in range(2):
        shuffled = real.sample(frac=1.0, random_state=seed + split).reset_index(drop=True)
        first, second = shuffled.iloc[: n // 2], shuffled.iloc[n // 2 :].reset_index(drop=True)
        scale = math.sqrt((1 / n + 1 / m) / (1 / len(first) + 1 / len(second)))
        shapes = column_shape_scores(first, second, schema)
        _, pair_mean = column_pair_scores(first, second, schema)
        column_shapes = float(shapes["score"].mean()) if len(shapes) else math.nan
        parts = [v for v in (column_shapes, pair_mean) if not math.isnan(v)]
        marginals = kway_marginal_accuracy(first, second, schema, seed=seed).get("overall")
        for name, value in (
            ("quality", sum(parts) / len(parts) if parts else None),
            ("marginal_accuracy", marginals),
        ):
            if value is not None and is_finite_number(value):
                scores[name].append(1.0 - (1.0 - float(value)) * scale)
    return {name: sum(values) / len(values) for name, values in scores.items() if values}


def _summary(scores: dict[str, Any], details: dict[str, Any]) -> dict[str, float | None]:
    """Overall scores: fidelity is the mean of quality, marginal accuracy and detection score (also
    computed on the holdout for the reference); privacy is the weakest of its checks, an attack
    counted by the lower end of its 95% interval.  The verdicts and their levels come from the
    individual figures (:mod:`mirage.evaluation._verdicts`), not from these blends."""

    fidelity = _fidelity_blend(scores)
    utility = None
    if is_finite_number(scores.get("utility_ratio")):
        utility = max(0.0, min(1.0, scores["utility_ratio"]))
    privacy = None
    if is_finite_number(scores.get("dcr_share")):
        parts = [
            1.0 - 2.0 * max(0.0, scores["dcr_share"] - 0.5),
            1.0 - 2.0 * max(0.0, scores["mia_auc"] - 0.5),
            1.0 - max(0.0, scores["exact_copy_rate"] - scores["holdout_copy_rate"]),
            *(
                1.0 - details["privacy"][n]["risk_ci"][0]
                for n in ("singling_out", "linkability", "inference")
            ),
        ]
        privacy = max(0.0, min(parts))
    return {"fidelity": fidelity, "utility": utility, "privacy": privacy}


def _fidelity_blend(scores: dict[str, Any]) -> float | None:
    values = [
        scores[n]
        for n in ("quality", "marginal_accuracy", "detection_score")
        if is_finite_number(scores.get(n))
    ]
    return sum(values) / len(values) if values else None
