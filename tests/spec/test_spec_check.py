"""``check_spec`` / ``mirage report SPEC DATA``: data checked against what its spec declares."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.spec import EXAMPLES, check_spec, example_path, generate, load_spec
from tests.cli.helpers import invoke


@pytest.fixture(scope="module")
def shop() -> dict[str, pd.DataFrame]:
    frames = generate(load_spec(example_path("shop")), seed=7)
    assert isinstance(frames, dict)
    return frames


@pytest.mark.parametrize("name", EXAMPLES)
def test_shipped_examples_pass_their_own_report(name: str) -> None:
    spec = load_spec(example_path(name))
    report = check_spec(spec, generate(spec, seed=3))
    assert report.passed, [c for c in report.failures]
    kinds = {c.kind for c in report.checks}
    assert {"marginal", "nulls", "rule", "keys", "children"} <= kinds
    marginals = [c for c in report.checks if c.kind == "marginal"]
    assert all(c.n > 0 and c.test in ("Kolmogorov-Smirnov", "chi-square") for c in marginals)
    assert report.per_check_alpha == pytest.approx(0.01 / sum(c.p_value is not None for c in report.checks))


def _wrong(shop: dict[str, pd.DataFrame], table: str, column: str, values: object) -> dict[str, pd.DataFrame]:
    frames = {name: frame.copy() for name, frame in shop.items()}
    frames[table][column] = values
    return frames


def test_a_deliberately_wrong_dataset_fails_and_names_the_check(shop: dict[str, pd.DataFrame]) -> None:
    spec = load_spec(example_path("shop"))
    rng = np.random.default_rng(0)
    customers, lines = shop["customers"], shop["order_lines"]
    cases = {
        ("marginal", "customers", "age"): _wrong(shop, "customers", "age", customers["age"] + 4),
        ("marginal", "orders", "channel"): _wrong(shop, "orders", "channel", "web"),
        ("correlation", "customers", "age ~ yearly_spend"): _wrong(
            shop, "customers", "yearly_spend", rng.permutation(customers["yearly_spend"].to_numpy())
        ),
        ("nulls", "products", "price nulls"): _wrong(
            shop, "products", "price", shop["products"]["price"].mask(shop["products"].index % 7 == 0)
        ),
        ("rule", "order_lines", "line_total = quantity * unit_price"): _wrong(
            shop, "order_lines", "line_total", lines["line_total"] + 1
        ),
        ("keys", "", "primary and foreign keys"): _wrong(shop, "orders", "customer_id", "C-999999"),
        ("children", "orders", "rows per customers row"): {
            **shop,
            "orders": shop["orders"].assign(customer_id=customers["customer_id"].iloc[0]),
        },
    }
    for (kind, table, subject), frames in cases.items():
        report = check_spec(spec, frames)
        assert not report.passed, subject
        assert any((c.kind, c.table, c.subject) == (kind, table, subject) for c in report.failures), [
            (c.kind, c.table, c.subject) for c in report.failures
        ]


def test_undeclared_category_fails_with_its_value(shop: dict[str, pd.DataFrame]) -> None:
    frames = _wrong(shop, "products", "category", shop["products"]["category"].replace("toys", "games"))
    failure = next(
        c for c in check_spec(load_spec(example_path("shop")), frames).failures if c.subject == "category"
    )
    assert "value 'games' is not declared" in failure.detail


def test_report_command_on_a_folder_and_a_database(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    assert invoke("generate", "clinic", "-o", folder, "--seed", 7).exit_code == 0
    result = invoke("report", example_path("clinic"), folder, "-o", tmp_path / "checks.json")
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout and "Kolmogorov-Smirnov" in result.stdout
    saved = json.loads((tmp_path / "checks.json").read_text(encoding="utf-8"))
    assert saved["passed"] is True and saved["alpha"] == 0.01 and saved["checks"]
    db = f"sqlite:///{tmp_path / 'clinic.db'}"
    assert invoke("generate", "clinic", "-o", db, "--seed", 7).exit_code == 0
    assert invoke("report", "clinic", db).exit_code == 0


def test_report_command_exits_1_on_data_that_breaks_the_spec(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    assert invoke("generate", "clinic", "-o", folder, "--seed", 7).exit_code == 0
    visits = pd.read_csv(folder / "visits.csv")
    visits["cost"] = visits["cost"] * 2
    visits.to_csv(folder / "visits.csv", index=False)
    result = invoke("report", "clinic", folder)
    assert result.exit_code == 1
    assert "FAILED" in result.stdout and "cost = 50 + duration_minutes * 1.2" in result.stdout
    assert (
        "the checks of a spec are JSON"
        in invoke("report", "clinic", folder, "-o", tmp_path / "r.html").stderr
    )
