"""The autoencoder and its training loop, with early stopping on the held-out rows' loss."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mirage.engines._neural import Activation, Adam, EarlyStopping, RowLayout, SpanMasks, TrainingResult

__all__ = ["Decoder", "Encoder", "TrainingSettings", "generate", "train"]

LOSS_FACTOR = 2.0  # the loss's scale (TVAE weighs the reconstruction 2, the KL divergence 1)
MIN_DELTA = 2e-3  # a validation loss must improve by this share to count as better
CHECK_STEPS = 50  # optimiser steps between two validation losses, about
SIGMA_RANGE = (0.05, 1.0)  # TVAE floors at 0.01; 0.05 keeps a 10-row table from being given back


def _mlp(width_in: int, hidden: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    width = width_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers), width


class Encoder(nn.Module):
    def __init__(self, width_in: int, hidden: tuple[int, ...], latent: int) -> None:
        super().__init__()
        self.body, width = _mlp(width_in, hidden)
        self.mean = nn.Linear(width, latent)
        self.log_var = nn.Linear(width, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mean(h), self.log_var(h)


class Decoder(nn.Module):
    """A latent point in, one logit per row-vector entry out, plus a noise scale per entry."""

    def __init__(self, latent: int, hidden: tuple[int, ...], width_out: int) -> None:
        super().__init__()
        self.body, width = _mlp(latent, hidden)
        self.out = nn.Linear(width, width_out)
        self.sigma = nn.Parameter(torch.full((width_out,), 0.1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.out(self.body(z))
        return out


class Reconstruction(SpanMasks):
    """Per row, the cross-entropy of every one-hot span plus the Gaussian negative log-likelihood (up to
    a constant) of every scalar around ``tanh(logit)`` with its scale ``sigma``, over whole-width masks
    (:class:`SpanMasks`).  A span's cross-entropy is the log of the sum of its exponentials less the
    logit of the row's code.
    """

    def __call__(self, logits: torch.Tensor, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        total = ((x - torch.tanh(logits)) ** 2 * (self.scalar / (2 * sigma**2))).sum(dim=1)
        total = total + (torch.log(sigma) * self.scalar).sum()
        if self.sums.shape[1]:
            span_max, shift = self.span_max(logits)
            log_sums = torch.log(torch.exp(logits - shift) @ self.sums) + span_max
            total = total + log_sums.sum(dim=1) - (logits * (x * self.soft)).sum(dim=1)
        return total


@dataclass(frozen=True)
class TrainingSettings:
    max_training_time: float
    max_epochs: int
    patience: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    kl_weight: float
    seed: int


def _loss(
    encoder: Encoder,
    decoder: Decoder,
    x: torch.Tensor,
    reconstruction: Reconstruction,
    eps: torch.Tensor,
    kl_weight: float,
) -> torch.Tensor:
    """Per row, the negative evidence lower bound with the KL divergence weighted by ``kl_weight``
    (0.5: TVAE's, the default; 1: the plain bound, which keeps the latent points of rows closer
    together, so that decoded prior draws land less often near learned rows), times ``LOSS_FACTOR``."""
    mean, log_var = encoder(x)
    logits = decoder(mean + eps * torch.exp(0.5 * log_var))
    kl = -0.5 * (1 + log_var - mean**2 - log_var.exp()).sum(dim=1)
    result: torch.Tensor = LOSS_FACTOR * (reconstruction(logits, x, decoder.sigma) + kl_weight * kl)
    return result


def train(
    encoder: Encoder,
    decoder: Decoder,
    layout: RowLayout,
    data: np.ndarray,
    held: np.ndarray,
    settings: TrainingSettings,
) -> TrainingResult:
    """Train in place and load the weights of the best held-out loss (``held`` empty: the last ones).

    Batches, latent noise and the held-out noise (the same every check) draw from torch's global random
    state, which the caller forks and seeds.
    """
    x_all, x_held = torch.from_numpy(data), torch.from_numpy(held)
    n = x_all.shape[0]
    batch = settings.batch_size
    steps = max(1, math.ceil(n / batch))
    check_every = max(1, round(CHECK_STEPS / steps))
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = Adam(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    held_eps = torch.randn(x_held.shape[0], encoder.mean.out_features)
    stopping = EarlyStopping(
        [encoder, decoder],
        max_epochs=settings.max_epochs,
        max_training_time=settings.max_training_time,
        patience=settings.patience,
        min_delta=MIN_DELTA,
        relative=True,
    )
    reconstruction = Reconstruction(layout.spans)
    for epoch in range(1, settings.max_epochs + 1):
        encoder.train(True)
        decoder.train(True)
        permutation = torch.randperm(n)
        total, out_of_time = 0.0, False
        for first in range(0, n, batch):
            xb = x_all[permutation[first : first + batch]]
            loss = _loss(
                encoder,
                decoder,
                xb,
                reconstruction,
                torch.randn(xb.shape[0], encoder.mean.out_features),
                settings.kl_weight,
            ).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                decoder.sigma.clamp_(*SIGMA_RANGE)
            total += float(loss.detach()) * xb.shape[0]
            if stopping.out_of_time:
                out_of_time = True
                break
        entry: dict[str, float] = {"epoch": epoch, "train_loss": total / n}
        if x_held.shape[0] and (epoch % check_every == 0 or out_of_time or epoch == settings.max_epochs):
            encoder.train(False)
            decoder.train(False)
            with torch.no_grad():
                held_loss = _loss(encoder, decoder, x_held, reconstruction, held_eps, settings.kl_weight)
                val = float(held_loss.mean())
            entry["val_loss"] = val
            stopping.score(epoch, val)
        if stopping.end_epoch(entry, entry["train_loss"], entry.get("val_loss", math.nan), out_of_time):
            break
    return stopping.finish()


def generate(
    decoder: Decoder,
    layout: RowLayout,
    n: int,
    latent: int,
    rng: np.random.Generator,
    chunk: int = 8_192,
    latents: torch.Tensor | None = None,
) -> np.ndarray:
    """``n`` activated row vectors from standard normal latents (or the given ``latents``), each scalar
    with its learned noise."""
    if latents is not None:
        n = latents.shape[0]
    decoder.train(False)
    activation = Activation(layout.spans)
    sigma = decoder.sigma.detach().numpy()
    scalars = np.array([span.start for span in layout.spans if not span.softmax], dtype="int64")
    out = np.zeros((n, layout.width), dtype="float32")
    with torch.inference_mode():
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            if latents is None:
                z = torch.from_numpy(rng.standard_normal((m, latent), dtype=np.float32))
            else:
                z = latents[lo : lo + m]
            rows = activation(decoder(z)).numpy()
            noise = rng.standard_normal((m, scalars.size), dtype=np.float32) * sigma[scalars]
            rows[:, scalars] = np.clip(rows[:, scalars] + noise, -1.0, 1.0)
            out[lo : lo + m] = rows
    return out
