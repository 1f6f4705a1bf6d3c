"""Library errors speak of arguments, never of CLI flags; the CLI shows them with its flags."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import mirage
from mirage._manifest import refuse_edits
from mirage.cli._wording import cli_message
from mirage.errors import MirageError
from mirage.evaluation import evaluate, recover_split
from mirage.io import write_table
from tests.cli.helpers import error_line, invoke

FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _raise_messages(path: Path) -> list[tuple[int, str]]:
    """The text of every string in a ``raise`` statement of a module, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for part in ast.walk(node.exc):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found.append((part.lineno, part.value))
    return found


def test_library_errors_name_no_cli_flag() -> None:
    root = Path(mirage.__file__).parent
    flagged = [
        f"{path.relative_to(root)}:{line}: {text!r}"
        for path in sorted(root.rglob("*.py"))
        if path.relative_to(root).parts[0] != "cli"
        for line, text in _raise_messages(path)
        if FLAG.search(text)
    ]
    assert not flagged, "\n".join(flagged)


def _message(call: Callable[[], object]) -> str:
    with pytest.raises(MirageError) as info:
        call()
    message = str(info.value)
    assert not FLAG.search(message), message
    return message


def test_the_cli_rewords_each_library_error_with_its_flag(adult: pd.DataFrame, tmp_path: Path) -> None:
    small = adult.head(50)
    existing = tmp_path / "out.csv"
    existing.write_text("a\n1\n", encoding="utf-8")

    message = _message(lambda: write_table(small, existing))
    assert message.endswith("already exists; pass force=True to overwrite it")
    assert cli_message(message) == f"output file '{existing}' already exists; pass --force to overwrite it"

    message = _message(lambda: evaluate(small, small, holdout=small, target="nope"))
    assert message.startswith("target 'nope' is not a column (columns: age, ")
    assert cli_message(message).startswith("--target 'nope' is not a column (columns: age, ")

    message = _message(lambda: evaluate(small, small, target="income"))
    assert "target='income'" in message
    assert cli_message(message) == "utility (--target) needs a holdout: real rows the model never saw"

    message = _message(lambda: recover_split({}))
    assert "holdout=0.2" in message
    assert (
        cli_message(message)
        == "the model was fitted without --holdout; give the real and holdout data instead"
    )

    message = _message(lambda: refuse_edits({"hyperparameters.depth"}, {"depth"}))
    assert "mirage.fit(..., depth=VALUE)" in message
    assert cli_message(message).endswith("refit the model (mirage fit ... --param depth=VALUE)")


def test_report_says_target_and_holdout_with_their_flags(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = invoke("-q", "report", data_csv, data_csv, "-o", out, "--target", "income")
    assert result.exit_code == 2
    assert error_line(result) == "error: utility (--target) needs a holdout: real rows the model never saw"
    result = invoke("-q", "report", data_csv, data_csv, "--holdout", data_csv, "-o", out, "--target", "nope")
    assert result.exit_code == 2
    assert error_line(result).startswith("error: --target 'nope' is not a column (columns: age, ")
