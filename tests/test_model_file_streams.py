"""Model files written to and read from bytes and binary streams, with the checks of a path."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import mirage
from mirage.errors import ModelFileError
from mirage.model_file import load_model, model_bytes, read_manifest, save_model


@pytest.fixture(scope="module")
def model(titanic: pd.DataFrame) -> mirage.Synthesizer:
    return mirage.fit(titanic, engine="cart")


def test_bytes_and_streams_hold_the_same_model_as_a_path(model: mirage.Synthesizer, tmp_path: Path) -> None:
    path = save_model(model, tmp_path / "m.mirage")
    stream = io.BytesIO()
    assert save_model(model, stream) is stream
    data = model_bytes(model)
    assert stream.getvalue() == data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["arrays.safetensors", "manifest.json"]
    expected = mirage.load(path).sample(200, seed=3)
    for source in (data, bytearray(data), memoryview(data), io.BytesIO(data)):
        pd.testing.assert_frame_equal(load_model(source).sample(200, seed=3), expected)
    pd.testing.assert_frame_equal(mirage.load(io.BytesIO(data)).sample(200, seed=3), expected)
    assert read_manifest(data)["engine"] == "cart"


def test_a_stream_is_written_at_its_position_and_read_from_an_open_file(
    model: mirage.Synthesizer, tmp_path: Path
) -> None:
    path = tmp_path / "m.mirage"
    with open(path, "wb") as handle:
        model.save(handle)
    with open(path, "rb") as handle:
        loaded = mirage.load(handle)
    pd.testing.assert_frame_equal(loaded.sample(50, seed=1), model.sample(50, seed=1))


def test_bad_bytes_are_refused_with_the_same_checks(model: mirage.Synthesizer) -> None:
    data = bytearray(model_bytes(model))
    with pytest.raises(ModelFileError, match=r"model file \(bytes\): not a Mirage model file"):
        load_model(b"not a zip")

    def rewrite(flip: bool, extra: bool) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as src, zipfile.ZipFile(buffer, "w") as dst:
            for name in src.namelist():
                payload = src.read(name)
                if flip and name == "arrays.safetensors":
                    payload = payload[:-1] + bytes([payload[-1] ^ 0xFF])
                dst.writestr(name, payload)
            if extra:
                dst.writestr("evil.pkl", b"cos\nsystem\n")
        return buffer.getvalue()

    with pytest.raises(
        ModelFileError, match=r"model file \(bytes\): member 'arrays.safetensors' fails its SHA"
    ):
        load_model(rewrite(flip=True, extra=False))
    with pytest.raises(ModelFileError, match=r"model file \(stream\): unexpected member 'evil.pkl'"):
        load_model(io.BytesIO(rewrite(flip=False, extra=True)))
    with pytest.raises(ModelFileError, match="read from a path, bytes or a binary stream, not int"):
        load_model(3)  # type: ignore[arg-type]
    with pytest.raises(ModelFileError, match="written to a path or a binary stream, not int"):
        model.save(3)  # type: ignore[call-overload]
