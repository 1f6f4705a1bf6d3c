"""The app as a whole: help, version, global options and how errors become exit codes."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import mirage
from mirage.cli import COMMANDS, main
from mirage.errors import ModelFileError
from tests.cli.helpers import error_line, invoke

COMMAND_NAMES = ["schema", "fit", "sample", "impute", "report", "info", "demo"]


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

    monkeypatch.setattr("mirage.cli.info.read_manifest", boom)


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
