"""The same model saves to the same bytes: twice, after a load, and after a refit with the same seed
and data (for the engines whose fit is deterministic), so model files can be hashed, cached and
compared."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import mirage
from mirage._model_archive import ZIP_DATE
from mirage.model_file import load_model, model_bytes
from mirage.scale import fit_partitions

# kde too, but its fit takes 10 s here; gmm and bayesnet run in the slow step
DETERMINISTIC = (
    "copula",
    "cart",
    pytest.param("gmm", marks=pytest.mark.slow),
    pytest.param("bayesnet", marks=pytest.mark.slow),
)


@pytest.fixture(scope="module")
def rows(titanic: pd.DataFrame) -> pd.DataFrame:
    return titanic.head(400)


def test_zip_members_carry_a_fixed_date_not_the_time_of_saving(rows: pd.DataFrame) -> None:
    model = mirage.fit(rows, engine="copula")
    with zipfile.ZipFile(io.BytesIO(model_bytes(model))) as zf:
        assert {info.date_time for info in zf.infolist()} == {ZIP_DATE}


@pytest.mark.parametrize("engine", DETERMINISTIC)
def test_the_same_model_saves_to_the_same_bytes(rows: pd.DataFrame, engine: str, tmp_path: Path) -> None:
    model = mirage.fit(rows, engine=engine, seed=3)
    saved = model_bytes(model)
    assert model_bytes(model) == saved
    model.save(tmp_path / "m.mirage")
    assert (tmp_path / "m.mirage").read_bytes() == saved  # a path and a stream: the same file
    assert model_bytes(load_model(saved)) == saved
    assert model_bytes(mirage.fit(rows, engine=engine, seed=3)) == saved


def test_a_partitioned_fit_repeated_saves_to_the_same_bytes(rows: pd.DataFrame, tmp_path: Path) -> None:
    for i, start in enumerate(range(0, len(rows), 150)):
        rows.iloc[start : start + 150].to_parquet(tmp_path / f"part-{i}.parquet")
    pattern = str(tmp_path / "part-*.parquet")
    assert model_bytes(fit_partitions(pattern)) == model_bytes(fit_partitions(pattern))
