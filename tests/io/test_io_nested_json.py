"""JSON with nested objects and lists: read as path-named columns (lists as their JSON text), and
written back nested with lists as lists (before, ``mirage fit`` stopped with "unhashable type: 'dict'")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mirage.errors import DataError, OptionError
from mirage.io import read_table, write_chunks
from tests.cli.helpers import invoke


def _events(path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(0)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            user = {
                "plan": str(rng.choice(["free", "pro"])),
                "address": {"country": str(rng.choice(["DE", "FR"]))},
            }
            record = {
                "id": i,
                "user": user,
                "amount": round(float(rng.gamma(2, 20)), 2),
                "tags": ["a", "b"][: i % 3],
            }
            handle.write(json.dumps(record) + "\n")
    return path


def test_nested_objects_become_path_named_columns_and_lists_json_text(tmp_path: Path) -> None:
    frame = read_table(_events(tmp_path / "events.jsonl", 3))
    assert list(frame.columns) == ["id", "user.plan", "user.address.country", "amount", "tags"]
    assert frame["tags"].tolist() == ["[]", '["a"]', '["a", "b"]']
    assert frame.attrs["mirage.json"] == {"nested": True, "lists": ["tags"]}
    array = tmp_path / "events.json"
    array.write_text(json.dumps([{"a": {"b": 1}}, {"a": {"b": 2}}]), encoding="utf-8")
    assert list(read_table(array).columns) == ["a.b"]


def test_a_key_that_is_also_a_nested_path_is_named(tmp_path: Path) -> None:
    path = tmp_path / "clash.jsonl"
    path.write_text('{"a.b": 1, "a": {"b": 2}}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"clash\.jsonl' line 1: 'a\.b' is both a key and the path"):
        read_table(path)


def test_written_back_nested_with_lists(tmp_path: Path) -> None:
    frame = read_table(_events(tmp_path / "events.jsonl", 3))
    out = tmp_path / "out.jsonl"
    write_chunks(frame, out, dialect={"json": frame.attrs["mirage.json"]})
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[2])
    assert first["user"]["address"]["country"] in ("DE", "FR") and first["tags"] == ["a", "b"]
    with pytest.raises(OptionError, match="json layout"):
        write_chunks(frame, tmp_path / "bad.jsonl", dialect={"json": {"nested": "yes"}})


def test_a_list_column_holds_lists_only(tmp_path: Path) -> None:
    """The rare-category token of a list column is written as a list of it, not as a string."""
    frame = read_table(_events(tmp_path / "events.jsonl", 3))
    frame["tags"] = ['["a"]', "_RARE_", None]
    out = tmp_path / "out.jsonl"
    write_chunks(frame, out, dialect={"json": frame.attrs["mirage.json"]})
    tags = [json.loads(line)["tags"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert tags == [["a"], ["_RARE_"], None]


def test_fit_and_sample_keep_the_nesting(tmp_path: Path) -> None:
    data = _events(tmp_path / "events.jsonl")
    model = tmp_path / "events.mirage"
    assert invoke("fit", data, "-o", model, "--seed", 1).exit_code == 0
    out = tmp_path / "synthetic.jsonl"
    result = invoke("sample", model, "-n", 50, "-o", out, "--seed", 2)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 50
    assert all(row["user"]["plan"] in ("free", "pro") for row in rows)
    assert all(row["tags"] in ([], ["a"], ["a", "b"]) for row in rows)
    flat = tmp_path / "synthetic.csv"
    assert invoke("sample", model, "-n", 5, "-o", flat, "--seed", 2).exit_code == 0
    assert flat.read_text(encoding="utf-8").splitlines()[0] == "id,user.plan,user.address.country,amount,tags"
