"""``mirage sample events.mirage --first first.csv``: histories whose first events take given values."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from mirage.sequential import make_transactions
from tests.cli.helpers import error_line, invoke

FMRI = Path(__file__).resolve().parents[1] / "fixtures" / "fmri_sequences_small.csv"


def _fit(events: Path, entity: str, order: str, folder: Path, *options: str) -> Path:
    schema, model = folder / f"{events.stem}.schema.json", folder / f"{events.stem}{len(options)}.mirage"
    if not schema.exists():
        assert invoke("schema", events, "--entity", entity, "--order", order, "-o", schema).exit_code == 0
    result = invoke("fit", events, "--schema", schema, "-o", model, "--seed", "1", *options)
    assert result.exit_code == 0, result.output
    return model


@pytest.fixture(scope="module")
def argn_fmri(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _fit(
            FMRI,
            "seq_id",
            "timepoint",
            tmp_path_factory.mktemp("argn"),
            "--engine",
            "argn",
            "-p",
            "max_epochs=2",
        )


def test_first_events_take_the_given_values_in_order(argn_fmri: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    pd.DataFrame({"signal": [0.3] * 5 + [-0.05] * 5}).to_csv(first, index=False)
    out = tmp_path / "out.csv"
    result = invoke("sample", argn_fmri, "--first", first, "-o", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "of 10 entities" in result.output
    starts = pd.read_csv(out).groupby("seq_id", sort=False)["signal"].first().to_numpy()
    assert len(starts) == 10 and starts[:5].min() > starts[5:].max()
    again = tmp_path / "again.csv"
    assert (
        invoke(
            "sample", argn_fmri, "--first", first, "--entities", "10", "-o", again, "--seed", "1"
        ).exit_code
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(again))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            {"region": ["frontal"]},
            "column 'region' is constant within each history; only columns that change",
        ),
        ({"nope": [1.0]}, "no column 'nope' among the events' values (signal)"),
        ({"timepoint": [0]}, "column 'timepoint' is the order; a history's first time is drawn"),
        ({"signal": [0.1, None, 0.2]}, "column 'signal' is empty in row 2"),
        ({"signal": []}, "no rows; give one row per history"),
    ],
)
def test_a_wrong_first_file_is_named_with_its_column(
    argn_fmri: Path, tmp_path: Path, rows: dict[str, list[object]], message: str
) -> None:
    first = tmp_path / "first.csv"
    pd.DataFrame(rows).to_csv(first, index=False)
    line = error_line(invoke("sample", argn_fmri, "--first", first, "-o", tmp_path / "out.csv"))
    assert f"--first {first}: {message}" in line


def test_first_is_refused_by_the_fast_model_and_by_a_table_model_and_must_agree_with_entities(
    argn_fmri: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    pd.DataFrame({"signal": [0.1, 0.2]}).to_csv(first, index=False)
    line = error_line(
        invoke("sample", argn_fmri, "--first", first, "--entities", "3", "-o", tmp_path / "o.csv")
    )
    assert f"--entities 3: --first {first} has 2 rows, one per history" in line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = _fit(FMRI, "seq_id", "timepoint", tmp_path)
    line = error_line(invoke("sample", fast, "--first", first, "-o", tmp_path / "o.csv"))
    assert f"--first {first}: the sequential model (cart per step) does not condition on first events" in line
    table = tmp_path / "cart.mirage"
    assert invoke("fit", FMRI, "--engine", "cart", "-o", table).exit_code == 0
    line = error_line(invoke("sample", table, "--first", first, "-o", tmp_path / "o.csv"))
    assert "--first goes with a sequence model fitted with --engine argn" in line


def test_first_rows_meet_the_context_rows_by_entity_key(tmp_path: Path) -> None:
    events, customers = make_transactions(30, days=14, seed=2)
    events.to_csv(tmp_path / "events.csv", index=False)
    customers.to_csv(tmp_path / "customers.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _fit(
            tmp_path / "events.csv",
            "customer_id",
            "timestamp",
            tmp_path,
            "--context",
            str(tmp_path / "customers.csv"),
            "--engine",
            "argn",
            "-p",
            "max_epochs=1",
        )
    given = customers.head(6)
    given.to_csv(tmp_path / "given.csv", index=False)
    kinds = sorted(events["kind"].unique())
    # the first rows in the reverse order of the context's, each customer's first kind named
    first = pd.DataFrame(
        {"customer_id": given["customer_id"][::-1], "kind": [kinds[i % 2] for i in range(6)]}
    )
    first.to_csv(tmp_path / "first.csv", index=False)
    out = tmp_path / "out.csv"
    result = invoke(
        "sample", model, "--context", tmp_path / "given.csv", "--first", tmp_path / "first.csv", "-o", out
    )
    assert result.exit_code == 0, result.output
    drawn = pd.read_csv(out).groupby("customer_id", sort=False)["kind"].first()
    assert drawn.to_dict() == dict(zip(first["customer_id"], first["kind"], strict=True))
    first.head(5).to_csv(tmp_path / "short.csv", index=False)
    line = error_line(
        invoke(
            "sample",
            model,
            "--context",
            tmp_path / "given.csv",
            "--first",
            tmp_path / "short.csv",
            "-o",
            tmp_path / "o.csv",
        )
    )
    assert f"--first {tmp_path / 'short.csv'}: no row for customer_id" in line and "of the context" in line
