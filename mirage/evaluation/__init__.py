"""Fidelity, utility and privacy scores for synthetic data, and the report that shows them."""

from mirage.evaluation._evaluate import DIRECTIONS, Report, evaluate
from mirage.evaluation._holdout import recover_split, split_holdout
from mirage.evaluation._shapes import column_shape_scores, ks_complement, tv_complement

__all__ = [
    "DIRECTIONS",
    "Report",
    "column_shape_scores",
    "evaluate",
    "ks_complement",
    "recover_split",
    "split_holdout",
    "tv_complement",
]
