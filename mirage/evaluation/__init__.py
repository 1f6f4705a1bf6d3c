"""Fidelity, utility and privacy scores for synthetic data, and the report that shows them."""

from mirage.evaluation._evaluate import DIRECTIONS, Report, evaluate
from mirage.evaluation._holdout import recover_split, split_holdout
from mirage.evaluation._relational import (
    RelationalScores,
    cardinality_similarity,
    denormalise,
    evaluate_relational,
    parent_child_correlations,
    protected_view,
    referential_integrity,
    relational_detection,
)
from mirage.evaluation._relational_report import DatabaseReport, evaluate_database
from mirage.evaluation._shapes import column_shape_scores, ks_complement, tv_complement

__all__ = [
    "DIRECTIONS",
    "DatabaseReport",
    "RelationalScores",
    "Report",
    "cardinality_similarity",
    "column_shape_scores",
    "denormalise",
    "protected_view",
    "evaluate",
    "evaluate_database",
    "evaluate_relational",
    "ks_complement",
    "parent_child_correlations",
    "recover_split",
    "referential_integrity",
    "relational_detection",
    "split_holdout",
    "tv_complement",
]
