"""Running the ``mirage`` app in-process and reading what it printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


REPO = Path(__file__).resolve().parents[2]

# Makes ``import torch`` fail as on a machine without PyTorch, and records every attempt.
BLOCK_TORCH = """
import importlib.abc, sys
TORCH_IMPORTS = []
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            TORCH_IMPORTS.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoTorch())
"""


def python(code: str, *, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that imports this checkout's ``mirage``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


def mirage_in_subprocess(
    *args: Any, prelude: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The ``mirage`` command in a fresh interpreter, after ``prelude`` (e.g. ``BLOCK_TORCH``)."""
    argv = ["mirage", *map(str, args)]
    return python(
        f"{prelude}\nimport sys\nsys.argv = {argv!r}\nfrom mirage.cli import main\nmain()\n", cwd=cwd
    )
