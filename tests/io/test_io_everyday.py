"""Everyday files: decimal commas, lines with the wrong number of fields, text that is not UTF-8."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage._warnings import MirageWarning
from mirage.errors import DataError, OptionError
from mirage.io import read_table, write_chunks
from tests.conftest import SHARED

# --- a spreadsheet's export ---------------------------------------------------------------------


def test_an_exports_empty_columns_and_lines_after_the_table_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id,city,count,,\n1,Oslo,7,,\n2,,3,,\n3,Bergen,12,,\n,,,,\n,,,,\n", encoding="utf-8")
    with pytest.warns(MirageWarning) as caught:
        df = read_table(path)
    assert sorted(str(w.message) for w in caught) == [
        f"'{path}': left out 2 column(s) with no name and no values (an export's empty columns)",
        f"'{path}': left out 2 line(s) whose every field is empty",
    ]
    assert list(df.columns) == ["id", "city", "count"]
    assert df["id"].dtype == np.int64 and df["id"].tolist() == [1, 2, 3]
    assert df["count"].dtype == np.int64 and df["city"].isna().tolist() == [False, True, False]


def test_a_byte_order_mark_and_windows_line_ends_are_written_back(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffname;amount\r\nMüller;1,5\r\nŠimek;2,25\r\n".encode())
    df = read_table(path)
    assert df.columns.tolist() == ["name", "amount"] and df["amount"].tolist() == [1.5, 2.25]
    assert df.attrs["mirage.csv"] | {"numbers": None} == {
        "delimiter": ";",
        "decimal": ",",
        "bom": True,
        "line_end": "\r\n",
        "numbers": None,
    }
    out = tmp_path / "out.csv"
    write_chunks(df, out, dialect=df.attrs["mirage.csv"])
    assert out.read_bytes() == "\ufeffname;amount\r\nMüller;1,5\r\nŠimek;2,25\r\n".encode()
    plain = tmp_path / "plain.csv"
    plain.write_text("name,amount\nA,1\n", encoding="utf-8")
    assert read_table(plain).attrs["mirage.csv"] == {"delimiter": ",", "decimal": "."}
    with pytest.raises(OptionError, match="csv dialect: line_end must be"):
        write_chunks(df, tmp_path / "bad.csv", dialect={"line_end": "\r"})


@pytest.mark.parametrize(
    ("above", "notes"),
    [
        (["# exported by BankApp 3.2", "# account 1234"], "'# exported by BankApp 3.2', '# account 1234'"),
        (
            ["Account statement,,", "Generated 2024-04-01,,", ""],
            "'Account statement,,', 'Generated 2024-04-01,,'",
        ),
    ],
)
def test_a_title_or_notes_above_the_header_are_left_out(tmp_path: Path, above: list[str], notes: str) -> None:
    path = tmp_path / "statement.csv"
    rows = [f"2024-03-{day:02d},coffee,{day - 3.5}" for day in range(1, 11)]
    path.write_text("\n".join([*above, "date,what,amount", *rows]) + "\n", encoding="utf-8")
    with pytest.warns(MirageWarning) as caught:
        df = read_table(path)
    line = len(above) + 1
    assert [str(w.message) for w in caught] == [
        f"'{path}': read the header from line {line}; left out the {line - 1} line(s) above it ({notes})"
    ]
    assert df.columns.tolist() == ["date", "what", "amount"] and len(df) == 10
    assert df["amount"].tolist()[:2] == [-2.5, -1.5]


@pytest.mark.parametrize(
    "lines",
    [
        [",a,b", "0,x,1", "1,y,2", "2,z,3"],  # pandas' index column has no name
        [",a", "0,x", "1,y", "2,z"],
        ["a,b,c", "1,,3", "4,,6", "7,,9"],
    ],
)
def test_a_header_is_not_taken_for_a_title(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MirageWarning)
        df = read_table(path)
    assert len(df) == 3


def test_an_empty_field_of_a_one_column_file_is_its_missing_value(tmp_path: Path) -> None:
    path = tmp_path / "signal.csv"
    path.write_text('signal\n0.1\n""\n0.2\n', encoding="utf-8")  # as pandas writes a gap
    with warnings.catch_warnings():
        warnings.simplefilter("error", MirageWarning)
        df = read_table(path)
    assert df["signal"].isna().tolist() == [False, True, False]


def test_two_unnamed_columns_with_values_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("id,,\n1,a,b\n2,c,\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"notes\.csv' has two columns named '' in its header"):
        read_table(path)


# --- numbers written for people -----------------------------------------------------------------


def test_european_csv_numbers_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "euro.csv"
    path.write_text(
        "betrag;kurs;menge;datum;stadt\n"
        "1.234,56;0,5;1.500;12.09.2024;Köln\n"
        "902,38;12,25;12;13.09.2024;Berlin\n"
        "-7,10;3,125;2.000;14.09.2024;Bonn\n",
        encoding="utf-8",
    )
    df = read_table(path)
    assert df["betrag"].tolist() == [1234.56, 902.38, -7.10]
    assert df["kurs"].tolist() == [0.5, 12.25, 3.125]
    assert df["menge"].dtype == np.int64 and df["menge"].tolist() == [1500, 12, 2000]  # thousands groups
    assert df["datum"].tolist() == ["12.09.2024", "13.09.2024", "14.09.2024"]  # dates stay text
    assert df["stadt"].tolist() == ["Köln", "Berlin", "Bonn"]


def test_decimal_comma_with_missing_values_and_spaces_as_groups(tmp_path: Path) -> None:
    path = tmp_path / "fr.tsv"
    path.write_text("montant\tn\n1\u00a0234,5\t1\n\t2\n12,75\t3\n", encoding="utf-8")
    df = read_table(path)
    assert df["montant"].dtype == np.float64
    assert df["montant"].iloc[0] == 1234.5 and np.isnan(df["montant"].iloc[1])
    assert df["montant"].iloc[2] == 12.75


def test_thousands_commas_in_a_comma_separated_file(tmp_path: Path) -> None:
    path = tmp_path / "us.csv"
    path.write_text('amount,code\n"1,234.50",A1\n"12,000",B2\n7.25,C3\n', encoding="utf-8")
    df = read_table(path)
    assert df["amount"].tolist() == [1234.5, 12000.0, 7.25]
    assert df["code"].tolist() == ["A1", "B2", "C3"]


def test_text_that_only_looks_numeric_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("version;list;zip\n1.2.3;1,2,3;01234\n2.0.1;4,5;02345\n", encoding="utf-8")
    df = read_table(path)
    assert df["version"].tolist() == ["1.2.3", "2.0.1"]
    assert df["list"].tolist() == ["1,2,3", "4,5"]


def test_explicit_decimal_option_wins(tmp_path: Path) -> None:
    path = tmp_path / "explicit.csv"
    path.write_text("a;b\n1,5;x\n2,5;y\n", encoding="utf-8")
    assert read_table(path, decimal=",")["a"].tolist() == [1.5, 2.5]


# --- lines with the wrong number of fields ------------------------------------------------------


def test_short_line_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"short\.csv' line 3 has 2 fields, but the header has 3"):
        read_table(path)


def test_empty_trailing_fields_are_not_short_lines(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text('a,b,c\n1,2,\n4,,\n"x\ny",5,6\n\n', encoding="utf-8")
    df = read_table(path)
    assert df.shape == (3, 3)
    assert df["c"].isna().tolist() == [True, True, False]


def test_first_line_longer_than_the_header_is_an_error(tmp_path: Path) -> None:
    """pandas would silently make the first column the index (or drop the extra field)."""
    path = tmp_path / "long.csv"
    path.write_text("a,b,c\n1,2,3,4\n5,6,7,8\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2 has 4 fields, but the header has 3"):
        read_table(path)


def test_skip_leaves_out_short_and_long_lines_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,\n", encoding="utf-8")
    with pytest.warns(MirageWarning, match=r"bad\.csv': left out 2 line\(s\).*first: line 3 has 2"):
        df = read_table(path, on_bad_lines="skip")
    assert df["a"].tolist() == [1, 10]
    assert df["c"].iloc[0] == 3 and np.isnan(df["c"].iloc[1])


def test_on_bad_lines_is_checked() -> None:
    with pytest.raises(OptionError, match="on_bad_lines='warn'"):
        read_table(Path(__file__), format="csv", on_bad_lines="warn")


def test_insurance_with_a_short_line_appended(tmp_path: Path) -> None:
    source = SHARED / "insurance.csv"
    if not source.exists():
        pytest.skip(f"{source} is not available")
    path = tmp_path / "insurance.csv"
    text = source.read_text(encoding="utf-8")
    path.write_text(text + "19,female\n", encoding="utf-8")
    line = text.count("\n") + 1
    with pytest.raises(DataError, match=rf"line {line} has 2 fields, but the header has 7"):
        read_table(path)
    with pytest.warns(MirageWarning):
        skipped = read_table(path, on_bad_lines="skip")
    pd.testing.assert_frame_equal(skipped, read_table(source))


def test_well_formed_files_give_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("a,b\n1,\n2,3\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_table(path, on_bad_lines="skip").shape == (2, 2)


# --- text encodings -----------------------------------------------------------------------------


def test_invalid_utf8_names_the_byte_offset_and_line(tmp_path: Path) -> None:
    good = "name,city\n" + "".join(f"Zoë {i},Zürich\n" for i in range(50))
    data = good.encode() + b"Ren\xe9,Paris\n"
    path = tmp_path / "damaged.csv"
    path.write_bytes(data)
    offset = data.index(b"\xe9")
    with pytest.raises(
        DataError, match=rf"damaged\.csv' is not valid utf-8 text: byte 0xE9 at offset {offset} "
    ):
        read_table(path)
    with pytest.raises(DataError, match=r"\(line 52\).*pass encoding="):
        read_table(path)


def test_invalid_utf8_beyond_the_detection_sample(tmp_path: Path) -> None:
    good = "".join(f"{i},Zoë\n" for i in range(120_000)).encode()  # more than the 1 MiB sample
    data = b"n,name\n" + good + b"7,\xff\n"
    path = tmp_path / "late.csv"
    path.write_bytes(data)
    with pytest.raises(DataError, match=rf"byte 0xFF at offset {len(data) - 2} \(line 120002\)"):
        read_table(path)


def test_explicit_encoding_reads_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "damaged.csv"
    path.write_bytes("name\nZoë\n".encode() + b"Ren\xe9\n")
    assert read_table(path, encoding="latin-1")["name"].tolist() == ["ZoÃ«", "René"]


def test_jsonl_invalid_utf8_names_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": "\xc3\xa9"}\n{"a": "\xe9"}\n')
    with pytest.raises(DataError, match=r"rows\.jsonl' is not valid utf-8-sig text: byte 0xE9 at offset 19"):
        read_table(path)


@pytest.mark.parametrize(
    ("text", "a", "b"),
    [
        ("a;b\n1;2;\n3;4;\n", [1, 3], [2, 4]),
        ("a;b\n1;2\n3;4;\n5;;;\n", [1, 3, 5], [2, 4, None]),
    ],
)
def test_lines_ending_in_a_delimiter_lose_nothing(tmp_path: Path, text: str, a: list, b: list) -> None:
    """Extra fields that are all empty are a trailing delimiter, not a bad line."""
    path = tmp_path / "trailing.csv"
    path.write_text(text, encoding="utf-8")
    df = read_table(path)
    assert list(df.columns) == ["a", "b"]
    assert df["a"].tolist() == a
    assert [None if pd.isna(v) else v for v in df["b"]] == b
