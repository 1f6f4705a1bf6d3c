from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import invoke


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich output as on a plain, wide, non-interactive terminal, whatever the CI environment says."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "160")


@pytest.fixture(scope="session")
def data_csv(tmp_path_factory: pytest.TempPathFactory, adult: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("data") / "adult.csv"
    adult.head(1500).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory, data_csv: Path) -> Path:
    path = tmp_path_factory.mktemp("model") / "adult.mirage"
    result = invoke("fit", data_csv, "-o", path, "--engine", "cart")
    assert result.exit_code == 0, result.output
    return path
