"""``engine="auto"``: pick an engine from the data's size and say why."""

from __future__ import annotations

import pandas as pd

__all__ = ["choose_engine"]

CART_MAX_CELLS = 5_000_000


def choose_engine(data: pd.DataFrame) -> tuple[str, str]:
    """The engine name and a one-line reason a user can read."""
    rows, cols = data.shape
    cells = rows * cols
    if cells <= CART_MAX_CELLS:
        return "cart", f"{rows:,} rows x {cols} columns fits the tree engine (best fidelity at this size)"
    return (
        "copula",
        f"{rows:,} rows x {cols} columns is over {CART_MAX_CELLS:,} cells: the copula engine is fastest",
    )
