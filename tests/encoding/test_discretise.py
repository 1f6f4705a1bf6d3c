from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import ks_2samp

from mirage.encoding import SubColumn
from mirage.encoding.discretise import Discretiser


def continuous(name: str) -> SubColumn:
    return SubColumn(f"{name}::value", name, "value", discrete=False)


def fit(values: np.ndarray, **options: int) -> Discretiser:
    sub = continuous("x")
    return Discretiser(**options).fit({sub.name: values}, [sub])


def round_trip(disc: Discretiser, values: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    tokens = disc.encode({"x::value": values})
    decoded = disc.decode(tokens, np.random.default_rng(seed))["x::value"]
    return tokens, decoded


def test_floats_decode_within_their_sub_bin_and_the_bounds() -> None:
    x = np.random.default_rng(0).lognormal(size=20_000)
    disc = fit(x)
    tokens, decoded = round_trip(disc, x)
    assert [t.role for t in disc.domain] == ["bin", "sub"]
    assert disc.domain[0].cardinality <= 64 and disc.domain[1].cardinality <= 16
    assert decoded.dtype == np.float64
    assert decoded.min() >= x.min() and decoded.max() <= x.max()
    np.testing.assert_array_equal(disc.encode({"x::value": decoded}), tokens)
    assert ks_2samp(decoded, x).statistic < 0.01


def test_integers_with_few_values_come_back_exact() -> None:
    x = np.random.default_rng(1).integers(0, 40, size=5_000).astype(float)
    disc = fit(x)
    _, decoded = round_trip(disc, x)
    assert len(disc.domain) == 1 and disc.domain[0].cardinality == 40
    np.testing.assert_array_equal(decoded, x)


def test_integers_with_many_values_decode_to_integers_of_their_bin() -> None:
    x = np.random.default_rng(2).integers(0, 100_000, size=10_000).astype(float)
    disc = fit(x)
    tokens, decoded = round_trip(disc, x)
    assert np.all(decoded == np.round(decoded))
    np.testing.assert_array_equal(disc.encode({"x::value": decoded}), tokens)


@pytest.mark.parametrize("min_count", [5, 10, 40])
def test_every_piece_holds_at_least_min_count_training_rows(min_count: int) -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(size=3_000), np.zeros(700), rng.exponential(size=300) * 100])
    disc = fit(x, min_count=min_count)
    tokens = disc.encode({"x::value": x})
    _, counts = np.unique(tokens, axis=0, return_counts=True)
    assert counts.min() >= min_count


def test_spikes_are_exact_points() -> None:
    rng = np.random.default_rng(4)
    x = np.where(rng.random(10_000) < 0.6, 0.0, rng.exponential(size=10_000) * 1000)
    _, decoded = round_trip(fit(x), x)
    assert abs((decoded == 0).mean() - (x == 0).mean()) < 1e-12


def test_values_too_rare_for_a_bin_fold_into_the_nearest_point() -> None:
    x = np.array([0.0] * 50 + [1.0] * 50 + [7.0] * 2)
    disc = fit(x)
    _, decoded = round_trip(disc, x)
    assert set(decoded) == {0.0, 1.0}
    assert np.sum(decoded == 1.0) == 52


def test_discrete_sub_columns_pass_through() -> None:
    code = SubColumn("c::code", "c", "code", discrete=True, cardinality=5)
    values = np.random.default_rng(5).integers(0, 5, size=100)
    disc = Discretiser().fit({code.name: values}, [code])
    tokens = disc.encode({code.name: values})
    assert disc.domain.cardinalities == (5,)
    np.testing.assert_array_equal(tokens[:, 0], values)
    decoded = disc.decode(tokens, np.random.default_rng(0))[code.name]
    assert decoded.dtype == np.int64
    np.testing.assert_array_equal(decoded, values)


def test_groups_keep_the_tokens_of_one_column_together() -> None:
    subs = [
        SubColumn("a::missing", "a", "missing", discrete=True, cardinality=2),
        continuous("a"),
        SubColumn("b::code", "b", "code", discrete=True, cardinality=3),
    ]
    rng = np.random.default_rng(6)
    parts = {
        "a::missing": rng.integers(0, 2, size=2_000),
        "a::value": rng.normal(size=2_000),
        "b::code": rng.integers(0, 3, size=2_000),
    }
    disc = Discretiser().fit(parts, subs)
    assert [t.role for t in disc.domain] == ["code", "bin", "sub", "code"]
    assert disc.domain.groups == (0, 0, 0, 1)
    valid = disc.sub_bin_valid(2)
    assert valid is not None and valid.shape == (disc.domain[1].cardinality, disc.domain[2].cardinality)
    assert disc.sub_bin_valid(0) is None


