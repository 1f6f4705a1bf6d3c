"""Decoding finds a text column's Arrow categories once per learned state (sampling throughput): a
refit or a loaded state is decoded with its own categories, never a cached earlier set."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage.encoding import TableEncoder
from mirage.schema import infer_schema


def _decoded(encoder: TableEncoder, codes: list[int]) -> list[str]:
    parts = {"city::code": np.array(codes, dtype="int64")}
    return list(encoder.decode(parts, len(codes), np.random.default_rng(0))["city"])


def test_a_refit_encoder_decodes_its_new_categories() -> None:
    first = pd.DataFrame({"city": pd.Series(["Oslo"] * 30 + ["Rome"] * 20, dtype="str")})
    encoder = TableEncoder(infer_schema(first)).fit(first)
    assert _decoded(encoder, [0, 1, 0]) == ["Oslo", "Rome", "Oslo"]
    second = pd.DataFrame({"city": pd.Series(["Lima"] * 30 + ["Oslo"] * 20, dtype="str")})
    encoder.fit(second)
    assert _decoded(encoder, [0, 1, 0]) == ["Lima", "Oslo", "Lima"]
    state, arrays = encoder.get_state()
    loaded = TableEncoder.from_state(encoder.schema, state, arrays)
    assert _decoded(loaded, [1, 0]) == ["Oslo", "Lima"]
