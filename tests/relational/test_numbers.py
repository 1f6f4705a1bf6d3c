"""A number column inferred as categories of which no value reaches rare_min_count rows is learned as
a number in a related table: as categories, the whole column collapsed onto its most common value
(which columns turn: tests/encoding/test_categorical.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.relational import RelationalSynthesizer
from mirage.schema import Kind, infer_schema
from tests.relational.test_hidden import _database

LEVELS = [0, 5, 10, 15, 20, 25, 30, 35]
ROWS_PER_LEVEL = [9, 9, 8, 8, 7, 7, 6, 6]  # 60 rows, none of the levels held by 10


def _shop(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = sum(ROWS_PER_LEVEL)
    products = pd.DataFrame(
        {
            "product_id": np.arange(1, n + 1),
            "reorder_level": rng.permutation(np.repeat(LEVELS, ROWS_PER_LEVEL)),
            "grade": rng.choice(["a", "b"], n),
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
def test_a_number_column_with_no_frequent_value_is_drawn_as_a_number_not_one_value() -> None:
    frames = _shop()
    assert infer_schema(frames["products"])["reorder_level"].kind is Kind.CATEGORICAL
    model = RelationalSynthesizer(_database(frames), seed=0).fit(frames)
    learned = model.engines_["products"].schema_["reorder_level"]
    assert learned.kind is Kind.NUMERIC and learned.integer
    drawn = model.sample(seed=0)["products"]["reorder_level"]
    assert pd.api.types.is_integer_dtype(drawn.dtype)
    assert drawn.nunique() > 3  # as categories: 0 in every row
    assert drawn.between(min(LEVELS), max(LEVELS)).all()
