from __future__ import annotations

import datetime
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage.sequential._model as sequential_model
from mirage.errors import DataError, ModelFileError, OptionError, OutputExistsError, SchemaError
from mirage.evaluation._sequential import autocorrelation, evaluate_sequences, ks_complement, sequence_lengths
from mirage.sequential import (
    PAYDAYS,
    SequenceSchema,
    SequenceSynthesizer,
    infer_sequence_schema,
    is_sequence_schema,
    make_transactions,
)

FMRI = Path(__file__).resolve().parents[1] / "fixtures" / "fmri_sequences_small.csv"


@pytest.fixture(scope="module")
def fmri() -> pd.DataFrame:
    return pd.read_csv(FMRI)


@pytest.fixture(scope="module")
def fmri_schema(fmri: pd.DataFrame) -> SequenceSchema:
    return infer_sequence_schema(fmri, "seq_id", "timepoint")


@pytest.fixture(scope="module")
def fmri_model(fmri: pd.DataFrame, fmri_schema: SequenceSchema) -> SequenceSynthesizer:
    return SequenceSynthesizer(seed=3).fit(fmri, fmri_schema)


@pytest.fixture(scope="module")
def transactions() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_transactions(200, seed=0)


@pytest.fixture(scope="module")
def transactions_model(transactions: tuple[pd.DataFrame, pd.DataFrame]) -> SequenceSynthesizer:
    events, customers = transactions
    schema = infer_sequence_schema(events, "customer_id", "timestamp")
    return SequenceSynthesizer().fit(events, schema, context=customers)


def _ordered(frame: pd.DataFrame, entity: str, order: str) -> bool:
    keys = frame[entity].to_numpy()
    same = keys[1:] == keys[:-1]
    values = frame[order].to_numpy()
    return bool(np.all(values[1:][same] >= values[:-1][same]))


def test_schema_round_trips_through_json(fmri_schema: SequenceSchema) -> None:
    data = fmri_schema.to_dict()
    assert is_sequence_schema(data)
    again = SequenceSchema.from_dict(data)
    assert (again.entity, again.order, again.columns.names) == (
        "seq_id",
        "timepoint",
        fmri_schema.columns.names,
    )
    assert fmri_schema.value_columns == ["subject", "event", "region", "signal"]


def test_schema_refuses_unknown_columns_and_a_text_order(fmri: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match="--entity: no column 'patient'"):
        infer_sequence_schema(fmri, "patient", "timepoint")
    with pytest.raises(SchemaError, match="order column 'region' is categorical"):
        infer_sequence_schema(fmri, "seq_id", "region")
    assert not is_sequence_schema({"columns": []})


def test_fmri_histories_are_ordered_consistent_and_autocorrelated(
    fmri: pd.DataFrame, fmri_schema: SequenceSchema, fmri_model: SequenceSynthesizer
) -> None:
    synthetic = fmri_model.sample(300, seed=1)
    assert synthetic.columns.tolist() == fmri.columns.tolist()
    assert synthetic["seq_id"].nunique() == 300
    assert _ordered(synthetic, "seq_id", "timepoint")
    # the steps run 0, 1, 2, ... per entity as in the real table
    steps = synthetic.groupby("seq_id", sort=False).cumcount().to_numpy()
    assert np.array_equal(synthetic["timepoint"].to_numpy(), steps)
    # a subject, event and region belong to the whole sequence
    assert synthetic.groupby("seq_id")[["subject", "event", "region"]].nunique().max().max() == 1
    real_lag1 = autocorrelation(fmri, fmri_schema, "signal", 1)
    assert abs(autocorrelation(synthetic, fmri_schema, "signal", 1) - real_lag1) < 0.1
    assert (
        ks_complement(sequence_lengths(fmri, fmri_schema), sequence_lengths(synthetic, fmri_schema)) >= 0.95
    )


