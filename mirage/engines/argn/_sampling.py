"""Partial-row sampling: one routine draws the unknown tokens of rows given their known ones.

Unconditioned sampling (nothing known), scenarios and imputation (the observed cells known) go through
:func:`fill_tokens`.  Conditions go through :func:`draw_prefix`: the tokens up to the last conditioned
one are drawn in the schema order, the order unconditioned rows are drawn in, each conditioned token
from the model's distribution given the tokens before it restricted to its allowed codes, and the mass
that distribution gave the allowed codes is returned per row, so that the caller can keep a prefix by
its weight (rejection with the truncated draw as proposal, see the argn engine).  Rows are drawn in
chunks, vectorised on the CPU, from the seeded ``numpy`` generator only.

``allowed[j]`` marks the codes token ``j`` may take: a mask of its codes, or for a sub-bin token a
(bins, sub-bins) mask read at the row's bin (a range allows different sub-bins in different bins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from mirage.engines.argn._runtime import torch_scope

if TYPE_CHECKING:
    import torch

    from mirage.engines.argn._network import ArgnNetwork

__all__ = ["SAMPLE_CHUNK", "draw_prefix", "fill_tokens", "sampling_order"]

SAMPLE_CHUNK = 8_192


def sampling_order(groups: Sequence[int], first: set[int]) -> list[int]:
    """Token indices in the schema order, those of the column groups ``first`` ahead of the others."""
    order = [j for j, g in enumerate(groups) if g in first]
    return order + [j for j, g in enumerate(groups) if g not in first]


def fill_tokens(
    network: ArgnNetwork,
    tokens: np.ndarray,
    known: np.ndarray | None,
    order: Sequence[int],
    allowed: Mapping[int, np.ndarray],
    temperature: float,
    rng: np.random.Generator,
    threads: int | None,
) -> None:
    """Draw, in place, the cells of ``tokens`` that ``known`` marks False (None: every cell).

    Tokens are drawn in ``order``, each given the known and the drawn ones; ``allowed[j]`` marks the
    codes token ``j`` may take.  Rows with nothing to draw are left as they are and draw nothing from
    ``rng``.
    """
    import torch

    rows = None if known is None else np.flatnonzero(~known.all(axis=1))
    n = tokens.shape[0] if rows is None else rows.size
    with torch.inference_mode(), torch_scope(threads):
        bias = _biases(allowed)
        for lo in range(0, n, SAMPLE_CHUNK):
            part = slice(lo, lo + SAMPLE_CHUNK) if rows is None else rows[lo : lo + SAMPLE_CHUNK]
            chunk_known = None if known is None else known[part]
            tokens[part] = _draw(network, tokens[part], chunk_known, order, bias, temperature, rng)


def draw_prefix(
    network: ArgnNetwork,
    n: int,
    allowed: Mapping[int, np.ndarray],
    temperature: float,
    rng: np.random.Generator,
    threads: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows' tokens up to the last one ``allowed`` names, drawn in the schema order, each allowed
    token restricted to its allowed codes; the later tokens are left 0.

    Also, per row and allowed token (columns in ascending token order), the probability the model gave
    the allowed codes given the tokens before it: the product of a row is the factor by which the
    restricted draw over-represents the prefix relative to the model's own rows meeting ``allowed``.
    """
    import torch

    tokens = np.zeros((n, len(network.cardinalities)), dtype="int64")
    conditioned = sorted(allowed)
    masses = np.ones((n, len(conditioned)))
    if not conditioned:
        return tokens, masses
    order = range(conditioned[-1] + 1)
    with torch.inference_mode(), torch_scope(threads):
        bias = _biases(allowed)
        for lo in range(0, n, SAMPLE_CHUNK):
            part = slice(lo, lo + SAMPLE_CHUNK)
            found: dict[int, torch.Tensor] = {}
            tokens[part] = _draw(network, tokens[part], None, order, bias, temperature, rng, found)
            masses[part] = np.column_stack([found[j].double().numpy() for j in conditioned])
    return tokens, masses


def _biases(allowed: Mapping[int, np.ndarray]) -> dict[int, torch.Tensor]:
    import torch

    from mirage.engines.argn._network import MASK_BIAS

    return {j: torch.as_tensor(np.where(a, 0.0, MASK_BIAS), dtype=torch.float32) for j, a in allowed.items()}


def _draw(
    network: ArgnNetwork,
    tokens: np.ndarray,
    known: np.ndarray | None,
    order: Sequence[int],
    bias: Mapping[int, torch.Tensor],
    temperature: float,
    rng: np.random.Generator,
    masses: dict[int, torch.Tensor] | None = None,
) -> np.ndarray:
    """One chunk of :func:`fill_tokens`: the trunk at inference, in place, no dropout, no autograd.

    ``masses``: filled with each biased token's probability of its allowed codes (see :func:`draw_prefix`).
    """
    import torch

    n = tokens.shape[0]
    x = torch.as_tensor(tokens, dtype=torch.long)
    context = torch.zeros(n, network.hidden)
    free = torch.as_tensor(~known) if known is not None and known.any() else None
    if free is not None:
        context = (network.embed(x + network.offsets) * (~free).unsqueeze(-1).float()).sum(dim=1)
    sub_bin_tokens, code_tokens = network.sub_bin_tokens, network.code_tokens
    for j in order:
        weight, head_bias = network.head(j)
        card = network.cardinalities[j]
        h = network.norm(context + network.target.weight[j]).relu_()
        for block in network.blocks:
            h = h.add_(block(h).relu_())
        logits = torch.addmm(head_bias, h, weight)
        if temperature != 1.0:
            logits = logits.div_(temperature)
        if j in sub_bin_tokens:
            logits = logits.add_(network.sub_bias(j)[x[:, j - 1]])
        if j in code_tokens:
            logits = logits.add_(network.code_bias(j))
        if j in bias:
            allowed = bias[j] if bias[j].dim() == 1 else bias[j][x[:, j - 1]]
            if masses is None:
                logits = logits.add_(allowed)
            else:
                total = torch.logsumexp(logits, dim=1)
                logits = logits.add_(allowed)
                masses[j] = torch.exp(torch.logsumexp(logits, dim=1) - total)
        # unnormalised: the uniform draw is scaled by the total instead
        cdf = logits.sub_(logits.amax(dim=1, keepdim=True)).exp_().cumsum_(dim=1)
        u = torch.from_numpy(rng.random(n, dtype=np.float32)).unsqueeze(1).mul_(cdf[:, -1:])
        code = torch.searchsorted(cdf, u).squeeze(1).clamp_(max=card - 1)
        if free is not None:
            code = torch.where(free[:, j], code, x[:, j])
            context = context + network.embed(code + network.offsets[j]) * free[:, j : j + 1].float()
        else:
            context = context + network.embed(code + network.offsets[j])
        x[:, j] = code
    out: np.ndarray = x.numpy()
    return out
