"""PyTorch is an optional extra; the README's set-up commands and CI install it, and say the same."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mirage.engines._registry import NEURAL

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict[str, Any]:
    tomllib = pytest.importorskip("tomllib")
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")))


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_torch_is_only_in_the_neural_extra() -> None:
    project = _pyproject()["project"]
    assert "torch" not in _names(project["dependencies"])
    assert "torch" in _names(project["optional-dependencies"][NEURAL.extra])
    assert NEURAL.install == f'pip install "mirage-synth[{NEURAL.extra}]"'


def _set_up_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Set up", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("&&")[0].strip() for line in block.strip().splitlines()]


def test_readme_set_up_installs_the_extra_with_torch_pinned() -> None:
    demo, tests = _set_up_commands()
    for command in (demo, tests):
        assert "torch==2.13.0" in command and f".[{NEURAL.extra}" in command
    assert "dev" in tests


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = _set_up_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"{tests} && scripts/check" in ci
