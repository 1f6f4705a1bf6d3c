"""The public conformance suite (``mirage.testing``) on every registered engine and tables of two shapes."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
import pytest

from mirage.engines import ENGINES, Synthesizer
from mirage.testing import ENGINE_CHECKS, check_engine, engine_checks
from tests.conformance import FAST
from tests.conftest import FIXTURES

# every engine with its default hyperparameters (the neural ones with bounded training)
PARAMS: dict[str, dict[str, object]] = FAST


def mixed_table(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """Every learned kind with missing values, plus a key: no column name of Adult or titanic."""
    rng = np.random.default_rng(seed)
    level = rng.choice(["low", "mid", "high"], rows, p=[0.5, 0.3, 0.2])
    amount = np.round(rng.gamma(2.0, 50.0, rows) * np.where(level == "high", 3, 1), 2)
    return pd.DataFrame(
        {
            "ref": [f"R{i:05d}" for i in range(rows)],
            "level": level,
            "amount": np.where(rng.random(rows) < 0.1, np.nan, amount),
            "count": rng.poisson(3, rows),
            "flag": rng.random(rows) < 0.3,
            "opened": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D"),
        }
    )


TABLES: dict[str, Callable[[], pd.DataFrame]] = {
    "titanic": lambda: pd.read_csv(FIXTURES / "titanic.csv"),
    "mixed": mixed_table,
}


@cache
def checks(engine: str, table: str) -> dict[str, Callable[[], None]]:
    return engine_checks(ENGINES[engine], TABLES[table](), params=PARAMS.get(engine))


@pytest.mark.parametrize("check", ENGINE_CHECKS)
@pytest.mark.parametrize("table", sorted(TABLES))
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_engine_passes_every_check(engine: str, table: str, check: str) -> None:
    checks(engine, table)[check]()


class Careless(Synthesizer):
    """An engine that forgets to copy the frame it learns and does not declare its hyperparameter."""

    name = "careless"

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    def _fit(self, parts, subcolumns, rng):  # type: ignore[no-untyped-def]
        self.rows_ = {k: v.copy() for k, v in parts.items()}

    def _sample(self, n, rng):  # type: ignore[no-untyped-def]
        index = rng.integers(0, len(next(iter(self.rows_.values()))), n)
        return {k: v[index] for k, v in self.rows_.items()}


def test_check_engine_names_the_check_an_engine_fails() -> None:
    with pytest.raises(
        AssertionError, match="Careless: init_stores_keyword_only_hyperparameters: params declares"
    ):
        check_engine(Careless, mixed_table())
    with pytest.raises(AssertionError, match="copies"):
        engine_checks(Careless, mixed_table().drop(columns="ref"))[
            "check_copies_no_more_often_than_unseen_rows"
        ]()


def test_check_engine_needs_a_table_to_check_on() -> None:
    from mirage.errors import DataError

    with pytest.raises(DataError, match="at least 50 rows"):
        check_engine(ENGINES["copula"], mixed_table(20))
