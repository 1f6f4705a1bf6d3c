"""The dp engine: what its model file holds (no value read from the data alone), its ledger, its noise."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage._validate import StateError
from mirage.encoding import EncodingOptions
from mirage.engines.dp import DPSynthesizer
from mirage.engines.dp._domains import private_encoder, public_frame
from mirage.engines.dp._engine import inferred_public_schema
from mirage.errors import DataError
from mirage.model_file import load_model, read_manifest
from mirage.privacy import Ledger
from mirage.schema import Column, Kind, Schema, infer_schema
from tests.cli.helpers import error_line, invoke

pytest.importorskip("opendp")

RARE = "Zanzibar-only-once"
EXTREME = 987_654.321
LOWEST = -3.14159


def table(rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice(["Lyon", "Paris", "Nice"], rows, p=[0.3, 0.5, 0.2]).astype(object)
    city[7] = RARE
    amount = np.round(rng.gamma(2.0, 40.0, rows), 2)
    amount[11], amount[12] = EXTREME, LOWEST
    return pd.DataFrame(
        {
            "ref": [f"K{i:06d}" for i in range(rows)],
            "city": city,
            "amount": amount,
            "age": rng.integers(18, 90, rows),
            "member": rng.random(rows) < 0.4,
        }
    )


def saved(model: DPSynthesizer) -> tuple[str, dict[str, np.ndarray]]:
    buffer = io.BytesIO()
    model.save(buffer)
    _, arrays = model.get_state()
    return buffer.getvalue().decode("latin-1"), arrays


def test_the_model_file_holds_no_value_that_only_the_data_shows() -> None:
    """Holds unless the noise lets an empty range bucket far from the data pass (3,000 rows at epsilon 1
    take the coarse grid: at most 1e-4 per column) or releases the category of one row (at most
    delta / 2 = 5e-10)."""
    data = table()
    model = DPSynthesizer(epsilon=1.0).fit(data)
    text, arrays = saved(model)
    median = float(np.median(data["amount"]))
    for secret in (RARE, repr(EXTREME), repr(LOWEST), "987654", "3.14159", repr(median)):
        assert secret not in text, secret
    for name, values in arrays.items():
        assert not np.isin(values, [EXTREME, LOWEST, median]).any(), name
    assert model.schema_["amount"].minimum is None and model.schema_["city"].categories is None
    synth = model.sample(5000, seed=1)
    assert RARE not in set(synth["city"])
    assert synth["amount"].max() < EXTREME and synth["amount"].min() > LOWEST


def test_the_ledger_is_in_the_model_file_and_within_the_budget() -> None:
    model = DPSynthesizer(epsilon=0.5, delta=1e-8).fit(table())
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = load_model(buffer.getvalue())
    assert isinstance(loaded, DPSynthesizer)
    assert loaded.ledger_ == model.ledger_
    ledger = model.ledger_
    assert ledger.epsilon_spent <= 0.5 * (1 + 1e-9)
    assert ledger.delta_spent <= 1e-8 / 2
    measured = [e.what for e in ledger.entries]
    assert "categories of city" in measured and "range of amount" in measured
    assert not [what for what in measured if "ref" in what]  # identifiers are never measured
    assert all(e.sigma > 0 and e.rho > 0 for e in ledger.entries)


def test_declared_domains_cost_nothing() -> None:
    data = table()
    schema = infer_schema(data)
    columns = [
        Column("ref", schema["ref"].kind, dtype=schema["ref"].dtype, id_format=schema["ref"].id_format),
        Column("city", Kind.CATEGORICAL, dtype=schema["city"].dtype, categories=["Lyon", "Nice", "Paris"]),
        Column("amount", Kind.NUMERIC, dtype="float64", minimum=-10.0, maximum=1000.0),
        Column("age", Kind.NUMERIC, dtype="int64", integer=True, minimum=0, maximum=120),
        schema["member"],
    ]
    model = DPSynthesizer(epsilon=1.0).fit(
        data.assign(city=data["city"].replace(RARE, "Nice")), Schema(columns)
    )
    measured = [e.what for e in model.ledger_.entries]
    assert not [what for what in measured if what.startswith(("categories", "range", "rare"))]
    assert model.measured_columns_ == []


def test_the_seed_fixes_the_sampling_never_the_noise() -> None:
    data = table()
    first = DPSynthesizer(epsilon=0.5, seed=3).fit(data)
    second = DPSynthesizer(epsilon=0.5, seed=3).fit(data)
    a, b = first.get_state()[1], second.get_state()[1]
    assert any(not np.array_equal(a[k], b[k]) for k in a if k in b) or a.keys() != b.keys()
    pd.testing.assert_frame_equal(first.sample(200, seed=9), first.sample(200, seed=9))


def test_a_budget_too_small_for_any_category_draws_the_rare_class() -> None:
    data = table(rows=200)
    schema = infer_schema(data)
    schema.columns = [
        Column(c.name, Kind.NUMERIC, dtype=c.dtype, integer=c.integer, minimum=-10.0, maximum=1000.0)
        if c.kind is Kind.NUMERIC
        else c
        for c in schema
    ]
    model = DPSynthesizer(epsilon=0.05).fit(data, schema)
    city = model.sample(300, seed=1)["city"]
    assert set(city.dropna()) <= {"Lyon", "Paris", "Nice", "_RARE_"}
    assert city.isna().mean() < 0.5  # not drawn missing for want of a released category


def test_a_range_too_thin_to_estimate_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="'amount': too few rows to estimate its range privately.*declare"):
        DPSynthesizer(epsilon=0.01).fit(table(rows=100)[["amount", "member"]])


def test_mirage_budget_and_info_show_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    table(rows=1000).to_csv("t.csv", index=False)
    assert invoke("fit", "t.csv", "-o", "t.mirage", "--epsilon", "1.5", "--delta", "1e-7").exit_code == 0
    manifest = read_manifest(tmp_path / "t.mirage")
    assert manifest["engine"] == "dp"
    ledger = Ledger.from_dict(manifest["state"]["engine"]["ledger"])
    assert ledger.epsilon == 1.5 and ledger.delta == 1e-7
    shown = invoke("budget", "t.mirage")
    assert shown.exit_code == 0
    assert "categories of city" in shown.output and "epsilon 1.5 spent of 1.5" in shown.output
    info = invoke("info", "t.mirage")
    assert "privacy budget" in info.output and "mirage budget" in info.output
    assert json.dumps(manifest).count(RARE) == 0


def test_mirage_budget_of_a_model_without_privacy_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    table(rows=200).to_csv("t.csv", index=False)
    assert invoke("fit", "t.csv", "-o", "c.mirage", "--engine", "cart").exit_code == 0
    result = invoke("budget", "c.mirage")
    assert result.exit_code != 0
    assert "has no privacy ledger" in error_line(result)


def test_a_budget_for_an_engine_without_one_names_the_option(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    table(rows=200).to_csv("t.csv", index=False)
    result = invoke("fit", "t.csv", "-o", "c.mirage", "--engine", "cart", "--epsilon", "1")
    assert result.exit_code != 0
    assert "epsilon" in error_line(result)


def test_spikes_and_whole_numbers_keep_their_shape() -> None:
    """A spike at zero (no capital gain) and a spike inside an integer range (40 hours a week) come back
    as exact values in about their real shares; at epsilon 10 on 4000 rows the noisy shares are within
    0.05 of the real ones except with probability far below 1e-9."""
    rng = np.random.default_rng(1)
    rows = 4000
    gain = np.where(rng.random(rows) < 0.9, 0.0, np.round(rng.gamma(2.0, 3000.0, rows)))
    hours = np.where(rng.random(rows) < 0.5, 40, rng.integers(1, 99, rows))
    data = pd.DataFrame({"gain": gain, "hours": hours})
    schema = Schema(
        [
            Column("gain", Kind.NUMERIC, dtype="float64", minimum=0.0, maximum=60_000.0),
            Column("hours", Kind.NUMERIC, dtype="int64", integer=True, minimum=1, maximum=99),
        ]
    )
    synth = DPSynthesizer(epsilon=10.0).fit(data, schema).sample(rows, seed=0)
    assert abs((synth["gain"] == 0).mean() - (gain == 0).mean()) < 0.05
    assert abs((synth["hours"] == 40).mean() - (hours == 40).mean()) < 0.05
    assert synth["hours"].between(1, 99).all()


def test_the_report_of_a_dp_model_shows_its_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    table(rows=1500).to_csv("t.csv", index=False)
    fitted = invoke("fit", "t.csv", "-o", "t.mirage", "--epsilon", "2", "--holdout", "0.25")
    assert fitted.exit_code == 0, fitted.output
    result = invoke("report", "t.mirage", "-o", "r.html")
    assert result.exit_code == 0, result.output
    ledger = json.loads((tmp_path / "r.json").read_text())["meta"]["privacy_ledger"]
    assert ledger["epsilon"] == 2.0 and ledger["epsilon_spent"] <= 2.0 * (1 + 1e-9)
    shares = [m["share"] for m in ledger["mechanisms"]]
    assert all(s > 0 for s in shares) and sum(shares) == pytest.approx(ledger["rho_spent"] / ledger["rho"])
    assert {"categories of city", "range of amount"} <= {m["what"] for m in ledger["mechanisms"]}
    html = (tmp_path / "r.html").read_text()
    assert "Differential privacy: epsilon" in html and "categories of city" in html


@pytest.mark.slow
def test_the_report_of_a_model_without_privacy_has_no_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    table(rows=600).to_csv("t.csv", index=False)
    assert invoke("fit", "t.csv", "-o", "t.mirage", "--engine", "cart", "--holdout", "0.25").exit_code == 0
    assert invoke("report", "t.mirage", "-o", "r.html").exit_code == 0
    assert "privacy_ledger" not in json.loads((tmp_path / "r.json").read_text())["meta"]
    assert "Differential privacy: epsilon" not in (tmp_path / "r.html").read_text()


def test_whether_dates_have_a_time_of_day_is_measured_not_read() -> None:
    """Holds unless the noise takes 0 timed rows for some (1e-9) or 3000 for none (far below 1e-9)."""
    rng = np.random.default_rng(2)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, 3000), unit="D")
    data = pd.DataFrame({"day": days, "at": days + pd.to_timedelta(rng.integers(1, 86_000, 3000), unit="s")})
    model = DPSynthesizer(epsilon=5.0).fit(data)
    measured = [e.what for e in model.ledger_.entries]
    assert "times of day of day" in measured and "times of day of at" in measured
    synth = model.sample(500, seed=0)
    assert (synth["day"] == synth["day"].dt.floor("D")).all()
    assert (synth["at"] != synth["at"].dt.floor("D")).any()


def test_fine_grids_are_sized_to_the_noise() -> None:
    from mirage.engines.dp._bins import FINE_BUCKETS, MIN_FINE_BUCKETS, fine_buckets, fine_grid

    assert fine_buckets(1000.0, 0.5) == FINE_BUCKETS  # little noise: the finest grid
    assert fine_buckets(1000.0, 50.0) == 10  # 1000 rows over 2 sigma = 100 a bucket
    assert fine_buckets(30.0, 50.0) == MIN_FINE_BUCKETS
    assert fine_grid(1.0, 100.0, False, 8).size == 8
    assert fine_grid(18.0, 64.0, True).size == 47  # one bucket per whole number at the finest
    coarse = fine_grid(18.0, 64.0, True, 10)  # too noisy for 47: equal widths, the ends kept as points
    assert coarse.size <= 12 and {18.0, 64.0} <= set(coarse.points[~np.isnan(coarse.points)])


def test_a_smaller_budget_measures_coarser_grids_and_the_model_file_keeps_them() -> None:
    """The row count that sizes the grids is noisy; at epsilon 0.2 any count within 100 of its noise's
    deviations of the 3000 rows gives far fewer than the 128 buckets that epsilon 1000 gives."""
    data = table()
    schema = infer_schema(data)
    low = DPSynthesizer(epsilon=0.2).fit(data, schema)
    high = DPSynthesizer(epsilon=1000.0).fit(data, schema)
    assert high.fine_buckets_ == {"amount::value": 128, "age::value": 128}
    assert max(low.fine_buckets_.values()) < 64
    assert "number of rows" in [e.what for e in low.ledger_.entries]
    assert low.ledger_.epsilon_spent <= 0.2 * (1 + 1e-9)
    buffer = io.BytesIO()
    low.save(buffer)
    loaded = load_model(buffer.getvalue())
    assert isinstance(loaded, DPSynthesizer) and loaded.fine_buckets_ == low.fine_buckets_
    pd.testing.assert_frame_equal(loaded.sample(300, seed=2), low.sample(300, seed=2))


def test_a_model_saved_before_grids_were_sized_to_the_noise_loads_with_the_finest() -> None:
    model = DPSynthesizer(epsilon=1000.0).fit(table(rows=1500), infer_schema(table(rows=1500)))
    state, arrays = model.get_state()
    state["engine"] = {k: v for k, v in state["engine"].items() if k != "fine_buckets"}
    old = DPSynthesizer()
    old.set_state(model.schema_, state, arrays)
    assert old.fine_buckets_ == {}
    assert all(old.grids_[name].size == model.grids_[name].size for name in model.grids_)
    state["engine"]["fine_buckets"] = {"amount::value": "many"}
    with pytest.raises(StateError, match="fine_buckets"):
        old.set_state(model.schema_, state, arrays)


def test_text_timestamps_with_colon_offsets_get_a_private_range() -> None:
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2024-01-01 08:00", tz="Europe/Paris")
    stamps = pd.Series(
        (start + pd.to_timedelta(rng.integers(0, 7200, 400), unit="h")).strftime("%Y-%m-%dT%H:%M:%S%z")
    )
    frame = pd.DataFrame({"ts": stamps.str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)})
    rows = DPSynthesizer(epsilon=3.0).fit(frame).sample(50, seed=0)  # was: Mixed timezones detected
    drawn = pd.to_datetime(rows["ts"], format="%Y-%m-%dT%H:%M:%S%z", utc=True)
    assert drawn.notna().all()
    # 400 rows at epsilon 3 get a range on years (outer edges, widened by a neighbouring year whose
    # noisy count passes two deviations, which an empty one does 2% of the time)
    assert drawn.min() >= pd.Timestamp("2000-01-01", tz="UTC") and drawn.max() < pd.Timestamp(
        "2050-01-01", tz="UTC"
    )
    assert drawn.median().year == 2024


def small_measurements(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """A few hundred rows of eight numbers (the shape of diabetes): at epsilon 1 each range's histogram
    has a deviation of ~30 rows, so no bucket of a twentieth of a decade holds enough rows to pass."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pregnancies": rng.poisson(3.5, rows),
            "glucose": np.round(rng.normal(120, 30, rows)).clip(44, 199).astype(int),
            "pressure": np.round(rng.normal(70, 12, rows), 1),
            "skin": np.round(rng.gamma(4.0, 6.0, rows), 1),
            "insulin": np.round(rng.gamma(1.5, 80.0, rows)),
            "bmi": np.round(rng.normal(32, 7, rows), 1),
            "pedigree": np.round(rng.gamma(2.0, 0.2, rows), 3),
            "age": rng.integers(21, 81, rows),
        }
    )


