"""``engine="auto"`` on a database: each table's engine picked as one table's would be, a child table's
among the engines that condition on its parent row, and recorded in the model file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mirage
from mirage.engines import get_engine
from mirage.relational import DATABASE_PARAMS, RelationalSynthesizer
from tests.relational.schemas import northwind_database, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_auto_picks_each_tables_engine_keeps_the_keys_and_survives_the_model_file(tmp_path: Path) -> None:
    frames = northwind_frames()
    database = northwind_database(frames)
    model = RelationalSynthesizer(database, engine="auto", seed=1).fit(frames)
    for name, engine in model.engines_.items():
        if engine is None:
            continue
        picked = engine.training_["auto"]
        assert picked["reason"].startswith(f"{len(frames[name]):,} rows")
        if database.parents(name):
            assert get_engine(engine.name).get_tags().context and "given a parent row" in picked["reason"]
        else:
            assert engine.name in ("bayesnet", "gmm") and set(picked["detection_auc"]) == {"bayesnet", "gmm"}
        # a candidate takes the database's defaults, as a table learned by that engine by name does
        for param, value in DATABASE_PARAMS.get(engine.name, {}).items():
            assert getattr(engine, param) == value
    synthetic = model.sample(seed=2)
    assert database.integrity_problems(synthetic) == []
    loaded = mirage.load(model.save(tmp_path / "shop.mirage"))
    assert {n: e.name for n, e in loaded.engines_.items() if e} == {
        n: e.name for n, e in model.engines_.items() if e
    }
    again = loaded.sample(seed=2)
    for name in synthetic:
        pd.testing.assert_frame_equal(synthetic[name], again[name])
