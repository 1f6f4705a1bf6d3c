"""A child table learned given its parent row: the engines' context conditioning.

``fit_given`` learns ``data`` given ``context`` (a frame aligned row by row with it, learned kinds
only); ``sample_given`` draws one row per context row, given that row.  Stand-in until the engines'
own context conditioning lands: the engine learns the context and the row jointly, draws twice as
many joint rows and gives each context row the nearest unused draw on the context columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage.engines import Synthesizer
from mirage.relational._matching import feature_matrix, match_rows
from mirage.schema import Schema

__all__ = ["fit_given", "sample_given"]

DRAWS_PER_ROW = 2


def fit_given(
    engine: Synthesizer, data: pd.DataFrame, schema: Schema, context: pd.DataFrame, context_schema: Schema
) -> None:
    joint = pd.concat([context.reset_index(drop=True), data.reset_index(drop=True)], axis=1)
    engine.fit(joint, Schema([*context_schema.columns, *schema.columns], locale=schema.locale))


def sample_given(engine: Synthesizer, context: pd.DataFrame, seed: int, own: list[str]) -> pd.DataFrame:
    n = len(context)
    drawn = engine.sample(DRAWS_PER_ROW * max(n, 1), seed=seed).reset_index(drop=True)
    child, parent = feature_matrix(context.reset_index(drop=True), drawn[list(context.columns)])
    rows = match_rows(child, parent, np.random.default_rng(seed), capacity=np.ones(len(drawn), np.int64))
    return drawn[own].iloc[rows].reset_index(drop=True)
