"""Tables never split a word across lines, whatever the terminal's width."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from rich.table import Table

from mirage.cli._tables import print_table
from tests.cli.helpers import invoke, manifest


def _printed(table: Table, width: int) -> str:
    out = io.StringIO()
    print_table(Console(file=out, width=width, highlight=False, markup=False), table)
    return out.getvalue()


def _words(rng: np.random.Generator, n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choice(list(letters), rng.integers(1, 16))) for _ in range(n))


@pytest.mark.parametrize("width", [20, 35, 50, 64, 80, 100, 140])
def test_every_word_whole_at_any_width(width: int) -> None:
    rng = np.random.default_rng(width)
    table = Table(title="t")
    for header in ("name", "kind", "details", "more details"):
        table.add_column(header)
    cells = [[_words(rng, int(rng.integers(1, 6))) for _ in range(4)] for _ in range(12)]
    for row in cells:
        table.add_row(*row)
    text = _printed(table, width)
    assert max(map(len, text.splitlines())) <= width
    tokens = set(text.replace("│", " ").replace("┃", " ").split())
    missing = {word for row in cells for value in row for word in value.split()} - tokens
    assert missing == set(), f"split at width {width}: {sorted(missing)}"


def test_a_table_that_fits_is_printed_as_a_table() -> None:
    table = Table()
    table.add_column("a")
    table.add_column("b")
    table.add_row("one two three", "four")
    assert "┃ a" in _printed(table, 80)
    narrow = _printed(table, 12)  # the words no longer fit side by side: one record per row
    assert "a: one two three" in " ".join(narrow.split())
    assert "b: four" in narrow


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_info_keeps_names_kinds_and_details_whole(
    model_path: Path, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    result = invoke("info", model_path)
    assert result.exit_code == 0, result.output
    assert max(map(len, result.stdout.splitlines())) <= width
    tokens = set(result.stdout.replace("│", " ").split())
    for column in manifest(model_path)["schema"]["columns"]:
        assert column["name"] in tokens and column["kind"] in tokens, (width, column)
