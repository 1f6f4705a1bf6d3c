"""Training reports its epochs as data (mirage._progress events), not as preformatted lines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mirage._progress import (
    EpochProgress,
    Progress,
    ProgressEvent,
    TrainingDone,
    describe,
    progress_events_to,
    progress_to,
    report,
)
from mirage.engines.argn import ArgnSynthesizer

pytest.importorskip("torch")


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.choice(["x", "y", "z"], size=400), "b": rng.normal(size=400)})


def test_a_listener_receives_each_epochs_losses_best_epoch_and_time_left() -> None:
    events: list[ProgressEvent] = []
    model = ArgnSynthesizer(max_epochs=4, patience=10, seed=0)
    with progress_events_to(events.append):
        model.fit(_frame())
    epochs = [e for e in events if isinstance(e, EpochProgress)]
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert all(e.task == "fit" and e.max_epochs == 4 for e in epochs)
    for event, entry in zip(epochs, model.history_, strict=True):
        assert event.train_loss == entry["train_loss"] and event.val_loss == entry["val_loss"]
        assert 1 <= event.best_epoch <= event.epoch
        assert event.elapsed_seconds > 0 and math.isfinite(event.seconds_left) and event.seconds_left >= 0
    assert epochs[-1].seconds_left == 0  # no epoch left
    done = events[-1]
    assert isinstance(done, TrainingDone)
    assert (done.epochs, done.stopped) == (4, "max_epochs")
    assert done.best_epoch == model.training_["best_epoch"]


def test_events_are_frozen_and_plain_reports_stay_events() -> None:
    events: list[ProgressEvent] = []
    with progress_events_to(events.append):
        report("scoring", 1, 3, "fidelity")
    assert events == [Progress("scoring", 1, 3, "fidelity")]
    epoch = EpochProgress("fit", 2, 10, 1.23456, 2.5, 1, 4.0, 80.4)
    with pytest.raises(AttributeError):
        epoch.epoch = 3  # type: ignore[misc]
    assert describe(epoch) == "loss 1.235 · val 2.500 (best: epoch 1) · at most 1m20s left"
    assert (
        describe(TrainingDone("fit", 5, 3, "early_stopping")) == "stopped early after 5 epochs; kept epoch 3"
    )


def test_the_four_argument_callbacks_still_get_a_detail_line() -> None:
    seen: list[tuple[str, int, int, str]] = []
    with progress_to(lambda *event: seen.append(event)):
        ArgnSynthesizer(max_epochs=2, patience=10).fit(_frame())
    assert [(task, done, total) for task, done, total, _ in seen] == [
        ("fit", 1, 2),
        ("fit", 2, 2),
        ("fit", 2, 2),
    ]
    assert seen[0][3].startswith("loss ") and seen[-1][3].startswith("done after 2 epochs")
