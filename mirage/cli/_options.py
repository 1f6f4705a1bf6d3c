"""Checks and parsers of option values shared by the commands; each fails before any work is done."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.text import Text

from mirage.cli._ui import UI
from mirage.errors import DataError, OptionError, OutputExistsError

if TYPE_CHECKING:
    import pandas as pd

    from mirage.engines import Synthesizer

__all__ = [
    "check_hyperparameters",
    "check_output",
    "check_output_folder",
    "engine_named",
    "exit_on_failed_gates",
    "parse_named_gates",
    "parse_params",
    "resolve_engine",
    "say_auto_pick",
    "positive_row_count",
    "read_options",
    "row_count",
]

_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+")
_STRAY_UNDERSCORE = re.compile(r"(?<!\d)_|_(?!\d)")
MAX_ROWS = 10**18


def row_count(text: str) -> int:
    """A number of rows as people write it: ``1000000``, ``1_000_000``, ``1,000,000`` or ``1e6``."""
    raw = text.strip()
    if _THOUSANDS.fullmatch(raw):
        raw = raw.replace(",", "")
    try:
        value = Decimal(raw)  # also reads 1_000_000 (PEP 515) and 1e6, exactly
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or _STRAY_UNDERSCORE.search(raw):
        raise typer.BadParameter(f"{text!r} is not a number of rows (e.g. 1000, 1_000_000, 1e6)")
    if value != value.to_integral_value():
        raise typer.BadParameter(f"{text!r} is not a whole number of rows")
    if value < 0:
        raise typer.BadParameter(f"{text!r} is negative")
    if value > MAX_ROWS:
        raise typer.BadParameter(f"{text!r} is more rows than anyone can store (at most 1e18)")
    return int(value)


def positive_row_count(text: str) -> int:
    count = row_count(text)
    if count < 1:
        raise typer.BadParameter(f"{text!r}: at least 1 row")
    return count


def check_output_folder(path: Path) -> None:
    """Refuse to write into a folder that does not exist (a typo must not create a folder tree)."""
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"cannot write '{path}': folder '{folder}' {what}; create it first")


def check_output(path: Path, force: bool) -> None:
    """Fail before any work is done if ``path`` cannot be written: its folder is missing, it is a folder,
    or it exists and ``--force`` is not given."""
    check_output_folder(path)
    if path.is_dir():
        raise OutputExistsError(f"output path '{path}' is a directory; give a file path")
    if path.exists() and not force:
        raise OutputExistsError(f"output file '{path}' already exists; pass --force to overwrite it")


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value is read as JSON when it parses (``3``, ``0.5``, ``null``, ``true``),
    and Python's ``None`` as ``null`` (a hyperparameter's "None: chosen ..." reads as typed)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise OptionError(f"--param expects key=value, got {item!r}")
        try:
            params[key] = None if raw.strip() in ("None", "none") else json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def read_options(on_bad_lines: str, encoding: str | None) -> dict[str, str]:
    """The reading options a command passes on: only those the user set, so other formats accept them."""
    if on_bad_lines not in ("error", "skip"):
        raise OptionError(f"--on-bad-lines must be 'error' or 'skip', got {on_bad_lines!r}")
    options = {"on_bad_lines": on_bad_lines} if on_bad_lines != "error" else {}
    if encoding is not None:
        options["encoding"] = encoding
    return options


def check_hyperparameters(engine: type[Synthesizer], params: dict[str, Any]) -> None:
    """``--param`` names an engine's hyperparameter or an encoding option (``rare_min_count``)."""
    from mirage.engines._base import ENCODING_OPTIONS

    valid = engine._param_names() + [name for name in ENCODING_OPTIONS if name not in engine._param_names()]
    for key in params:
        if key not in valid:
            raise OptionError(
                f"--param {key}: engine {engine.name!r} has no hyperparameter {key!r} "
                f"(valid: {', '.join(valid)})"
            )


def engine_named(name: str) -> type[Synthesizer]:
    """The engine class for ``--engine NAME``, ready to fit (its optional dependency checked)."""
    from mirage.engines import get_engine

    try:
        return get_engine(name)
    except OptionError as exc:
        raise OptionError(f"--engine: {exc}") from None


def resolve_engine(name: str, data: pd.DataFrame, params: dict[str, Any]) -> str:
    """The engine name to fit with: ``--engine NAME`` checked against ``params``, or ``auto`` with every
    engine it may fit on ``data`` checked (which one it kept is said after the fit: :func:`say_auto_pick`)."""
    from mirage.engines import choose_engine

    if name != "auto":
        check_hyperparameters(engine_named(name), params)
        return name
    candidates = choose_engine(data).candidates
    for candidate in candidates:
        try:
            check_hyperparameters(engine_named(candidate), params)
        except OptionError as exc:
            fitted = " and ".join(candidates)
            raise OptionError(f"{exc} (--engine auto fits {fitted} here; name one with --engine)") from None
    return name


def say_auto_pick(model: Synthesizer, ui: UI) -> None:
    """Tell the user which engine ``--engine auto`` fitted and why."""
    picked = model.training_.get("auto")
    if picked is not None:
        ui.note(Text.assemble("engine ", (model.name, "bold"), f", picked by auto: {picked['reason']}"))


def parse_named_gates(
    items: list[str], option: str, *, check_name: Callable[[str], None], example: str
) -> dict[str, float]:
    """``NAME=VALUE`` gates of a report; ``check_name`` raises ``OptionError`` for a name it does not know."""
    gates: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise OptionError(f"{option} {item!r}: expected NAME=VALUE, e.g. {example}")
        try:
            check_name(name)
        except OptionError as exc:
            raise OptionError(f"{option} {item!r}: {exc}") from None
        try:
            gates[name] = float(value)
        except ValueError:
            raise OptionError(f"{option} {item!r}: {value!r} is not a number") from None
    return gates


def exit_on_failed_gates(ui: UI, failures: list[str]) -> None:
    """Each failed gate in red on standard error, then exit status 1 if there was one."""
    for line in failures:
        ui.err.print(Text(f"gate failed: {line}", style="red"))
    if failures:
        raise typer.Exit(1)
