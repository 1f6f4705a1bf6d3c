from __future__ import annotations

import itertools

import pandas as pd
import pytest

from mirage.schema import Schema, infer_schema
from tests.conftest import shared_csv

Parts = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Schema]


@pytest.fixture(scope="session")
def adult_population() -> pd.DataFrame:
    """The whole shared Adult table (32,561 rows), for checks that need a large population."""
    from mirage.io import read_table

    return read_table(shared_csv("adult.csv"))


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


def population_parts(
    frame: pd.DataFrame, train_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A real table as the population: disjoint training, holdout and fresh rows, as many fresh rows
    as training rows, and ``train_fraction`` of the real rows (training + holdout) in training."""
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    n_train = int(len(shuffled) / (2.0 + (1.0 - train_fraction) / train_fraction))
    n_holdout = round(n_train * (1.0 - train_fraction) / train_fraction)
    cuts = [0, n_train, n_train + n_holdout, 2 * n_train + n_holdout]
    train, holdout, fresh = (shuffled.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(cuts))
    return train, holdout, fresh


def with_copies(train: pd.DataFrame, fresh: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """As many rows as ``train``: ``fraction`` of them copied from it (no row twice), the rest fresh."""
    n_copy = round(fraction * len(train))
    copied = train.sample(n=n_copy, random_state=seed + 1)
    mixed = pd.concat([copied, fresh.iloc[: len(train) - n_copy]], ignore_index=True)
    return mixed.sample(frac=1.0, random_state=seed + 2).reset_index(drop=True)
