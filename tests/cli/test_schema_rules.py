"""``mirage schema --suggest-rules`` and rules through ``mirage fit --schema`` and ``mirage sample``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from mirage.control import AllowedCombinations, Inequality, suggest_rules
from mirage.schema import Schema, infer_schema
from tests.cli.helpers import error_line, invoke, read_json

ORDERS = Path(__file__).resolve().parents[1] / "fixtures" / "northwind" / "orders.csv"


def test_suggest_rules_finds_the_known_rules_of_northwind_orders() -> None:
    orders = pd.read_csv(ORDERS)
    rules = suggest_rules(orders, infer_schema(orders))
    assert Inequality("shipped_date", ">=", "order_date") in rules
    assert Inequality("required_date", ">=", "order_date") in rules
    assert AllowedCombinations(["ship_city", "ship_country"]) in rules
    for rule in rules:  # each holds on 100% of the rows
        assert not rule.violations(orders, infer_schema(orders)).any(), rule.describe()
    # a link implied by a chain (postal code -> city -> country) is not proposed again
    assert AllowedCombinations(["ship_postal_code", "ship_country"]) not in rules


def test_suggest_rules_finds_sums_and_leaves_unrelated_columns_alone() -> None:
    frame = pd.DataFrame(
        {"fare": [float(i % 17) + 0.25 for i in range(60)], "tip": [float(i % 5) for i in range(60)]}
    )
    frame["tolls"] = [2.5 if i % 3 else 0.0 for i in range(60)]
    frame["total"] = frame["fare"] + frame["tip"] + frame["tolls"]
    frame["noise"] = [(i * 7919) % 101 for i in range(60)]
    rules = suggest_rules(frame, infer_schema(frame))
    described = [rule.describe() for rule in rules]
    assert "total = fare + tip + tolls" in described
    assert not [d for d in described if "noise" in d]


def test_the_cli_writes_suggested_rules_then_fit_and_sample_obey_the_accepted_ones(tmp_path: Path) -> None:
    data = tmp_path / "orders.csv"
    shutil.copy(ORDERS, data)
    schema_path = tmp_path / "schema.json"
    result = invoke("schema", data, "--suggest-rules", "-o", schema_path)
    assert result.exit_code == 0, result.output
    assert "suggested rules" in result.stdout and "shipped_date >= order_date" in result.stdout
    written = read_json(schema_path)
    assert "rules" not in written  # suggestions are not enforced until accepted
    suggested = written["suggested_rules"]
    wanted = {"rule": "inequality", "left": "shipped_date", "op": ">=", "right": "order_date"}
    assert wanted in suggested

    written["rules"] = [r for r in suggested if r["rule"] == "inequality"]
    schema_path.write_text(json.dumps(written), encoding="utf-8")
    model = tmp_path / "model.mirage"
    fitted = invoke("fit", data, "--schema", schema_path, "--engine", "cart", "-o", model)
    assert fitted.exit_code == 0, fitted.output
    out = tmp_path / "synthetic.csv"
    sampled = invoke("sample", model, "-n", 500, "--seed", 1, "-o", out)
    assert sampled.exit_code == 0, sampled.output
    rows = pd.read_csv(out)
    info = invoke("info", model)
    assert info.exit_code == 0, info.output
    assert "shipped_date >= order_date" in " ".join(info.stdout.split())
    schema = Schema.load(schema_path)
    for rule in schema.rules:
        assert not rule.violations(rows, schema).any(), rule.describe()


def test_a_bad_rule_in_the_schema_file_is_one_error_line(tmp_path: Path) -> None:
    data = tmp_path / "orders.csv"
    shutil.copy(ORDERS, data)
    schema = infer_schema(pd.read_csv(ORDERS)).to_dict()
    schema["rules"] = [{"rule": "inequality", "left": "shiped_date", "op": ">=", "right": "order_date"}]
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    result = invoke("fit", data, "--schema", path, "--engine", "cart", "-o", tmp_path / "m.mirage")
    assert result.exit_code == 2
    line = error_line(result)
    assert "rules[0]" in line and "no column 'shiped_date'" in line


def test_suggest_rules_refuses_a_folder(tmp_path: Path) -> None:
    shutil.copy(ORDERS, tmp_path / "orders.csv")
    result = invoke("schema", tmp_path, "--suggest-rules")
    assert result.exit_code == 2
    assert "--suggest-rules works on one table" in error_line(result)
