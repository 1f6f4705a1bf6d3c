"""atomic_path: a general all-or-nothing file write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mirage.errors import DataError, OutputExistsError
from mirage.io import atomic_path


def test_writes_through_a_hidden_temp_file_in_the_same_folder(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    with atomic_path(target, force=False) as temp:
        assert temp.parent == tmp_path
        assert temp.name.startswith(".") and temp.name.endswith(".tmp")
        assert temp.exists() and not target.exists()
        temp.write_bytes(b"\x00\x01payload")
    assert target.read_bytes() == b"\x00\x01payload"
    assert not temp.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_failure_removes_temp_and_keeps_old_content(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyError), atomic_path(target, force=True) as temp:
        temp.write_bytes(b"half-written")
        raise KeyError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_refuses_existing_target(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(OutputExistsError, match=r"model\.bin' already exists"), atomic_path(target):
        pytest.fail("the body must not run")
    assert target.read_bytes() == b"old"


def test_refuses_a_target_created_while_writing(tmp_path: Path) -> None:
    target = tmp_path / "race.txt"
    with pytest.raises(OutputExistsError), atomic_path(target) as temp:
        temp.write_text("mine", encoding="utf-8")
        target.write_text("theirs", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["race.txt"]


def test_refuses_a_directory_even_with_force(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputExistsError, match="is a directory"), atomic_path(tmp_path / "d", force=True):
        pytest.fail("the body must not run")


def test_a_missing_folder_is_refused_and_not_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.txt"
    with pytest.raises(DataError, match=r"folder '.*a.b' does not exist"), atomic_path(target):
        pytest.fail("the body must not run")
    assert not (tmp_path / "a").exists()


def test_uses_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    with atomic_path(target) as temp:
        temp.write_text("x", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "x"
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
