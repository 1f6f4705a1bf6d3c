"""Without PyTorch: the statistical engines, the report and the demo work, and ``argn`` says how to
install what it needs (one line, exit code 2) when it is fitted, loaded or sampled."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import BLOCK_TORCH, mirage_in_subprocess, python

INSTALL = 'pip install "mirage-synth[neural]"'


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def test_fit_argn_without_torch_names_the_install_command(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    pd.DataFrame({"a": range(50), "b": ["x", "y"] * 25}).to_csv(data, index=False)
    result = mirage_in_subprocess(
        "fit", data, "-o", tmp_path / "m.mirage", "--engine", "argn", prelude=BLOCK_TORCH
    )
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result.stderr)
    assert "argn" in line and "PyTorch" in line and INSTALL in line
    assert not (tmp_path / "m.mirage").exists()


@pytest.fixture(scope="module")
def argn_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    import mirage

    frame = pd.DataFrame({"a": [i % 7 for i in range(120)], "b": ["x", "y", "z"] * 40})
    path = tmp_path_factory.mktemp("argn") / "m.mirage"
    mirage.fit(frame, engine="argn", max_epochs=1).save(path)
    return path


def test_argn_model_file_without_torch_blames_torch_not_the_file(argn_model: Path, tmp_path: Path) -> None:
    sampled = mirage_in_subprocess("sample", argn_model, "-n", 5, prelude=BLOCK_TORCH)
    assert sampled.returncode == 2, sampled.stderr
    line = _one_error_line(sampled.stderr)
    assert INSTALL in line and "inconsistent" not in line and "model file" not in line

    loaded = python(
        BLOCK_TORCH
        + f"""
import mirage
try:
    mirage.load({str(argn_model)!r})
except mirage.MissingDependencyError as exc:
    assert isinstance(exc, ImportError)
    print(exc)
"""
    )
    assert loaded.returncode == 0, loaded.stderr
    assert INSTALL in loaded.stdout

    info = mirage_in_subprocess("info", argn_model, prelude=BLOCK_TORCH)  # the manifest needs no torch
    assert info.returncode == 0, info.stderr
    assert "argn" in info.stdout


def test_statistical_engines_report_and_demo_never_import_torch(
    tmp_path: Path, titanic: pd.DataFrame
) -> None:
    titanic.to_csv(tmp_path / "real.csv", index=False)
    code = (
        BLOCK_TORCH
        + """
import pandas as pd
from typer.testing import CliRunner

import mirage
from mirage.cli import app

real = pd.read_csv("real.csv")
train, holdout = real.iloc[:300], real.iloc[300:450]
for engine in ("copula", "cart"):
    synthetic = mirage.fit(train, engine=engine).sample(300, seed=1)
train.to_csv("train.csv", index=False)
synthetic.to_csv("synthetic.csv", index=False)
holdout.to_csv("holdout.csv", index=False)
runner = CliRunner()
for args in (
    ["demo", "--engine", "copula", "--rows", "300", "--output-dir", "demo"],
    ["report", "train.csv", "synthetic.csv", "--holdout", "holdout.csv", "-o", "report.html"],
):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
assert TORCH_IMPORTS == [], TORCH_IMPORTS
print("ok")
"""
    )
    result = python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_the_argn_class_fitted_directly_without_torch_names_the_install_command() -> None:
    code = BLOCK_TORCH + (
        "import pandas as pd\n"
        "from mirage.engines.argn import ArgnSynthesizer\n"
        "from mirage.errors import MissingDependencyError\n"
        "frame = pd.DataFrame({'a': range(50), 'b': ['x', 'y'] * 25})\n"
        "try:\n"
        "    ArgnSynthesizer().fit(frame)\n"
        "except MissingDependencyError as exc:\n"
        "    print('refused:', exc)\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused:") and INSTALL in result.stdout
