"""A table too small for the memorisation guard to read (under 100 rows) learns its numeric categories
(a product's reorder level: 0, 5, ..., 30) as numbers: rare-category protection would fold most of
their values into the few that the training rows over-represent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.relational import RelationalSynthesizer
from mirage.relational._synthesizer import SMALL_TABLE_ROWS
from mirage.schema import Kind
from tests.relational.test_hidden import _database


def _shop(n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    products = pd.DataFrame(
        {
            "product_id": np.arange(1, n + 1),
            "reorder_level": rng.choice(
                [0, 5, 10, 15, 20, 25, 30], n, p=[0.3, 0.1, 0.1, 0.15, 0.1, 0.15, 0.1]
            ),
            "discontinued": rng.choice([0, 1], n, p=[0.85, 0.15]),
            "grade": rng.choice(["a", "b", "c"], n),
            "price": rng.lognormal(2, 0.5, n).round(2),
        }
    )
    lines = pd.DataFrame(
        {
            "line_id": np.arange(6 * n),
            "product_id": rng.integers(1, n + 1, 6 * n),
            "qty": rng.integers(1, 5, 6 * n),
        }
    )
    return {"products": products, "lines": lines}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_small_tables_numeric_categories_are_learned_as_numbers() -> None:
    frames = _shop(60)
    assert pd.api.types.is_integer_dtype(frames["products"]["reorder_level"].dtype)
    database = _database(frames)
    assert database["products"].schema["reorder_level"].kind is Kind.CATEGORICAL
    model = RelationalSynthesizer(database, seed=0).fit(frames)
    learned = model.engines_["products"].schema_
    assert learned["reorder_level"].kind is Kind.NUMERIC and learned["reorder_level"].integer
    assert learned["discontinued"].kind is Kind.CATEGORICAL  # two values: a category still
    assert learned["grade"].kind is Kind.CATEGORICAL  # text: a category still
    synthetic = model.sample(seed=1)
    level = synthetic["products"]["reorder_level"]
    assert level.dtype == frames["products"]["reorder_level"].dtype
    assert level.between(0, 30).all()
    # folded as a category, the 60 rows' levels pile onto the one or two that clear the rare count
    assert level.nunique() >= 5
    assert database.integrity_problems(synthetic) == []


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_declared_categories_and_tables_the_guard_can_read_keep_their_categories() -> None:
    frames = _shop(60)
    declared = _database(frames, reorder_level={"categories": [0, 5, 10, 15, 20, 25, 30]})
    model = RelationalSynthesizer(declared, seed=0).fit(frames)
    assert model.engines_["products"].schema_["reorder_level"].kind is Kind.CATEGORICAL
    frames = _shop(SMALL_TABLE_ROWS)
    model = RelationalSynthesizer(_database(frames), seed=0).fit(frames)
    assert model.engines_["products"].schema_["reorder_level"].kind is Kind.CATEGORICAL
    assert model.engines_["lines"].schema_["qty"].kind is _database(frames)["lines"].schema["qty"].kind
