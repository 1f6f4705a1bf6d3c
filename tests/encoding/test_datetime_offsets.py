"""Text datetimes written with UTC offsets: one zone's summer time, one offset, offsets no zone explains."""

from __future__ import annotations

from datetime import timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from mirage._validate import StateError
from mirage.encoding import EncodingOptions
from mirage.encoding._continuous import ContinuousStats
from mirage.encoding.datetime import DatetimeCodec
from mirage.engines import ENGINES
from mirage.schema import Column, Kind, infer_schema

ISO = "%Y-%m-%dT%H:%M:%S%:z"


def _iso(stamps: pd.DatetimeIndex) -> pd.Series:
    return pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%S%z")).str.replace(
        r"(\d\d)(\d\d)$", r"\1:\2", regex=True
    )


def berlin_office_hours(rows: int = 800, seed: int = 0) -> pd.DataFrame:
    """Times between 09:00 and 17:00 in Berlin over a year, written at Berlin's offset of the day."""
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    local = pd.DatetimeIndex(day + pd.to_timedelta(rng.integers(9 * 3600, 17 * 3600, rows), unit="s"))
    stamps = local.tz_localize("Europe/Berlin", ambiguous="NaT", nonexistent="shift_forward")
    return pd.DataFrame({"at": _iso(stamps), "amount": np.round(rng.gamma(2.0, 30.0, rows), 2)})


def _fitted(values: pd.Series) -> DatetimeCodec:
    codec = DatetimeCodec(
        Column(name="at", kind=Kind.DATETIME, dtype="object", datetime_format=ISO), EncodingOptions()
    )
    codec.reduce([codec.analyze(values)])
    return codec


def test_offsets_of_summer_time_are_written_as_the_zone_writes_them() -> None:
    data = berlin_office_hours()
    schema = infer_schema(data)
    assert schema["at"].datetime_format == ISO
    model = ENGINES["cart"]().fit(data, schema)
    out = model.sample(1_000, seed=1)["at"]
    instants = pd.to_datetime(out, utc=True)
    in_berlin = instants.dt.tz_convert("Europe/Berlin")
    assert (out.str[-6:] == _iso(pd.DatetimeIndex(in_berlin)).str[-6:]).all()  # +01:00 winter, +02:00 summer
    assert {"+01:00", "+02:00"} <= set(out.str[-6:])
    assert in_berlin.dt.hour.between(9, 16).all()  # the hours of the local clock, in both seasons


def test_the_zone_is_recorded_and_comes_back_from_the_state() -> None:
    values = berlin_office_hours(300)["at"]
    codec = _fitted(values)
    assert codec.tz is not None and codec.tz.startswith("Europe/")
    state, arrays = codec.get_state()
    loaded = DatetimeCodec(codec.column, EncodingOptions())
    loaded.set_state(state, arrays)
    seasons = pd.concat(
        [values[values.str.endswith("+01:00")][:3], values[values.str.endswith("+02:00")][:3]]
    )
    out = loaded.decode(codec.encode(seasons), len(seasons), np.random.default_rng(0), 0)
    assert out.tolist() == seasons.tolist()


def test_one_offset_is_written_as_it_was() -> None:
    values = pd.Series([f"2023-0{m}-10T12:00:00+05:30" for m in range(1, 10)])
    codec = _fitted(values)
    assert codec.tz is None and codec.offset == 330
    out = codec.decode(codec.encode(values), len(values), np.random.default_rng(0), 0)
    assert out.tolist() == values.tolist()


def test_offsets_no_zone_explains_are_each_written_at_their_share_with_a_warning() -> None:
    rng = np.random.default_rng(3)
    instants = pd.DatetimeIndex(
        pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 300 * 86_400, 1_000), unit="s")
    )
    at = rng.choice([60, 345, -300], size=1_000, p=[0.5, 0.3, 0.2])
    values = pd.Series(
        [
            _iso(pd.DatetimeIndex([t.tz_convert(timezone(timedelta(minutes=int(m))))]))[0]
            for t, m in zip(instants, at, strict=True)
        ]
    )
    with pytest.warns(
        UserWarning,
        match=r"column 'at': its times are written at UTC offsets \+01:00 \(\d+ rows\), "
        r"\+05:45 \(\d+ rows\), -05:00 \(\d+ rows\) that no time zone explains",
    ):
        codec = _fitted(values)
    assert codec.tz is None and [m for m, _ in codec.mixed_offsets] == [60, 345, -300]
    state, arrays = codec.get_state()
    loaded = DatetimeCodec(codec.column, EncodingOptions())
    loaded.set_state(state, arrays)
    out = loaded.decode(codec.encode(values), len(values), np.random.default_rng(0), 0)
    shares = out.str[-6:].value_counts(normalize=True)
    assert abs(shares["+01:00"] - 0.5) < 0.05 and abs(shares["+05:45"] - 0.3) < 0.05
    assert abs(shares["-05:00"] - 0.2) < 0.05
    assert (pd.to_datetime(out, utc=True) == pd.to_datetime(values, utc=True)).all()  # the same instants
    again = loaded.decode(codec.encode(values), len(values), np.random.default_rng(9), 0)
    assert again.tolist() == out.tolist()


def test_a_state_with_one_mixed_offset_is_refused() -> None:
    codec = _fitted(pd.Series(["2023-01-10T12:00:00+01:00"] * 3))
    state, arrays = codec.get_state()
    with pytest.raises(StateError, match="mixed_offsets"):
        DatetimeCodec(codec.column, EncodingOptions()).set_state(
            {**state, "mixed_offsets": [[60, 3]]}, arrays
        )


def test_partitions_keep_the_zones_that_explain_all_of_them() -> None:
    winter = _fitted(pd.Series(["2023-01-10T12:00:00+01:00"])).analyze(
        pd.Series(["2023-01-10T12:00:00+01:00"])
    )
    summer = _fitted(pd.Series(["2023-07-10T12:00:00+02:00"])).analyze(
        pd.Series(["2023-07-10T12:00:00+02:00"])
    )
    lagos = _fitted(pd.Series(["2023-07-10T12:00:00+01:00"])).analyze(
        pd.Series(["2023-07-10T12:00:00+01:00"])
    )
    assert winter.zones is not None and "Africa/Lagos" in winter.zones and "Europe/Berlin" in winter.zones
    merged = ContinuousStats.merge([winter, summer], "at", 1000)
    assert merged.zones is not None and "Europe/Berlin" in merged.zones and "Africa/Lagos" not in merged.zones
    assert merged.zones[0].startswith("Europe/")  # the order of preference is kept
    assert ContinuousStats.merge([summer, lagos], "at", 1000).zones == ()