def test_a_few_hundred_rows_fit_at_epsilon_one_with_ranges_on_powers_of_two() -> None:
    """Before: 'too few rows to estimate its range privately'.  Now the noisy row count, measured first,
    sends every range to the coarse grid (powers of two); the ledger adds up to the budget, and the
    ranges hold most rows (the rest are clipped to them: a power of two holding under ~2 deviations of
    noise, ~50 rows here, cannot be seen).  Holds unless an empty power of two passes (1e-4 a column)
    or several unlikely draws meet (each ~2%)."""
    data = small_measurements()
    model = DPSynthesizer(epsilon=1.0).fit(data)
    ledger = model.ledger_
    measured = [e.what for e in ledger.entries]
    assert measured[0] == "number of rows" and measured.count("number of rows") == 1
    assert {f"range of {c}" for c in data.columns} <= set(measured)
    assert ledger.epsilon_spent == pytest.approx(1.0, rel=1e-9) and ledger.epsilon_spent <= 1.0 * (1 + 1e-12)
    assert model.sample(200, seed=0).notna().all().all()
    ledger = Ledger(1.0, 1e-9)
    schema = inferred_public_schema(data)
    assert schema is not None
    options = EncodingOptions(rare_min_count=5)
    private = private_encoder(data, schema, options, ledger, ledger.rho_budget / 2, 5e-10, rows=600.0)
    assert [e.what for e in ledger.entries] == [f"range of {c}" for c in data.columns]
    public = public_frame(private.encoder, data)
    inside = [data[c].between(public[c].min(), public[c].max()).mean() for c in data.columns]
    assert min(inside) > 0.6 and np.mean(inside) > 0.85, inside


