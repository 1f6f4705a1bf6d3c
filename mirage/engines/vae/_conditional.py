"""Rows drawn from the decoder given some of their sub-columns: what a scenario redraws.

The model's rows are ``z ~ N(0, I)``, ``x ~ p(x | z)``.  Given the intervened sub-columns ``x_f`` of a
row, the rest follow ``p(x_r | x_f) = E[p(x_r | z)]`` over ``p(z | x_f)``, which is proportional to
``p(z) p(x_f | z)``: each row draws ``CANDIDATES`` latent points from the prior, keeps one with
probability proportional to the decoder's likelihood of the row's intervened values at it (sampling
importance resampling) and decodes the rest from that point.  A column the model learned apart from
the intervened ones keeps its distribution: its likelihood does not weigh the candidates.  An
intervened number is weighed as the row vector encodes it (its mode, drawn as in training, at the
sampling's ``mode_temperature``, and its scalar around the decoded one with the learned noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mirage.engines._neural import PATTERN, RowLayout, Span
from mirage.engines.vae._training import Decoder

__all__ = ["CANDIDATES", "FixedRows", "conditional_latents", "restrict_patterns"]

# prior draws per row: given one number (the scenario tests' rate shifted by 2) the weights of 64 count
# as 4 equal ones, and spend, read where rate is near 7, came out as the model draws it (12.76, 12.76);
# 256 moved spend's mean shift from 2.51 to 2.67 (rows shifted past the rates the prior often decodes)
# at four times the cost
CANDIDATES = 64
CHUNK = 16_384  # candidate latent points decoded at once
MIN_TEMPERATURE = 0.05  # a mode temperature of 0 (the likeliest mode) weighed as this sharp a softmax


@dataclass(frozen=True)
class FixedRows:
    """The intervened part of rows as the decoder sees it: their encoded vectors, the spans of the
    intervened sub-columns, and (where missing flags were intervened) the span of missing patterns with
    the patterns each row may take (every one where no learned pattern agrees with its flags)."""

    vectors: np.ndarray
    codes: list[Span]
    scalars: list[Span]
    modes: list[Span]
    pattern: Span | None
    patterns: np.ndarray | None

    @classmethod
    def of(
        cls, layout: RowLayout, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> FixedRows:
        codes: list[Span] = []
        scalars: list[Span] = []
        modes: list[Span] = []
        pattern, patterns = None, None
        for span in layout.spans:
            if span.subcolumn == PATTERN:
                patterns = _allowed_patterns(layout, parts, fixed)
                pattern = span if patterns is not None else None
                continue
            sub = layout.subcolumns[span.subcolumn]
            if sub.name not in fixed:
                continue
            if sub.discrete:
                codes.append(span)
            elif span.softmax:
                modes.append(span)
            else:
                scalars.append(span)
        return cls(layout.encode(parts, rng), codes, scalars, modes, pattern, patterns)


def _allowed_patterns(layout: RowLayout, parts: dict[str, np.ndarray], fixed: set[str]) -> np.ndarray | None:
    indices = [k for k, flag in enumerate(layout.flags) if flag in fixed]
    if not indices:
        return None
    flags = np.column_stack([np.asarray(parts[layout.flags[k]], dtype="int64") for k in indices])
    allowed = (flags[:, None, :] == layout.patterns[None, :, indices]).all(axis=2)
    allowed[~allowed.any(axis=1)] = True
    return allowed


def _log_likelihood(
    logits: torch.Tensor,
    x: torch.Tensor,
    rows: FixedRows,
    allowed: torch.Tensor | None,
    sigma: torch.Tensor,
    mode_temperature: float,
) -> torch.Tensor:
    """``(rows, candidates)`` the log-likelihood of each row's intervened values at each candidate, up to
    a constant per row; ``logits`` is ``(rows, candidates, width)``, ``x`` ``(rows, 1, width)``."""
    total = torch.zeros(logits.shape[:2])
    for span in rows.scalars:
        mean = torch.tanh(logits[..., span.start])
        total -= 0.5 * ((x[..., span.start] - mean) / sigma[span.start]) ** 2
    sharpen = 1.0 / max(mode_temperature, MIN_TEMPERATURE)
    for spans, scale in ((rows.codes, 1.0), (rows.modes, sharpen)):
        for span in spans:
            block = slice(span.start, span.start + span.width)
            log_p = torch.log_softmax(logits[..., block] * scale, dim=-1)
            total += (log_p * x[..., block]).sum(dim=-1)
    pattern = rows.pattern
    if pattern is not None and allowed is not None:
        log_p = torch.log_softmax(logits[..., pattern.start : pattern.start + pattern.width], dim=-1)
        total += torch.logsumexp(log_p.masked_fill(~allowed, -torch.inf), dim=-1)
    return total


def conditional_latents(
    decoder: Decoder,
    rows: FixedRows,
    latent: int,
    rng: np.random.Generator,
    mode_temperature: float,
    candidates: int = CANDIDATES,
) -> torch.Tensor:
    """One latent point per row drawn from ``p(z | x_f)`` by sampling importance resampling over
    ``candidates`` prior draws."""
    n = rows.vectors.shape[0]
    sigma = decoder.sigma.detach()
    chosen = torch.zeros(n, latent)
    step = max(1, CHUNK // candidates)
    decoder.train(False)
    with torch.inference_mode():
        for lo in range(0, n, step):
            m = min(step, n - lo)
            z = torch.from_numpy(rng.standard_normal((m, candidates, latent), dtype=np.float32))
            logits = decoder(z.reshape(m * candidates, latent)).reshape(m, candidates, -1)
            x = torch.from_numpy(rows.vectors[lo : lo + m, None, :])
            allowed = None if rows.patterns is None else torch.from_numpy(rows.patterns[lo : lo + m, None, :])
            log_w = _log_likelihood(logits, x, rows, allowed, sigma, mode_temperature).double().numpy()
            w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
            cdf = np.cumsum(w, axis=1)
            u = rng.random(m) * cdf[:, -1]
            pick = np.minimum((cdf < u[:, None]).sum(axis=1), candidates - 1)
            chosen[lo : lo + m] = z[torch.arange(m), torch.from_numpy(pick)]
    return chosen


def restrict_patterns(vectors: np.ndarray, rows: FixedRows) -> np.ndarray:
    """Activated rows whose missing-pattern probabilities keep only the patterns their intervened flags
    allow, so that the flags drawn for the other columns agree with them."""
    pattern = rows.pattern
    if pattern is None or rows.patterns is None:
        return vectors
    out = vectors.copy()
    out[:, pattern.start : pattern.start + pattern.width] *= rows.patterns
    return out
