"""Everyday formats through the whole path: read -> infer_schema -> fit -> sample, in the source format."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.io import read_table
from mirage.schema import Kind, infer_schema

N = 300
START = datetime(2024, 1, 3, 8, 0)


def _stamps(seed: int = 0) -> list[datetime]:
    rng = np.random.default_rng(seed)
    minutes = np.sort(rng.integers(0, 300 * 24 * 60, size=N))
    return [START + timedelta(minutes=int(m)) for m in minutes]


def _colon_offset(stamp: datetime) -> str:
    text = stamp.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


@pytest.mark.parametrize(
    ("fmt", "write"),
    [
        ("%Y-%m-%dT%H:%M:%S%z", lambda t: t.replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S%z")),
        (
            "%Y-%m-%dT%H:%M:%S%:z",
            lambda t: (
                (z := t.replace(tzinfo=timezone(timedelta(hours=1)))).strftime("%Y-%m-%dT%H:%M:%S")
                + _colon_offset(z)
            ),
        ),
        ("%Y-%m-%d %H:%M:%S%:z", lambda t: str(pd.Timestamp(t, tz="UTC"))),  # how pandas writes tz-aware
        ("%Y-%m-%dT%H:%M:%SZ", lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("%d.%m.%Y %H:%M", lambda t: t.strftime("%d.%m.%Y %H:%M")),
        ("%d.%m.%Y", lambda t: t.strftime("%d.%m.%Y")),
        ("%d/%m/%Y %H:%M:%S", lambda t: t.strftime("%d/%m/%Y %H:%M:%S")),
        ("%m/%d/%Y %I:%M %p", lambda t: t.strftime("%m/%d/%Y %I:%M %p")),
        ("%d-%m-%Y %H:%M", lambda t: t.strftime("%d-%m-%Y %H:%M")),
        ("%d.%m.%y", lambda t: t.strftime("%d.%m.%y")),
        ("%b %Y", lambda t: t.strftime("%b %Y")),
        ("%B %Y", lambda t: t.strftime("%B %Y")),
        ("%m/%Y", lambda t: t.strftime("%m/%Y")),
        ("%b-%y", lambda t: t.strftime("%b-%y")),
    ],
)
def test_datetime_formats_are_inferred(fmt: str, write) -> None:
    frame = pd.DataFrame({"when": [write(t) for t in _stamps()]})
    column = infer_schema(frame)["when"]
    assert column.kind is Kind.DATETIME
    assert column.datetime_format == fmt


def test_months_written_by_name_come_back_as_months(tmp_path: Path) -> None:
    months = pd.period_range("2019-01", "2023-12", freq="M")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"month": [months[i].strftime("%b %Y") for i in rng.integers(0, len(months), 400)]})
    synthetic = mirage.fit(frame, engine="copula", seed=0).sample(500, seed=1)
    read = pd.to_datetime(synthetic["month"], format="%b %Y")
    assert synthetic["month"].str.fullmatch(r"[A-Z][a-z]{2} \d{4}").all()
    assert read.between("2019-01-01", "2023-12-01").all() and read.dt.year.nunique() == 5


def test_dates_and_hours_written_without_leading_zeros_come_back_so() -> None:
    """``8/5/2024`` was written back as ``08/05/2024`` and ``7:03 PM`` as ``07:03 PM``: fields the column
    writes without a leading zero are written so; a column that pads some values keeps padding."""
    stamps = _stamps(4)
    frame = pd.DataFrame(
        {
            "us": [f"{t.month}/{t.day}/{t.year}" for t in stamps],
            "de": [f"{t.day}.{t.month}.{t.year}" for t in stamps],
            "clock": [f"{(t.hour - 1) % 12 + 1}:{t:%M %p}" for t in stamps],
            "padded": [f"{t:%m/%d/%Y}" for t in stamps],
        }
    )
    schema = infer_schema(frame)
    formats = [schema[c].datetime_format for c in frame.columns]
    assert formats == ["%-m/%-d/%Y", "%-d.%-m.%Y", "%-I:%M %p", "%m/%d/%Y"]
    synthetic = mirage.fit(frame, schema=schema, engine="cart", seed=0).sample(400, seed=1)
    assert synthetic["us"].str.fullmatch(r"[1-9]\d?/[1-9]\d?/\d{4}").all()
    assert synthetic["de"].str.fullmatch(r"[1-9]\d?\.[1-9]\d?\.\d{4}").all()
    assert synthetic["clock"].str.fullmatch(r"[1-9]\d?:\d\d [AP]M").all()
    assert synthetic["padded"].str.fullmatch(r"\d\d/\d\d/\d{4}").all()
    read = pd.to_datetime(synthetic["us"], format="%m/%d/%Y")
    assert read.between("2024-01-01", "2024-12-31").all()


def _parse_all(values: pd.Series, fmt: str) -> list[datetime]:
    read = fmt.replace("%:z", "%z")
    return [datetime.strptime(v, read) for v in values]


def _as_utc(stamps: list[datetime]) -> np.ndarray:
    return np.array(
        [s.astimezone(timezone.utc).replace(tzinfo=None) if s.tzinfo else s for s in stamps],
        dtype="datetime64[s]",
    )


def test_european_file_round_trips_in_its_source_formats(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    stamps = _stamps(1)
    berlin = [pd.Timestamp(t, tz="UTC").tz_convert("Europe/Berlin") for t in stamps]
    amounts = rng.gamma(2.0, 800.0, size=N).round(2)
    frame = pd.DataFrame(
        {
            "betrag": [f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".") for v in amounts],
            "iso": [t.strftime("%Y-%m-%dT%H:%M:%S+0000") for t in stamps],
            "lokal": [t.isoformat() for t in berlin],  # +01:00 in winter, +02:00 in summer
            "zeit": [t.strftime("%d.%m.%Y %H:%M") for t in stamps],
            "tag": [t.strftime("%d.%m.%Y") for t in stamps],
            "stadt": rng.choice(["Köln", "Berlin", "München"], size=N),
        }
    )
    path = tmp_path / "euro.csv"
    frame.to_csv(path, sep=";", index=False)

    real = read_table(path)
    schema = infer_schema(real)
    assert schema["betrag"].kind is Kind.NUMERIC
    formats = {
        "iso": "%Y-%m-%dT%H:%M:%S%z",
        "lokal": "%Y-%m-%dT%H:%M:%S%:z",
        "zeit": "%d.%m.%Y %H:%M",
        "tag": "%d.%m.%Y",
    }
    for name, fmt in formats.items():
        assert schema[name].kind is Kind.DATETIME and schema[name].datetime_format == fmt, name

    synthetic = mirage.fit(real, engine="copula", schema=schema).sample(500, seed=3)
    assert synthetic["betrag"].between(amounts.min(), amounts.max()).all()
    for name, fmt in formats.items():
        parsed = _parse_all(synthetic[name], fmt)  # raises on any value not in the source format
        original = _as_utc(_parse_all(real[name], fmt))
        values = _as_utc(parsed)
        assert values.min() >= original.min() and values.max() <= original.max(), name
    assert all(re.fullmatch(r".*T\d\d:\d\d:\d\d\+0000", v) for v in synthetic["iso"])
    assert all(re.fullmatch(r".*T\d\d:\d\d:\d\d\+0[12]:00", v) for v in synthetic["lokal"])
    assert {p.utcoffset() for p in _parse_all(synthetic["lokal"], formats["lokal"])} <= {
        timedelta(hours=1),
        timedelta(hours=2),
    }


def test_native_time_zones_stay_time_zones() -> None:
    stamps = pd.Series(pd.to_datetime(_stamps(2))).dt.tz_localize("America/New_York")
    frame = pd.DataFrame({"when": stamps, "x": np.arange(N) % 7})
    synthetic = mirage.fit(frame, engine="copula").sample(200, seed=1)
    assert synthetic["when"].dtype == frame["when"].dtype
    assert synthetic["when"].min() >= stamps.min() and synthetic["when"].max() <= stamps.max()


def test_millisecond_timestamps_come_back_with_three_fraction_digits(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    stamps = [START + timedelta(milliseconds=int(m)) for m in np.sort(rng.integers(0, 10**9, size=N))]
    path = tmp_path / "events.jsonl"
    frame = pd.DataFrame({"ts": [t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] for t in stamps], "n": range(N)})
    frame.to_json(path, orient="records", lines=True)
    synthetic = mirage.fit(read_table(path), engine="cart", seed=0).sample(200, seed=1)
    # seconds since the epoch carry ~2e-7 s of float error, which hid the millisecond resolution:
    # the rows came back as 2024-01-05T10:03:12.401795
    assert synthetic["ts"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}").all()
