"""Fidelity, utility and privacy scores for synthetic data."""

from mirage.evaluation._shapes import column_shape_scores, ks_complement, tv_complement

__all__ = ["column_shape_scores", "ks_complement", "tv_complement"]
