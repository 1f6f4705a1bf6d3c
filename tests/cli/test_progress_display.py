"""The CLI renders the progress events the work reports (mirage._progress) as bars with a detail line."""

from __future__ import annotations

import io

from rich.console import Console

from mirage._progress import EpochProgress, TrainingDone, report_event
from mirage.cli._ui import UI, fit_progress


def test_fit_progress_renders_the_epoch_events() -> None:
    buffer = io.StringIO()
    ui = UI(err=Console(file=buffer, force_terminal=True, width=200, highlight=False, markup=False))
    with fit_progress(ui):
        report_event(EpochProgress("fit", 1, 5, 9.8123, 9.9234, 1, 3.0, 12.0))
        report_event(TrainingDone("fit", 3, 2, "early_stopping"))
    shown = buffer.getvalue()
    assert "loss 9.812 · val 9.923 (best: epoch 1) · at most 0m12s left" in shown
    assert "stopped early after 3 epochs; kept epoch 2" in shown
    assert "3/3" in shown