def test_state_round_trip_is_json_and_arrays_and_decodes_identically() -> None:
    x = np.random.default_rng(7).gamma(2.0, size=5_000)
    disc = fit(x)
    state, arrays = disc.get_state()
    json.dumps(state)
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in arrays.values())
    again = Discretiser.from_state(json.loads(json.dumps(state)), arrays)
    assert again.domain == disc.domain
    tokens = disc.encode({"x::value": x})
    np.testing.assert_array_equal(again.encode({"x::value": x}), tokens)
    a = disc.decode(tokens, np.random.default_rng(1))["x::value"]
    b = again.decode(tokens, np.random.default_rng(1))["x::value"]
    np.testing.assert_array_equal(a, b)


def test_fit_is_deterministic_and_stores_edges_not_rows() -> None:
    x = np.random.default_rng(8).normal(size=50_000)
    one, two = fit(x).get_state()[1], fit(x).get_state()[1]
    assert one.keys() == two.keys()
    for key in one:
        np.testing.assert_array_equal(one[key], two[key])
    stored = sum(v.size for v in one.values())
    assert stored < 8 * 65 * 17
    # inner edges are cuts halfway between two training values; only the outer two are values
    edges = one["0.lo"][np.isfinite(one["0.lo"])]
    assert np.isin(edges, x).sum() <= 1


def test_constant_and_tiny_columns() -> None:
    for x in (np.full(30, 3.0), np.array([1.5]), np.linspace(0.0, 1.0, 7)):
        disc = fit(x)
        _, decoded = round_trip(disc, x)
        assert decoded.min() >= x.min() and decoded.max() <= x.max()
        if np.unique(x).size == 1:
            np.testing.assert_array_equal(decoded, x)


def test_no_sub_columns_gives_an_empty_token_matrix() -> None:
    disc = Discretiser().fit({}, [])
    assert len(disc.domain) == 0 and disc.encode({}).shape == (0, 0)
    assert disc.decode(np.zeros((4, 0), dtype="int64"), np.random.default_rng(0)) == {}


def office_hours(n: int, seed: int = 0) -> np.ndarray:
    """Seconds since the epoch of events on weekdays only, between 09:00 and 17:00, over two years."""
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64("2022-01-01"), np.datetime64("2024-01-01"))
    weekdays = days[np.is_busday(days)]
    day = rng.choice(weekdays, size=n).astype("datetime64[s]").astype("int64")
    return (day + rng.integers(9 * 3600, 17 * 3600, size=n)).astype("float64")


def test_datetimes_are_tokenised_by_day_weekday_and_time_of_day() -> None:
    x = office_hours(20_000)
    sub = continuous("x")
    disc = Discretiser().fit({sub.name: x}, [sub], dates=[sub.name])
    assert [t.name for t in disc.domain] == [
        "x::value@day#bin",
        "x::value@day#sub",
        "x::value#weekday",
        "x::value@time#bin",
        "x::value@time#sub",
    ]
    tokens = disc.encode({sub.name: x})
    decoded = disc.decode(tokens, np.random.default_rng(1))[sub.name]
    # a day drawn within an interval can be a day that is a point piece of its own: rare
    assert (disc.encode({sub.name: decoded}) == tokens).all(axis=1).mean() > 0.999
    stamps = decoded.astype("int64").astype("datetime64[s]")
    assert np.is_busday(stamps.astype("datetime64[D]")).all()  # the weekly rhythm survives
    hours = (decoded % 86_400) / 3_600
    assert hours.min() >= 9 and hours.max() < 17
    assert ks_2samp(decoded, x).statistic < 0.01

    state, arrays = disc.get_state()
    again = Discretiser.from_state(json.loads(json.dumps(state)), arrays)
    np.testing.assert_array_equal(again.decode(tokens, np.random.default_rng(1))[sub.name], decoded)


def test_dates_without_times_or_a_week_of_span_have_no_extra_tokens() -> None:
    sub = continuous("x")
    days = np.repeat(np.arange(19_000, 19_005), 30).astype("float64") * 86_400
    disc = Discretiser().fit({sub.name: days}, [sub], dates=[sub.name])
    assert [t.role for t in disc.domain] == ["bin"]
    decoded = disc.decode(disc.encode({sub.name: days}), np.random.default_rng(0))[sub.name]
    np.testing.assert_array_equal(np.sort(decoded), np.sort(days))  # few days: exact


def test_an_interval_draws_no_integer_that_is_a_point_of_its_own() -> None:
    """A value many rows share is a point piece; an interval around it drew its integer as often as its
    neighbours', giving it that interval's share on top of its own."""
    from mirage.encoding._pieces import draw_within

    n = 30_000
    lo = np.r_[np.full(n, 4.0), np.full(n, 5.0), np.full(n, 1.0)]
    hi = np.r_[np.full(n, 7.0), np.full(n, 6.0), np.full(n, 10.0)]
    closed = np.r_[np.zeros(2 * n, dtype=bool), np.ones(n, dtype=bool)]
    drawn = draw_within(lo, hi, closed, True, np.random.default_rng(0), np.array([2.0, 3.0, 5.0, 7.0]))
    around, alone, wide = np.split(drawn, 3)
    assert set(np.unique(around)) == {4.0, 6.0}
    assert set(np.unique(alone)) == {5.0}  # an interval holding only points draws as before
    assert set(np.unique(wide)) == {1.0, 4.0, 6.0, 8.0, 9.0, 10.0}
    assert np.ptp(np.unique(wide, return_counts=True)[1]) < 0.05 * n / 6 * 3


