"""The training loop: AdamW over shuffled batches, early stopping on a validation split; and DP-SGD
(``train_private``): Poisson-sampled batches, each row's gradient clipped, Gaussian noise on their sum,
a fixed number of steps charged on the privacy ledger before the first one.

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
from mirage.engines.argn._optimiser import AdamW

if TYPE_CHECKING:
    import torch

    from mirage.engines.argn._network import ArgnNetwork
    from mirage.privacy import Ledger

__all__ = [
    "DP_CLIP",
    "DP_MAX_EPOCHS",
    "LR_DECAY",
    "MIN_DELTA",
    "TrainingResult",
    "TrainingSettings",
    "train",
    "train_private",
]

MIN_DELTA = 5e-4  # a validation loss must improve by this share to reset the patience
LR_DECAY = 0.5  # on every epoch without a better validation loss
VALIDATION_BATCH = 4096
# DP-SGD: each row's gradient is clipped to this L2 norm; at most this many epochs (every step costs
# budget, so more epochs mean more noise per step; there is no early stopping, which would read the data)
DP_CLIP = 1.0
DP_MAX_EPOCHS = 20
DP_MIN_BATCH = 256  # DP-SGD's noise is averaged over the batch: larger batches than plain training


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
    optimizer = AdamW(network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
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
            optimizer.lr *= LR_DECAY
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

    DP-SGD (``train_private``) replaces this step with per-row gradient clipping plus Gaussian noise.
    """
    mask = network.context_mask(xb.shape[0], schema_order_share)
    loss = -network.log_likelihood(xb, mask).mean()
    optimizer.zero_grad()
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


def train_private(
    network: ArgnNetwork,
    tokens: np.ndarray,
    settings: TrainingSettings,
    ledger: Ledger,
    rows: int,
    device: Any,
    history: list[dict[str, float]],
) -> TrainingResult:
    """DP-SGD on ``tokens``: ``rows`` is the public (noisy) row count that sets the sample rate and the
    normaliser.  Plans the noise for the fixed number of steps, charges it on ``ledger`` (refusing, with
    ``BudgetExceededError``, if it cannot fit), then trains; a time limit only ends it early (spending
    less than was charged).  The batches and the noise come from the secure generator, never a seed.
    """
    import warnings

    import torch
    from opacus import GradSampleModule

    from mirage.privacy import plan_dp_sgd, secure_normal, secure_uniform

    start = time.perf_counter()
    rows = max(int(rows), 1)
    batch = max(settings.batch_size or auto_batch(rows), DP_MIN_BATCH)
    sample_rate = min(1.0, batch / rows)
    epochs = min(settings.max_epochs, DP_MAX_EPOCHS)
    steps = max(1, math.ceil(epochs / sample_rate))
    plan = plan_dp_sgd(ledger, sample_rate, steps)
    ledger.spend_rdp(
        f"DP-SGD: {steps} steps at sample rate {sample_rate:.4g}, clip {DP_CLIP:g}",
        list(plan.rdp),
        mechanism="dp-sgd",
        sigma=plan.noise_multiplier,
    )
    result = TrainingResult(history=history, stopped="dp_steps")
    x_all = torch.as_tensor(tokens, dtype=torch.long, device=device)
    n = x_all.shape[0]
    wrapped = GradSampleModule(network)
    parameters = [p for p in network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    expected = sample_rate * rows  # the average batch, public: dividing by the true one would leak it
    std = plan.noise_multiplier * DP_CLIP
    steps_per_epoch = max(1, round(1.0 / sample_rate))
    network.train(True)
    total, seen = 0.0, 0
    for step in range(1, steps + 1):
        chosen = np.flatnonzero(secure_uniform(n) < sample_rate)
        summed = [torch.zeros_like(p) for p in parameters]
        if chosen.size:
            xb = x_all[torch.as_tensor(chosen, device=device)]
            mask = network.context_mask(xb.shape[0], settings.schema_order_share)
            with warnings.catch_warnings():
                # the embedding's input (token codes) needs no gradient: Opacus' hook fires on its output
                warnings.filterwarnings("ignore", message="Full backward hook is firing")
                loss = -wrapped(xb, mask).sum(dim=1)
                loss.sum().backward()
            samples: list[torch.Tensor] = [getattr(p, "grad_sample") for p in parameters]  # noqa: B009
            norms = torch.stack([g.reshape(g.shape[0], -1).pow(2).sum(dim=1) for g in samples]).sum(0).sqrt()
            factor = (DP_CLIP / (norms + 1e-6)).clamp(max=1.0)
            summed = [torch.einsum("i,i...->...", factor, g) for g in samples]
            total += float(loss.detach().sum())
            seen += int(chosen.size)
        for p, s in zip(parameters, summed, strict=True):
            noise = torch.as_tensor(secure_normal(p.numel(), std), dtype=p.dtype, device=device)
            p.grad = (s + noise.reshape(p.shape)) / expected
            setattr(p, "grad_sample", None)  # noqa: B010
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        out_of_time = time.perf_counter() - start > settings.max_training_time
        if step % steps_per_epoch == 0 or step == steps or out_of_time:
            train_loss = total / max(seen, 1)
            history.append(
                {
                    "epoch": len(history) + 1,
                    "train_loss": train_loss,
                    "val_loss": train_loss,
                    "seconds": time.perf_counter() - start,
                }
            )
            total, seen = 0.0, 0
        if out_of_time:
            result.stopped = "max_training_time"
            break
    wrapped.remove_hooks()
    network.train(False)
    result.best_epoch = len(history)
    result.best_val_loss = history[-1]["train_loss"] if history else math.inf
    report_event(TrainingDone("fit", len(history), result.best_epoch, result.stopped))
    return result
