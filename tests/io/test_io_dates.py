"""Dates a column writes in several formats are read as dates in its most common format."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirage.io import read_table, write_chunks
from mirage.schema import infer_schema
from mirage.schema._column import Kind


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_mixed_date_formats_are_rewritten_in_the_most_common_one(tmp_path: Path) -> None:
    lines = ["day,n"] + [f"2023-02-{d:02d},{d}" for d in range(1, 21)] + ["12/25/2023,1", "1/31/2024,2", ",3"]
    with pytest.warns(UserWarning) as caught:
        frame = read_table(_write(tmp_path / "d.csv", lines))
    assert [str(w.message) for w in caught] == [
        "column 'day': dates written in 2 formats ('%Y-%m-%d' in 20 rows, '%-m/%d/%Y' in 2 rows); "
        "read as dates and written as '%Y-%m-%d'"
    ]
    assert frame["day"].tolist()[19:22] == ["2023-02-20", "2023-12-25", "2024-01-31"]
    assert frame["day"].isna().tolist() == [False] * 22 + [True]
    column = infer_schema(frame)["day"]
    assert column.kind is Kind.DATETIME and column.datetime_format == "%Y-%m-%d"


def test_day_and_month_order_that_nothing_decides_is_named(tmp_path: Path) -> None:
    lines = ["day"] + [f"2023-03-{d:02d}" for d in range(1, 11)] + ["01/02/2023", "03/04/2023"]
    with pytest.warns(UserWarning, match=r"'%d/%m/%Y' could also be month first: read day first"):
        frame = read_table(_write(tmp_path / "d.csv", lines))
    assert frame["day"].tolist()[-2:] == ["2023-02-01", "2023-04-03"]


@pytest.mark.parametrize(
    "values",
    [
        ["2023-01-05", "2023-02-06"],  # one format: the schema reads it
        ["1.2.3", "1.10.0", "2.0.11"],  # version numbers
        ["2023-01-05", "soon", "01/05/2023"],  # not all dates
        ["2023-01-05+01:00", "01/05/2023"],  # an offset: left alone
    ],
)
def test_other_columns_are_left_as_they_are(tmp_path: Path, values: list[str]) -> None:
    frame = read_table(_write(tmp_path / "d.csv", ["v", *values]))
    assert frame["v"].tolist() == values


def test_words_for_missing_in_a_column_of_dates_are_missing_dates(tmp_path: Path) -> None:
    lines = ["day,status"] + [f"2023-02-{d:02d},open" for d in range(1, 21)] + ["n/a,closed", "N/A,open"]
    with pytest.warns(UserWarning, match=r"column 'day': read 'n/a' \(1\), 'N/A' \(1\) as missing dates"):
        frame = read_table(_write(tmp_path / "d.csv", lines))
    assert frame["day"].isna().tolist() == [False] * 20 + [True, True]
    assert frame.attrs["mirage.csv"]["missing"] == {"day": {"n/a": 0.5, "N/A": 0.5}}
    column = infer_schema(frame)["day"]
    assert column.kind is Kind.DATETIME and column.nullable and column.datetime_format == "%Y-%m-%d"
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=frame.attrs["mirage.csv"])
    assert out.read_text(encoding="utf-8").splitlines()[-2:] == ["N/A,closed", "n/a,open"]
    status = read_table(_write(tmp_path / "s.csv", ["status", "open", "n/a", "closed"]))
    assert status["status"].tolist() == ["open", "n/a", "closed"]  # a category, not a missing date
