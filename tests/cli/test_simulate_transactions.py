"""``mirage simulate transactions``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mirage.io import read_folder
from mirage.simulate import simulate_transactions, transactions_database
from tests.cli.helpers import error_line, invoke


def test_simulate_transactions_writes_a_parquet_file_with_its_tables_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "tx.parquet"
    args = ["simulate", "transactions", "--customers", 600, "--days", 20, "--fraud-rate", 0.01, "--seed", 7]
    result = invoke(*args, "-o", out)
    assert result.exit_code == 0, result.output
    assert "transactions/s" in result.stdout and "600 customers" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tx.customers.parquet",
        "tx.merchants.parquet",
        "tx.parquet",
    ]
    expected = simulate_transactions(600, 20, seed=7, fraud_rate=0.01)
    written = {
        "transactions": pd.read_parquet(out),
        "customers": pd.read_parquet(tmp_path / "tx.customers.parquet"),
        "merchants": pd.read_parquet(tmp_path / "tx.merchants.parquet"),
    }
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(written[name], frame, check_dtype=False, check_categorical=False)
    assert transactions_database().integrity_problems(written) == []

    again = invoke(*args, "-o", out)
    assert again.exit_code == 2
    assert "--force" in error_line(again)
    first = out.read_bytes()
    spread = invoke(*args, "-o", out, "--force", "--workers", 2)  # blocks in two processes: same file
    assert spread.exit_code == 0, spread.output
    assert out.read_bytes() == first


def test_simulate_transactions_to_a_folder_with_a_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "recession.yaml"
    scenario.write_text("from: 2025-01-15\nspend: 0.5\nfraud_mix: {card_testing: 1}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = invoke(
        "simulate", "transactions", "-n", 400, "--days", 30, "--seed", 1, "--fraud-rate", 0.01,
        "--scenario", scenario, "--format", "csv", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    tables = read_folder(out)
    assert sorted(tables) == ["customers", "merchants", "transactions"]
    tx = tables["transactions"]
    late = pd.to_datetime(tx["time"]) >= pd.Timestamp("2025-01-15")
    assert set(tx.loc[late & (tx["is_fraud"].astype(str) == "True"), "fraud_pattern"]) == {"card_testing"}


def test_bad_options_name_themselves(tmp_path: Path) -> None:
    out = tmp_path / "tx.parquet"
    mix = invoke("simulate", "transactions", "-n", 10, "--fraud-mix", "card_testing", "-o", out)
    assert mix.exit_code == 2 and "--fraud-mix" in error_line(mix)
    unknown = invoke("simulate", "transactions", "-n", 10, "--fraud-mix", "phishing=1", "-o", out)
    assert unknown.exit_code == 2 and "phishing" in error_line(unknown)
    missing = invoke("simulate", "transactions", "-n", 10, "--scenario", tmp_path / "none.yaml", "-o", out)
    assert missing.exit_code == 2 and "none.yaml" in error_line(missing)
    rate = invoke("simulate", "transactions", "-n", 10, "--fraud-rate", 0.9, "-o", out)
    assert rate.exit_code == 2 and "--fraud-rate" in error_line(rate)
    nowhere = invoke("simulate", "transactions", "-n", 10, "-o", tmp_path / "no" / "tx.parquet")
    assert nowhere.exit_code == 2 and "does not exist" in error_line(nowhere)
    assert not out.exists()