def test_tied_integers_come_back_as_often_as_learned() -> None:
    """400 whole numbers, six of which 20-31 rows share (points of their own): the intervals around
    them drew them too, about 0.002-0.003 of the rows each on top of their share; now none."""
    rng = np.random.default_rng(1)
    values = np.rint(rng.normal(66, 8, 400)).astype("float64")
    shared, counts = np.unique(values, return_counts=True)
    spikes = shared[counts >= 20]
    assert spikes.size == 6
    disc = fit(values)
    excess = [
        np.mean(np.isin(round_trip(disc, values, seed)[1], spikes)) - np.mean(np.isin(values, spikes))
        for seed in range(20)
    ]
    assert abs(float(np.mean(excess))) < 0.002


def test_protected_edges_draw_the_tails_with_their_share_and_save_them() -> None:
    x = np.random.default_rng(11).exponential(3.0, 5_000)
    disc = fit(x, protect=10, tails=True)
    ordered = np.sort(x)
    _, decoded = round_trip(disc, x)
    assert np.mean(decoded > ordered[-10]) == pytest.approx(9 / 5_000, abs=0.001)  # was none
    assert np.mean(decoded < ordered[9]) == pytest.approx(9 / 5_000, abs=0.001)
    assert not np.isin(decoded, ordered[-9:]).any()
    state, arrays = disc.get_state()
    assert "0.tails" in arrays
    assert "0.tails" not in fit(x, protect=10).get_state()[1]  # asked for only (sequences draw their own)
    again = Discretiser.from_state(json.loads(json.dumps(state)), arrays)
    tokens = disc.encode({"x::value": x})
    np.testing.assert_array_equal(
        again.decode(tokens, np.random.default_rng(1))["x::value"],
        disc.decode(tokens, np.random.default_rng(1))["x::value"],
    )


def test_integer_tails_stay_integers_past_the_edge() -> None:
    x = np.round(np.random.default_rng(12).exponential(40.0, 3_000))
    _, decoded = round_trip(fit(x, protect=10, tails=True), x)
    high = np.sort(x)[-10]
    assert np.all(decoded == np.round(decoded)) and (decoded > high).sum() > 0


def test_held_out_rows_choose_fewer_wider_pieces_on_a_smooth_column_and_the_state_records_them() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=700)
    fixed, chosen = fit(x, n_bins=10, sub_bins=8), fit(x, n_bins=10, sub_bins=8, held_out_seed=0)
    pieces = [len(np.unique(d.encode({"x::value": x}), axis=0)) for d in (fixed, chosen)]
    assert pieces[1] < pieces[0] / 2
    rows = chosen.piece_rows["x::value"]
    _, counts = np.unique(chosen.encode({"x::value": x}), axis=0, return_counts=True)
    assert rows > 10 and counts.min() >= rows
    assert fixed.piece_rows == {}
    state, arrays = chosen.get_state()
    again = Discretiser.from_state(json.loads(json.dumps(state)), arrays)
    assert again.piece_rows == {"x::value": rows}
    # the same folds give the same pieces
    np.testing.assert_array_equal(
        fit(x, n_bins=10, sub_bins=8, held_out_seed=0).encode({"x::value": x}), chosen.encode({"x::value": x})
    )


def test_a_column_of_clumps_keeps_narrow_pieces_on_held_out_rows() -> None:
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.normal(loc, 0.01, 100) for loc in range(20)])
    chosen = fit(x, n_bins=10, sub_bins=8, held_out_seed=0)
    assert chosen.piece_rows["x::value"] <= 100  # no piece spans two clumps' worth of rows


def test_recorded_piece_rows_are_checked_on_load() -> None:
    from mirage._validate import StateError

    chosen = fit(np.random.default_rng(13).normal(size=700), n_bins=10, sub_bins=8, held_out_seed=0)
    state, arrays = chosen.get_state()
    for bad in ({"y::value": 40}, {"x::value": 2}, {"x::value": "40"}):
        with pytest.raises(StateError, match="piece_rows"):
            Discretiser.from_state({**state, "piece_rows": bad}, arrays)


def test_the_finest_columns_keep_min_count_rows_per_bin_under_held_out_rows() -> None:
    sub = continuous("x")
    x = np.random.default_rng(14).normal(size=700)
    kept = Discretiser(n_bins=10, sub_bins=8, held_out_seed=0, finest=["x"]).fit({sub.name: x}, [sub])
    assert kept.piece_rows == {}
    fixed = fit(x, n_bins=10, sub_bins=8)
    np.testing.assert_array_equal(kept.encode({"x::value": x}), fixed.encode({"x::value": x}))
