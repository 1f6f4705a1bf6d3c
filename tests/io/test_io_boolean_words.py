"""Booleans a CSV file spells ``true``/``false`` or ``TRUE``/``FALSE`` are written back so, not as
``True``/``False`` (a downstream parser that reads ``true`` may not read ``True``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mirage.io import read_table, write_chunks
from tests.cli.helpers import invoke


def test_the_source_spelling_is_recorded_and_written(tmp_path: Path) -> None:
    source = tmp_path / "flags.csv"
    source.write_text("a,b,c,n\ntrue,TRUE,True,1\nfalse,FALSE,False,2\ntrue,,True,3\n", encoding="utf-8")
    frame = read_table(source)
    assert frame.attrs["mirage.csv"]["booleans"] == {"a": ["true", "false"], "b": ["TRUE", "FALSE"]}
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=frame.attrs["mirage.csv"])
    assert out.read_text(encoding="utf-8").splitlines() == [
        "a,b,c,n",
        "true,TRUE,True,1",
        "false,FALSE,False,2",
        "true,,True,3",
    ]


def test_fit_and_sample_keep_lowercase_booleans(tmp_path: Path) -> None:
    source = tmp_path / "flags.csv"
    source.write_text("ok,n\n" + "".join(f"{'true' if i % 3 else 'false'},{i % 7}\n" for i in range(200)))
    model = tmp_path / "flags.mirage"
    assert invoke("fit", source, "-o", model, "--seed", 1).exit_code == 0
    out = tmp_path / "synthetic.csv"
    assert invoke("sample", model, "-n", 100, "-o", out, "--seed", 2).exit_code == 0
    assert set(pd.read_csv(out, dtype=str)["ok"]) == {"true", "false"}
