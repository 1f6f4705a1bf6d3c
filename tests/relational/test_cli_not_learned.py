"""``mirage fit`` and ``mirage info`` say which columns of a database are not learned one by one: the
references to a table the database lacks (regenerated) and a column group (learned as one entity)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner, Result

from mirage.cli import app
from tests.relational.test_column_groups import _database, _orders


def _invoke(*args: object) -> Result:
    """The command's output on a terminal wide enough that no cell wraps."""
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def _rows(output: str) -> list[str]:
    """The body rows of the 'columns not learned one by one' table, cells joined by ' | '."""
    rows = []
    for line in output.split("columns not learned one by one", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 3 and cells[0] != "table":
            rows.append(" | ".join(cells))
        elif line.strip().startswith("└"):
            break
    return rows


def test_fit_and_info_show_hidden_references_and_the_column_group(tmp_path: Path) -> None:
    frames = _orders()
    orders = frames["orders"]
    orders["warehouse_id"] = 1 + np.arange(len(orders)) % 4  # names a warehouses table the data lacks
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in frames.items():
        frame.to_csv(data / f"{name}.csv", index=False)
    schema = tmp_path / "shop.schema.json"
    schema.write_text(json.dumps(_database(frames).to_dict()), encoding="utf-8")
    model = tmp_path / "shop.mirage"
    fitted = _invoke("fit", data, "--schema", schema, "-o", model)
    assert fitted.exit_code == 0, fitted.output
    info = _invoke("info", model)
    assert info.exit_code == 0, info.output
    expected = [
        "orders | warehouse_id | hidden reference: regenerated, not learned (4 values in the data; it "
        "names a table the database lacks)",
        "orders | ship_name, ship_city, ship_country | column group, learned as one hidden entity "
        "(decided by ship_name)",
    ]
    for output in (fitted.stdout, info.stdout):
        assert "columns not learned one by one" in output
        assert _rows(output) == expected
