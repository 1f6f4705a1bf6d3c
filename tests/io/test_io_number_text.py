"""Numbers written with a currency sign or a unit: read as numbers, written back the way the source wrote
them; whole numbers with gaps written whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._warnings import MirageWarning
from mirage.errors import DataError, OptionError
from mirage.io import output_dialect, read_table, write_chunks
from mirage.schema import infer_schema, split_affixes
from tests.cli.helpers import invoke


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_signs_and_units_are_read_as_numbers(tmp_path: Path) -> None:
    us = _write(
        tmp_path / "us.csv",
        ["amount,rate,code", '"$1,234.50",27.0%,INV1001', "-$5.00,3.5%,INV1002", "$80.10,100.0%,INV1003"],
    )
    frame = read_table(us)
    assert frame["amount"].tolist() == [1234.5, -5.0, 80.1] and frame["rate"].tolist() == [27.0, 3.5, 100.0]
    assert frame["code"].tolist() == ["INV1001", "INV1002", "INV1003"]
    numbers = frame.attrs["mirage.csv"]["numbers"]
    assert numbers["amount"] == {"prefix": "$", "suffix": "", "decimals": 2, "grouped": True}
    assert numbers["rate"] == {"prefix": "", "suffix": "%", "decimals": 1, "grouped": False}
    german = _write(tmp_path / "de.csv", ["preis;anteil", "1.234,50 €;12,5 %", "99,90 €;3,0 %"])
    frame = read_table(german)
    assert frame["preis"].tolist() == [1234.5, 99.9] and frame["anteil"].tolist() == [12.5, 3.0]
    assert frame.attrs["mirage.csv"]["decimal"] == ","


def test_units_of_measure_are_read_as_numbers_and_written_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    lines = ["weight,pressure,glucose,size,seat"]
    for _ in range(200):
        weight, pressure = rng.gamma(3.0, 2.0), rng.integers(90, 180)
        lines.append(
            f"{weight:.1f} kg,{pressure} mmHg,{rng.uniform(70, 200):.0f} mg/dL,{rng.uniform(1, 900):.1f}MB,"
            f"{rng.integers(1, 30)}{'ABCDEF'[rng.integers(0, 6)]}"
        )
    data = _write(tmp_path / "units.csv", lines)
    frame = read_table(data)
    assert pd.api.types.is_float_dtype(frame["weight"].dtype) and frame["weight"].min() > 0
    numbers = frame.attrs["mirage.csv"]["numbers"]
    assert numbers["weight"]["suffix"] == " kg" and numbers["pressure"]["suffix"] == " mmHg"
    assert numbers["glucose"]["suffix"] == " mg/dL" and numbers["size"]["suffix"] == "MB"
    assert frame["seat"].dtype == object  # seat letters differ: not a unit
    model = tmp_path / "units.mirage"
    assert invoke("fit", data, "-o", model, "--seed", 1).exit_code == 0
    out = tmp_path / "synthetic.csv"
    assert invoke("sample", model, "-n", 200, "-o", out, "--seed", 2).exit_code == 0
    text = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert text["weight"].str.fullmatch(r"\d+\.\d kg").all()
    assert text["pressure"].str.fullmatch(r"\d+ mmHg").all()
    assert text["size"].str.fullmatch(r"\d+\.\dMB").all()


@pytest.mark.parametrize(
    "values",
    [
        ["$5", "€5"],
        ["INV1001", "INV1002"],
        ["12", "13"],
        ["5 apples", "6 apples"],
        ["$5", "n/a"],
        ["5 kg", "6 lb"],
        ["12A", "12B"],
        ["5 kgs", "6 kgs"],
    ],
)
def test_other_text_is_left_alone(values: list[str]) -> None:
    assert split_affixes(pd.Series(values)) is None


def test_written_back_as_the_source_wrote_them(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"amount": [1234.5, -5.0, np.nan], "rate": [27.0, 3.25, 1.0], "n": [8.0, np.nan, 2.0]}
    )
    dialect = {
        "delimiter": ";",
        "decimal": ",",
        "numbers": {
            "amount": {"prefix": "", "suffix": " €", "decimals": 2, "grouped": True},
            "rate": {"prefix": "", "suffix": "%", "decimals": 1, "grouped": False},
        },
        "whole": ["n"],
    }
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=dialect)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "amount;rate;n",
        "1.234,50 €;27,0%;8",
        "-5,00 €;3,2%;",
        ";1,0%;2",
    ]
    again = read_table(out)
    assert again["amount"].tolist()[:2] == [1234.5, -5.0] and again["n"].tolist()[0] == 8


def test_a_bad_numbers_setting_names_the_column(tmp_path: Path) -> None:
    bad = {"numbers": {"amount": {"prefix": "$", "suffix": "", "decimals": "two", "grouped": False}}}
    with pytest.raises(OptionError, match="column 'amount'"):
        write_chunks(pd.DataFrame({"amount": [1.0]}), tmp_path / "x.csv", dialect=bad)


def test_a_frame_with_signed_numbers_as_text_is_refused_by_name() -> None:
    frame = pd.DataFrame({"amount": ["$850.77", "$1,234.50", "$3.00"] * 20, "k": list(range(60))})
    with pytest.raises(DataError, match=r"column 'amount'.*'\$\.\.\.'.*read_table"):
        infer_schema(frame)


def test_fit_and_sample_keep_signs_units_and_whole_numbers(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["amount,rate,score"]
    for i in range(300):
        score = "" if i % 10 == 0 else str(int(rng.integers(0, 10)))
        lines.append(f'"${rng.uniform(1, 3000):,.2f}",{rng.uniform(0, 100):.1f}%,{score}')
    data = _write(tmp_path / "money.csv", lines)
    model = tmp_path / "money.mirage"
    assert invoke("fit", data, "-o", model, "--seed", 1).exit_code == 0
    out = tmp_path / "synthetic.csv"
    result = invoke("sample", model, "-n", 200, "-o", out, "--seed", 2)
    assert result.exit_code == 0, result.output
    text = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert text["amount"].str.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d{2}").all()
    assert text["rate"].str.fullmatch(r"\d{1,3}\.\d%").all()
    assert text["score"].str.fullmatch(r"\d?").all() and (text["score"] == "").any()
    parquet = tmp_path / "synthetic.parquet"
    assert invoke("sample", model, "-n", 50, "-o", parquet, "--seed", 2).exit_code == 0
    assert pd.api.types.is_float_dtype(pd.read_parquet(parquet)["amount"].dtype)
    real = read_table(data)
    synthetic = read_table(out)
    assert abs(synthetic["amount"].median() / real["amount"].median() - 1) < 0.25
    assert output_dialect(mirage.load(model).schema_)["whole"] == ["score"]


def test_parquet_decimals_and_dates_are_numbers_and_datetimes(tmp_path: Path) -> None:
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "price": pa.array([decimal.Decimal("12.50"), None, decimal.Decimal("3.99")], pa.decimal128(6, 2)),
            "day": pa.array([datetime.date(2024, 1, 31), datetime.date(2024, 2, 1), None], pa.date32()),
        }
    )
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    frame = read_table(path)
    assert frame["price"].dtype == "float64" and frame["price"].tolist()[::2] == [12.5, 3.99]
    assert pd.api.types.is_datetime64_any_dtype(frame["day"].dtype)
    kinds = {c.name: c.kind.value for c in infer_schema(frame).columns}
    assert kinds == {"price": "numeric", "day": "datetime"}


def test_a_frame_of_decimals_is_learned_as_numbers() -> None:
    import decimal

    frame = pd.DataFrame({"p": [decimal.Decimal(f"{i % 97}.{i % 10}5") for i in range(200)]})
    column = infer_schema(frame).columns[0]
    assert column.kind.value == "numeric" and column.decimals == 2 and column.maximum == 96.65
    assert column.dtype == "float64"


def test_accountants_negatives_are_numbers_written_back_in_parentheses(tmp_path: Path) -> None:
    data = _write(tmp_path / "ledger.csv", ["balance,fee", '"(1,234.50)",(5)', '"2,000.00",3', "(0.75),(12)"])
    frame = read_table(data)
    assert frame["balance"].tolist() == [-1234.5, 2000.0, -0.75] and frame["fee"].tolist() == [-5, 3, -12]
    numbers = frame.attrs["mirage.csv"]["numbers"]
    assert numbers["balance"] == {
        "prefix": "",
        "suffix": "",
        "decimals": 2,
        "grouped": True,
        "negative": "parentheses",
    }
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=frame.attrs["mirage.csv"])
    assert out.read_text(encoding="utf-8").splitlines() == [
        "balance,fee",
        '"(1,234.50)",(5)',
        '"2,000.00",3',
        "(0.75),(12)",
    ]
    assert read_table(_write(tmp_path / "notes.csv", ["note", "(see above)", "ok"]))["note"].tolist() == [
        "(see above)",
        "ok",
    ]


def test_words_for_missing_in_a_column_of_numbers_are_missing_numbers(tmp_path: Path) -> None:
    data = _write(
        tmp_path / "scores.csv", ["score,grade", "12,N/A", "N/A,1.5", "-,2.5", "7,unknown", "N/A,4"]
    )
    with pytest.warns(UserWarning) as caught:
        frame = read_table(data)
    assert sorted(str(w.message) for w in caught) == [
        "column 'grade': read 'N/A' (1), 'unknown' (1) as missing numbers; synthetic rows write each "
        "word on about its share of the missing cells, chosen at random (not tied to the other columns)",
        "column 'score': read 'N/A' (2), '-' (1) as missing numbers; synthetic rows write each "
        "word on about its share of the missing cells, chosen at random (not tied to the other columns)",
    ]
    assert frame["score"].isna().tolist() == [False, True, True, False, True]
    assert frame["score"].dropna().tolist() == [12, 7] and frame["grade"].dropna().tolist() == [1.5, 2.5, 4]
    assert frame.attrs["mirage.csv"]["missing"] == {
        "score": {"N/A": 0.666667, "-": 0.333333},
        "grade": {"N/A": 0.5, "unknown": 0.5},
    }
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect={**frame.attrs["mirage.csv"], "whole": ["score"]})
    assert out.read_text(encoding="utf-8").splitlines() == [
        "score,grade",
        "12,unknown",
        "N/A,1.5",
        "N/A,2.5",
        "7,N/A",
        "-,4.0",
    ]
    one_word = read_table(_write(tmp_path / "one.csv", ["score", "3", "N/A", "4"]))
    assert one_word.attrs["mirage.csv"]["missing"] == {"score": "N/A"}
    categories = read_table(_write(tmp_path / "c.csv", ["status", "open", "-", "closed"]))
    assert categories["status"].tolist() == ["open", "-", "closed"]


def test_several_missing_words_are_each_written_on_their_share_of_the_missing_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame({"score": [np.nan] * 1_000 + [1.5]})
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect={"missing": {"score": {"n/a": 0.5, "-": 0.3, "unknown": 0.2}}})
    written = pd.read_csv(out, dtype=str, keep_default_na=False)["score"]
    shares = written.value_counts(normalize=True)
    assert abs(shares["n/a"] - 0.5) < 0.01 and abs(shares["-"] - 0.3) < 0.01
    assert abs(shares["unknown"] - 0.2) < 0.01 and written.iloc[-1] == "1.5"
    with pytest.raises(OptionError, match="missing must map column names to the word written, or the words"):
        write_chunks(frame, tmp_path / "bad.csv", dialect={"missing": {"score": {"n/a": 0.5, "-": 0.1}}})


def test_decimal_commas_in_quotes_of_a_comma_separated_file_keep_their_column_s_mark(tmp_path: Path) -> None:
    """A spreadsheet in a decimal-comma locale exports "4,8" in quotes beside numbers written 0.5."""
    source = _write(
        tmp_path / "sheet.csv",
        ["share,rate,weight", '"4,8 %","0,25",0.5', '"12,5 %","1,75",1.25', '"7,1 %","3,5",2.0'],
    )
    frame = read_table(source)
    assert frame["share"].tolist() == [4.8, 12.5, 7.1] and frame["rate"].tolist() == [0.25, 1.75, 3.5]
    assert frame["weight"].tolist() == [0.5, 1.25, 2.0]
    dialect = frame.attrs["mirage.csv"]
    assert dialect["decimal"] == "." and dialect["numbers"]["share"]["decimal"] == ","
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=dialect)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "share,rate,weight",
        '"4,8 %","0,25",0.5',
        '"12,5 %","1,75",1.25',
        '"7,1 %","3,5",2.0',
    ]


def test_numbers_with_the_typographic_minus_are_negative_numbers_written_so(tmp_path: Path) -> None:
    source = _write(tmp_path / "t.csv", ["delta,n", "\u221226.2,1", "2.6,2", "\u22120.5,3"])
    frame = read_table(source)
    assert frame["delta"].tolist() == [-26.2, 2.6, -0.5]
    assert frame.attrs["mirage.csv"]["numbers"]["delta"]["negative"] == "minus sign"
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=frame.attrs["mirage.csv"])
    assert out.read_text(encoding="utf-8").splitlines() == ["delta,n", "\u221226.2,1", "2.6,2", "\u22120.5,3"]


def test_numbers_with_a_currency_each_are_numbers_and_a_currency_column(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "payments.csv",
        ["id,amount", "1,EUR 12.50", "2,USD 3.00", "3,N/A", '4,"EUR 1,250.00"', "5,GBP 7.25"],
    )
    with pytest.warns(UserWarning) as caught:
        frame = read_table(source)
    assert [str(w.message) for w in caught] == [
        "column 'amount': numbers written with a currency each (EUR, USD, GBP); learned as numbers with "
        "their currency in a column 'amount currency', which CSV output writes back beside each number"
    ]
    assert frame.columns.tolist() == ["id", "amount", "amount currency"]
    assert frame["amount"].tolist()[:2] == [12.5, 3.0] and frame["amount"].isna().tolist()[2]
    assert frame["amount currency"].fillna("").tolist() == ["EUR", "USD", "", "EUR", "GBP"]
    dialect = frame.attrs["mirage.csv"]
    assert dialect["currencies"] == {"amount": {"column": "amount currency", "side": "prefix", "space": " "}}
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=dialect)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "id,amount",
        "1,EUR 12.50",
        "2,USD 3.00",
        "3,N/A",
        '4,"EUR 1,250.00"',
        "5,GBP 7.25",
    ]
    one_currency = read_table(_write(tmp_path / "one.csv", ["amount", "EUR 12", "EUR 3"]))
    assert one_currency.columns.tolist() == ["amount"]
    keys = read_table(_write(tmp_path / "keys.csv", ["code", "INV 12", "ABC 3"]))
    assert keys["code"].tolist() == ["INV 12", "ABC 3"]


def test_codes_with_leading_zeros_stay_text(tmp_path: Path) -> None:
    data = _write(tmp_path / "zips.csv", ["zip,count", "02134,5", "10001,007", "94105,12"])
    frame = read_table(data)
    assert frame["zip"].tolist() == ["02134", "10001", "94105"]
    assert frame["count"].tolist() == ["5", "007", "12"]
    plain = read_table(_write(tmp_path / "plain.csv", ["n", "0", "10", "-3"]))
    assert plain["n"].tolist() == [0, 10, -3]


def test_codes_with_leading_zeros_past_the_sample_are_read_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mirage.io._csv as csv_reader

    monkeypatch.setattr(csv_reader, "SAMPLE_BYTES", 64)  # the sample ends after a few rows
    lines = ["zip,count"] + [f"{z:05d},{z % 7}" for z in range(1000, 1400, 7)]
    frame = read_table(_write(tmp_path / "zips.csv", lines))
    assert frame["zip"].tolist()[-1] == "01399" and frame["zip"].str.len().eq(5).all()
    assert pd.api.types.is_integer_dtype(frame["count"].dtype)


def test_numbers_written_with_as_few_decimals_as_they_need_come_back_so(tmp_path: Path) -> None:
    source = _write(tmp_path / "shop.csv", ["discount,price", "5%,$10.50", "12.5%,$3.00", "10%,$7.25"])
    frame = read_table(source)
    numbers = frame.attrs["mirage.csv"]["numbers"]
    assert numbers["discount"] == {
        "prefix": "",
        "suffix": "%",
        "decimals": 1,
        "grouped": False,
        "trimmed": True,
    }
    assert "trimmed" not in numbers["price"]  # "$3.00": the source keeps its zeros
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect={"numbers": numbers})
    assert out.read_text(encoding="utf-8").splitlines()[1:] == ["5%,$10.50", "12.5%,$3.00", "10%,$7.25"]


def test_numbers_written_with_a_plus_come_back_with_it(tmp_path: Path) -> None:
    """A change column written ``+3``/``-12`` (pandas reads both as numbers) is written back with the plus
    on its positive numbers, zeros as the source wrote them; a column with one unsigned positive is not."""
    source = _write(
        tmp_path / "delta.csv",
        [
            "delta,rate,price,mixed",
            '+3,+1.5,"+$1,200.00",+4',
            "-12,-0.25,-$5.00,7",
            "+0,0.0,+$80.10,-1",
            ",+2.0,+$3.00,+2",
        ],
    )
    frame = read_table(source)
    assert frame["delta"].tolist()[:3] == [3, -12, 0] and frame["price"].tolist()[0] == 1200.0
    dialect = output_dialect(infer_schema(frame))
    assert dialect["signed"] == {"delta": "non-negative", "rate": "positive", "price": "positive"}
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect=dialect)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "delta,rate,price,mixed",
        '+3,+1.5,"+$1,200.00",4',
        "-12,-0.25,-$5.00,7",
        "+0,0.0,+$80.10,-1",
        ",+2.0,+$3.00,2",
    ]


def test_a_bad_signed_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="signed must map column names to 'positive' or 'non-negative'"):
        write_chunks(pd.DataFrame({"d": [1]}), tmp_path / "o.csv", dialect={"signed": {"d": "always"}})


def test_grouped_numbers_without_a_sign_are_written_back_grouped(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    lines = ["amount,k"] + [f'"{v:,.2f}",{rng.integers(0, 3)}' for v in rng.lognormal(7, 1.2, 300)]
    data = _write(tmp_path / "amounts.csv", lines)
    frame = read_table(data)
    assert frame.attrs["mirage.csv"]["numbers"]["amount"] == {
        "prefix": "",
        "suffix": "",
        "decimals": 2,
        "grouped": True,
    }
    model, out = tmp_path / "amounts.mirage", tmp_path / "synthetic.csv"
    assert invoke("fit", data, "-o", model, "--seed", 1).exit_code == 0
    assert invoke("sample", model, "-n", 300, "-o", out, "--seed", 2).exit_code == 0
    written = pd.read_csv(out, dtype=str)["amount"]
    assert written.str.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d").all()
    assert written.str.contains(",").any()


def test_decimals_the_source_always_writes_are_kept_with_their_zeros(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    lines = ["price,weight,ratio"] + [
        f"{p:.2f},{w:.3f},{r}"
        for p, w, r in zip(
            rng.uniform(1, 99, 300), rng.uniform(0, 2, 300), rng.uniform(0, 1, 300).round(2), strict=True
        )
    ]
    data = _write(tmp_path / "prices.csv", lines)
    dialect = read_table(data).attrs["mirage.csv"]
    assert dialect["numbers"]["price"]["decimals"] == 2 and dialect["numbers"]["weight"]["decimals"] == 3
    assert "ratio" not in dialect["numbers"]  # written 0.5 and 0.25: its source trims zeros
    model, out = tmp_path / "prices.mirage", tmp_path / "synthetic.csv"
    assert invoke("fit", data, "-o", model, "--seed", 1).exit_code == 0
    assert invoke("sample", model, "-n", 300, "-o", out, "--seed", 2).exit_code == 0
    written = pd.read_csv(out, dtype=str)
    assert written["price"].str.fullmatch(r"\d+\.\d\d").all() and written["price"].str.endswith("0").any()
    assert written["weight"].str.fullmatch(r"\d+\.\d{3}").all()
    german = _write(
        tmp_path / "de.csv",
        ["preis;menge"] + [f"{v:.2f}".replace(".", ",") + ";1" for v in rng.uniform(1, 9, 50)],
    )
    assert read_table(german).attrs["mirage.csv"]["numbers"]["preis"]["decimals"] == 2


def test_numbers_with_a_footnote_mark_on_a_few_are_numbers_and_keep_the_mark(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    values = [f"{v:.1f}" for v in rng.normal(50, 10, 400)]
    for i in rng.choice(400, 8, replace=False):
        values[i] += "*"
    data = _write(
        tmp_path / "flagged.csv", ["measure,g"] + [f"{v},{'ab'[i % 2]}" for i, v in enumerate(values)]
    )
    with pytest.warns(MirageWarning, match=r"'measure': 8 of 400 numbers carry a '\*' mark"):
        frame = read_table(data)
    assert pd.api.types.is_float_dtype(frame["measure"].dtype)
    assert frame["measure"].tolist() == [float(v.rstrip("*")) for v in values]
    assert frame.attrs["mirage.csv"]["marks"] == {"measure": {"mark": "*", "share": 0.02}}
    model, out = tmp_path / "flagged.mirage", tmp_path / "synthetic.csv"
    assert invoke("fit", data, "-o", model, "--seed", 1).exit_code == 0
    assert invoke("sample", model, "-n", 4000, "-o", out, "--seed", 2).exit_code == 0
    written = pd.read_csv(out, dtype=str)["measure"]
    assert 0.01 <= written.str.endswith("*").mean() <= 0.03
    numbers = pd.to_numeric(written.str.rstrip("*"))
    assert abs(numbers.std() - frame["measure"].std()) < 2.5  # not drawn flat over the range as codes were
    mixed = _write(tmp_path / "mixed.csv", ["v"] + [f"{i}*" if i % 3 else f"{i}#" for i in range(30)])
    assert read_table(mixed)["v"].dtype == object  # two marks, most rows marked: not footnotes


def test_whole_numbers_past_any_integer_are_written_as_floats(tmp_path: Path) -> None:
    frame = pd.DataFrame({"size": [1.0e300, 2.5e300, np.nan], "count": [3.0, np.nan, 4.0]})
    out = tmp_path / "out.csv"
    write_chunks(frame, out, dialect={"whole": ["size", "count"]})
    assert out.read_text(encoding="utf-8").splitlines() == ["size,count", "1e+300,3", "2.5e+300,", ",4"]
