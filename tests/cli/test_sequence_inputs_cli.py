"""Event tables a new user may hand ``mirage schema`` and ``mirage fit``: each gets correct output or a
one-line error naming the file and the column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.helpers import error_line, invoke, read_json

SCHEMA = {"entity": "id", "order": "t"}


def _events(entities: int = 12, per: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(entities), per),
            "t": np.tile(pd.date_range("2024-01-01", periods=per, freq="D"), entities),
            "kind": rng.choice(["a", "b"], entities * per),
            "amount": rng.normal(size=entities * per).round(2),
        }
    )


def _schema(events: Path, output: Path) -> str:
    result = invoke("schema", events, "--entity", "id", "--order", "t", "-o", output)
    return "" if result.exit_code == 0 else error_line(result)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_events().head(0), "has no events (no rows under its header); a sequence model needs histories"),
        (
            _events(entities=1),
            "holds the history of one entity (id 0); a sequence model learns from the histories",
        ),
        (
            _events(per=1),
            ": every id has one event, so there are no histories to learn; model it as one table",
        ),
        (
            _events().assign(t=lambda f: f["t"].astype(str).where(f.index % 4 != 2)),
            ": the order column 't' is empty in 12 rows (first: row 3); drop those rows or fill them",
        ),
        (
            _events().assign(id=lambda f: f["id"].astype(float).where(f.index != 5)),
            ": the entity column 'id' is empty in 1 rows (first: row 6)",
        ),
    ],
)
def test_tables_a_sequence_model_cannot_learn_are_named(
    tmp_path: Path, frame: pd.DataFrame, message: str
) -> None:
    events = tmp_path / "events.csv"
    frame.to_csv(events, index=False)
    assert message in _schema(events, tmp_path / "s.json") and str(events) in _schema(
        events, tmp_path / "s.json"
    )
    good = tmp_path / "good.csv"
    _events().to_csv(good, index=False)
    assert _schema(good, tmp_path / "good.json") == ""
    line = error_line(invoke("fit", events, "--schema", tmp_path / "good.json", "-o", tmp_path / "m.mirage"))
    assert message in line


def test_step_numbers_with_few_values_or_repeated_steps_order_the_histories(tmp_path: Path) -> None:
    events = _events().assign(t=np.tile([0, 1, 1, 2], 12))  # steps 0..2, one repeated in every history
    events.to_csv(tmp_path / "events.csv", index=False)
    assert _schema(tmp_path / "events.csv", tmp_path / "s.json") == ""
    order = next(c for c in read_json(tmp_path / "s.json")["columns"]["columns"] if c["name"] == "t")
    assert order["kind"] == "numeric" and order["integer"] is True
    model, out = tmp_path / "m.mirage", tmp_path / "out.csv"
    assert invoke("fit", tmp_path / "events.csv", "--schema", tmp_path / "s.json", "-o", model).exit_code == 0
    assert invoke("sample", model, "--entities", "8", "-o", out, "--seed", "0").exit_code == 0
    drawn = pd.read_csv(out)
    assert (drawn.groupby("id")["t"].diff().dropna() >= 0).all() and set(drawn["t"]) <= {0, 1, 2, 3, 4}


def test_timestamps_with_utc_offsets_are_learned_as_the_same_instants(tmp_path: Path) -> None:
    events = _events()
    # 10:00 in Berlin's winter (+01:00) and 11:00 at +02:00: both 09:00 UTC
    hours = np.tile(["10:00:00+01:00", "11:00:00+02:00", "10:00:00+01:00", "11:00:00+02:00"], 12)
    events["t"] = events["t"].dt.strftime("%Y-%m-%dT") + hours
    events.to_csv(tmp_path / "events.csv", index=False)
    assert _schema(tmp_path / "events.csv", tmp_path / "s.json") == ""
    model, out = tmp_path / "m.mirage", tmp_path / "out.csv"
    result = invoke("fit", tmp_path / "events.csv", "--schema", tmp_path / "s.json", "-o", model)
    assert result.exit_code == 0, result.output
    assert invoke("sample", model, "--entities", "8", "-o", out, "--seed", "0").exit_code == 0
    stamps = pd.to_datetime(pd.read_csv(out)["t"], utc=True, format="mixed")
    assert (stamps.dt.hour == 9).all() and (stamps.dt.minute == 0).all()
    assert invoke("report", model, "-o", tmp_path / "r.html").exit_code == 0


def test_timestamps_at_one_utc_offset_are_written_back_at_it(tmp_path: Path) -> None:
    events = _events()
    events["t"] = events["t"].dt.strftime("%Y-%m-%dT") + np.tile(["08:15:00", "12:40:00"], 24) + "+02:00"
    events.to_csv(tmp_path / "events.csv", index=False)
    assert _schema(tmp_path / "events.csv", tmp_path / "s.json") == ""
    model, out = tmp_path / "m.mirage", tmp_path / "out.csv"
    assert invoke("fit", tmp_path / "events.csv", "--schema", tmp_path / "s.json", "-o", model).exit_code == 0
    assert invoke("sample", model, "--entities", "8", "-o", out, "--seed", "0").exit_code == 0
    written = pd.read_csv(out)["t"]
    assert written.str.fullmatch(r"2024-01-0\dT(08:15|12:40):00\+02:00").all(), written.tolist()


def test_histories_are_written_as_the_event_file_was(tmp_path: Path) -> None:
    """A semicolon file with decimal commas and day-first times comes back so."""
    events = _events()
    events["t"] = events["t"].dt.strftime("%d.%m.%Y") + " " + np.tile(["08:15", "12:40"], 24)
    events.to_csv(tmp_path / "events.csv", sep=";", decimal=",", index=False)
    assert _schema(tmp_path / "events.csv", tmp_path / "s.json") == ""
    model, out = tmp_path / "m.mirage", tmp_path / "out.csv"
    assert invoke("fit", tmp_path / "events.csv", "--schema", tmp_path / "s.json", "-o", model).exit_code == 0
    assert invoke("sample", model, "--entities", "8", "-o", out, "--seed", "0").exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id;t;kind;amount"
    written = pd.read_csv(out, sep=";", decimal=",")
    assert written["t"].str.fullmatch(r"0\d\.01\.2024 (08:15|12:40)").all(), written["t"].tolist()
    assert written["amount"].dtype == "float64"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (pd.DataFrame({"cid": range(12), "age": range(12)}), "no column 'id' (the entity key of the events)"),
        (
            pd.DataFrame({"id": [*range(12), 3], "age": range(13)}),
            "id 3 has more than one row; give one per entity",
        ),
        (
            pd.DataFrame({"id": range(5, 20), "age": range(15)}),
            "no row for 5 of the 12 entities (id 0, ...); give one row per entity of the events",
        ),
    ],
)
def test_a_context_table_must_hold_one_row_per_entity(
    tmp_path: Path, context: pd.DataFrame, message: str
) -> None:
    _events().to_csv(tmp_path / "events.csv", index=False)
    context.to_csv(tmp_path / "context.csv", index=False)
    assert _schema(tmp_path / "events.csv", tmp_path / "s.json") == ""
    result = invoke(
        "fit",
        tmp_path / "events.csv",
        "--schema",
        tmp_path / "s.json",
        "--context",
        tmp_path / "context.csv",
        "-o",
        tmp_path / "m.mirage",
    )
    assert f"--context {tmp_path / 'context.csv'}: {message}" in error_line(result)
