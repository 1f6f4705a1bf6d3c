"""The shipped example specs (shop, bank, clinic): they generate, every key valid, every rule held."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mirage.spec import EXAMPLES, example_path, generate, load_spec
from tests.cli.helpers import invoke

REPO = Path(__file__).resolve().parents[2]
TABLES = {
    "shop": ["customers", "products", "orders", "order_lines"],
    "bank": ["customers", "accounts", "card_transactions"],
    "clinic": ["patients", "visits", "diagnoses"],
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_generates_with_valid_keys_and_rules(name: str) -> None:
    spec = load_spec(example_path(name))
    frames = generate(spec, seed=7)
    assert isinstance(frames, dict) and sorted(frames) == sorted(TABLES[name])
    assert spec.database.integrity_problems(frames) == []
    for table in spec.tables.values():
        frame = frames[table.name]
        assert len(frame) > 0
        for rule in table.schema.rules:
            assert not rule.violations(frame, table.schema).any(), f"{name}.{table.name}: {rule.describe()}"


def test_examples_are_package_data() -> None:
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["mirage"]
    assert "spec/examples/*.spec.yaml" in globs and "spec/spec.schema.json" in globs
    for name in EXAMPLES:
        assert example_path(name).is_file()


def test_example_by_name_from_the_cli(tmp_path: Path) -> None:
    result = invoke("generate", "clinic", "-o", tmp_path / "clinic", "--seed", 7, "--format", "parquet")
    assert result.exit_code == 0, result.output
    patients = pd.read_parquet(tmp_path / "clinic" / "patients.parquet")
    visits = pd.read_parquet(tmp_path / "clinic" / "visits.parquet")
    assert visits["patient_id"].isin(patients["patient_id"]).all()
    bmi = patients["weight_kg"] * 10000 / patients["height_cm"] ** 2
    assert (bmi - patients["bmi"]).abs().max() < 1e-9
