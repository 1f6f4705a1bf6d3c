from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.io import read_table
from tests.cli.helpers import error_line, invoke

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def argn_path(tmp_path_factory: pytest.TempPathFactory, data_csv: Path) -> Path:
    path = tmp_path_factory.mktemp("argn") / "adult-argn.mirage"
    result = invoke("fit", data_csv, "-o", path, "--engine", "argn", "--param", "max_epochs=3")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def holed_csv(tmp_path_factory: pytest.TempPathFactory, data_csv: Path) -> Path:
    frame = read_table(data_csv).head(200)
    rng = np.random.default_rng(0)
    for column in ("age", "education", "hours_per_week"):
        frame.loc[rng.random(len(frame)) < 0.25, column] = np.nan
    path = tmp_path_factory.mktemp("holed") / "holed.csv"
    frame.to_csv(path, index=False)
    return path


def test_fills_every_hole_and_keeps_observed_cells(argn_path: Path, holed_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "filled.csv"
    result = invoke("impute", argn_path, holed_csv, "-o", out, "--seed", "4")
    assert result.exit_code == 0, result.output
    holed, filled = read_table(holed_csv), read_table(out)
    assert filled.shape == holed.shape and not filled.isna().any().any()
    observed = holed.notna()
    pd.testing.assert_frame_equal(filled.where(observed), holed.where(observed), check_dtype=False)
    count = int(holed.isna().sum().sum())
    assert f"filled {count:,} missing cells" in result.stdout
    again = tmp_path / "again.csv"
    assert invoke("impute", argn_path, holed_csv, "-o", again, "--seed", "4").exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_every_engine_imputes_and_existing_output_is_kept(
    model_path: Path, argn_path: Path, holed_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "filled.csv"
    result = invoke("impute", model_path, holed_csv, "-o", out, "--seed", "2")  # the default engine
    assert result.exit_code == 0, result.output
    holed, filled = read_table(holed_csv), read_table(out)
    assert filled.shape == holed.shape and not filled.isna().any().any()
    observed = holed.notna()
    pd.testing.assert_frame_equal(filled.where(observed), holed.where(observed), check_dtype=False)
    out = tmp_path / "kept.csv"
    out.write_text("keep me")
    result = invoke("impute", argn_path, holed_csv, "-o", out)
    assert result.exit_code == 2 and "--force" in error_line(result)
    assert out.read_text() == "keep me"


def european_csv(path: Path, holes: bool) -> Path:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "amount": np.round(rng.gamma(2.0, 40.0, 300), 2),
            "city": rng.choice(["Berlin", "Köln", "München"], 300),
            "booked": (
                pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, 300), unit="D")
            ).strftime("%d.%m.%Y"),
        }
    )
    if holes:
        frame.loc[::6, "amount"] = np.nan
    frame.to_csv(path, sep=";", decimal=",", index=False)
    return path


def test_the_completed_table_is_written_as_the_data_file_was(tmp_path: Path) -> None:
    """A semicolon file with decimal commas comes back so, not as a comma-separated file with points."""
    model = tmp_path / "eu.mirage"
    assert (
        invoke("fit", european_csv(tmp_path / "eu.csv", False), "-o", model, "--engine", "cart").exit_code
        == 0
    )
    holed = european_csv(tmp_path / "holed.csv", True)
    out = tmp_path / "filled.csv"
    result = invoke("impute", model, holed, "-o", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "amount;city;booked"
    assert all(line.count(";") == 2 and "." not in line.split(";")[0] for line in lines[1:])
    assert lines[2:4] == holed.read_text(encoding="utf-8").splitlines()[2:4]


def test_model_and_data_the_other_way_round_are_named(tmp_path: Path) -> None:
    model = tmp_path / "eu.mirage"
    data = european_csv(tmp_path / "eu.csv", True)
    assert invoke("fit", data, "-o", model, "--engine", "cart").exit_code == 0
    result = invoke("impute", data, model, "-o", tmp_path / "out.csv")
    assert result.exit_code != 0
    assert "is not a model file but" in error_line(result) and "the model comes first" in error_line(result)
