"""mirage schema / fit / sample / report on event sequences per entity, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mirage.sequential import make_transactions
from tests.cli.helpers import error_line, invoke, manifest, read_json

FMRI = Path(__file__).resolve().parents[1] / "fixtures" / "fmri_sequences_small.csv"


def test_fmri_schema_fit_sample_report(tmp_path: Path) -> None:
    schema = tmp_path / "events.schema.json"
    model = tmp_path / "events.mirage"
    synthetic = tmp_path / "synth.parquet"
    result = invoke("schema", FMRI, "--entity", "seq_id", "--order", "timepoint", "-o", schema)
    assert result.exit_code == 0, result.output
    assert read_json(schema)["kind"] == "sequence" and read_json(schema)["entity"] == "seq_id"
    result = invoke("fit", FMRI, "--schema", schema, "-o", model, "--seed", "1")
    assert result.exit_code == 0, result.output
    assert manifest(model)["engine"] == "sequential"
    result = invoke("sample", model, "--entities", "40", "-o", synthetic, "--seed", "2")
    assert result.exit_code == 0, result.output
    assert "of 40 entities" in result.output
    frame = pd.read_parquet(synthetic)
    assert frame["seq_id"].nunique() == 40
    assert frame.groupby("seq_id")["region"].nunique().max() == 1
    assert (frame.groupby("seq_id")["timepoint"].diff().dropna() > 0).all()
    again = tmp_path / "again.parquet"
    assert invoke("sample", model, "--entities", "40", "-o", again, "--seed", "2").exit_code == 0
    pd.testing.assert_frame_equal(frame, pd.read_parquet(again))
    report = tmp_path / "r.html"
    result = invoke("report", model, "-o", report)
    assert result.exit_code == 0, result.output
    scores = read_json(report.with_suffix(".json"))
    assert scores["length_ks_complement"] >= 0.95
    assert "Sequence report" in report.read_text(encoding="utf-8")


def test_transactions_with_a_context_table(tmp_path: Path) -> None:
    events, customers = make_transactions(80, days=40, seed=1)
    events.to_csv(tmp_path / "events.csv", index=False)
    customers.to_csv(tmp_path / "customers.csv", index=False)
    older = customers.assign(age=70, segment="retired").head(25)
    older.to_csv(tmp_path / "older.csv", index=False)
    schema, model = tmp_path / "events.schema.json", tmp_path / "events.mirage"
    assert (
        invoke(
            "schema", tmp_path / "events.csv", "--entity", "customer_id", "--order", "timestamp", "-o", schema
        ).exit_code
        == 0
    )
    result = invoke(
        "fit",
        tmp_path / "events.csv",
        "--schema",
        schema,
        "--context",
        tmp_path / "customers.csv",
        "-o",
        model,
    )
    assert result.exit_code == 0, result.output
    result = invoke("sample", model, "--entities", "10", "-o", tmp_path / "s.csv", "--seed", "0")
    assert result.exit_code != 0
    assert "fitted with a context" in error_line(result)
    result = invoke(
        "sample", model, "--context", tmp_path / "older.csv", "-o", tmp_path / "s.csv", "--seed", "0"
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "s.csv", parse_dates=["timestamp"])
    assert set(frame["customer_id"]) == set(older["customer_id"])
    assert (frame["age"] == 70).all() and (frame["segment"] == "retired").all()
    keys = frame["customer_id"].to_numpy()
    same = keys[1:] == keys[:-1]
    assert np.all(np.diff(frame["timestamp"].to_numpy().astype("int64"))[same] >= 0)
    assert invoke("report", model, "-o", tmp_path / "r.html").exit_code == 0


def test_sequence_options_are_refused_where_they_do_not_apply(tmp_path: Path) -> None:
    result = invoke("schema", FMRI, "--entity", "seq_id")
    assert "--entity and --order go together" in error_line(result)
    result = invoke("fit", FMRI, "--context", FMRI, "-o", tmp_path / "m.mirage")
    assert "--context goes with a sequence schema" in error_line(result)
    result = invoke("schema", FMRI, "--entity", "patient", "--order", "timepoint")
    assert "--entity: no column 'patient'" in error_line(result)


def test_sample_of_a_single_table_model_still_needs_rows(tmp_path: Path) -> None:
    model = tmp_path / "cart.mirage"
    assert invoke("fit", FMRI, "--engine", "cart", "-o", model).exit_code == 0
    assert "give --rows N" in error_line(invoke("sample", model, "-o", tmp_path / "s.csv"))
    result = invoke("sample", model, "--entities", "5", "-o", tmp_path / "s.csv")
    assert "--entities and --context go with a sequence model" in error_line(result)


def test_info_load_and_single_table_commands_know_a_sequence_model(tmp_path: Path) -> None:
    import mirage
    from mirage.sequential import SequenceSynthesizer

    schema = tmp_path / "events.schema.json"
    model = tmp_path / "events.mirage"
    assert invoke("schema", FMRI, "--entity", "seq_id", "--order", "timepoint", "-o", schema).exit_code == 0
    assert invoke("fit", FMRI, "--schema", schema, "-o", model, "--seed", "1").exit_code == 0
    result = invoke("info", model)
    assert result.exit_code == 0, result.output
    assert "sequences of entity 'seq_id', ordered by 'timepoint'" in result.output
    assert "signal" in result.output
    loaded = mirage.load(model)
    assert isinstance(loaded, SequenceSynthesizer)
    assert loaded.sample(5, seed=3).equals(SequenceSynthesizer.load(model).sample(5, seed=3))
    gaps = tmp_path / "gaps.csv"
    pd.read_csv(FMRI).head(20).to_csv(gaps, index=False)
    line = error_line(invoke("impute", model, gaps, "-o", tmp_path / "filled.csv"))
    assert "holds a model of event sequences; this command works on a single table's model" in line


def test_rare_min_count_is_a_param_of_the_sequence_model(tmp_path: Path) -> None:
    schema, model = tmp_path / "events.schema.json", tmp_path / "events.mirage"
    assert invoke("schema", FMRI, "--entity", "seq_id", "--order", "timepoint", "-o", schema).exit_code == 0
    result = invoke(
        "fit", FMRI, "--schema", schema, "-o", model, "--param", "rare_min_count=1", "--seed", "1"
    )
    assert result.exit_code == 0, result.output
    synthetic = tmp_path / "synth.csv"
    assert invoke("sample", model, "--entities", "30", "-o", synthetic, "--seed", "2").exit_code == 0
    assert (pd.read_csv(synthetic)["subject"] != "_RARE_").all()
    wrong = invoke("fit", FMRI, "--schema", schema, "-o", tmp_path / "x.mirage", "--param", "depth=3")
    assert "rare_min_count=N" in error_line(wrong)
