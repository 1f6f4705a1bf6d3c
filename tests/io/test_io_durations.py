"""Durations written as text (``1h 30m``, ``2 hrs 5 mins``, ``3 days 4 hours``): read as timedeltas,
written back the way the source wrote them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.errors import OptionError
from mirage.io import read_table, write_chunks
from mirage.io._durations import duration_texts, spell_durations
from tests.cli.helpers import invoke


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        (["2h 50m", "19h", "5h 25m", "25m", "1h 5m"], "non_zero"),
        (["0h 45m", "1h 0m", "2h 5m", "0h 5m", "3h 59m"], "all"),
        (["1h30m", "45m", "2h0m", "3h5m", "1h1m"], "from_largest"),
        (["3 days 4 hours", "1 day", "2 days 1 hour", "5 hours", "1 day 1 hour"], "non_zero"),
        (["1 hr, 5 mins", "2 hrs", "1 hr, 1 min", "3 hrs, 2 mins", "10 mins"], "non_zero"),
        (["1m 30s", "0m 5s", "12m 0s", "59m 59s", "0m 0s"], "all"),
    ],
)
def test_durations_are_read_and_written_back_as_the_source_wrote_them(values: list[str], shown: str) -> None:
    frame = pd.DataFrame({"d": [*values, None]})
    styles = duration_texts(frame)
    assert pd.api.types.is_timedelta64_dtype(frame["d"].dtype) and frame["d"].isna().sum() == 1
    assert styles["d"]["shown"] == shown
    assert spell_durations(frame["d"], styles["d"]).tolist() == [*values, None]


@pytest.mark.parametrize(
    "values",
    [
        ["45 min", "30 min"],  # one unit: a number with a unit
        ["1h 30m", "2h", "soon"],  # not every value a duration
        ["30m 1h", "2h 5m"],  # units out of order
        ["1h 30min", "2h 5m"],  # two labels for minutes
        ["1h 30m", "2h 5 m"],  # the space between number and label differs
        ["12A", "13B"],
        ["99999999999d 1h", "1h 5m"],  # past what a duration type holds (about 292 years)
    ],
)
def test_other_text_is_left_alone(values: list[str]) -> None:
    frame = pd.DataFrame({"d": values})
    assert duration_texts(frame) == {}
    assert frame["d"].tolist() == values


def test_a_duration_is_written_at_its_smallest_unit_rounded() -> None:
    style = {"units": ["h", "m"], "space": "", "join": " ", "shown": "non_zero"}
    seconds = pd.to_timedelta(pd.Series([5_400.0, 89.0, 29.0, 3_599.0, -60.0]), unit="s")
    assert spell_durations(seconds, style).tolist() == ["1h 30m", "1m", "0m", "1h", "1m"]


def test_fit_and_sample_keep_the_durations_spelling(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    minutes = rng.gamma(4.0, 40.0, 400).astype(int) + 30
    spelt = [f"{m // 60}h {m % 60}m" if m % 60 else f"{m // 60}h" for m in minutes]
    data = tmp_path / "flights.csv"
    pd.DataFrame({"duration": spelt, "stops": rng.integers(0, 3, 400)}).to_csv(data, index=False)
    model, out = tmp_path / "flights.mirage", tmp_path / "synthetic.csv"
    assert invoke("fit", data, "-o", model, "--seed", 1).exit_code == 0
    result = invoke("sample", model, "-n", 500, "-o", out, "--seed", 2)
    assert result.exit_code == 0, result.output
    text = pd.read_csv(out, dtype=str)["duration"]
    assert text.str.fullmatch(r"(\d+h)?( ?\d+m)?").all() and not (text.str.strip() == "").any()
    synthetic = read_table(out)["duration"].dt.total_seconds() / 60
    assert abs(synthetic.median() / np.median(minutes) - 1) < 0.2


def test_a_bad_durations_setting_names_the_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"d": pd.to_timedelta([60.0], unit="s")})
    dialect = {"durations": {"d": {"units": ["m", "h"], "space": "", "join": " ", "shown": "all"}}}
    with pytest.raises(OptionError, match="durations of column 'd'"):
        write_chunks(iter([frame]), tmp_path / "out.csv", dialect=dialect)
    assert not (tmp_path / "out.csv").exists()


def test_iso_8601_durations_are_read_and_written_back_so(tmp_path: Path) -> None:
    source = tmp_path / "calls.csv"
    source.write_text("length,priority\nPT1H20M,P1\nPT45M,P2\nP1DT2H,P1\nPT0M,P3\n,P2\n", encoding="utf-8")
    frame = read_table(source)
    assert frame["length"].dt.total_seconds().tolist()[:4] == [4800.0, 2700.0, 93600.0, 0.0]
    assert frame["length"].isna().tolist()[4] and frame["priority"].tolist()[0] == "P1"
    assert frame.attrs["mirage.csv"]["durations"] == {"length": {"iso": True, "smallest": "m"}}
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=frame.attrs["mirage.csv"])
    assert out.read_text(encoding="utf-8").splitlines() == [
        "length,priority",
        "PT1H20M,P1",
        "PT45M,P2",
        "P1DT2H,P1",
        "PT0M,P3",
        ",P2",
    ]
    with pytest.raises(OptionError, match="ISO durations of column 'length' need iso"):
        write_chunks(
            frame, tmp_path / "bad.csv", dialect={"durations": {"length": {"iso": True, "smallest": "w"}}}
        )
