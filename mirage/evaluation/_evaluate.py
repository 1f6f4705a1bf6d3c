"""``mirage.evaluate``: every fidelity, utility and privacy score of a synthetic table in one report.

``real`` is the data the synthesizer learned, ``holdout`` real rows of the same population it never
saw.  Fidelity compares ``synthetic`` with ``real``; utility trains on ``synthetic`` and on ``real``
and tests both on ``holdout``; privacy asks whether ``synthetic`` sits closer to ``real`` than to
``holdout``.  Beside each fidelity score the report gives the *reference*: the same score with the
holdout in place of the synthetic data, the best a perfect generator can do at that sample size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mirage._progress import report as report_progress
from mirage.errors import DataError, OptionError
from mirage.evaluation._coverage import coverage_scores
from mirage.evaluation._detection import detection_scores
from mirage.evaluation._marginals import kway_marginal_accuracy
from mirage.evaluation._pairs import column_pair_scores
from mirage.evaluation._shapes import column_shape_scores
from mirage.evaluation._verdicts import judge
from mirage.schema import Schema, infer_schema

__all__ = ["DIRECTIONS", "Report", "evaluate"]

# Score name -> (section, direction, meaning).  "higher"/"lower" is the better direction;
# "half" means 0.5 is ideal and higher is worse.
DIRECTIONS: dict[str, tuple[str, str, str]] = {
    "quality": ("fidelity", "higher", "mean of column shapes and column pairs (SDMetrics' quality score)"),
    "column_shapes": ("fidelity", "higher", "mean per-column 1-KS / 1-TVD"),
    "column_pairs": ("fidelity", "higher", "mean pair correlation / contingency similarity"),
    "marginal_k1": ("fidelity", "higher", "1-way marginal accuracy on discretised columns"),
    "marginal_k2": ("fidelity", "higher", "2-way marginal accuracy"),
    "marginal_k3": ("fidelity", "higher", "3-way marginal accuracy"),
    "marginal_accuracy": ("fidelity", "higher", "mean of the 1-, 2- and 3-way accuracies"),
    "detection_auc": ("fidelity", "half", "ROC AUC of a classifier telling real from synthetic (0.5 ideal)"),
    "detection_score": ("fidelity", "higher", "1 - 2 * max(0, detection_auc - 0.5)"),
    "coverage": ("fidelity", "higher", "share of real categories and ranges reached"),
    "tail_coverage": (
        "fidelity",
        "higher",
        "share of real outlier mass (past the 1%/99% quantiles) reached; value protection emits nothing past "
        "the 10th smallest or largest training value, so tables under about 1,000 rows read low by design",
    ),
    "tstr": ("utility", "higher", "train on synthetic, test on real holdout"),
    "trtr": ("utility", "higher", "train on real, test on real holdout"),
    "utility_ratio": ("utility", "higher", "tstr / trtr"),
    "macro_f1_tstr": ("utility", "higher", "macro F1, train on synthetic"),
    "macro_f1_trtr": ("utility", "higher", "macro F1, train on real"),
    "importance_agreement": (
        "utility",
        "higher",
        "Spearman correlation of the feature importances of the models trained on synthetic and on real "
        "rows (1: the same features matter, 0: unrelated)",
    ),
    "dcr_share": (
        "privacy",
        "half",
        "how often a synthetic row's closest real row is a training row, rescaled so that chance reads 0.5 "
        "and always reads 1 (0.5 ideal, bar 0.53)",
    ),
    "exact_copy_rate": ("privacy", "lower", "share of synthetic rows identical to a training row"),
    "holdout_copy_rate": ("privacy", "lower", "share of holdout rows identical to a training row (chance)"),
    "nndr_p5": ("privacy", "higher", "5th percentile of nearest-neighbour distance ratios"),
    "mia_auc": ("privacy", "half", "membership-inference ROC AUC (0.5 ideal)"),
    "singling_out_risk": ("privacy", "lower", "Anonymeter-style singling-out risk"),
    "linkability_risk": ("privacy", "lower", "Anonymeter-style linkability risk"),
    "inference_risk": ("privacy", "lower", "Anonymeter-style attribute-inference risk (worst column)"),
    "fidelity": ("summary", "higher", "mean of quality, marginal_accuracy and detection_score"),
    "utility": ("summary", "higher", "utility_ratio, clipped to [0, 1]"),
    "privacy": ("summary", "higher", "the weakest privacy check on a 0-1 scale (1: no sign of a leak)"),
}


@dataclass
class Report:
    """Scores (a flat dict), the details behind them, and the verdicts; written as HTML or JSON.

    ``verdicts`` holds one sentence per section; ``details["verdicts"]`` the same verdicts with their
    level (good, attention, bad or na), headline and reasons apart."""

    scores: dict[str, float | None]
    reference: dict[str, float | None]
    details: dict[str, Any]
    verdicts: dict[str, str]
    meta: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    schema: Schema | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": self.scores,
            "reference": self.reference,
            "verdicts": self.verdicts,
            "directions": {
                k: {"section": s, "better": d, "meaning": m} for k, (s, d, m) in DIRECTIONS.items()
            },
            "meta": self.meta,
            "details": self.details,
        }

    def to_json(self, path: str | None = None, *, force: bool = False) -> str:
        import json

        text = json.dumps(_clean(self.to_dict()), indent=2, allow_nan=False)
        if path is not None:
            _write_text(path, text, force=force)
        return text

    def to_html(self, path: str | None = None, *, force: bool = False) -> str:
        from mirage.evaluation._html import render_html

        text = render_html(self)
        if path is not None:
            _write_text(path, text, force=force)
        return text

    def check(
        self, fail_under: dict[str, float] | None = None, fail_over: dict[str, float] | None = None
    ) -> list[str]:
        """The failed gates as readable lines; an empty list means every gate passed."""
        failures = []
        for word, gates in (("under", fail_under or {}), ("over", fail_over or {})):
            for name, threshold in gates.items():
                if name not in DIRECTIONS:
                    raise OptionError(f"unknown score {name!r} in a gate (known: {', '.join(DIRECTIONS)})")
                value = self.scores.get(name)
                if value is None:
                    failures.append(f"{name} was not computed (needs a holdout or a target)")
                elif (value < threshold) if word == "under" else (value > threshold):
                    failures.append(f"{name} = {value:.4f} is {word} {threshold}")
        return failures


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
) -> Report:
    """Score ``synthetic`` against ``real`` (and ``holdout`` for utility, privacy and the reference)."""
    schema = schema or infer_schema(real)
    for name, frame in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        if frame is not None and len(frame) == 0:
            raise DataError(f"the {name} data has no rows")
    if target is not None and target not in schema.names:
        raise OptionError(f"--target {target!r} is not a column (columns: {', '.join(schema.names)})")
    if target is not None and holdout is None:
        raise OptionError("utility (--target) needs a holdout: real rows the model never saw")
    details: dict[str, Any] = {}
    runs = {
        "fidelity": True,
        "reference": holdout is not None and reference,
        "utility": holdout is not None and target is not None,
        "privacy": holdout is not None,
    }
    stages = [name for name, run in runs.items() if run]

    def stage(name: str) -> None:  # progress for the mirage report command (mirage._progress)
        report_progress("scoring", stages.index(name) if name in stages else len(stages), len(stages), name)

    stage("fidelity")
    scores = _fidelity(real, synthetic, schema, seed, n_threads, details)
    ref: dict[str, float | None] = {}
    if holdout is not None and reference:
        stage("reference")
        ref = _fidelity(real, holdout, schema, seed, n_threads, {})
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
        "seed": seed,
        "columns": [{"name": c.name, "kind": c.kind.value} for c in schema],
    }
    frames = {"real": real, "synthetic": synthetic}
    if holdout is not None:
        frames["holdout"] = holdout
    return Report(
        scores=_clean(scores),
        reference=_clean(ref),
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
    details: dict[str, Any],
) -> dict[str, float | None]:
    shapes = column_shape_scores(real, other, schema)
    pairs, pair_mean = column_pair_scores(real, other, schema)
    marginals = kway_marginal_accuracy(real, other, schema, seed=seed)
    detection = detection_scores(real, other, schema, seed=seed, n_threads=n_threads)
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


def _summary(scores: dict[str, Any], details: dict[str, Any]) -> dict[str, float | None]:
    """Overall scores: fidelity is the mean of quality, marginal accuracy and detection score (also
    computed on the holdout for the reference); privacy is the weakest of its checks, an attack
    counted by the lower end of its 95% interval.  The verdicts and their levels come from the
    individual figures (:mod:`mirage.evaluation._verdicts`), not from these blends."""

    fidelity = _fidelity_blend(scores)
    utility = None
    if _number(scores.get("utility_ratio")):
        utility = max(0.0, min(1.0, scores["utility_ratio"]))
    privacy = None
    if _number(scores.get("dcr_share")):
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
        scores[n] for n in ("quality", "marginal_accuracy", "detection_score") if _number(scores.get(n))
    ]
    return sum(values) / len(values) if values else None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, numpy scalars plain Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_text(path: str, text: str, *, force: bool) -> None:
    from mirage.io import atomic_path

    with atomic_path(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
