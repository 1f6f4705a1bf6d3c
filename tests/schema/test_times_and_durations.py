"""Times of day written alone ("09:30") and durations (``timedelta64``): before, the first was learned
as a code of the format "99:99" and came back as "82:13", the second as Faker text ("Company would u")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.schema import Kind, infer_schema
from tests.cli.helpers import invoke


def test_times_of_day_alone_are_datetimes_and_scores_are_not() -> None:
    frame = pd.DataFrame(
        {
            "opens": ["09:30", "17:05", "08:00"] * 10,
            "alarm": ["7:15 AM", "11:40 PM", "6:00 AM"] * 10,
            "score": ["3:1", "2:0", "1:1"] * 10,
        }
    )
    schema = infer_schema(frame)
    assert (schema["opens"].kind, schema["opens"].datetime_format) == (Kind.DATETIME, "%H:%M")
    assert (schema["alarm"].kind, schema["alarm"].datetime_format) == (Kind.DATETIME, "%-I:%M %p")
    assert schema["score"].kind is not Kind.DATETIME


def test_times_of_day_come_back_as_valid_times_within_the_learned_hours(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    minutes = rng.integers(8 * 60, 18 * 60, 300)
    source = tmp_path / "shops.csv"
    pd.DataFrame(
        {"opens": [f"{m // 60:02d}:{m % 60:02d}" for m in minutes], "n": rng.integers(0, 9, 300)}
    ).to_csv(source, index=False)
    model = tmp_path / "shops.mirage"
    assert invoke("fit", source, "-o", model, "--seed", 1).exit_code == 0
    out = tmp_path / "synthetic.csv"
    assert invoke("sample", model, "-n", 500, "-o", out, "--seed", 2).exit_code == 0
    opens = pd.read_csv(out, dtype=str)["opens"]
    assert opens.str.fullmatch(r"\d\d:\d\d").all()
    hours = pd.to_datetime(opens, format="%H:%M").dt.hour
    assert hours.between(8, 17).all()


@pytest.mark.parametrize("engine", ["cart", "copula"])
def test_durations_are_numbers_of_seconds_written_back_as_durations(engine: str) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"call": pd.to_timedelta(rng.integers(60, 5 * 3600, 400), unit="s"), "x": rng.normal(size=400)}
    )
    frame.loc[3, "call"] = pd.NaT
    column = infer_schema(frame)["call"]
    assert (column.kind, column.integer) == (Kind.NUMERIC, True)
    assert column.minimum == frame["call"].min().total_seconds()
    out = mirage.fit(frame, engine=engine, seed=0).sample(1_000, seed=1)["call"]
    assert pd.api.types.is_timedelta64_dtype(out.dtype)
    present = out.dropna()
    assert present.min() >= pd.Timedelta(seconds=60) and present.max() <= pd.Timedelta(hours=5)
    assert (present.dt.total_seconds() % 1 == 0).all()
