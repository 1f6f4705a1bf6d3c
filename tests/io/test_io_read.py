"""read_table / read_any: formats, encodings, delimiters and the errors for bad input files."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage._warnings import MirageWarning
from mirage.errors import DataError, OptionError
from mirage.io import read_any, read_table
from mirage.io._csv import detect_encoding, sniff_delimiter
from tests.conftest import SHARED as DATA


def _shared(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return path


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _head(source: Path, target: Path, lines: int) -> Path:
    with source.open(encoding="utf-8") as handle:
        target.write_text("".join(next(handle) for _ in range(lines)), encoding="utf-8")
    return target


def test_titanic_sample_types_and_missing_values(tmp_path: Path) -> None:
    path = _head(_shared("titanic.csv"), tmp_path / "titanic.csv", 51)
    df = read_table(path)
    assert df.shape == (50, 12)
    assert df["survived"].dtype == np.int64
    assert df["fare"].dtype == np.float64
    assert df["adult_male"].dtype == np.bool_
    assert df["sex"].dtype == object
    assert df.loc[0, "fare"] == 7.25
    assert df.loc[0, "sex"] == "male"
    assert _is_nan(df.loc[0, "deck"])
    assert df.loc[1, "deck"] == "C"


def test_adult_sample(tmp_path: Path) -> None:
    path = _head(_shared("adult.csv"), tmp_path / "adult.csv", 201)
    df = read_table(path)
    assert df.shape == (200, 15)
    assert list(df.columns[:3]) == ["age", "workclass", "fnlwgt"]
    assert df["age"].dtype == np.int64
    assert df["workclass"].dtype == object
    assert df.iloc[0].tolist()[:4] == [39, "State-gov", 77516, "Bachelors"]
    assert set(df["income"]) <= {"<=50K", ">50K"}


@pytest.mark.parametrize(
    ("name", "text", "delimiter"),
    [
        ("semi.csv", "a;b;c\n1,5;x;2\n3,25;y;4\n", ";"),
        ("tab.csv", "a\tb\tc\n1,5\tx\t2\n3,25\ty\t4\n", "\t"),
        ("pipe.txt", "a|b|c\n1,5|x|2\n3,25|y|4\n", "|"),
    ],
)
def test_delimiter_is_detected(tmp_path: Path, name: str, text: str, delimiter: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert sniff_delimiter(text) == delimiter
    df = read_table(path)
    assert list(df.columns) == ["a", "b", "c"]
    assert df["a"].tolist() == [1.5, 3.25]  # a decimal comma
    assert df["c"].tolist() == [2, 4]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes(b"a;b\r\n1;x\r\n2;y\r\n")
    assert read_table(path).to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}


def test_tsv_extension_reads_tabs(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("name\tnote\nann\thello, world\n", encoding="utf-8")
    df = read_table(path)
    assert df.to_dict("list") == {"name": ["ann"], "note": ["hello, world"]}


def test_quoted_delimiters_do_not_confuse_the_sniffer(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('id,text\n1,"a;b;c;d"\n2,"x; y"\n', encoding="utf-8")
    assert read_table(path)["text"].tolist() == ["a;b;c;d", "x; y"]


def test_single_column_file(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("name\nann\nbob\n", encoding="utf-8")
    assert read_table(path).to_dict("list") == {"name": ["ann", "bob"]}


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_accents(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name;city\nRené;Zürich\nNoël;Besançon\n".encode(encoding))
    df = read_table(path)
    assert df.to_dict("list") == {"name": ["René", "Noël"], "city": ["Zürich", "Besançon"]}


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "id,name\n1,Zoë\n".encode())
    df = read_table(path)
    assert list(df.columns) == ["id", "name"]
    assert df.loc[0, "name"] == "Zoë"


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    path = tmp_path / "cyr.csv"
    path.write_bytes("id,city\n1,Москва\n".encode("cp1251"))
    assert read_table(path, encoding="cp1251").loc[0, "city"] == "Москва"


def test_detect_encoding() -> None:
    assert detect_encoding("a,b\n1,é\n".encode(), complete=True) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfa,b\n", complete=True) == "utf-8-sig"
    assert detect_encoding("a,b\n1,Hélène\n".encode("latin-1"), complete=True) == "cp1252"
    truncated = "a,b\n1,é".encode()[:-1]
    assert detect_encoding(truncated, complete=False) == "utf-8"


def test_only_empty_cells_are_missing_and_dates_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "na.csv"
    path.write_text("code,when,x\nNA,2024-01-31,\n,2024-02-01,1.5\n", encoding="utf-8")
    df = read_table(path)
    assert df.loc[0, "code"] == "NA"
    assert _is_nan(df.loc[1, "code"])
    assert df["when"].dtype == object
    assert df["when"].tolist() == ["2024-01-31", "2024-02-01"]
    assert df["x"].dtype == np.float64
    assert _is_nan(df.loc[0, "x"])


def test_header_only_gives_empty_frame_with_columns(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("a,b,c\n", encoding="utf-8")
    df = read_table(path)
    assert list(df.columns) == ["a", "b", "c"]
    assert len(df) == 0


def test_malformed_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6,7\n8,9\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv' line 4 has 3 fields, but the header has 2"):
        read_table(path)


def test_malformed_line_counts_physical_lines(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text('a,b\n"two\nlines",2\n\n3,4,5\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"line 5 has 3 fields"):
        read_table(path)


def test_duplicate_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,name,name\n1,a,b\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"dup\.csv' has two columns named 'name'"):
        read_table(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv' is empty"):
        read_table(path)


def test_blank_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"blank\.csv' is empty: it has no header"):
        read_table(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match=r"nope\.csv' does not exist"):
        read_table(path)


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(DataError, match=r"folder\.csv' is a directory"):
        read_table(folder)


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.dat"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"data\.dat' has extension '\.dat'"):
        read_table(path)
    assert read_table(path, format="csv").to_dict("list") == {"a": [1], "b": [2]}


def test_unknown_format_option(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(OptionError, match=r"format='xml'"):
        read_table(path, format="xml")


def test_unreadable_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(DataError, match=r"broken\.parquet' as Parquet"):
        read_table(path)


def test_unreadable_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match=r"broken\.xlsx'"):
        read_table(path)


def test_jsonl_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"rows\.jsonl' line 3 is not valid JSON"):
        read_table(path)


def test_jsonl_line_must_be_object(tmp_path: Path) -> None:
    path = tmp_path / "rows.ndjson"
    path.write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2 is a JSON list"):
        read_table(path)


def test_jsonl_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + '{"a": "é"}\n'.encode())
    assert read_table(path).to_dict("list") == {"a": ["é"]}


def test_jsonl_missing_values_are_nan(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1, "s": "x"}\n{"a": 2, "s": null}\n{"a": 3}\n', encoding="utf-8")
    df = read_table(path)
    assert df["a"].tolist() == [1, 2, 3]
    assert df["s"].dtype == object
    assert df.loc[0, "s"] == "x"
    assert _is_nan(df.loc[1, "s"]) and _is_nan(df.loc[2, "s"])


def test_xlsx_is_read(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    pd.DataFrame({"n": [1, 2], "s": ["é", None]}).to_excel(path, index=False)
    df = read_table(path)
    assert df["n"].tolist() == [1, 2]
    assert df["s"].dtype == object
    assert df.loc[0, "s"] == "é"
    assert _is_nan(df.loc[1, "s"])


def test_an_xlsx_title_above_the_header_is_left_out(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [["Sales report Q1"], [], ["id", "city", "amount"], [1, "Oslo", 2.5], [2, "Rome", 4.0]]:
        sheet.append(row)
    path = tmp_path / "report.xlsx"
    book.save(path)
    with pytest.warns(MirageWarning) as caught:
        df = read_table(path)
    assert [str(w.message) for w in caught] == [
        f"'{path}': read the header from row 3 of the sheet; left out the 2 row(s) above it "
        "('Sales report Q1')"
    ]
    assert df.columns.tolist() == ["id", "city", "amount"]
    assert df["id"].tolist() == [1, 2] and df["amount"].tolist() == [2.5, 4.0]
    plain = tmp_path / "plain.xlsx"
    pd.DataFrame({"a": ["x", "y"], "b": ["p", "q"]}).to_excel(plain, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MirageWarning)
        assert read_table(plain).columns.tolist() == ["a", "b"]


def test_read_any(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1]})
    assert read_any(frame) is frame
    path = tmp_path / "a.csv"
    path.write_text("a\n7\n", encoding="utf-8")
    assert read_any(path)["a"].tolist() == [7]
    assert read_any(str(path))["a"].tolist() == [7]
    with pytest.raises(DataError, match="got int"):
        read_any(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["t.csv.gz", "t.csv.bz2", "t.tsv.xz", "t.jsonl.gz"])
def test_compressed_text_files_read_as_their_plain_twin(tmp_path: Path, name: str) -> None:
    frame = pd.DataFrame(
        {"id": [1, 2, 3], "city": ["Köln", "a, b", "line\nbreak"], "amount": [1.5, 2.25, 3.0]}
    )
    plain = tmp_path / name.rsplit(".", 1)[0]
    if ".jsonl" in name:
        frame.to_json(plain, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(plain, index=False, sep="\t" if ".tsv" in name else ",")
    compressed = tmp_path / name
    compressed.write_bytes(_compress(plain.read_bytes(), name))
    twin = read_table(plain)
    assert twin["city"].tolist() == frame["city"].tolist()
    pd.testing.assert_frame_equal(read_table(compressed), twin)


def _compress(data: bytes, name: str) -> bytes:
    import bz2
    import gzip
    import lzma

    return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[name.rsplit(".", 1)[1]](data)


def test_a_broken_or_unsupported_compressed_file_is_refused_by_name(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(DataError, match=r"cannot read '.*broken\.csv\.gz': Not a gzipped file"):
        read_table(broken)
    parquet = tmp_path / "t.parquet.gz"
    parquet.write_bytes(b"x")
    with pytest.raises(DataError, match="only CSV, TSV and JSON Lines files may be compressed"):
        read_table(parquet)


def test_a_legacy_code_page_is_chosen_by_how_its_words_read_and_named_in_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "cities.csv"
    rows = [("1", "Łódź"), ("2", "Gdańsk"), ("3", "Kraków"), ("4", "Plzeň"), ("5", "Brno")] * 4
    path.write_bytes(("id,city\n" + "".join(f"{i},{c}\n" for i, c in rows)).encode("cp1250"))
    with pytest.warns(MirageWarning, match=r"cities.csv' is not UTF-8: read as cp1250, which gives .*'Łódź'"):
        frame = read_table(path)
    assert set(frame["city"]) == {"Łódź", "Gdańsk", "Kraków", "Plzeň", "Brno"}  # cp1252 read '£ódŸ'


def test_russian_windows_text_is_not_read_as_a_mac_code_page() -> None:
    sample = "id,city\n" + "".join(f"{i},{c}\n" for i, c in enumerate(["Москва", "Казань", "Омск"] * 5))
    assert detect_encoding(sample.encode("cp1251"), complete=True) == "cp1251"  # was mac_cyrillic


def test_when_the_bytes_cannot_tell_code_pages_apart_the_warning_gives_the_other_readings(
    tmp_path: Path,
) -> None:
    path = tmp_path / "turkish.csv"
    path.write_bytes("id,city\n1,Eskişehir\n2,Muğla\n3,Ankara\n".encode("cp1254"))
    with pytest.warns(MirageWarning, match=r"cp1254 would give 'Eskişehir', 'Muğla'") as caught:
        read_table(path)
    assert len([w for w in caught if "is not UTF-8" in str(w.message)]) == 1
    assert read_table(path, encoding="cp1254")["city"].tolist() == ["Eskişehir", "Muğla", "Ankara"]


def test_a_utf8_file_gives_no_encoding_warning(tmp_path: Path) -> None:
    path = tmp_path / "utf8.csv"
    path.write_text("id,city\n1,Łódź\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_table(path)["city"].tolist() == ["Łódź"]


def test_parquet_integers_with_nulls_stay_integers(tmp_path: Path) -> None:
    """pandas reads an integer Parquet column with nulls as float64 (7.0; ids past 2**53 rounded): such
    columns are read as nullable integers of their width, exactly, and sampled back as integers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import mirage

    rng = np.random.default_rng(0)
    ids = [None if i % 7 == 0 else 2**60 + i for i in range(300)]
    qty = [None if i % 11 == 0 else int(v) for i, v in enumerate(rng.integers(1, 9, 300))]
    table = pa.table(
        {
            "id": pa.array(ids, type=pa.int64()),
            "qty": pa.array(qty, type=pa.int32()),
            "full": pa.array(rng.integers(0, 5, 300), type=pa.int16()),
            "price": pa.array(rng.gamma(2.0, 10.0, 300)),
        }
    )
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    df = read_table(path)
    assert [str(df[c].dtype) for c in df.columns] == ["Int64", "Int32", "int16", "float64"]
    assert df["id"].tolist() == [pd.NA if v is None else v for v in ids]  # exact past 2**53
    model = mirage.fit(df[["qty", "full", "price"]], engine="cart", seed=0)
    out = tmp_path / "out"
    model.sample_to(out, 200, seed=1)
    written = pq.read_table(out)
    assert written.schema.field("qty").type == pa.int32() and written.column("qty").null_count > 0


