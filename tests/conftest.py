from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

# The shared datasets sit beside the checkout (../shared/data); MIRAGE_SHARED_DATA points elsewhere.
SHARED = Path(os.environ.get("MIRAGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
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