def test_same_seed_same_histories_and_blocks_stand_alone(
    fmri_model: SequenceSynthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fmri_model.sample(20, seed=5)
    pd.testing.assert_frame_equal(first, fmri_model.sample(20, seed=5))
    assert not first["signal"].equals(fmri_model.sample(20, seed=6)["signal"])
    monkeypatch.setattr(sequential_model, "ENTITY_BLOCK", 8)
    chunks = list(fmri_model.sample_chunks(20, seed=5))
    assert [c["seq_id"].nunique() for c in chunks] == [8, 8, 4]
    # entity i's history depends on the seed and its block only, not on how many entities follow
    shorter = fmri_model.sample(16, seed=5)
    pd.testing.assert_frame_equal(pd.concat(chunks[:2], ignore_index=True), shorter)


def test_model_file_round_trip_gives_the_same_histories(
    fmri_model: SequenceSynthesizer, tmp_path: Path
) -> None:
    path = fmri_model.save(tmp_path / "fmri.mirage")
    loaded = SequenceSynthesizer.load(path)
    pd.testing.assert_frame_equal(loaded.sample(10, seed=2), fmri_model.sample(10, seed=2))
    with pytest.raises(OutputExistsError, match="already exists"):
        fmri_model.save(tmp_path / "fmri.mirage")


def test_loading_a_single_table_model_as_a_sequence_model_is_refused(tmp_path: Path) -> None:
    from mirage.engines.cart import CartSynthesizer

    frame = pd.DataFrame({"x": np.arange(40.0), "y": np.arange(40) % 3})
    CartSynthesizer().fit(frame).save(tmp_path / "cart.mirage")
    with pytest.raises(ModelFileError, match="not a sequence model"):
        SequenceSynthesizer.load(tmp_path / "cart.mirage")


def test_transactions_keep_context_rhythm_and_paydays(
    transactions: tuple[pd.DataFrame, pd.DataFrame], transactions_model: SequenceSynthesizer
) -> None:
    _, customers = transactions
    synthetic = transactions_model.sample(context=customers, seed=1)
    assert _ordered(synthetic, "customer_id", "timestamp")
    # every event carries its entity's context row
    joined = synthetic.merge(customers, on="customer_id", suffixes=("", "_given"))
    assert len(joined) == len(synthetic)
    assert (joined["age"] == joined["age_given"]).all() and (
        joined["segment"] == joined["segment_given"]
    ).all()
    purchases = synthetic[synthetic["kind"] == "purchase"]
    salaries = synthetic[synthetic["kind"] == "salary"]
    # ground truth: purchases cluster on Saturdays (40% of them; 14% if days were uniform)
    assert (purchases["timestamp"].dt.day_of_week == 5).mean() > 0.33
    # ground truth: salaries come on the 1st and the 15th (6.6% of days if uniform)
    assert salaries["timestamp"].dt.day.isin([1, 15]).mean() > 0.3
    # ground truth: each segment on its own payday, every month (3 salaries per paid customer)
    segment = salaries["customer_id"].map(customers.set_index("customer_id")["segment"])
    assert (salaries["timestamp"].dt.day == segment.map(PAYDAYS)).mean() > 0.9
    paid = int((customers["segment"] != "student").sum())
    assert 0.85 * 3 * paid < len(salaries) < 1.15 * 3 * paid
    # ground truth: no event at night
    assert synthetic["timestamp"].dt.hour.between(9, 21).all()
    assert salaries["amount"].median() > 10 * purchases["amount"].median()


def test_history_lengths_follow_the_real_ones_and_their_tails(
    transactions: tuple[pd.DataFrame, pd.DataFrame], transactions_model: SequenceSynthesizer
) -> None:
    # value protection (rare_min_count 10) emits no length held by fewer histories as such: the 9 real
    # histories past the 10th smallest or largest length (4.5% of 200 each side) come back as a smooth
    # tail past that edge, with their share, within the real range; the lengths follow the real ones,
    # segment by segment (the context's link to the length holds)
    events, customers = transactions
    schema = transactions_model.schema_
    assert schema is not None
    real = np.sort(sequence_lengths(events, schema))
    low, high = real[9], real[-10]
    many = pd.concat([customers] * 10, ignore_index=True).assign(customer_id=np.arange(10 * len(customers)))
    synthetic = transactions_model.sample(context=many, seed=5)
    lengths = sequence_lengths(synthetic, schema)
    assert real[0] <= lengths.min() and lengths.max() <= real[-1]
    for past, real_past in ((lengths < low, real < low), (lengths > high, real > high)):
        assert 0.3 * real_past.mean() < past.mean() < 3.0 * real_past.mean()
    assert ks_complement(real, lengths) >= 0.95
    segment = pd.concat([customers, many]).drop_duplicates("customer_id").set_index("customer_id")["segment"]
    real_by = events.groupby("customer_id").size().groupby(segment).mean()
    drawn_by = synthetic.groupby("customer_id").size().groupby(segment).mean()
    assert (drawn_by - real_by).abs().max() < 1.5, (real_by, drawn_by)


def test_histories_condition_on_the_context(
    transactions: tuple[pd.DataFrame, pd.DataFrame], transactions_model: SequenceSynthesizer
) -> None:
    _, customers = transactions
    over_60 = pd.DataFrame({"customer_id": np.arange(100), "age": 70, "segment": "retired"})
    synthetic = transactions_model.sample(context=over_60, seed=4)
    salaries = synthetic[synthetic["kind"] == "salary"]
    assert (salaries["timestamp"].dt.day == 15).sum() > 3 * (salaries["timestamp"].dt.day == 1).sum()
    assert (synthetic["age"] == 70).all()
    with pytest.raises(OptionError, match="fitted with a context"):
        transactions_model.sample(10)
    with pytest.raises(OptionError, match="no column 'segment'"):
        transactions_model.sample(context=customers[["customer_id", "age"]])


def test_fit_refuses_bad_context(transactions: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    events, customers = transactions
    schema = infer_sequence_schema(events, "customer_id", "timestamp")
    with pytest.raises(DataError, match="entity 5 has no row in the context"):
        SequenceSynthesizer().fit(events, schema, context=customers[customers["customer_id"] != 5])
    with pytest.raises(DataError, match="no entity column 'customer_id'"):
        SequenceSynthesizer().fit(events, schema, context=customers.drop(columns="customer_id"))
    with pytest.raises(OptionError, match="lags must be an integer"):
        SequenceSynthesizer(lags=0)


def test_evaluation_of_real_against_itself_is_perfect(
    fmri: pd.DataFrame, fmri_schema: SequenceSchema
) -> None:
    result = evaluate_sequences(fmri, fmri, fmri_schema)
    assert result["length_ks_complement"] == 1.0 and result["gap_ks_complement"] == 1.0
    real, again = result["autocorrelation"]["signal"][1]
    assert real == again and real > 0.7
    assert result["transitions"] == {"subject": 1.0, "event": 1.0, "region": 1.0}
    assert result["coherence"]["region"] == 1.0
    assert result["dcr"]["copied_share"] == 1.0


def test_autocorrelation_of_a_known_process() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for entity in range(200):
        x = 0.0
        for step in range(30):
            x = 0.6 * x + rng.normal()
            rows.append((entity, step, x))
    frame = pd.DataFrame(rows, columns=["id", "t", "x"])
    schema = infer_sequence_schema(frame, "id", "t")
    assert autocorrelation(frame, schema, "x", 1) == pytest.approx(0.6, abs=0.05)
    assert autocorrelation(frame, schema, "x", 2) == pytest.approx(0.36, abs=0.05)


def test_encoded_draws_give_the_histories_the_engine_path_gives(
    fmri_model: SequenceSynthesizer,
    transactions: tuple[pd.DataFrame, pd.DataFrame],
    transactions_model: SequenceSynthesizer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, customers = transactions
    given = customers.iloc[:60]
    fast = (fmri_model.sample(40, seed=7), transactions_model.sample(context=given, seed=7))
    monkeypatch.setattr(sequential_model, "usable", lambda engine, rows: False)
    pd.testing.assert_frame_equal(fast[0], fmri_model.sample(40, seed=7))
    pd.testing.assert_frame_equal(fast[1], transactions_model.sample(context=given, seed=7))


def test_sample_to_streams_blocks_into_one_file_atomically(
    fmri_model: SequenceSynthesizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sequential_model, "ENTITY_BLOCK", 8)
    target = tmp_path / "histories.parquet"
    written = fmri_model.sample_to(target, 20, seed=5)
    expected = fmri_model.sample(20, seed=5)
    assert written == len(expected)
    pd.testing.assert_frame_equal(pd.read_parquet(target), expected, check_dtype=False)
    with pytest.raises(OutputExistsError, match="already exists"):
        fmri_model.sample_to(target, 5, seed=5)
    assert fmri_model.sample_to(target, 5, seed=5, force=True) == len(fmri_model.sample(5, seed=5))
    with pytest.raises(OptionError, match="n_entities must be a non-negative integer"):
        fmri_model.sample_to(tmp_path / "bad.parquet", -1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["histories.parquet"]


def test_a_timestamped_model_file_keeps_its_day_model(
    transactions: tuple[pd.DataFrame, pd.DataFrame], transactions_model: SequenceSynthesizer, tmp_path: Path
) -> None:
    _, customers = transactions
    loaded = SequenceSynthesizer.load(transactions_model.save(tmp_path / "transactions.mirage"))
    assert loaded.time_engine_ is not None
    given = customers.iloc[:30]
    pd.testing.assert_frame_equal(
        loaded.sample(context=given, seed=2), transactions_model.sample(context=given, seed=2)
    )


def test_rare_min_count_lets_few_entities_keep_their_category(
    fmri: pd.DataFrame, fmri_schema: SequenceSchema, tmp_path: Path
) -> None:
    from mirage.encoding.categorical import RARE_TOKEN

    with pytest.warns(UserWarning, match="_RARE_"):
        default = SequenceSynthesizer(seed=3).fit(fmri, fmri_schema)
    assert (default.sample(20, seed=1)["subject"] == RARE_TOKEN).all()
    model = SequenceSynthesizer(rare_min_count=1, seed=3).fit(fmri, fmri_schema)
    subjects = model.sample(20, seed=1)["subject"]
    assert RARE_TOKEN not in set(subjects) and set(subjects) <= set(fmri["subject"])
    assert SequenceSynthesizer.load(model.save(tmp_path / "m.mirage")).rare_min_count == 1
    with pytest.raises(OptionError, match="rare_min_count"):
        SequenceSynthesizer(rare_min_count=0)


def test_a_public_panel_keeps_its_years_continents_and_autocorrelation() -> None:
    import plotly.data

    # plotly ships gapminder: 142 countries, every 5 years from 1952 to 2007
    panel = plotly.data.gapminder()[["country", "continent", "year", "lifeExp", "pop", "gdpPercap"]]
    schema = infer_sequence_schema(panel, "country", "year")
    model = SequenceSynthesizer(rare_min_count=2, seed=0).fit(panel, schema)  # Oceania: 2 countries
    synthetic = model.sample(200, seed=1)
    assert _ordered(synthetic, "country", "year")
    assert synthetic.groupby("country")["continent"].nunique().max() == 1
    assert set(synthetic["continent"]) <= set(panel["continent"])
    assert (synthetic.groupby("country").size() == 12).mean() > 0.9
    assert set(
        np.diff(synthetic["year"].to_numpy())[
            synthetic["country"].to_numpy()[1:] == synthetic["country"].to_numpy()[:-1]
        ]
    ) == {5}
    # gdpPercap's lag-1 autocorrelation comes out lower (0.77, real 0.97: a few oil states' outliers)
    for column in ("lifeExp", "pop"):
        real = autocorrelation(panel, schema, column, 1)
        assert abs(autocorrelation(synthetic, schema, column, 1) - real) < 0.1, column


def test_python_callers_get_step_numbers_and_instants_on_the_source_clock() -> None:
    from mirage.schema import Kind
    from mirage.sequential import SequenceSynthesizer, infer_sequence_schema

    rng = np.random.default_rng(0)
    steps = pd.DataFrame(
        [{"id": e, "step": k, "v": float(rng.normal())} for e in range(40) for k in range(4)]
    )
    assert infer_sequence_schema(steps, "id", "step").columns["step"].kind is Kind.NUMERIC
    rows = []
    for e in range(40):
        stamp = pd.Timestamp("2023-03-20 08:00", tz="Europe/Berlin")  # the clocks change on 26 March
        for _ in range(6):
            stamp += pd.Timedelta(days=int(rng.integers(1, 5)))
            rows.append({"id": e, "ts": stamp.isoformat(), "v": float(rng.normal())})
    events = pd.DataFrame(rows)
    assert events["ts"].str.endswith("+01:00").any() and events["ts"].str.endswith("+02:00").any()
    schema = infer_sequence_schema(events, "id", "ts")
    assert schema.columns["ts"].extra == {"clock": "Europe/Amsterdam"}  # a zone with Berlin's offsets
    drawn = SequenceSynthesizer(seed=1).fit(events, schema).sample(20, seed=2)
    hours = pd.to_datetime(drawn["ts"], utc=True).dt.hour
    assert set(hours) <= {6, 7}  # 08:00 in Berlin is 07:00 or 06:00 UTC
    instants = pd.to_datetime(drawn["ts"], utc=True)  # written on Berlin's clock, both sides of the change
    berlin = [stamp.tz_convert("Europe/Berlin").isoformat() for stamp in instants]
    assert drawn["ts"].tolist() == berlin and len({text[-6:] for text in berlin}) == 2


def test_history_columns_reads_the_layout_of_event_files() -> None:
    from mirage.sequential import history_columns

    events = pd.read_csv(FMRI)
    assert history_columns(events) == [("seq_id", "timepoint")]
    # shuffled rows are a table: no column keeps an entity's rows together
    assert history_columns(events.sample(frac=1.0, random_state=0)) == []
    # timestamps written as text order histories too; a second ordering column makes it ambiguous
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(events["timepoint"], unit="h")
    timed = events.assign(at=stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert history_columns(timed) == [("seq_id", "timepoint"), ("seq_id", "at")]
    # a table sorted by a category with few values is not histories
    table = pd.DataFrame({"group": np.repeat(["a", "b", "c"], 20), "x": np.tile(np.arange(20), 3)})
    assert history_columns(table) == []


def test_keys_and_timestamps_are_written_the_way_the_source_wrote_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Customer keys ``C0001`` and minute timestamps ``2024-01-05 09:30`` come back so (they came back
    as ``e0`` and with seconds), keys unique across blocks even past what the source's pattern holds."""
    rng = np.random.default_rng(0)
    rows = []
    for c in range(120):
        stamp = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 30)))
        for _ in range(int(rng.integers(2, 6))):
            stamp += pd.Timedelta(minutes=int(rng.integers(60, 5_000)))
            rows.append(
                {"customer_id": f"C{c:04d}", "ts": stamp.strftime("%Y-%m-%d %H:%M"), "v": rng.normal()}
            )
    events = pd.DataFrame(rows)
    schema = infer_sequence_schema(events, "customer_id", "ts")
    model = SequenceSynthesizer(seed=1).fit(events, schema)
    monkeypatch.setattr(sequential_model, "ENTITY_BLOCK", 500)
    drawn = pd.concat(list(model.sample_chunks(1_200, seed=2)), ignore_index=True)
    assert drawn["customer_id"].nunique() == 1_200
    keys = drawn.drop_duplicates("customer_id")["customer_id"]
    assert len(keys) == 1_200 and keys.str.fullmatch(r"C\d{4}").all()
    assert drawn["ts"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
    assert _ordered(drawn.assign(ts=pd.to_datetime(drawn["ts"])), "customer_id", "ts")


def test_the_entity_key_gets_no_warning_about_how_it_would_be_learned(
    recwarn: pytest.WarningsRecorder,
) -> None:
    rows = [{"customer_id": f"C{c:04d}", "step": k, "v": float(k)} for c in range(300) for k in range(3)]
    infer_sequence_schema(pd.DataFrame(rows), "customer_id", "step")
    assert not [w for w in recwarn if "customer_id" in str(w.message)]


@pytest.mark.parametrize(
    ("offsets", "clock"),
    [(["+02:00"], "+02:00"), (["-05:30"], "-05:30"), (["+02:00", "+02:00", "+05:00"], "+02:00")],
)
def test_times_with_utc_offsets_are_written_back_at_them(offsets: list[str], clock: str) -> None:
    """Order times written at a UTC offset come back at it, not at UTC; offsets no time zone explains
    come back at the one most rows have, with a warning that says so."""
    from mirage._warnings import MirageWarning
    from mirage.sequential import SequenceSynthesizer, infer_sequence_schema

    rng = np.random.default_rng(0)
    rows = []
    for e in range(40):
        stamp = pd.Timestamp("2024-03-01 10:00", tz="UTC") + pd.Timedelta(hours=int(rng.integers(0, 500)))
        for k in range(5):
            stamp += pd.Timedelta(minutes=int(rng.integers(5, 600)))
            hours, minutes = offsets[(e * 5 + k) % len(offsets)].split(":")
            east = int(hours) * 60 + (-1 if hours.startswith("-") else 1) * int(minutes)
            written = stamp.tz_convert(datetime.timezone(datetime.timedelta(minutes=east)))
            rows.append({"id": e, "ts": written.isoformat(), "v": float(rng.normal())})
    events = pd.DataFrame(rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = infer_sequence_schema(events, "id", "ts")
    said = [str(w.message) for w in caught if issubclass(w.category, MirageWarning)]
    if len(offsets) > 1:
        assert said == [
            "column 'ts': its times are written at UTC offsets +02:00 (134 rows), +05:00 (66 rows) that no "
            "time zone explains; synthetic times are written at +02:00, the offset most rows have"
        ]
    assert schema.columns["ts"].extra == {"clock": clock}
    drawn = SequenceSynthesizer(seed=1).fit(events, schema).sample(10, seed=2)
    assert drawn["ts"].str.endswith(clock).all()
    instants = pd.to_datetime(drawn["ts"], utc=True, format="ISO8601")
    assert bool(instants.notna().all()) and bool(
        (instants.groupby(drawn["id"]).diff().dropna() >= pd.Timedelta(0)).all()
    )
