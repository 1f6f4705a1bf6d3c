"""A datetime's time of day is a sub-column of its own where the data has one, so that engines that
model numbers (cart, copula, gmm, kde, vae, gan) keep daily rhythms: before, a value drawn between two
learned datetimes a day apart fell at any hour (two thirds of business-hours timestamps came out at
night from gmm, kde, vae and gan, a third from cart and the copula).  Text datetimes are written with
as many digits after the seconds as the source wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions
from mirage.encoding.datetime import TIME, DatetimeCodec, utc_seconds, wall_seconds
from mirage.engines import ENGINES, Between, Synthesizer
from mirage.errors import ModelFileError
from mirage.schema import Column, Kind, infer_schema
from tests.conformance.test_check_engine import PARAMS


def business_hours(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    at = day + pd.to_timedelta(rng.integers(9 * 3600, 17 * 3600, rows), unit="s")
    return pd.DataFrame({"at": at, "amount": np.round(rng.gamma(2.0, 30.0, rows), 2)})


def fitted_codec(values: pd.Series, fmt: str | None = None) -> DatetimeCodec:
    column = Column(
        name="at", kind=Kind.DATETIME, dtype="object" if fmt else "datetime64[ns]", datetime_format=fmt
    )
    codec = DatetimeCodec(column, EncodingOptions())
    codec.reduce([codec.analyze(values)])
    return codec


def test_the_time_of_day_is_its_own_sub_column_and_round_trips() -> None:
    values = business_hours(50)["at"]
    codec = fitted_codec(values)
    assert [s.part for s in codec.subcolumns][-2:] == ["value", TIME]
    parts = codec.encode(values)
    assert np.all(np.mod(parts[codec.value_name], 86_400.0) == 0.0)
    assert parts[codec.time_name].min() >= 9 * 3600 and parts[codec.time_name].max() < 17 * 3600
    decoded = codec.decode(parts, len(values), np.random.default_rng(0), 0)
    pd.testing.assert_series_equal(decoded, values.rename("at"), check_dtype=False)


def test_a_drawn_time_stays_within_the_learned_hours_and_a_day_is_the_nearest_whole_day() -> None:
    codec = fitted_codec(business_hours(50)["at"])
    noon = pd.Timestamp("2024-03-01").value / 1e9
    parts = {
        codec.value_name: np.array([noon + 40_000.0, noon - 40_000.0]),
        codec.time_name: np.array([3 * 3600.0, 20 * 3600.0]),  # outside 9-17: folded back in
    }
    out = codec.decode(parts, 2, np.random.default_rng(0), 0)
    assert out.dt.date.astype(str).tolist() == ["2024-03-01", "2024-03-01"]
    assert out.dt.hour.between(9, 16).all()


def test_dates_without_times_keep_one_sub_column() -> None:
    dates = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-03", "2024-05-06"]), name="at")
    assert TIME not in [s.part for s in fitted_codec(dates).subcolumns]


def test_the_time_of_day_is_checked_on_load() -> None:
    values = business_hours(50)["at"]
    codec = fitted_codec(values)
    state, arrays = codec.get_state()
    seconds = (values - values.dt.normalize()).dt.total_seconds()
    assert state["time_of_day"] == {"low": seconds.min(), "high": seconds.max()}
    fresh = DatetimeCodec(codec.column, EncodingOptions())
    fresh.set_state(state, arrays)
    assert fresh.time_of_day == codec.time_of_day
    with pytest.raises(ModelFileError, match="time_of_day"):
        DatetimeCodec(codec.column, EncodingOptions()).set_state(
            {**state, "time_of_day": {"low": 0.0, "high": 90_000.0}}, arrays
        )
    older = {k: v for k, v in state.items() if k != "time_of_day"}  # files from before the split
    old = DatetimeCodec(codec.column, EncodingOptions())
    old.set_state(older, arrays)
    assert old.time_of_day is None and [s.part for s in old.subcolumns][-1] == "value"


def test_text_keeps_the_digits_the_source_wrote_after_the_seconds() -> None:
    whole_hours = pd.Series([f"2024-01-{d:02d} {h:02d}:00:00.000" for d in range(1, 29) for h in (9, 13)])
    codec = fitted_codec(whole_hours, "%Y-%m-%d %H:%M:%S.%f")
    out = codec.decode(codec.encode(whole_hours), len(whole_hours), np.random.default_rng(0), 0)
    assert out.tolist() == whole_hours.tolist()
    state, arrays = codec.get_state()
    old = DatetimeCodec(codec.column, EncodingOptions())
    old.set_state({k: v for k, v in state.items() if k != "written_digits"}, arrays)  # older files
    assert old.decode(codec.encode(whole_hours[:1]), 1, np.random.default_rng(0), 0)[0].endswith(".000000")


@pytest.mark.parametrize("engine", ["cart", "copula", "gmm", "kde", "bayesnet"])
def test_engines_keep_a_daily_rhythm(engine: str) -> None:
    data = business_hours()
    model: Synthesizer = ENGINES[engine](**PARAMS.get(engine, {})).fit(data, infer_schema(data))
    hours = model.sample(1_000, seed=1)["at"].dt.hour
    assert hours.between(9, 16).all()


def test_a_date_range_condition_holds_with_the_time_of_day_apart() -> None:
    data = business_hours()
    model = ENGINES["cart"]().fit(data, infer_schema(data))
    out = model.sample(200, seed=3, conditions={"at": Between("2024-03-01 12:00", "2024-03-20")})
    assert len(out) == 200
    assert out["at"].between(pd.Timestamp("2024-03-01 12:00"), pd.Timestamp("2024-03-20")).all()
    assert out["at"].dt.hour.between(9, 16).all()


def test_a_zoned_column_keeps_its_local_hours_across_summer_time() -> None:
    data = business_hours(800)
    data["at"] = data["at"].dt.tz_localize("Europe/Berlin")
    model = ENGINES["cart"]().fit(data, infer_schema(data))
    out = model.sample(1_000, seed=1)["at"]
    assert str(out.dt.tz) == "Europe/Berlin"
    assert out.dt.hour.between(9, 16).all()  # in UTC the hours move by one at the change of time


def test_clock_readings_convert_to_utc_and_back() -> None:
    utc = pd.to_datetime(
        ["2024-03-31 00:30:00", "2024-07-01 12:00:00.25", "2024-10-27 03:30:00"], format="ISO8601"
    )
    seconds = utc.as_unit("us").asi8 / 1e6
    wall = wall_seconds(seconds, "Europe/Berlin")
    assert (wall - seconds).tolist() == [3_600.0, 7_200.0, 3_600.0]
    np.testing.assert_array_equal(utc_seconds(wall, "Europe/Berlin"), seconds)
    berlin = "Europe/Berlin"
    skipped = pd.Timestamp("2024-03-31 02:30").value / 1e9  # no such time in Berlin: moved forward
    assert utc_seconds(np.array([skipped]), berlin)[0] == pd.Timestamp("2024-03-31 01:00").value / 1e9
    twice = pd.Timestamp("2024-10-27 02:30").value / 1e9  # read twice in Berlin: the winter one
    assert utc_seconds(np.array([twice]), berlin)[0] == pd.Timestamp("2024-10-27 01:30").value / 1e9