def test_an_empty_point_bucket_is_not_drawn_as_a_spike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The end of an integer range that reaches past the data is a point bucket: noise on its empty
    count (here two deviations, set by hand) must not come back as a spike of a value no row holds,
    while a real spike (a thousand rows at zero) stays."""
    from mirage.engines.dp import _tree
    from mirage.engines.dp._bins import fine_grid
    from mirage.privacy import _mechanisms

    grid = fine_grid(-10.0, 200.0, integer=True, buckets=16)
    spikes = grid.spikes
    assert sorted(grid.points[spikes].tolist()) == [-10.0, 0.0, 200.0]
    values = np.concatenate([np.zeros(1000), np.random.default_rng(0).integers(18, 80, 2000)])
    fine = grid.index(values)[:, None]
    sigma = _mechanisms.GaussianMechanism(rho=0.5).sigma

    def two_sigmas_up(counts: np.ndarray, scale: float) -> np.ndarray:
        return np.asarray(counts) + round(2 * sigma)

    monkeypatch.setattr(_mechanisms, "secure_discrete_gaussian", two_sigmas_up)
    ones = _tree.measure_one_ways(fine, [grid.size], [True], Ledger(10.0, 1e-9), 0.5, 8, ["age"], [spikes])
    within = ones.within[0]
    top, bottom, zero = (int(np.searchsorted(grid.edges, v, side="right")) - 1 for v in (200.0, -10.0, 0.0))
    assert within[top] == 0.0 and within[bottom] == 0.0
    assert within[zero] > 0.9
    plain = _tree.measure_one_ways(fine, [grid.size], [True], Ledger(10.0, 1e-9), 0.5, 8, ["age"])
    assert plain.within[0][top] > 0.0  # without the spikes' mask the noise is drawn as a spike


def test_a_grid_of_whole_numbers_has_no_spikes() -> None:
    from mirage.engines.dp._bins import fine_grid

    assert not fine_grid(18.0, 80.0, integer=True).spikes.any()
    assert not fine_grid(5.0, 9.0, integer=False).spikes.any()
    assert fine_grid(-1.0, 1.0, integer=False).spikes.sum() == 1  # zero


def test_a_sentinel_at_the_end_of_an_estimated_range_stays_a_spike() -> None:
    """A count of days since the last contact, -1 for never (80% of the rows): the private range starts
    at -1 and its end is a point bucket, so the sentinel comes back as itself in about its share (the
    end points were once dropped for estimated ranges and drew it at 41% on bank marketing)."""
    rng = np.random.default_rng(5)
    rows = 4000
    days = np.where(rng.random(rows) < 0.8, -1, rng.integers(1, 400, rows))
    synth = DPSynthesizer(epsilon=10.0).fit(pd.DataFrame({"pdays": days})).sample(rows, seed=0)
    assert abs((synth["pdays"] == -1).mean() - 0.8) < 0.05


def test_the_csv_dialect_of_a_dp_model_holds_no_count_of_rows() -> None:
    """Several missing-value words are written at the shares the rows had, and footnote marks on the
    share of numbers that had one: counts a DP model may not release exactly.  Its dialect keeps the
    words, at even shares, and no marks; another engine keeps both as read."""
    from mirage.engines import ENGINES

    data = table(rows=600)
    schema = infer_schema(data)
    read = {
        "delimiter": ",",
        "missing": {"amount": {"n/a": 0.7, "-": 0.3}},
        "marks": {"amount": ["*", 0.1, 1]},
    }
    schema = Schema(list(schema), extra={"csv": read})
    dialect = DPSynthesizer(epsilon=1.0).fit(data, schema).schema_.extra["csv"]
    assert dialect == {"delimiter": ",", "missing": {"amount": {"n/a": 0.5, "-": 0.5}}}
    assert ENGINES["cart"]().fit(data, schema).schema_.extra["csv"] == read
