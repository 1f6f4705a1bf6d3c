"""Running the ``mirage`` app in-process and reading what it printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from mirage.cli import app
from mirage.model_file import read_manifest


def invoke(*args: Any) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def error_line(result: Result) -> str:
    """The one line a failed command printed on stderr (asserting it is exactly one)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return lines[0]


def manifest(path: Path) -> dict[str, Any]:
    return read_manifest(path)


def read_json(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))
