"""The app as a whole: help, version, global options and how errors become exit codes."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import mirage
from mirage.cli import COMMANDS, main
from mirage.errors import ModelFileError
from tests.cli.helpers import error_line, invoke, python

COMMAND_NAMES = [
    "schema",
    "fit",
    "sample",
    "augment",
    "impute",
    "report",
    "info",
    "budget",
    "demo",
    "simulate",
]


def test_help_lists_every_command_with_a_description() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in COMMAND_NAMES:
        assert name in result.stdout
    assert "--quiet" in result.stdout and "--debug" in result.stdout and "--version" in result.stdout


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_help_of_each_command(name: str) -> None:
    result = invoke(name, "--help")
    assert result.exit_code == 0, result.output
    assert f"mirage {name}" in result.stdout or "Usage" in result.stdout
    assert "--help" in result.stdout


def test_every_listed_command_is_registered() -> None:
    assert set(COMMAND_NAMES) <= set(COMMANDS)
    assert all(callable(importlib.import_module(f"mirage.cli.{name}").register) for name in COMMANDS)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mirage {mirage.__version__}"


def test_no_command_shows_help() -> None:
    result = invoke()
    assert "Usage" in result.output
    assert result.exit_code == 2


def test_usage_errors_exit_2() -> None:
    assert invoke("fit", "data.csv", "-o", "m.mirage", "--no-such-option").exit_code == 2
    assert invoke("fit").exit_code == 2
    assert invoke("no-such-command").exit_code == 2
    assert invoke("sample", "m.mirage", "-n", "-5").exit_code == 2


def _raise_in_info(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def boom(path: Path) -> None:
        raise exc

    monkeypatch.setattr("mirage.model_file.read_manifest", boom)


def test_mirage_error_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    _raise_in_info(monkeypatch, ModelFileError("m.mirage: member 'x' fails its SHA-256 check"))
    result = invoke("info", "m.mirage")
    assert result.exit_code == 2
    assert error_line(result) == "error: m.mirage: member 'x' fails its SHA-256 check"
    assert result.stdout == ""


def test_unexpected_error_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _raise_in_info(monkeypatch, RuntimeError("kaput"))
    result = invoke("info", "m.mirage")
    assert result.exit_code == 1
    line = error_line(result)
    assert "RuntimeError: kaput" in line
    assert "run with --debug for the traceback" in line


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    _raise_in_info(monkeypatch, RuntimeError("kaput"))
    result = invoke("--debug", "info", "m.mirage")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "error: unexpected RuntimeError: kaput"


def test_debug_traceback_for_mirage_errors_too(monkeypatch: pytest.MonkeyPatch) -> None:
    _raise_in_info(monkeypatch, ModelFileError("bad model"))
    result = invoke("--debug", "info", "m.mirage")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "ModelFileError" in result.stderr


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    _raise_in_info(monkeypatch, KeyboardInterrupt())
    result = invoke("info", "m.mirage")
    assert result.exit_code == 130


def test_main_maps_errors_to_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.mirage"
    monkeypatch.setattr(sys, "argv", ["mirage", "info", str(missing)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "missing.mirage" in err and "\n" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_before_or_after_the_command(
    where: str, monkeypatch: pytest.MonkeyPatch, data_csv: Path, tmp_path: Path
) -> None:
    def place(option: str, *command: object) -> list[object]:
        return [option, *command] if where == "before" else [*command, option]

    quiet = invoke(*place("-q", "fit", data_csv, "-o", tmp_path / "m.mirage", "--engine", "copula"))
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == "" and quiet.stderr == ""
    _raise_in_info(monkeypatch, RuntimeError("kaput"))
    debug = invoke(*place("--debug", "info", "m.mirage"))
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["fit", "d.csv", "-o", "m.mirage", "--no-such-option"], "No such option: --no-such-option"),
        (["fit", "-o", "m.mirage"], "Missing argument"),
        (["fit", "d.csv"], "Missing option '--output'"),
        (["no-such-command"], "No such command 'no-such-command'"),
        (["sample", "m.mirage", "-n", "-5"], "'-5' is negative"),
        (["sample", "m.mirage", "-n", "1.5"], "'1.5' is not a whole number of rows"),
        (["fit", "d.csv", "-o", "m.mirage", "--seed", "x"], "Invalid value for '--seed'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    line = error_line(result)
    assert expected in line
    assert line.endswith("--help')")
    assert result.stdout == ""


def test_usage_errors_through_the_entry_point(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["mirage", "sample", "m.mirage", "--rows"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip() == "error: Option '--rows' requires an argument"


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["fit", "--help"], []])
def test_start_up_imports_no_heavy_library(args: list[str]) -> None:
    heavy = ["pandas", "numpy", "sklearn", "scipy", "torch", "plotly", "pyarrow"]
    code = f"""
import sys
sys.argv = ["mirage", *{args!r}]
from mirage.cli import main
try:
    main()
except SystemExit:
    pass
print(sorted(name for name in {heavy!r} if name in sys.modules))
"""
    result = python(code)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.strip().splitlines()[-1]
    if args == ["fit", "--help"]:  # lists each engine's hyperparameters: imports the engines, not torch
        assert "torch" not in loaded and "pandas" in loaded
    else:
        assert loaded == "[]", result.stdout
