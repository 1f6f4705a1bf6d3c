from __future__ import annotations

import pandas as pd

from mirage.schema import Schema, infer_schema

Parts = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Schema]


def disjoint_parts(adult: pd.DataFrame, seed: int) -> Parts:
    """Three disjoint parts of the Adult sample: train, holdout and a 'synthetic' set of fresh rows."""
    shuffled = adult.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    train, holdout, fresh = shuffled.iloc[:1300], shuffled.iloc[1300:2600], shuffled.iloc[2600:3900]
    return (
        train.reset_index(drop=True),
        holdout.reset_index(drop=True),
        fresh.reset_index(drop=True),
        infer_schema(train),
    )
