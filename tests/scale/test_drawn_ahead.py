"""Drawing the next block while this one is written: order, errors, stopping early."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest

from mirage.scale._sample import drawn_ahead


def _blocks(n: int, fail_at: int | None = None) -> Iterator[pd.DataFrame]:
    for i in range(n):
        if i == fail_at:
            raise ValueError(f"block {i} failed")
        yield pd.DataFrame({"i": [i]})


def _drawing_threads() -> int:
    return sum(t.name == "mirage-draw-ahead" for t in threading.enumerate())


def test_blocks_come_in_their_order() -> None:
    assert [int(b["i"].iloc[0]) for b in drawn_ahead(_blocks(20), depth=3)] == list(range(20))


def test_an_error_while_drawing_is_raised_where_the_blocks_are_written() -> None:
    got = []
    with pytest.raises(ValueError, match="block 4 failed"):
        for block in drawn_ahead(_blocks(10, fail_at=4)):
            got.append(int(block["i"].iloc[0]))
    assert got == [0, 1, 2, 3]
    assert _drawing_threads() == 0


def test_stopping_early_stops_the_drawing_thread() -> None:
    ahead = drawn_ahead(_blocks(1_000))
    assert int(next(ahead)["i"].iloc[0]) == 0
    ahead.close()  # what a write error does to the generator write_chunks iterates
    assert _drawing_threads() == 0
