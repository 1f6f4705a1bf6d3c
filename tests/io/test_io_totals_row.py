"""A totals line at the end of a CSV or Excel export is named in a warning, not silently learned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage._warnings import MirageWarning
from mirage.io import read_table


def _table(rows: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "region": rng.choice(["North", "South"], rows),
            "units": rng.integers(1, 40, rows),
            "sales": rng.gamma(2.0, 100.0, rows).round(2),
        }
    )


def test_a_totals_row_is_named(tmp_path: Path) -> None:
    frame = _table()
    totals = pd.DataFrame(
        {"region": ["Total"], "units": [frame["units"].sum()], "sales": [frame["sales"].sum()]}
    )
    path = tmp_path / "export.csv"
    pd.concat([frame, totals]).to_csv(path, index=False)
    with pytest.warns(MirageWarning, match=r"last row \(row 51\) looks like a totals row \('units', 'sales'"):
        read = read_table(path)
    assert len(read) == 51  # still read: the warning says what to do
    xlsx = tmp_path / "export.xlsx"
    pd.concat([frame, totals]).to_excel(xlsx, index=False)
    with pytest.warns(MirageWarning, match="totals row"):
        read_table(xlsx)


def test_a_table_without_one_reads_quietly(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    path = tmp_path / "plain.csv"
    frame = _table()
    frame.loc[len(frame) - 1, "units"] = 0  # a zero last value is not a sum
    frame.to_csv(path, index=False)
    read_table(path)
    small = tmp_path / "small.csv"
    pd.DataFrame({"a": [1, 2, 3, 4, 5, 15], "b": ["x"] * 6}).to_csv(small, index=False)  # a sum by chance
    read_table(small)
    assert not [w for w in recwarn if "totals" in str(w.message)]
