"""``mirage report MODEL --data GLOB --sample ROWS``: scores a stated uniform sample of real rows drawn
across the files and as many synthetic rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.cli._scale import sampled_inputs
from mirage.cli._ui import UI
from mirage.scale import LocalExecutor
from mirage.scale._partitions import Partitions
from mirage.scale._reservoir import uniform_sample
from tests.cli.helpers import error_line, invoke, read_json


@pytest.fixture(scope="module")
def folder(adult: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parts")
    for i, rows in enumerate(np.array_split(np.arange(len(adult)), 3)):
        adult.iloc[rows].to_parquet(out / f"p{i}.parquet")
    return out


@pytest.mark.slow  # the report's detection and attack models: seconds
def test_the_report_scores_a_stated_sample(folder: Path, tmp_path: Path) -> None:
    model = mirage.fit(str(folder / "p0.parquet"), engine="copula")
    model.save(tmp_path / "m.mirage")
    pattern = str(folder / "*.parquet")
    out = tmp_path / "r.html"
    result = invoke("report", tmp_path / "m.mirage", "--data", pattern, "--sample", 300, "-o", out)
    assert result.exit_code == 0, result.output
    stated = "a uniform sample (seed 0): 300 of 4,000 real rows, 300 synthetic rows drawn from the model"
    assert read_json(out.with_suffix(".json"))["meta"]["sample"] == stated
    assert stated in out.read_text(encoding="utf-8")
    assert read_json(out.with_suffix(".json"))["meta"]["rows"]["real"] == 300


def test_the_inputs_of_a_sampled_report(folder: Path, tmp_path: Path) -> None:
    """What the report scores (the scoring itself is the slow test above)."""
    pattern = str(folder / "*.parquet")
    real, held, synthetic, schema, stated = sampled_inputs(
        UI(quiet=True), [folder / "p1.parquet", Path(pattern)], None, None, 200, 3, {}
    )
    assert len(real) == len(synthetic) == 200 and held is None and schema is None
    assert stated == "a uniform sample (seed 3): 200 of 1,333 real rows, 200 of 4,000 synthetic rows"


def test_the_uniform_sample_is_the_same_rows_for_the_same_seed(folder: Path, adult: pd.DataFrame) -> None:
    parts = Partitions.of(str(folder / "*.parquet"))
    first, seen = uniform_sample(parts, LocalExecutor(), 250, seed=5)
    again, _ = uniform_sample(parts, LocalExecutor(), 250, seed=5)
    assert seen == len(adult) and len(first) == 250
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(uniform_sample(parts, LocalExecutor(), 250, seed=6)[0])


def test_sample_with_a_model_needs_the_real_rows(folder: Path, tmp_path: Path) -> None:
    model = mirage.fit(str(folder / "p0.parquet"), engine="copula")
    model.save(tmp_path / "m.mirage")
    result = invoke("report", tmp_path / "m.mirage", "--sample", 300, "-o", tmp_path / "r.html")
    assert "--sample with a model needs --data" in error_line(result)
