"""A relational model in one model file: JSON manifest and safetensors arrays, each table's engine under
its own prefix; ``mirage.load`` gives it back and it samples the same database."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import mirage
from mirage.errors import ModelFileError, OutputExistsError
from mirage.model_file import load_model
from mirage.relational import RelationalSynthesizer
from mirage.schema import DatabaseSchema
from tests.cli.helpers import error_line, invoke
from tests.relational.schemas import deep_database, deep_frames, northwind_database, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def fitted() -> tuple[DatabaseSchema, RelationalSynthesizer]:
    frames = deep_frames()
    database = deep_database(frames)
    return database, RelationalSynthesizer(
        database, engine="cart", params={"stores": {"smoothing": 0.5}}
    ).fit(frames)


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert set(a) == set(b)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_saved_and_loaded_model_samples_the_same_database(fitted, tmp_path: Path) -> None:
    database, model = fitted
    path = model.save(tmp_path / "shop.mirage")
    loaded = mirage.load(path)
    assert isinstance(loaded, RelationalSynthesizer)
    assert loaded.database.to_dict() == database.to_dict()
    assert loaded.params == {"stores": {"smoothing": 0.5}}
    synthetic = loaded.sample(seed=11)
    assert database.integrity_problems(synthetic) == []
    _same(synthetic, model.sample(seed=11))


def test_dates_that_follow_another_date_of_their_row_survive_the_model_file(tmp_path: Path) -> None:
    """Northwind's orders: required and shipped dates follow the order date (their offsets' start and
    the table's anchor are saved), so a loaded model samples what the fitted one does."""
    frames = northwind_frames()
    model = RelationalSynthesizer(northwind_database(frames)).fit(frames)
    assert model.plans_["orders"].offsets["shipped_date"].start == "order_date"
    loaded = RelationalSynthesizer.load(model.save(tmp_path / "northwind.mirage"))
    assert loaded.plans_["orders"].anchor == model.plans_["orders"].anchor == "order_date"
    assert loaded.plans_["orders"].offsets == model.plans_["orders"].offsets
    synthetic = loaded.sample(seed=3)
    assert loaded.database.integrity_problems(synthetic) == []
    _same(synthetic, model.sample(seed=3))


def test_the_training_record_survives_the_model_file(fitted, tmp_path: Path) -> None:
    database, model = fitted
    frames = deep_frames()
    held = RelationalSynthesizer(database).fit(frames, holdout=0.25, split_seed=4)
    held.training_["source"] = "sqlite:////data/shop.db"
    loaded = RelationalSynthesizer.load(held.save(tmp_path / "held.mirage"))
    assert loaded.training_ == held.training_
    assert loaded.training_["holdout_fraction"] == 0.25 and loaded.training_["split_seed"] == 4
    # fitted on all rows: no holdout recorded, only the tables too small to learn unnoticed
    assert RelationalSynthesizer.load(model.save(tmp_path / "plain.mirage")).training_ == {
        "small_tables": {"items": 40, "regions": 60}
    }


def test_the_file_is_a_manifest_and_prefixed_arrays_only(fitted, tmp_path: Path) -> None:
    _, model = fitted
    path = model.save(tmp_path / "shop.mirage")
    assert isinstance(path, Path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["arrays.safetensors", "manifest.json"]
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["engine"] == "relational"
    assert list(manifest["state"]["tables"]) == model.database.order()
    purchases = manifest["state"]["tables"]["purchases"]
    assert purchases["engine"]["engine"] == "cart"
    assert purchases["plan"]["primary"] == "purchases(visit_id) -> visits(visit_id)"
    from safetensors.numpy import load

    with zipfile.ZipFile(path) as zf:
        arrays = load(zf.read("arrays.safetensors"))
    assert arrays and all(name.split("/")[0] in model.database.tables for name in arrays)


def test_streams_and_bytes_and_no_overwrite_without_force(fitted, tmp_path: Path) -> None:
    database, model = fitted
    buffer = io.BytesIO()
    model.save(buffer)
    from_bytes = mirage.load(buffer.getvalue())
    from_stream = mirage.load(io.BytesIO(buffer.getvalue()))
    assert isinstance(from_bytes, RelationalSynthesizer) and isinstance(from_stream, RelationalSynthesizer)
    _same(from_bytes.sample(seed=2), from_stream.sample(seed=2))
    assert database.integrity_problems(from_bytes.sample(seed=2)) == []
    path = tmp_path / "shop.mirage"
    model.save(path)
    with pytest.raises(OutputExistsError):
        model.save(path)
    model.save(path, force=True)


def test_single_table_and_relational_files_are_told_apart(fitted, tmp_path: Path, titanic) -> None:
    _, model = fitted
    path = model.save(tmp_path / "shop.mirage")
    with pytest.raises(ModelFileError, match="unknown engine 'relational'"):
        load_model(path)
    single = mirage.fit(titanic, engine="cart").save(tmp_path / "titanic.mirage")
    with pytest.raises(ModelFileError, match="holds a single-table model"):
        RelationalSynthesizer.load(single)
    result = invoke("sample", path, "-n", "5")
    assert result.exit_code == 2
    assert "holds a model of several related tables" in error_line(result)


def test_a_broken_file_names_what_is_wrong(fitted, tmp_path: Path) -> None:
    _, model = fitted
    buffer = io.BytesIO()
    model.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    manifest = json.loads(source.read("manifest.json"))
    del manifest["state"]["tables"]["visits"]
    edited = io.BytesIO()
    with zipfile.ZipFile(edited, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("arrays.safetensors", source.read("arrays.safetensors"))
    with pytest.raises(ModelFileError, match="no entry for table 'visits'"):
        RelationalSynthesizer.load(edited.getvalue())
