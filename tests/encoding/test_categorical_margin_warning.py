"""The fit says how many rows come back as '_RARE_' when a small table's margin drops categories that
reach ``rare_min_count``, also after inference warned about the rows under it."""

from __future__ import annotations

import pandas as pd
import pytest

import mirage
from mirage._warnings import MirageWarning
from mirage.encoding.categorical import RARE_TOKEN


def test_the_margins_share_is_said_when_it_folds_more_than_inference_counted() -> None:
    # 91 rows: three countries of 13, 11 and 11 rows reach 10, the rest (62% of the rows) do not;
    # on a table this small none of the three clears its sampling error, so every row is '_RARE_'
    counts = {"USA": 13, "Germany": 11, "France": 11, **{f"C{i}": 4 for i in range(14)}}
    frame = pd.DataFrame({"country": [c for c, k in counts.items() for _ in range(k)]})
    with pytest.warns(MirageWarning) as caught:
        model = mirage.fit(frame, engine="copula", seed=0)
    said = [str(w.message) for w in caught if "'country'" in str(w.message)]
    assert any("62% of the rows" in m for m in said)
    assert any("100% of its 91 rows hold categories too small for this table to keep" in m for m in said)
    assert model.sample(50, seed=1)["country"].eq(RARE_TOKEN).all()