def test_parquet_decimals_and_dates_are_sampled_back_with_their_types(tmp_path: Path) -> None:
    """pandas reads a ``decimal128(12,2)`` column as floats and a ``date32`` column as datetimes; rows
    sampled to Parquet are written with the source's types, not as ``double`` and ``timestamp``."""
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    import mirage
    from mirage.schema import infer_schema

    rng = np.random.default_rng(0)
    amounts = [decimal.Decimal(int(c)) / 100 for c in rng.integers(100, 99_999, 300)]
    days = [datetime.date(2024, 1, 1) + datetime.timedelta(days=int(d)) for d in rng.integers(0, 300, 300)]
    path = tmp_path / "typed.parquet"
    source = {"amount": pa.array(amounts, pa.decimal128(12, 2)), "day": pa.array(days, pa.date32())}
    pq.write_table(pa.table(source), path)
    df = read_table(path)
    assert infer_schema(df).extra["parquet"] == {"types": {"amount": "decimal128(12,2)", "day": "date32"}}
    model = mirage.fit(df, engine="cart", seed=0)
    out = tmp_path / "out.parquet"
    model.sample_to(out, 200, seed=1)
    written = pq.read_table(out)
    assert written.schema.field("amount").type == pa.decimal128(12, 2)
    assert written.schema.field("day").type == pa.date32()
    assert min(written.column("amount").to_pylist()) >= min(amounts)


