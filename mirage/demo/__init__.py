"""The bundled demo data: a fixed 4,000-row sample of the UCI Adult census table.

Source: UCI Machine Learning Repository, Adult (Becker & Kohavi, 1996), ``adult.data``; licence
CC BY 4.0.  Missing values (``?`` in the original) are empty cells.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["DEMO_FILE", "load_demo"]

DEMO_FILE = "adult_sample.csv"


def load_demo() -> pd.DataFrame:
    with resources.files(__name__).joinpath(DEMO_FILE).open("rb") as handle:
        return pd.read_csv(handle)
