"""A CSV is written back the way its source was: the same delimiter and decimal mark."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.errors import OptionError
from mirage.io import read_table, write_chunks
from mirage.schema import infer_schema
from tests.cli.helpers import invoke


def _european_csv(path: Path, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(7, 1, n), 2),
            "rate": np.round(rng.uniform(0, 10, n), 3),
            "group": rng.choice(["a", "b", "c"], n),
        }
    )
    lines = ["amount;rate;group"]
    for amount, rate, group in frame.itertuples(index=False):
        text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
        lines.append(f"{text};{str(rate).replace('.', ',')};{group}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return frame


def test_reading_records_the_dialect_and_inference_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    _european_csv(path)
    frame = read_table(path)
    assert frame["amount"].dtype == "float64"
    assert infer_schema(frame).extra["csv"] == {
        "delimiter": ";",
        "decimal": ",",
        # thousands groups (1.234,56) are written back; rate's decimals vary (0,5 and 3,125): plain
        "numbers": {"amount": {"prefix": "", "suffix": "", "decimals": 2, "grouped": True}},
    }
    plain = tmp_path / "plain.csv"
    frame.to_csv(plain, index=False)
    assert "csv" not in infer_schema(read_table(plain)).extra


def test_sampled_csv_is_written_in_the_source_dialect(tmp_path: Path) -> None:
    source = tmp_path / "eu.csv"
    real = _european_csv(source)
    model, out = tmp_path / "m.mirage", tmp_path / "synth.csv"
    assert invoke("fit", source, "-o", model, "--engine", "copula").exit_code == 0
    result = invoke("sample", model, "-n", 200, "-o", out, "--seed", 1)
    assert result.exit_code == 0, result.output
    header, first = out.read_text(encoding="utf-8").splitlines()[:2]
    assert header == "amount;rate;group"
    # a decimal comma, and thousands groups with a point, as the source writes its amounts
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d\d", first.split(";")[0])
    synthetic = read_table(out)
    assert synthetic["amount"].dtype == "float64"
    assert synthetic["amount"].between(real["amount"].min(), real["amount"].max()).all()


def test_a_bad_dialect_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    with pytest.raises(OptionError, match="delimiter and decimal mark"):
        write_chunks(pd.DataFrame({"a": [1.5]}), out, dialect={"delimiter": ",", "decimal": ","})
    assert not out.exists() and not list(tmp_path.iterdir())
