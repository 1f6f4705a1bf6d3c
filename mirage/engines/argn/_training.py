"""The training loop: AdamW over shuffled batches, early stopping on a validation split.

Every epoch ends with an :class:`mirage._progress.EpochProgress` event and training with a
:class:`mirage._progress.TrainingDone`; the caller decides how (and whether) to show them.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mirage._progress import EpochProgress, TrainingDone, report_event
from mirage.engines.argn._defaults import auto_batch

if TYPE_CHECKING:
    import torch

    from mirage.engines.argn._network import ArgnNetwork

__all__ = ["LR_DECAY", "MIN_DELTA", "TrainingResult", "TrainingSettings", "train"]

MIN_DELTA = 5e-4  # a validation loss must improve by this share to reset the patience
LR_DECAY = 0.5  # on every epoch without a better validation loss
VALIDATION_BATCH = 4096


@dataclass(frozen=True)
class TrainingSettings:
    max_training_time: float
    max_epochs: int
    patience: int
    batch_size: int | None  # None: about a tenth of the training rows (_defaults.auto_batch)
    learning_rate: float
    weight_decay: float
    validation_share: float
    schema_order_share: float
    seed: int  # of the validation orders, the same every epoch


@dataclass
class TrainingResult:
    history: list[dict[str, float]] = field(default_factory=list)
    stopped: str = "max_epochs"
    best_val_loss: float = math.inf
    best_epoch: int = 0


def train(
    network: ArgnNetwork,
    tokens: np.ndarray,
    settings: TrainingSettings,
    rng: np.random.Generator,
    device: Any,
    history: list[dict[str, float]],
) -> TrainingResult:
    """Train ``network`` on ``tokens`` and load the weights of its best validation epoch.

    ``history`` receives one entry per epoch as it ends.  Draws its batches and orders from torch's
    global random state (which the caller forks) and the validation split from ``rng``.
    """
    import torch

    start = time.perf_counter()
    n = tokens.shape[0]
    order = rng.permutation(n)
    n_val = round(n * settings.validation_share) if n >= 50 else 0
    x_all = torch.as_tensor(tokens, dtype=torch.long, device=device)
    x_val, x_train = x_all[order[:n_val]], x_all[order[n_val:]]
    n_train = x_train.shape[0]
    batch = min(settings.batch_size or auto_batch(n_train), n_train)
    optimizer = torch.optim.AdamW(
        network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay, fused=True
    )
    val_generator = torch.Generator(device=device)
    result = TrainingResult(history=history)
    best_state = copy.deepcopy(network.state_dict())
    bad = 0
    for epoch in range(1, settings.max_epochs + 1):
        network.train(True)
        permutation = torch.randperm(n_train, device=device)
        total, seen = 0.0, 0
        out_of_time = False
        for first in range(0, n_train, batch):
            xb = x_train[permutation[first : first + batch]]
            total += gradient_step(network, optimizer, xb, settings.schema_order_share) * xb.shape[0]
            seen += xb.shape[0]
            if time.perf_counter() - start > settings.max_training_time:
                out_of_time = True
                break
        train_loss = total / max(seen, 1)
        val_loss = validation_loss(network, x_val, val_generator, settings) if n_val else train_loss
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "seconds": time.perf_counter() - start,
            }
        )
        best = result.best_val_loss
        if val_loss < best - MIN_DELTA * abs(best) or not math.isfinite(best):
            result.best_val_loss, result.best_epoch, bad = val_loss, epoch, 0
            best_state = copy.deepcopy(network.state_dict())
        else:
            bad += 1
            for param_group in optimizer.param_groups:
                param_group["lr"] *= LR_DECAY
        elapsed = time.perf_counter() - start
        left = min(settings.max_training_time - elapsed, (settings.max_epochs - epoch) * elapsed / epoch)
        report_event(
            EpochProgress(
                "fit", epoch, settings.max_epochs, train_loss, val_loss, result.best_epoch, elapsed, left
            )
        )
        if out_of_time:
            result.stopped = "max_training_time"
            break
        if bad >= settings.patience:
            result.stopped = "early_stopping"
            break
    network.load_state_dict(best_state)
    report_event(TrainingDone("fit", len(history), result.best_epoch, result.stopped))
    return result


def gradient_step(network: ArgnNetwork, optimizer: Any, xb: torch.Tensor, schema_order_share: float) -> float:
    """One optimiser step on the batch ``xb`` under fresh random column orders; its mean loss.

    The one place differentially private training plugs in: DP-SGD replaces this step with
    per-row gradient clipping plus Gaussian noise (and the batches with Poisson sampling), spending
    budget from the privacy ledger.  Not wired yet; a DP model would also need private bin edges
    (the discretiser reads quantiles from the data).
    """
    mask = network.context_mask(xb.shape[0], schema_order_share)
    loss = -network.log_likelihood(xb, mask).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def validation_loss(
    network: ArgnNetwork, x_val: torch.Tensor, generator: torch.Generator, settings: TrainingSettings
) -> float:
    """Mean negative log-likelihood of the validation rows, under the same orders every epoch."""
    import torch

    generator.manual_seed(settings.seed + 1)
    network.train(False)
    total = 0.0
    with torch.inference_mode():
        for first in range(0, x_val.shape[0], VALIDATION_BATCH):
            xb = x_val[first : first + VALIDATION_BATCH]
            mask = network.context_mask(xb.shape[0], settings.schema_order_share, generator)
            total += float(-network.log_likelihood(xb, mask).sum())
    return total / x_val.shape[0]
