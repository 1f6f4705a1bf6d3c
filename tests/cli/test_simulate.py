"""``mirage simulate patients``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mirage.io import read_folder
from mirage.simulate import patients_database, simulate_patients
from tests.cli.helpers import error_line, invoke

MODULES = Path(__file__).resolve().parents[1] / "simulate" / "modules"


def test_simulate_patients_writes_synthea_tables_to_a_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "patients_out"
    args = ["simulate", "patients", "--modules", MODULES, "--population", 40, "--years", 20, "--seed", 7]
    result = invoke(*args, "-o", out)
    assert result.exit_code == 0, result.output
    assert "40 patients" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "careplans.csv",
        "conditions.csv",
        "encounters.csv",
        "medications.csv",
        "observations.csv",
        "patients.csv",
        "procedures.csv",
    ]
    expected = simulate_patients(MODULES, 40, years=20, seed=7)
    written = {name: pd.read_csv(out / f"{name}.csv", dtype=str) for name in expected}
    for name, frame in expected.items():
        assert list(written[name].columns) == list(frame.columns)
        assert len(written[name]) == len(frame), name
        assert written[name]["PATIENT" if name != "patients" else "Id"].tolist() == (
            frame["PATIENT" if name != "patients" else "Id"].tolist()
        )
    database = patients_database()
    assert database.integrity_problems(read_folder(out)) == []

    again = invoke(*args, "-o", out)
    assert again.exit_code == 2
    assert "--force" in error_line(again)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    spread = invoke(*args, "-o", out, "--force", "--workers", 2)  # blocks in two processes: same files
    assert spread.exit_code == 0, spread.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    forced = invoke(*args[:-2], "--seed", 8, "-o", out, "--force")
    assert forced.exit_code == 0, forced.output
    assert pd.read_csv(out / "patients.csv")["Id"].tolist() != written["patients"]["Id"].tolist()
    assert not list(tmp_path.glob(".*tmp"))


def test_simulate_patients_parquet_and_a_random_seed_it_tells(tmp_path: Path) -> None:
    out = tmp_path / "pq"
    result = invoke("simulate", "patients", "-m", MODULES / "..", "-p", 5, "-o", out)
    assert result.exit_code == 2  # the folder above holds no module
    assert "holds no" in error_line(result)
    result = invoke("simulate", "patients", "-m", MODULES, "-p", 5, "-o", out, "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert "--seed" in result.stderr
    assert len(pd.read_parquet(out / "patients.parquet")) == 5


def test_simulate_patients_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    base = ["simulate", "patients", "-m", MODULES, "-o", tmp_path / "x"]
    assert "no such folder" in error_line(
        invoke("simulate", "patients", "-m", tmp_path / "nope", "-o", tmp_path / "x")
    )
    assert "--years" in error_line(invoke(*base, "--years", 0))
    assert "locale" in error_line(invoke(*base, "--locale", "xx_NOPE", "-p", 2))
    assert "does not exist" in error_line(
        invoke("simulate", "patients", "-m", MODULES, "-o", tmp_path / "a" / "b")
    )
    assert invoke(*base, "-p", 0).exit_code == 2
    assert not (tmp_path / "x").exists()
