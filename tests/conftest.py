from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_csv(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared dataset {name} is not available at {path}")
    return path


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    """A fixed 3,000-row sample of UCI Adult (the same sample ships as the demo data)."""
    from mirage.demo import load_demo

    return load_demo()


@pytest.fixture(scope="session")
def titanic() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "titanic.csv")
