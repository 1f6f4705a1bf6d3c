"""``gmm`` learns child tables: each drawn given its parent row, keys intact."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from mirage.relational import RelationalSynthesizer
from mirage.relational._cardinality import cardinality_similarity
from tests.relational.schemas import northwind_database, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_northwind_learned_with_gmm_keeps_every_key_and_its_own_columns() -> None:
    frames = northwind_frames()
    database = northwind_database(frames)
    model = RelationalSynthesizer(database, engine="gmm", seed=0).fit(frames)
    assert {engine.name for engine in model.engines_.values() if engine is not None} == {"gmm"}
    assert model.engines_["order_details"] is not None
    assert model.engines_["order_details"].context_schema_ is not None  # drawn given its order
    synthetic = model.sample(seed=0)
    assert database.integrity_problems(synthetic) == []
    assert set(synthetic) == set(frames)
    details = synthetic["order_details"]
    assert len(details) > 0 and details["quantity"].notna().all()
    for fk in database.foreign_keys:
        assert cardinality_similarity(frames, synthetic, fk) >= 0.8, fk.name
    # the second parent is matched: a detail's unit price follows its product's
    joined = details.merge(synthetic["products"], on="product_id", suffixes=("", "_product"))
    assert np.corrcoef(joined["unit_price"], joined["unit_price_product"])[0, 1] > 0.5
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = RelationalSynthesizer.load(buffer.getvalue())
    for name, frame in loaded.sample(seed=0).items():
        pd.testing.assert_frame_equal(frame, synthetic[name])
