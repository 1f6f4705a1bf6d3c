"""``rare_min_count`` is an encoding option of ``fit`` (every engine alike), not an engine hyperparameter."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._manifest import DIGEST_KEY, content_digests
from mirage.encoding import EncodingOptions
from mirage.engines import ENGINES
from mirage.errors import ModelFileError, OptionError
from mirage.schema import infer_schema
from tests.conftest import FIXTURES

ENGINE_NAMES = sorted(ENGINES)
FAST: dict[str, dict[str, Any]] = {"argn": {"max_epochs": 3}, "dp": {"epsilon": 1000.0}}


def table() -> pd.DataFrame:
    """``scarce`` is held by 4 rows: kept with rare_min_count 3, hidden behind _RARE_ at the default 10."""
    rng = np.random.default_rng(0)
    kind = np.array(["common"] * 300 + ["other"] * 196 + ["scarce"] * 4)
    return pd.DataFrame({"kind": kind, "x": rng.normal(size=500)})


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_rare_min_count_is_an_option_of_fit(name: str) -> None:
    frame = table()
    default = ENGINES[name](**FAST.get(name, {})).fit(frame)
    assert default.encoding_ == EncodingOptions(rare_min_count=10)
    assert "scarce" not in set(default.sample(3000, seed=1)["kind"])
    model = ENGINES[name](**FAST.get(name, {})).fit(frame, encoding_options=EncodingOptions(rare_min_count=3))
    assert model.encoding_.rare_min_count == 3
    assert "scarce" in set(model.sample(3000, seed=1)["kind"])
    assert "rare_min_count" not in model.get_params()
    loaded = mirage.load(_bytes(model))
    assert loaded.encoding_.rare_min_count == 3
    pd.testing.assert_frame_equal(loaded.sample(500, seed=2), model.sample(500, seed=2))


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_rare_min_count_as_a_hyperparameter_says_where_it_went(name: str) -> None:
    moved = rf"rare_min_count is an encoding option, not a hyperparameter of the {name} engine: pass "
    with pytest.raises(OptionError, match=moved + r"fit\(\.\.\., encoding_options=EncodingOptions"):
        ENGINES[name](rare_min_count=3)
    with pytest.raises(OptionError, match=moved):
        ENGINES[name]().set_params(rare_min_count=3)
    with pytest.raises(OptionError, match=moved):
        mirage.fit(table(), engine=name, rare_min_count=3)


def test_bad_encoding_options_are_clear_errors() -> None:
    engine = ENGINES["copula"]()
    with pytest.raises(OptionError, match="rare_min_count must be an integer >= 1, got 0"):
        engine.fit(table(), encoding_options=EncodingOptions(rare_min_count=0))
    with pytest.raises(OptionError, match="encoding_options must be an EncodingOptions, got dict"):
        engine.fit(table(), encoding_options={"rare_min_count": 3})  # type: ignore[arg-type]
    schema = infer_schema(table())
    with pytest.raises(OptionError, match="encoding_options.locale is 'fr_FR' but the schema's is 'en_US'"):
        engine.fit(table(), schema, encoding_options=EncodingOptions(locale="fr_FR"))
    schema.locale = "de_DE"
    assert engine.fit(table(), schema, encoding_options=EncodingOptions(rare_min_count=3)).encoding_ == (
        EncodingOptions(rare_min_count=3, locale="de_DE")
    )


def test_mirage_fit_passes_encoding_options() -> None:
    model = mirage.fit(table(), engine="cart", encoding_options=EncodingOptions(rare_min_count=2))
    assert model.encoding_.rare_min_count == 2


def _bytes(model: Any) -> bytes:
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def _with_manifest(data: bytes, edit: Any, *, digests: bool = True) -> bytes:
    """The model file ``data`` with its manifest edited (and its digests written again: as saved)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(source.read("manifest.json"))
    edit(manifest)
    if digests:
        manifest[DIGEST_KEY] = content_digests(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("manifest.json", json.dumps(manifest))
        target.writestr("arrays.safetensors", source.read("arrays.safetensors"))
    return out.getvalue()


@pytest.mark.parametrize("name", ["cart", "copula"])
def test_model_files_written_with_rare_min_count_as_a_hyperparameter_still_load(name: str) -> None:
    model = ENGINES[name]().fit(table(), encoding_options=EncodingOptions(rare_min_count=3))

    def older(manifest: dict[str, Any]) -> None:
        manifest["hyperparameters"]["rare_min_count"] = 3

    loaded = mirage.load(_with_manifest(_bytes(model), older))
    assert loaded.encoding_.rare_min_count == 3 and "rare_min_count" not in loaded.get_params()
    pd.testing.assert_frame_equal(loaded.sample(300, seed=4), model.sample(300, seed=4))

    def disagrees(manifest: dict[str, Any]) -> None:
        manifest["hyperparameters"]["rare_min_count"] = 5

    with pytest.raises(
        ModelFileError, match=r"hyperparameters.rare_min_count: is 5 but the model was fitted with 3"
    ):
        mirage.load(_with_manifest(_bytes(model), disagrees))


def test_the_argn_model_file_from_before_the_package_keeps_its_rare_min_count() -> None:
    pytest.importorskip("torch")
    path = Path(FIXTURES / "argn_titanic_before_split.mirage")
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert manifest["hyperparameters"]["rare_min_count"] == 10
    assert mirage.load(path).encoding_.rare_min_count == 10


def test_cli_param_rare_min_count_still_works(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mirage.cli import app

    data = tmp_path / "t.csv"
    table().to_csv(data, index=False)
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "fit",
            str(data),
            "-o",
            str(tmp_path / "m.mirage"),
            "--engine",
            "cart",
            "--param",
            "rare_min_count=3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert mirage.load(tmp_path / "m.mirage").encoding_.rare_min_count == 3
    result = runner.invoke(
        app,
        [
            "fit",
            str(data),
            "-o",
            str(tmp_path / "n.mirage"),
            "--engine",
            "cart",
            "--param",
            "rare_min_count=0",
        ],
    )
    assert result.exit_code == 2 and "--param rare_min_count must be an integer >= 1, got 0" in result.output
