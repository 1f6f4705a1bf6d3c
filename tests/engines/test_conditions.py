"""Typed conditions: equality, sets, numeric and date ranges, null and not null; kept rows decoded once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.engines import ENGINES, Between, IsNull, NotNull, OneOf, Synthesizer
from mirage.errors import MirageError, OptionError
from tests.conformance.test_check_engine import PARAMS

ENGINE_NAMES = sorted(ENGINES)


def table(rows: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    level = rng.choice(["low", "mid", "high"], rows, p=[0.5, 0.3, 0.2])
    return pd.DataFrame(
        {
            "key": [f"K{i:05d}" for i in range(rows)],
            "level": level,
            "amount": np.where(rng.random(rows) < 0.2, np.nan, np.round(rng.gamma(2.0, 50.0, rows), 2)),
            "opened": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D"),
        }
    )


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def model(request: pytest.FixtureRequest) -> Synthesizer:
    return ENGINES[request.param](**PARAMS.get(request.param, {})).fit(table())


def test_ranges_on_numbers_and_dates(model: Synthesizer) -> None:
    synth = model.sample(
        200, seed=2, conditions={"amount": Between(50, 150), "opened": Between(high="2021-01-01")}
    )
    assert len(synth) == 200
    assert synth["amount"].between(50, 150).all()
    assert (synth["opened"] <= pd.Timestamp("2021-01-01")).all()
    low = model.sample(100, seed=2, conditions={"amount": Between(low=100)})
    assert (low["amount"] >= 100).all()


def test_null_and_not_null(model: Synthesizer) -> None:
    assert model.sample(100, seed=3, conditions={"amount": IsNull()})["amount"].isna().all()
    assert model.sample(100, seed=3, conditions={"amount": NotNull()})["amount"].notna().all()


def test_one_of_is_the_same_as_a_list_or_a_value(model: Synthesizer) -> None:
    as_list = model.sample(100, seed=4, conditions={"level": ["mid", "high"]})
    pd.testing.assert_frame_equal(
        model.sample(100, seed=4, conditions={"level": OneOf(["mid", "high"])}), as_list
    )
    assert set(as_list["level"]) <= {"mid", "high"}
    one = model.sample(50, seed=4, conditions={"level": OneOf(["high"])})
    pd.testing.assert_frame_equal(model.sample(50, seed=4, conditions={"level": "high"}), one)


def test_conditions_combine(model: Synthesizer) -> None:
    synth = model.sample(100, seed=5, conditions={"level": "low", "amount": Between(0, 100)})
    assert set(synth["level"]) == {"low"} and synth["amount"].between(0, 100).all()


def test_bad_conditions_name_the_column(model: Synthesizer) -> None:
    cases = [
        ({"level": Between(1, 2)}, "'level': a range needs a numeric or datetime column, not categorical"),
        ({"amount": Between(5, 1)}, "'amount': the range's low bound 5 is above its high 1"),
        ({"amount": Between("many")}, "'amount': a range bound must be a number, got 'many'"),
        ({"opened": Between("not a date")}, "'opened': a range bound must be a date"),
        ({"amount": Between()}, "'amount': a range needs a low or a high bound"),
        ({"level": OneOf([])}, "'level' allows no value"),
        ({"level": []}, "'level' allows no value"),
        ({"key": "K00001"}, "'key': identifier columns are generated, not learned"),
        ({"nope": 1}, "unknown column 'nope'"),
    ]
    for conditions, message in cases:
        with pytest.raises(OptionError, match=message.replace("(", r"\(")):
            model.sample(5, seed=1, conditions=conditions)
    with pytest.raises(MirageError, match="acceptance rate"):
        model.sample(5, seed=1, conditions={"amount": Between(1e9)})


def test_generated_columns_are_made_for_kept_rows_only() -> None:
    model = ENGINES["copula"]().fit(table())
    key_codec = next(c for c in model.encoder_.codecs if c.column.name == "key")
    decoded: list[int] = []
    original = key_codec.decode

    def counting(parts, n, rng, start=0):  # type: ignore[no-untyped-def]
        decoded.append(n)
        return original(parts, n, rng, start)

    key_codec.decode = counting  # type: ignore[method-assign]
    synth = model.sample(40, seed=1, conditions={"level": "high"})
    assert decoded == [40] and synth["key"].is_unique


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_a_range_holds_for_every_row_returned_when_decoding_rounds_at_random(name: str) -> None:
    """Values written with one, two or three decimals are decoded with a random rounding: the value
    returned must be the one the range was tested on, not a second draw of its rounding."""
    rng = np.random.default_rng(4)
    raw = rng.uniform(16, 48, 1200)
    decimals = rng.choice([1, 2, 3], size=raw.size)
    frame = pd.DataFrame(
        {
            "bmi": [round(float(v), int(d)) for v, d in zip(raw, decimals, strict=True)],
            "smoker": rng.choice(["yes", "no"], raw.size),
        }
    )
    model = ENGINES[name](**PARAMS.get(name, {})).fit(frame)
    for low, high in ((30.0, 30.55), (25.01, 26.33)):
        bmi = model.sample(800, seed=1, conditions={"bmi": Between(low, high)})["bmi"]
        assert bmi.between(low, high).all(), sorted(set(bmi[~bmi.between(low, high)]))[:5]


def day_first_table(rows: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    opened = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    return pd.DataFrame(
        {"amount": np.round(rng.gamma(2.0, 50.0, rows), 2), "opened": opened.strftime("%d.%m.%Y")}
    )


@pytest.mark.parametrize("low, high", [("2023-06-01", "2023-08-31"), ("01.06.2023", "31.08.2023")])
def test_a_date_range_on_dates_written_day_first_keeps_every_day_of_the_range(low: str, high: str) -> None:
    model = ENGINES["cart"]().fit(day_first_table())
    assert model.schema_["opened"].datetime_format == "%d.%m.%Y"
    synth = model.sample(600, seed=4, conditions={"opened": Between(low, high)})
    dates = pd.to_datetime(synth["opened"], format="%d.%m.%Y")
    assert dates.between("2023-06-01", "2023-08-31").all()
    # read month first, 05.07.2023 was 7 May and left out: only days 13-31 of each month came back
    assert 0.3 < float((dates.dt.day <= 12).mean()) < 0.5
    assert dates.dt.day.min() == 1


def test_a_date_that_reads_two_ways_is_refused_naming_both() -> None:
    model = ENGINES["cart"]().fit(day_first_table(200))
    with pytest.raises(
        OptionError, match=r"'06/01/2023' reads as 2023-06-01 month first and 2023-01-06 day first"
    ):
        model.sample(10, seed=1, conditions={"opened": Between(low="06/01/2023")})
    for text in ("soon", "", "ÄÖÜ"):
        with pytest.raises(OptionError, match="not a date"):
            model.sample(10, seed=1, conditions={"opened": Between(low=text)})
