"""Child tables learned by ``bayesnet`` given their parent rows (the context)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from mirage.relational import RelationalSynthesizer
from mirage.relational._cardinality import cardinality_similarity
from tests.relational.schemas import deep_database, deep_frames, northwind_database, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_northwind_learned_by_bayesnet_keeps_every_key() -> None:
    frames = northwind_frames()
    database = northwind_database(frames)
    model = RelationalSynthesizer(database, engine="bayesnet", seed=0).fit(frames)
    synthetic = model.sample(seed=1)
    assert database.integrity_problems(synthetic) == []
    assert set(synthetic) == set(frames)
    for name, frame in synthetic.items():
        assert list(frame.columns) == list(frames[name].columns)
    details = model.engines_["order_details"]
    assert details is not None and details.context_schema_ is not None
    context_columns = {n["column"] for n in details.graph_["nodes"] if n.get("context")}
    assert context_columns == set(details.context_schema_.names)
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = RelationalSynthesizer.load(buffer.getvalue())
    for name, frame in loaded.sample(seed=1).items():
        pd.testing.assert_frame_equal(frame, synthetic[name])


def test_deep_database_learned_by_bayesnet_keeps_children_per_parent() -> None:
    frames = deep_frames()
    database = deep_database(frames)
    synthetic = RelationalSynthesizer(database, engine="bayesnet", seed=0).fit(frames).sample(seed=0)
    assert database.integrity_problems(synthetic) == []
    visits_purchases = database.foreign_keys[5]
    assert cardinality_similarity(frames, synthetic, visits_purchases) >= 0.85
