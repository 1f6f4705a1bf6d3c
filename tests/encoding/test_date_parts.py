"""The datetime codec owns a datetime's parts (day, weekday, time of day): splitting seconds into them,
the weekday arithmetic, and joining them back with the day drawn on the drawn weekday."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from mirage.encoding import SubColumn
from mirage.encoding.datetime import DAY, TIME, WEEKDAY, DateParts, days_and_times, weekdays_of
from mirage.encoding.discretise import Discretiser
from mirage.errors import ModelFileError


def stamps(*texts: str) -> np.ndarray:
    return np.array([np.datetime64(t, "s").astype("int64") for t in texts], dtype="float64")


def test_days_times_and_weekdays_of_seconds() -> None:
    x = stamps("1970-01-01T00:00:00", "2024-03-04T13:30:05", "1969-12-31T23:00:00")
    day, time = days_and_times(x)
    assert day.tolist() == [0.0, 19_786.0, -1.0]
    assert time.tolist() == [0.0, 13 * 3600 + 30 * 60 + 5, 23 * 3600]
    assert weekdays_of(day).tolist() == [3, 0, 2]  # Thursday, Monday, Wednesday
    np.testing.assert_array_equal(DateParts.join(day, time), x)
    assert DateParts.join(day).tolist() == [0.0, 19_786.0 * 86_400, -86_400.0]


def test_parts_are_learned_from_the_span_the_times_and_the_weekdays_seen() -> None:
    weekdays_only = stamps(*[f"2024-01-{d:02d}" for d in range(1, 32) if (d - 1) % 7 < 5] * 10)
    parts = DateParts.learn(weekdays_only, min_count=5)
    assert parts == DateParts(weekday=True, time=False, weekdays=(True,) * 5 + (False,) * 2)
    assert parts.names == (DAY, WEEKDAY)
    split = parts.split(weekdays_only)
    assert list(split) == [DAY, WEEKDAY] and split[WEEKDAY].max() == 4
    with_times = np.append(stamps("2024-01-01T10:00:00", "2024-01-03T00:00:00"), np.nan)
    parts = DateParts.learn(with_times, min_count=5)
    assert parts == DateParts(weekday=False, time=True)  # under a week; too few rows to rule out a weekday
    assert parts.names == (DAY, TIME)


def test_a_day_is_drawn_within_its_piece_on_the_drawn_weekday() -> None:
    parts = DateParts(weekday=True, time=False, weekdays=(True,) * 5 + (False,) * 2)
    n = 2000
    rng = np.random.default_rng(0)
    lo, hi = np.full(n, 19_000.0), np.full(n, 19_030.0)
    weekday = rng.integers(0, 5, n)
    day = parts.draw_day(lo, hi, np.zeros(n, dtype=bool), weekday, rng)
    assert (day >= 19_000).all() and (day < 19_030).all() and (day == np.round(day)).all()
    np.testing.assert_array_equal(weekdays_of(day), weekday)
    # a piece shorter than a week without the drawn weekday: a day of the piece on a weekday the data has
    saturday = 19_000.0 + (5 - weekdays_of(np.array([19_000.0]))[0]) % 7
    one = parts.draw_day(np.array([saturday]), np.array([saturday + 2]), np.array([True]), np.array([2]), rng)
    assert one.tolist() == [saturday + 2]  # Monday, the only weekday with rows in [Saturday, Monday]
    with pytest.raises(ValueError, match="weekday"):
        parts.draw_day(lo, hi, np.zeros(n, dtype=bool), None, rng)


def test_parts_round_trip_through_json_and_bad_weekdays_are_named() -> None:
    parts = DateParts(weekday=True, time=True, weekdays=(True, False) * 3 + (True,))
    assert DateParts.from_dict(json.loads(json.dumps(parts.to_dict()))) == parts
    with pytest.raises(ModelFileError, match="weekdays: expected 7 booleans"):
        DateParts.from_dict({"weekday": True, "time": True, "weekdays": [1] * 7})


def test_the_token_layer_gives_the_same_tokens_and_dates_as_before_the_parts_moved() -> None:
    """Pinned: hashes of the tokens and decoded dates the discretiser gave when it still split dates
    itself (commit d00bb8b); a change here changes every argn model with dates."""
    rng = np.random.default_rng(0)
    days = np.arange(np.datetime64("2022-01-01"), np.datetime64("2024-01-01"))
    day = rng.choice(days[np.is_busday(days)], size=5000).astype("datetime64[s]").astype("int64")
    x = (day + rng.integers(9 * 3600, 17 * 3600, size=5000)).astype("float64")
    x[:40] = x[40]
    short = np.repeat(np.arange(19_000, 19_005), 30).astype("float64") * 86_400
    subs = [SubColumn(f"{c}::value", c, "value", discrete=False) for c in "xy"]
    parts = {subs[0].name: x, subs[1].name: np.resize(short, 5000)}
    disc = Discretiser(min_count=20).fit(parts, subs, dates=[s.name for s in subs])
    tokens = disc.encode(parts)
    out = disc.decode(tokens, np.random.default_rng(1))

    def digest(a: np.ndarray) -> str:
        return hashlib.sha256(a.tobytes()).hexdigest()[:16]

    assert [digest(tokens), digest(out["x::value"]), digest(out["y::value"])] == [
        "40a070f1e5b56d47",
        "a45690cbc50866a6",
        "ab7b473c4087e35b",
    ]
