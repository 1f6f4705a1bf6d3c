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
