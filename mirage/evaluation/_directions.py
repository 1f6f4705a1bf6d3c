"""What each score of the report means: its section, its better direction and a one-line meaning."""

from __future__ import annotations

__all__ = ["DIRECTIONS"]

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
        "share of real outlier mass (past the 1%/99% quantiles) reached; value protection emits no real "
        "value past the 10th smallest or largest training value but draws a smooth tail past them, so "
        "small tables and categories read lower",
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
    "parity_difference": (
        "fairness",
        "lower",
        "demographic parity difference: the largest gap in the positive-outcome rate between protected "
        "groups (reference: the real rows)",
    ),
    "equalised_odds_gap": (
        "fairness",
        "lower",
        "the largest gap in true- or false-positive rate between protected groups of a model trained on "
        "the rows and tested on the real holdout (reference: trained on the real rows)",
    ),
    "fidelity": ("summary", "higher", "mean of quality, marginal_accuracy and detection_score"),
    "utility": ("summary", "higher", "utility_ratio, clipped to [0, 1]"),
    "privacy": ("summary", "higher", "the weakest privacy check on a 0-1 scale (1: no sign of a leak)"),
}
