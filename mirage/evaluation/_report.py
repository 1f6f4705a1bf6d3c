"""The report of :func:`mirage.evaluate`: scores, their reference, details and verdicts, as JSON or HTML.

The HTML page (:mod:`mirage.evaluation._html`) is a one-way function of the report's fields: it knows
nothing of this module, so ``Report.to_html`` can hand itself to it without an import cycle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mirage.errors import OptionError
from mirage.evaluation._directions import DIRECTIONS
from mirage.schema import Schema

__all__ = ["Report", "clean_json"]


@dataclass
class Report:
    """Scores (a flat dict), the details behind them, and the verdicts; written as HTML or JSON.

    ``verdicts`` holds one sentence per section; ``details["verdicts"]`` the same verdicts with their
    level (good, attention, bad or na), headline and reasons apart."""

    scores: dict[str, float | None]
    reference: dict[str, float | None]
    details: dict[str, Any]
    verdicts: dict[str, str]
    meta: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    schema: Schema | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": self.scores,
            "reference": self.reference,
            "verdicts": self.verdicts,
            "directions": {
                k: {"section": s, "better": d, "meaning": m} for k, (s, d, m) in DIRECTIONS.items()
            },
            "meta": self.meta,
            "details": self.details,
        }

    def to_json(self, path: str | None = None, *, force: bool = False) -> str:
        import json

        text = json.dumps(clean_json(self.to_dict()), indent=2, allow_nan=False)
        if path is not None:
            _write_text(path, text, force=force)
        return text

    def to_html(self, path: str | None = None, *, force: bool = False) -> str:
        from mirage.evaluation._html import render_html  # the page reads the report, never the reverse

        text = render_html(self)
        if path is not None:
            _write_text(path, text, force=force)
        return text

    def check(
        self, fail_under: dict[str, float] | None = None, fail_over: dict[str, float] | None = None
    ) -> list[str]:
        """The failed gates as readable lines; an empty list means every gate passed."""
        failures = []
        for word, gates in (("under", fail_under or {}), ("over", fail_over or {})):
            for name, threshold in gates.items():
                if name not in DIRECTIONS:
                    raise OptionError(f"unknown score {name!r} in a gate (known: {', '.join(DIRECTIONS)})")
                value = self.scores.get(name)
                if value is None:
                    needs = "fairness" if DIRECTIONS[name][0] == "fairness" else "a holdout or a target"
                    failures.append(f"{name} was not computed (needs {needs})")
                elif (value < threshold) if word == "under" else (value > threshold):
                    failures.append(f"{name} = {value:.4f} is {word} {threshold}")
        return failures


def clean_json(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, numpy scalars plain Python."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_text(path: str, text: str, *, force: bool) -> None:
    from mirage.io import atomic_path

    with atomic_path(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
