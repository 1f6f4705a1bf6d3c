"""The specs shipped with Mirage (``mirage/spec/examples``): a shop, a bank and a clinic."""

from __future__ import annotations

from pathlib import Path

from mirage.errors import DataError

__all__ = ["EXAMPLES", "example_path", "resolve_spec_path"]

EXAMPLES_FOLDER = Path(__file__).resolve().parent / "examples"
EXAMPLES = ("shop", "bank", "clinic")


def example_path(name: str) -> Path:
    """The file of a shipped example spec (``shop``, ``bank`` or ``clinic``)."""
    if name not in EXAMPLES:
        raise DataError(f"no example spec {name!r} (examples: {', '.join(EXAMPLES)})")
    return EXAMPLES_FOLDER / f"{name}.spec.yaml"


def resolve_spec_path(text: str | Path) -> Path:
    """A spec file as given, or a shipped example named by its name when no such file exists."""
    path = Path(text)
    if not path.is_file() and str(text) in EXAMPLES:
        return example_path(str(text))
    if not path.exists():
        raise DataError(f"spec file '{path}' does not exist (or name an example: {', '.join(EXAMPLES)})")
    return path
