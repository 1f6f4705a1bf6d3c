"""Training-by-sampling and the WGAN-GP loop, with early stopping on a validation detection score.

Every batch picks, per row, a discrete sub-column uniformly and one of its codes with probability
proportional to the log of its count (so rare categories are trained on far more often than they
occur), and a real row that has that code; the generator is told the pick through the conditional
vector and penalised when its output does not honour it.  Sampling picks codes by their real
frequency instead, so the marginals come back as learned.

Early stopping reads a detection score on held-out rows, which on a small table (a hundred rows)
cannot see a missing dependence; no score counts before ``min_steps`` optimiser steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from mirage.engines._neural import Activation, Adam, EarlyStopping, RowLayout, SpanMasks, TrainingResult
from mirage.engines.gan._network import Critic, Generator, gradient_penalty

__all__ = ["ConditionSampler", "NumberValues", "TrainingSettings", "generate", "train"]

GUMBEL_TAU = 0.2
MIN_DELTA = 0.002  # a detection AUC must drop by this much to count as better
CHECK_STEPS = 100  # optimiser steps between two detection scores, about
MARGINAL_WEIGHT = 20.0  # of the marginal loss against the critic's
VALUE_WEIGHT = 20.0  # of the numbers' distribution loss against the critic's
GROUP = 10  # rows of the marginal loss's batch that share one condition
PENALTY_EVERY = 2  # critic steps per gradient penalty (weighted as many times: lazy regularisation)


class ConditionSampler:
    """Conditional vectors over the layout's code spans, and real rows that match them."""

    def __init__(self, layout: RowLayout, data: np.ndarray | None = None) -> None:
        """``data``: the training rows as vectors (None: only sampling, once ``frequency`` is set)."""
        self.spans = layout.code_spans
        self.width = sum(span.width for span in self.spans)
        self.offsets = np.cumsum([0] + [span.width for span in self.spans])[:-1].astype("int64")
        soft = [span.start for span in layout.spans if span.softmax]
        self.soft_index = torch.tensor([soft.index(span.start) for span in self.spans], dtype=torch.long)
        self.frequency: list[np.ndarray] = []
        if data is None:
            return
        self.log_frequency: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []  # row indices sorted by code
        self.starts: list[np.ndarray] = []
        for span in self.spans:
            codes = data[:, span.start : span.start + span.width].argmax(axis=1)
            counts = np.bincount(codes, minlength=span.width).astype("float64")
            self.frequency.append(counts / counts.sum())
            log = np.log(counts + 1.0) * (counts > 0)
            self.log_frequency.append(log / log.sum())
            self.rows.append(np.argsort(codes, kind="stable"))
            self.starts.append(np.concatenate([[0], np.cumsum(counts)]).astype("int64"))

    def draw(
        self, n: int, rng: np.random.Generator, training: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` conditional vectors (float32), the span each picked and the code in that span."""
        cond = np.zeros((n, self.width), dtype="float32")
        if not self.spans:
            return cond, np.zeros(n, "int64"), np.zeros(n, "int64")
        which = rng.integers(len(self.spans), size=n)
        codes = np.zeros(n, dtype="int64")
        u = rng.random(n)
        for i in range(len(self.spans)):
            chosen = which == i
            p = self.log_frequency[i] if training else self.frequency[i]
            codes[chosen] = np.minimum(np.searchsorted(np.cumsum(p), u[chosen], side="right"), p.size - 1)
        cond[np.arange(n), self.offsets[which] + codes] = 1.0
        return cond, which, codes

    def matching_rows(self, which: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each pick, a random training row that has the picked code."""
        out = np.zeros(which.size, dtype="int64")
        if not self.spans:
            return out
        u = rng.random(which.size)
        for i in range(len(self.spans)):
            chosen = np.flatnonzero(which == i)
            lo, hi = self.starts[i][codes[chosen]], self.starts[i][codes[chosen] + 1]
            out[chosen] = self.rows[i][lo + np.minimum((u[chosen] * (hi - lo)).astype("int64"), hi - lo - 1)]
        return out


class NumberValues:
    """Each continuous sub-column's value (in its scaled units, ``[-1, 1]``) from a row vector: the mode's
    mean plus its spread times the scalar, the mode read from its (nearly one-hot) span."""

    def __init__(self, layout: RowLayout) -> None:
        from mirage.encoding.modes import SPREAD

        self.scalars: list[int] = []
        self.modes: list[torch.Tensor] = []
        self.means: list[torch.Tensor] = []
        self.spreads: list[torch.Tensor] = []
        for span in layout.spans:
            sub = layout.subcolumns[span.subcolumn] if span.subcolumn >= 0 else None
            if span.softmax or sub is None or sub.discrete:
                continue
            modes = layout.normaliser.modes[sub.name]
            k = modes.means.size
            self.scalars.append(span.start)
            self.modes.append(torch.arange(span.start + 1, span.start + 1 + k))
            self.means.append(torch.tensor(modes.means, dtype=torch.float32))
            self.spreads.append(torch.tensor(SPREAD * modes.stds, dtype=torch.float32))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, numbers)`` the values of row vectors ``x``."""
        columns = [
            (x[:, modes] * (mean + spread * x[:, scalar : scalar + 1])).sum(dim=1)
            for scalar, modes, mean, spread in zip(
                self.scalars, self.modes, self.means, self.spreads, strict=True
            )
        ]
        return torch.stack(columns, dim=1) if columns else torch.zeros(x.shape[0], 0)


class DenseSpans(SpanMasks):
    """The activation and the per-span log-probabilities of :class:`Activation` over whole-width
    tensors (:class:`SpanMasks`).  The Gumbel noise is drawn as :class:`Activation` draws it, so
    training draws the same random numbers."""

    def log_softmax(self, logits: torch.Tensor) -> torch.Tensor:
        """``(n, width)``: each one-hot column's log-probability within its span (scalars: 0)."""
        _, shift = self.span_max(logits)
        shifted = logits - shift
        log_sums = torch.log(torch.exp(shifted) @ self.sums)
        return (shifted - log_sums @ self.sums.T) * self.soft

    def __call__(self, logits: torch.Tensor, tau: float) -> torch.Tensor:
        """Scalars through tanh, spans through a Gumbel-softmax at temperature ``tau``."""
        out = torch.tanh(logits) * self.scalar
        if self.sums.shape[1]:
            noisy = (logits - torch.empty_like(logits).exponential_().log()) / tau
            out = out + torch.exp(self.log_softmax(noisy)) * self.soft
        return out


@dataclass(frozen=True)
class TrainingSettings:
    max_training_time: float
    max_epochs: int
    patience: int
    min_steps: int  # optimiser steps before a detection score may be kept or stop training
    batch_size: int
    pac: int
    critic_every: int  # generator steps per critic step
    noise_size: int
    learning_rate: float
    seed: int


def generate(
    generator: Generator,
    sampler: ConditionSampler,
    layout: RowLayout,
    n: int,
    noise_size: int,
    rng: np.random.Generator,
    chunk: int = 8_192,
    given: tuple[int, np.ndarray] | None = None,
) -> np.ndarray:
    """``n`` activated row vectors, noise and conditions drawn from ``rng`` (real code frequencies);
    ``given``: (a code span's index, one code per row) to condition every row on instead."""
    generator.train(False)
    activation = Activation(layout.spans)
    out = np.zeros((n, layout.width), dtype="float32")
    with torch.inference_mode():
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            noise = rng.standard_normal((m, noise_size), dtype=np.float32)
            cond, _, _ = sampler.draw(m, rng, training=False)
            if given is not None:
                cond[:] = 0.0
                cond[np.arange(m), sampler.offsets[given[0]] + given[1][lo : lo + m]] = 1.0
            x = torch.from_numpy(np.concatenate([noise, cond], axis=1))
            out[lo : lo + m] = activation(generator(x)).numpy()
    return out


def train(
    generator: Generator,
    critic: Critic,
    layout: RowLayout,
    sampler: ConditionSampler,
    data: np.ndarray,
    settings: TrainingSettings,
    rng: np.random.Generator,
    score: Callable[[Generator], float] | None,
) -> TrainingResult:
    """Train in place and load the generator of the best validation ``score`` (None: the last one).

    Noise and dropout draw from torch's global random state (the caller forks and seeds it); the
    conditions and the real rows from ``rng``.
    """
    n = data.shape[0]
    batch = settings.batch_size
    steps = max(1, n // batch)
    check_every = max(1, round(CHECK_STEPS / steps))
    g_opt = Adam(generator.parameters(), lr=settings.learning_rate, betas=(0.5, 0.9), weight_decay=1e-6)
    c_opt = Adam(critic.parameters(), lr=settings.learning_rate, betas=(0.5, 0.9), weight_decay=1e-6)
    x_all = torch.from_numpy(data)
    stopping = EarlyStopping(
        [generator],
        max_epochs=settings.max_epochs,
        max_training_time=settings.max_training_time,
        patience=settings.patience,
        min_delta=MIN_DELTA,
        min_epochs=min(settings.max_epochs, math.ceil(settings.min_steps / steps)),
    )
    activation = DenseSpans(layout.spans)
    # each code's frequency in its one-hot column (the rows are one-hot there)
    targets = x_all.mean(dim=0) * activation.soft if activation.sums.shape[1] else None
    values = NumberValues(layout)
    done = 0  # generator steps
    critic_steps = 0
    for epoch in range(1, settings.max_epochs + 1):
        generator.train(True)
        critic.train(True)
        c_total = g_total = 0.0
        epoch_critic_steps = 0
        out_of_time = False
        for _ in range(steps):
            train_critic = done % settings.critic_every == 0
            c_loss = 0.0
            if train_critic:
                penalise = critic_steps % PENALTY_EVERY == 0
                c_loss = _critic_step(
                    generator, critic, activation, sampler, x_all, batch, settings, rng, c_opt, penalise
                )
            g_loss = _generator_step(
                generator, critic, activation, sampler, x_all, batch, settings, rng, g_opt, targets, values
            )
            done += 1
            critic_steps += train_critic
            epoch_critic_steps += train_critic
            c_total, g_total = c_total + c_loss, g_total + g_loss
            if stopping.out_of_time:
                out_of_time = True
                break
        entry = {
            "epoch": epoch,
            "critic_loss": c_total / max(1, epoch_critic_steps),
            "generator_loss": g_total / steps,
            "critic_steps": epoch_critic_steps,
        }
        # a score before the floor would not be kept, and scoring draws nothing from training's random
        # states, so skipping it leaves the weights as they were; the first score is read at the floor
        checked = score is not None and (
            (epoch >= stopping.min_epochs and (epoch - stopping.min_epochs) % check_every == 0)
            or out_of_time
            or epoch == settings.max_epochs
        )
        if checked and score is not None:
            entry["detection_auc"] = score(generator)
            stopping.score(epoch, entry["detection_auc"])
        if stopping.end_epoch(entry, g_total / steps, entry.get("detection_auc", math.nan), out_of_time):
            break
    return stopping.finish()


def _critic_step(
    generator: Generator,
    critic: Critic,
    activation: DenseSpans,
    sampler: ConditionSampler,
    x_all: torch.Tensor,
    batch: int,
    settings: TrainingSettings,
    rng: np.random.Generator,
    c_opt: Adam,
    penalise: bool,
) -> float:
    """One critic step; its loss.  ``penalise``: it includes the gradient penalty (weighted by
    ``PENALTY_EVERY``, as it counts for the steps without it)."""
    cond, which, codes = sampler.draw(batch, rng, training=True)
    shuffled = rng.permutation(batch)  # real rows match a shuffled copy of the conditions
    real_rows = (
        sampler.matching_rows(which[shuffled], codes[shuffled], rng)
        if sampler.spans
        else rng.integers(x_all.shape[0], size=batch)
    )
    c_fake = torch.from_numpy(cond)
    c_real = torch.from_numpy(cond[shuffled])
    noise = torch.randn(batch, settings.noise_size)
    with torch.no_grad():  # the critic's step changes the critic only
        fake = activation(generator(torch.cat([noise, c_fake], dim=1)), GUMBEL_TAU)
    real = torch.cat([x_all[torch.from_numpy(real_rows)], c_real], dim=1)
    fake_in = torch.cat([fake, c_fake], dim=1)
    c_loss = critic(fake_in).mean() - critic(real).mean()
    c_opt.zero_grad()
    if penalise:
        (c_loss + gradient_penalty(critic, real, fake_in, 10.0 * PENALTY_EVERY)).backward()
    else:
        c_loss.backward()
    c_opt.step()
    return float(c_loss.detach())


def _generator_step(
    generator: Generator,
    critic: Critic,
    activation: DenseSpans,
    sampler: ConditionSampler,
    x_all: torch.Tensor,
    batch: int,
    settings: TrainingSettings,
    rng: np.random.Generator,
    g_opt: Adam,
    targets: torch.Tensor | None,
    values: NumberValues,
) -> float:
    """One generator step; its loss."""
    # One generator batch serves every loss: groups of GROUP rows share a condition (the marginal
    # loss's groups); the critic sees them in shuffled order (whole packs), so no pack is one group.
    groups = max(1, batch // GROUP)
    cond, which, codes = sampler.draw(groups, rng, training=True)
    which, codes = np.repeat(which, GROUP), np.repeat(codes, GROUP)
    c_fake = torch.from_numpy(np.repeat(cond, GROUP, axis=0))
    noise = torch.randn(c_fake.shape[0], settings.noise_size)
    logits = generator(torch.cat([noise, c_fake], dim=1))
    fake = activation(logits, GUMBEL_TAU)
    packed = c_fake.shape[0] // critic.pac * critic.pac
    order = torch.from_numpy(rng.permutation(c_fake.shape[0])[:packed])
    g_loss = -critic(torch.cat([fake, c_fake], dim=1)[order]).mean()
    log_p = activation.log_softmax(logits)
    if sampler.spans:
        picked = activation.padded[sampler.soft_index[torch.from_numpy(which)], torch.from_numpy(codes)]
        g_loss = g_loss - log_p[torch.arange(logits.shape[0]), picked].mean()
    if targets is not None or values.scalars:
        g_loss = g_loss + _marginal_loss(
            log_p, fake, activation, sampler, x_all, which, codes, rng, targets, values
        )
    g_opt.zero_grad()
    g_loss.backward()
    g_opt.step()
    return float(g_loss.detach())


def _marginal_loss(
    log_p: torch.Tensor,
    fake: torch.Tensor,
    activation: DenseSpans,
    sampler: ConditionSampler,
    x_all: torch.Tensor,
    which: np.ndarray,
    codes: np.ndarray,
    rng: np.random.Generator,
    targets: torch.Tensor | None,
    values: NumberValues,
) -> torch.Tensor:
    """How far the generator's batch (``log_p``: its one-hot columns' log-probabilities; activated:
    ``fake``; consecutive groups of ``GROUP`` rows share one condition, the pick ``which``/``codes``)
    is from the real rows: the Kullback-Leibler divergence of each one-hot span's mean probabilities
    from the real frequencies, and, per group, each number's 1-D Wasserstein distance (its sorted
    values against those of as many real rows with the picked code) and each one-hot span's squared
    distance from those rows' codes.

    Training-by-sampling skews every training batch towards rare codes, and the critic sees numbers only
    jointly; the frequencies keep the marginals the generator gives when sampling where the data has
    them.  The groups carry the dependence of every column on each discrete one: compared with random
    real rows instead, a generator that ignores its condition matched the numbers as well (on
    insurance, charges by smoker came out equal after 300 epochs).
    """
    groups = log_p.shape[0] // GROUP
    real_rows = (
        sampler.matching_rows(which, codes, rng)
        if sampler.spans
        else rng.integers(x_all.shape[0], size=log_p.shape[0])
    )
    real_x = x_all[torch.from_numpy(real_rows)]
    loss = torch.zeros(())
    if targets is not None:
        p = log_p.exp() * activation.soft
        mean_p = p.mean(dim=0).clamp_min(1e-8)
        loss = loss + MARGINAL_WEIGHT * (targets * (targets.clamp_min(1e-8).log() - mean_p.log())).sum()
        gap = p.reshape(groups, GROUP, -1).mean(dim=1) - (real_x * activation.soft).reshape(
            groups, GROUP, -1
        ).mean(dim=1)
        loss = loss + MARGINAL_WEIGHT * gap.pow(2).sum(dim=1).mean()
    if values.scalars:
        fake_values = values(fake).reshape(groups, GROUP, -1).sort(dim=1).values
        real = values(real_x).reshape(groups, GROUP, -1).sort(dim=1).values
        loss = loss + VALUE_WEIGHT * (fake_values - real).abs().mean(dim=1).sum(dim=1).mean()
    return loss
