"""A fitted model keeps its own copy of the schemas it was given: editing them afterwards changes nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mirage.engines import ENGINES
from mirage.schema import Kind, infer_schema

FAST: dict[str, dict[str, Any]] = {"argn": {"max_epochs": 3}}


def table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"x": rng.normal(size=300), "g": rng.choice(["a", "b", "c"], 300)})


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_editing_the_schema_after_fit_leaves_the_model_as_it_was(name: str) -> None:
    frame = table()
    schema = infer_schema(frame)
    model = ENGINES[name](**FAST.get(name, {})).fit(frame, schema)
    fitted, before = model.schema_.to_json(), model.sample(200, seed=1)
    assert model.schema_ is not schema
    schema["x"].maximum = 0.0  # would clip every draw above 0
    schema["g"].kind = Kind.TEXT
    schema.locale = "fr_FR"
    assert model.schema_.to_json() == fitted
    assert all(codec.column is model.schema_[codec.column.name] for codec in model.encoder_.codecs)
    pd.testing.assert_frame_equal(model.sample(200, seed=1), before)


@pytest.mark.parametrize("name", [n for n in sorted(ENGINES) if ENGINES.unchecked(n).get_tags().context])
def test_editing_the_context_schema_after_fit_leaves_the_model_as_it_was(name: str) -> None:
    frame = table()
    context = pd.DataFrame({"parent_size": frame["x"] * 2.0 + 1.0})
    context_schema = infer_schema(context)
    model = ENGINES[name](**FAST.get(name, {})).fit(
        frame[["g"]], context=context, context_schema=context_schema
    )
    assert model.context_schema_ is not None and model.context_schema_ is not context_schema
    fitted, before = model.context_schema_.to_json(), model.sample(context=context, seed=1)
    context_schema["parent_size"].kind = Kind.IDENTIFIER
    assert model.context_schema_.to_json() == fitted
    pd.testing.assert_frame_equal(model.sample(context=context, seed=1), before)
