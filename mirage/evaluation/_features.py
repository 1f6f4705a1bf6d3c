"""A table as a feature matrix for the evaluation models (detection and utility).

The coding is fitted on the real data and applied unchanged to synthetic and holdout rows:

* numeric columns: float, NaN when missing;
* datetime columns: seconds since the epoch, NaN when missing;
* boolean columns: 0/1 in the sorted order of the real values (False < True), NaN otherwise;
* categorical columns: integer codes by real frequency (most frequent first) for at most
  ``max_categories - 1`` categories, one more code for the rest and for categories the real data
  lacks, NaN when missing; ``categorical_features`` marks them for
  ``HistGradientBoosting*(categorical_features=...)``;
* identifier, PII and text columns are dropped: they are replaced, never learned.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from mirage.errors import OptionError
from mirage.evaluation._columns import NUMERIC_KINDS, as_numbers, category_keys, require_present
from mirage.schema import Column, Kind, Schema, infer_schema

__all__ = ["FeatureEncoder", "gradient_boosting"]

MAX_CATEGORIES = 255  # HistGradientBoosting's limit on the codes of a categorical feature


class FeatureEncoder:
    """Fit on real rows, then ``transform`` any frame with the same columns to a float matrix."""

    def __init__(
        self,
        schema: Schema | None = None,
        *,
        exclude: Sequence[str] = (),
        max_categories: int = MAX_CATEGORIES,
    ) -> None:
        if not 2 <= max_categories <= MAX_CATEGORIES:
            raise OptionError(
                f"max_categories must be between 2 and {MAX_CATEGORIES}, got {max_categories!r}"
            )
        self.schema = schema
        self.exclude = tuple(exclude)
        self.max_categories = max_categories
        self.columns: list[Column] = []
        self.codes: dict[str, pd.Index] = {}

    @property
    def feature_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def categorical_features(self) -> np.ndarray:
        """Boolean mask over ``feature_names``: True for categorical (integer-coded) features."""
        return np.array([c.kind is Kind.CATEGORICAL for c in self.columns], dtype=bool)

    def fit(self, real: pd.DataFrame) -> FeatureEncoder:
        schema = self.schema if self.schema is not None else infer_schema(real)
        self.schema = schema
        self.columns = [c for c in schema if c.kind.learned and c.name not in self.exclude]
        require_present(real, self.columns, "real")
        self.codes = {}
        for column in self.columns:
            if column.kind in NUMERIC_KINDS:
                continue
            counts = category_keys(real[column.name]).dropna().value_counts()
            if column.kind is Kind.BOOLEAN:
                self.codes[column.name] = pd.Index(sorted(counts.index))
            else:
                order = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
                kept = [label for label, _ in order[: self.max_categories - 1]]
                self.codes[column.name] = pd.Index(kept)
        return self

    def transform(self, data: pd.DataFrame, which: str = "input") -> np.ndarray:
        """The ``(rows, features)`` float64 matrix of ``data`` under the fitted coding."""
        require_present(data, self.columns, which)
        out = np.empty((len(data), len(self.columns)), dtype="float64")
        for j, column in enumerate(self.columns):
            values = data[column.name]
            if column.kind in NUMERIC_KINDS:
                numbers = as_numbers(values, column)
                out[:, j] = np.where(np.isfinite(numbers), numbers, np.nan)
                continue
            keys = category_keys(values)
            index = self.codes[column.name]
            codes = index.get_indexer(pd.Index(keys)).astype("float64")
            if column.kind is Kind.CATEGORICAL:
                codes[codes < 0] = len(index)  # other and unseen categories share one code
            else:
                codes[codes < 0] = np.nan
            codes[keys.isna().to_numpy()] = np.nan
            out[:, j] = codes
        return out


def gradient_boosting(
    categorical: np.ndarray, seed: int, *, classifier: bool, labels: np.ndarray | None = None
) -> HistGradientBoostingClassifier | HistGradientBoostingRegressor:
    """The evaluation model: histogram gradient boosting with native categories, early stopping, a seed.

    Early stopping holds out a stratified 10% of the rows; it is off when the class ``labels`` it
    would be fitted on cannot be split that way (a class seen once, more classes than held-out rows).
    """
    model = HistGradientBoostingClassifier if classifier else HistGradientBoostingRegressor
    early = True
    if classifier and labels is not None:
        _, counts = np.unique(labels, return_counts=True)
        early = bool(counts.min() >= 2 and int(0.1 * labels.size) >= counts.size)
    return model(
        categorical_features=categorical if categorical.any() else None,
        max_iter=100,
        learning_rate=0.1,
        early_stopping=early,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=seed,
    )
