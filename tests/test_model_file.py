from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import mirage
from mirage.errors import ModelFileError, OutputExistsError
from mirage.model_file import read_manifest


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory, titanic: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("model") / "titanic.mirage"
    mirage.fit(titanic, engine="cart").save(path)
    return path


def rewrite(src: Path, dst: Path, change) -> Path:
    with zipfile.ZipFile(src) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members = change(members)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dst


def test_members_are_a_manifest_and_safetensors_only(model_path: Path) -> None:
    with zipfile.ZipFile(model_path) as zf:
        assert sorted(zf.namelist()) == ["arrays.safetensors", "manifest.json"]
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["engine"] == "cart" and manifest["format_version"] == 1
    assert manifest["hyperparameters"]["min_samples_leaf"] is None
    assert manifest["state"]["engine"]["leaf_size"] == 50
    assert {c["name"] for c in manifest["schema"]["columns"]} >= {"survived", "age"}
    assert read_manifest(model_path)["mirage_version"] == mirage.__version__


def test_existing_file_is_not_overwritten_without_force(model_path: Path, titanic: pd.DataFrame) -> None:
    before = model_path.read_bytes()
    model = mirage.load(model_path)
    with pytest.raises(OutputExistsError):
        model.save(model_path)
    assert model_path.read_bytes() == before
    model.save(model_path, force=True)
    assert mirage.load(model_path).sample(5, seed=1).equals(model.sample(5, seed=1))


def test_tampered_arrays_fail_the_hash(model_path: Path, tmp_path: Path) -> None:
    def flip(members: dict[str, bytes]) -> dict[str, bytes]:
        data = bytearray(members["arrays.safetensors"])
        data[-1] ^= 0xFF
        members["arrays.safetensors"] = bytes(data)
        return members

    with pytest.raises(ModelFileError, match="SHA-256"):
        mirage.load(rewrite(model_path, tmp_path / "bad.mirage", flip))


def edit_manifest(key: str, value: object):
    def change(members: dict[str, bytes]) -> dict[str, bytes]:
        manifest = json.loads(members["manifest.json"])
        manifest[key] = value
        members["manifest.json"] = json.dumps(manifest).encode()
        return members

    return change


def test_newer_format_and_unknown_engine_are_refused(model_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="newer"):
        mirage.load(rewrite(model_path, tmp_path / "new.mirage", edit_manifest("format_version", 99)))
    with pytest.raises(ModelFileError, match="unknown engine 'os.system'"):
        mirage.load(rewrite(model_path, tmp_path / "eng.mirage", edit_manifest("engine", "os.system")))


def test_extra_members_and_pickles_are_refused(model_path: Path, tmp_path: Path) -> None:
    def add(members: dict[str, bytes]) -> dict[str, bytes]:
        members["evil.pkl"] = b"cos\nsystem\n(S'echo pwned'\ntR."
        return members

    with pytest.raises(ModelFileError, match="unexpected member 'evil.pkl'"):
        mirage.load(rewrite(model_path, tmp_path / "evil.mirage", add))


def test_not_a_model_file(tmp_path: Path) -> None:
    text = tmp_path / "x.mirage"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not a zip"):
        mirage.load(text)
    with pytest.raises(ModelFileError, match="does not exist"):
        mirage.load(tmp_path / "missing.mirage")
    empty = tmp_path / "empty.mirage"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("other.txt", "x")
    with pytest.raises(ModelFileError, match="no manifest.json"):
        mirage.load(empty)


def test_an_emptied_state_names_what_is_missing(model_path: Path, tmp_path: Path) -> None:
    bad = rewrite(model_path, tmp_path / "s.mirage", edit_manifest("state", {}))
    with pytest.raises(ModelFileError) as info:
        mirage.load(bad)
    assert str(info.value) == f"model file {bad}: state.encoder: missing"


def test_tree_arrays_that_are_not_a_tree_are_refused(tmp_path: Path, titanic: pd.DataFrame) -> None:
    from safetensors.numpy import load, save

    path = mirage.fit(titanic, engine="cart").save(tmp_path / "cart.mirage")

    def corrupt(members: dict[str, bytes]) -> dict[str, bytes]:
        arrays = load(members["arrays.safetensors"])
        left = arrays["engine.tree.0.left"].copy()
        left[0] = 10**6  # a child far outside the tree
        arrays["engine.tree.0.left"] = left
        members["arrays.safetensors"] = save(arrays)
        manifest = json.loads(members["manifest.json"])
        manifest["members"]["arrays.safetensors"] = hashlib.sha256(members["arrays.safetensors"]).hexdigest()
        members["manifest.json"] = json.dumps(manifest).encode()
        return members

    with pytest.raises(ModelFileError, match="valid tree"):
        mirage.load(rewrite(path, tmp_path / "bad.mirage", corrupt))
