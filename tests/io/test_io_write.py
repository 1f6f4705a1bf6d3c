"""write_table / write_chunks: round trips, no-overwrite rule, atomicity and streaming."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mirage.errors import DataError, OptionError, OutputExistsError
from mirage.io import read_table, write_chunks, write_table

TITANIC = Path(__file__).resolve().parents[1] / "fixtures" / "titanic.csv"

FLOATS = [0.1 + 0.2, 1 / 3, 1e-300, 123456789.123456789, -2.5e17, 5e-324]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": np.array([1, -2, 3, 40, 5, 6], dtype=np.int64),
            "f": FLOATS,
            "b": [True, False, True, True, False, False],
            "s": pd.Series(["a", "é ü", np.nan, "x,y", 'q"uote', "ß"], dtype=object),
        }
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl", ".xlsx"])
def test_round_trip_keeps_values_and_dtypes(tmp_path: Path, suffix: str) -> None:
    df = _frame()
    path = write_table(df, tmp_path / f"out{suffix}")
    assert path == tmp_path / f"out{suffix}"
    back = read_table(path)
    if suffix == ".xlsx":
        assert np.allclose(back["f"], df["f"], rtol=1e-15, atol=0)
        back["f"] = df["f"]
    pd.testing.assert_frame_equal(back, df)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_text_formats_round_trip_floats_exactly(tmp_path: Path, suffix: str) -> None:
    back = read_table(write_table(pd.DataFrame({"f": FLOATS}), tmp_path / f"f{suffix}"))
    assert back["f"].tolist() == FLOATS


def test_parquet_keeps_datetimes_and_categories(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "when": pd.to_datetime(pd.Series(["2024-01-31 10:00", None, "1999-12-31 00:00"])),
            "c": pd.Categorical(["lo", "hi", "lo"]),
            "n": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    back = read_table(write_table(df, tmp_path / "d.parquet"))
    pd.testing.assert_frame_equal(back, df)


def test_jsonl_writes_iso_dates_and_nulls(tmp_path: Path) -> None:
    df = pd.DataFrame({"when": pd.to_datetime(pd.Series(["2024-01-31", None])), "x": [1.5, np.nan]})
    path = write_table(df, tmp_path / "d.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == ['{"when": "2024-01-31T00:00:00", "x": 1.5}', '{"when": null, "x": null}']


def test_titanic_round_trip_through_every_format(tmp_path: Path) -> None:
    if not TITANIC.is_file():
        pytest.skip(f"{TITANIC} is not available")
    df = read_table(TITANIC).head(120)
    for suffix in (".csv", ".parquet", ".jsonl", ".xlsx"):
        back = read_table(write_table(df, tmp_path / f"titanic{suffix}"))
        pd.testing.assert_frame_equal(back, df, obj=suffix)


def test_csv_has_no_index_and_is_utf8(tmp_path: Path) -> None:
    df = pd.DataFrame({"name": ["Zoë"], "n": [1]}, index=[7])
    path = write_table(df, tmp_path / "x.csv")
    assert path.read_bytes() == "name,n\nZoë,1\n".encode()


def test_existing_output_is_refused_then_overwritten_with_force(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(OutputExistsError, match=r"out\.csv' already exists; pass force=True"):
        write_table(pd.DataFrame({"a": [1]}), path)
    assert path.read_text(encoding="utf-8") == "old\n"
    write_table(pd.DataFrame({"a": [1]}), path, force=True)
    assert path.read_text(encoding="utf-8") == "a\n1\n"
    assert _leftovers(tmp_path) == []


def test_a_missing_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"folder '.*x.y' does not exist; create it first"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x" / "y" / "out.parquet")
    assert not (tmp_path / "x").exists()


def test_format_option_overrides_extension(tmp_path: Path) -> None:
    path = write_table(pd.DataFrame({"a": [1, 2]}), tmp_path / "out.bin", format="parquet")
    assert pq.read_table(path).column("a").to_pylist() == [1, 2]
    with pytest.raises(DataError, match=r"out\.xls' has extension '\.xls'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xls")
    with pytest.raises(OptionError, match="format='xls'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.bin2", format="xls")


def test_unwritable_parquet_leaves_nothing(tmp_path: Path) -> None:
    df = pd.DataFrame({"mixed": pd.Series([1, "a"], dtype=object)})
    path = tmp_path / "bad.parquet"
    with pytest.raises(DataError, match=r"bad\.parquet' as Parquet"):
        write_table(df, path)
    assert list(tmp_path.iterdir()) == []


def _chunks(df: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(df), size):
        yield df.iloc[start : start + size]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_write_chunks_reads_back_as_the_concatenation(tmp_path: Path, suffix: str) -> None:
    df = pd.concat([_frame()] * 3, ignore_index=True)
    chunks = list(_chunks(df, 6))
    assert len(chunks) == 3
    path = tmp_path / f"c{suffix}"
    assert write_chunks(iter(chunks), path) == 18
    pd.testing.assert_frame_equal(read_table(path), pd.concat(chunks, ignore_index=True))
    assert _leftovers(tmp_path) == []


def test_write_chunks_parquet_one_row_group_per_chunk(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    write_chunks((pd.DataFrame({"a": [i, i + 1]}) for i in range(3)), path)
    assert pq.ParquetFile(path).num_row_groups == 3


def test_write_chunks_casts_and_reorders_later_chunks(tmp_path: Path) -> None:
    first = pd.DataFrame({"a": [1.5, 2.5], "s": pd.Series([None, None], dtype=object)})
    second = pd.DataFrame({"s": ["x", "y"], "a": [3, 4]})
    path = tmp_path / "c.parquet"
    assert write_chunks([first, second], path) == 4
    back = read_table(path)
    assert back["a"].dtype == np.float64
    assert back["a"].tolist() == [1.5, 2.5, 3.0, 4.0]
    assert back["s"].tolist()[2:] == ["x", "y"]
    assert back["s"].isna().tolist() == [True, True, False, False]


def test_write_chunks_csv_writes_the_header_once(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_chunks([pd.DataFrame({"a": [1], "b": [2]}), pd.DataFrame({"b": [4], "a": [3]})], path)
    assert path.read_text(encoding="utf-8") == "a,b\n1,2\n3,4\n"


def test_write_chunks_column_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    with pytest.raises(DataError, match=r"chunk 2 for '.*c\.csv' has columns \['a', 'z'\]"):
        write_chunks([pd.DataFrame({"a": [1], "b": [2]}), pd.DataFrame({"a": [1], "z": [2]})], path)
    assert list(tmp_path.iterdir()) == []


def test_write_chunks_incompatible_type(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    with pytest.raises(DataError, match=r"c\.parquet' as Parquet"):
        write_chunks([pd.DataFrame({"a": [1]}), pd.DataFrame({"a": ["text"]})], path)
    assert list(tmp_path.iterdir()) == []


def test_write_chunks_takes_a_lone_frame_as_one_chunk(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    assert write_chunks(pd.DataFrame({"a": [1, 2]}), path) == 2
    assert path.read_text(encoding="utf-8") == "a\n1\n2\n"


def test_write_chunks_rejects_non_frames(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"chunk 2 .* is a dict, not a DataFrame"):
        write_chunks([pd.DataFrame({"a": [1]}), {"a": [2]}], tmp_path / "c.jsonl")  # type: ignore[list-item]
    assert list(tmp_path.iterdir()) == []


def test_write_chunks_without_chunks(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no chunks"):
        write_chunks([], tmp_path / "c.parquet")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_iterator_failure_leaves_no_file_and_no_temp(tmp_path: Path, suffix: str) -> None:
    produced: list[int] = []

    def failing() -> Iterator[pd.DataFrame]:
        for number in range(2):
            produced.append(number)
            yield pd.DataFrame({"a": [number]})
        raise RuntimeError("generator broke")

    with pytest.raises(RuntimeError, match="generator broke"):
        write_chunks(failing(), tmp_path / f"out{suffix}")
    assert produced == [0, 1]
    assert list(tmp_path.iterdir()) == []


def test_iterator_failure_keeps_the_old_file_under_force(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old\n", encoding="utf-8")

    def failing() -> Iterator[pd.DataFrame]:
        yield pd.DataFrame({"a": [1]})
        raise ValueError("stop")

    with pytest.raises(ValueError, match="stop"):
        write_chunks(failing(), path, force=True)
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_chunks_refuses_existing_without_consuming(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    path.write_bytes(b"keep")
    consumed: list[int] = []

    def chunks() -> Iterator[pd.DataFrame]:
        consumed.append(1)
        yield pd.DataFrame({"a": [1]})

    with pytest.raises(OutputExistsError, match="force=True"):
        write_chunks(chunks(), path)
    assert consumed == []
    assert path.read_bytes() == b"keep"


def test_json_arrays_and_excel_sheets_are_written_in_chunks_and_read_back(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["Zoë", None, "Bo"], "score": [1.5, 2.0, None], "n": [1, 2, 3]})
    chunks = [frame.iloc[:2], frame.iloc[2:]]
    assert write_chunks(iter(chunks), tmp_path / "out.json") == 3
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))[0] == {
        "name": "Zoë",
        "score": 1.5,
        "n": 1,
    }
    back = read_table(tmp_path / "out.json")
    assert back["n"].tolist() == [1, 2, 3]
    assert back["name"].iloc[0] == "Zoë" and pd.isna(back["name"].iloc[1])
    assert back["score"].iloc[0] == 1.5 and pd.isna(back["score"].iloc[2])
    assert write_chunks(iter(chunks), tmp_path / "out.xlsx") == 3
    assert pd.read_excel(tmp_path / "out.xlsx")["n"].tolist() == [1, 2, 3]


def test_an_excel_sheet_past_its_size_is_refused_and_nothing_is_written(tmp_path: Path, monkeypatch) -> None:
    from mirage.io import _write

    monkeypatch.setattr(_write, "EXCEL_MAX_ROWS", 4)
    chunks = [pd.DataFrame({"a": range(3)}), pd.DataFrame({"a": range(3)})]
    with pytest.raises(DataError, match=r"an Excel sheet holds at most 4 rows; write .csv"):
        write_chunks(iter(chunks), tmp_path / "big.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_json_file_must_be_an_array_of_objects(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.json' holds a JSON dict; a table is a JSON array of objects"):
        read_table(path)
    path.write_text('[{"a": 1}, 2]', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.json' item 1 is a JSON int, not an object"):
        read_table(path)


def test_parquet_types_cast_floats_and_datetimes_across_chunks(tmp_path: Path) -> None:
    chunks = [
        pd.DataFrame({"amount": [1.005, 2.5], "day": pd.to_datetime(["2024-01-02", "2024-03-04"])}),
        pd.DataFrame({"amount": [0.1 + 0.2], "day": pd.to_datetime(["2025-12-31"])}),
    ]
    dialect = {"parquet": {"types": {"amount": "decimal128(9,2)", "day": "date32"}}}
    write_chunks(iter(chunks), tmp_path / "t.parquet", dialect=dialect)
    table = pq.read_table(tmp_path / "t.parquet")
    assert [str(v) for v in table.column("amount").to_pylist()] == ["1.00", "2.50", "0.30"]
    assert [str(v) for v in table.column("day").to_pylist()] == ["2024-01-02", "2024-03-04", "2025-12-31"]


def test_parquet_types_that_do_not_fit_name_the_column(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"column 'amount' .* decimal128\(4, 2\)"):
        write_chunks(
            pd.DataFrame({"amount": [12345.5]}),
            tmp_path / "t.parquet",
            dialect={"parquet": {"types": {"amount": "decimal128(4,2)"}}},
        )
    with pytest.raises(OptionError, match=r"column 'amount': unknown Parquet type 'money'"):
        write_chunks(
            pd.DataFrame({"amount": [1.0]}),
            tmp_path / "u.parquet",
            dialect={"parquet": {"types": {"amount": "money"}}},
        )


def test_csv_dates_are_written_in_their_format(tmp_path: Path) -> None:
    frame = pd.DataFrame({"day": pd.to_datetime(["2024-10-20", None, "2024-01-19"]), "n": [1, 2, 3]})
    write_chunks(frame, tmp_path / "d.csv", dialect={"dates": {"day": "%d/%m/%Y"}})
    assert (tmp_path / "d.csv").read_text(encoding="utf-8").splitlines() == [
        "day,n",
        "20/10/2024,1",
        ",2",
        "19/01/2024,3",
    ]
    with pytest.raises(OptionError, match="dates must map column names to strftime formats"):
        write_chunks(frame, tmp_path / "e.csv", dialect={"dates": {"day": "dd/mm/yyyy"}})