def test_csv_integers_with_gaps_past_two_to_the_53_are_read_exactly(tmp_path: Path) -> None:
    """pandas reads an integer column with gaps as float64, which rounds 19-digit ids; such a column is
    read as nullable integers, exactly.  Smaller numbers with gaps stay floats."""
    first = 1_234_567_890_123_456_789
    lines = ["id,small,big_float"] + [
        f"{'' if i == 3 else first + 7 * i},{'' if i == 4 else i},{2.0**60 if i else 1.5e20}"
        for i in range(10)
    ]
    path = tmp_path / "ids.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    df = read_table(path)
    assert str(df["id"].dtype) == "Int64"
    assert df["id"].tolist() == [pd.NA if i == 3 else first + 7 * i for i in range(10)]
    assert str(df["small"].dtype) == "float64" and str(df["big_float"].dtype) == "float64"


def test_a_file_whose_first_part_ends_inside_a_quoted_line_break_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mirage.io._csv as csv_module

    lines = ["price,flag,note"]
    for i in range(400):
        note = '"line one\nline two, with a comma"' if i % 3 == 0 else "plain"
        lines.append(f"{10 + i % 90}.{i % 10}0,{'true' if i % 2 else 'false'},{note}")
    path = tmp_path / "notes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    cut = text.index("line one\n", 2_000) + len("line one\n") + 3  # inside a quoted field's line break
    assert text[:cut].count('"') % 2 == 1
    monkeypatch.setattr(csv_module, "SAMPLE_BYTES", cut)  # the first part the readers look at again
    frame = read_table(path)
    assert len(frame) == 400 and frame["note"].iloc[0] == "line one\nline two, with a comma"
    assert frame["flag"].dtype == bool and frame.attrs["mirage.csv"]["booleans"] == {
        "flag": ["true", "false"]
    }
    assert frame.attrs["mirage.csv"]["numbers"]["price"]["decimals"] == 2
