"""The network: token embeddings, a masked context sum, a residual trunk and one softmax head per token.

A real ``torch.nn.Module`` (``parameters()`` are what the optimiser trains, ``forward`` gives the
per-token log-likelihood), so wrappers such as ``torch.compile`` or Opacus' ``GradSampleModule`` can
take it: every parameter is used through the forward of the module that holds it.  The masks and index
tables are non-persistent buffers: they follow ``.to(device)`` but stay out of ``state_dict()``, whose
keys are the ``net.*`` arrays of the model file (the heads under older names, see ``_state.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

__all__ = ["MASK_BIAS", "ArgnNetwork", "TargetEmbedding", "TokenHeads"]

MASK_BIAS = -1e9  # added to the logits of tokens that cannot occur


class TargetEmbedding(nn.Module):
    """A learned vector per token, added to that token's context: ``forward(c)[b, j] = c[b, j] + weight[j]``.

    A module of its own (not a bare ``nn.Embedding`` weight) so that per-row gradient wrappers such as
    Opacus' ``GradSampleModule`` see its input and output.  Initialised as ``nn.Embedding`` is.
    """

    def __init__(self, n_tokens: int, hidden: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_tokens, hidden).normal_())

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return context + self.weight


class TokenHeads(nn.Module):
    """The softmax heads of one cardinality bucket, stacked and padded to its largest cardinality.

    ``forward(h)[b, i] = h[b, i] @ weight[i] + bias[i]``: the logits of the bucket's ``i``-th token.
    Holds no buffers (the padding mask stays with the network), so Opacus computes its per-row
    gradients through ``torch.func``.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = torch.einsum("bnh,nhc->bnc", h, self.weight) + self.bias
        return logits


class ArgnNetwork(nn.Module):
    """Token embeddings, a shared residual trunk and one softmax head per token column.

    Heads of similar cardinality are stacked into one padded weight (a bucket per power of two), so a
    training step costs a few large operations rather than a few per token column.
    """

    offsets: torch.Tensor  # buffers: each token's first row in the embedding table
    group: torch.Tensor  # the column group of each token
    within: torch.Tensor  # each token's place within its group

    def __init__(
        self,
        cardinalities: Sequence[int],
        groups: Sequence[int],
        sub_bin_valid: Mapping[int, np.ndarray],
        code_valid: Mapping[int, np.ndarray],
        hidden: int,
        depth: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.cardinalities = [int(c) for c in cardinalities]
        self.hidden = hidden
        self.dropout = dropout
        n_tokens = len(self.cardinalities)
        offsets = np.concatenate([[0], np.cumsum(self.cardinalities)[:-1]])
        self.register_buffer("offsets", torch.as_tensor(offsets, dtype=torch.long), persistent=False)
        group = np.asarray(groups, dtype="int64")
        within = np.array([int(np.sum(group[:j] == group[j])) for j in range(n_tokens)], dtype="int64")
        self.register_buffer("group", torch.as_tensor(group), persistent=False)
        self.register_buffer("within", torch.as_tensor(within), persistent=False)
        self.n_groups = int(group.max()) + 1 if n_tokens else 0
        self.stride = int(within.max()) + 1 if n_tokens else 1
        # a sub-bin token follows its bin token; its logits are masked to the sub-bins the bin has
        self.sub_bin_tokens = frozenset(int(j) for j in sub_bin_valid)
        for j, valid in sub_bin_valid.items():
            self._mask_buffer(f"sub_bias_{j}", valid)
        # a token whose codes are not all allowed (a weekday too rare in the data) never takes them
        self.code_tokens = frozenset(int(j) for j in code_valid)
        for j, valid in code_valid.items():
            self._mask_buffer(f"code_bias_{j}", valid)
        width = np.ceil(np.log2(np.maximum(self.cardinalities, 2))).astype("int64")
        self.buckets = [np.flatnonzero(width == w) for w in np.unique(width)]
        self.where = {int(j): (b, i) for b, members in enumerate(self.buckets) for i, j in enumerate(members)}
        heads = []
        bound = 1.0 / math.sqrt(hidden)
        for b, members in enumerate(self.buckets):
            cards = np.asarray(self.cardinalities)[members]
            pad = int(cards.max())
            self._mask_buffer(f"pad_bias_{b}", np.arange(pad)[None, :] < cards[:, None])
            self.register_buffer(f"index_{b}", torch.as_tensor(members, dtype=torch.long), persistent=False)
            weight = torch.empty(members.size, hidden, pad).uniform_(-bound, bound)
            heads.append(TokenHeads(weight, torch.zeros(members.size, pad)))
        # created in this order so that a seed gives the weights it always gave; the model file's
        # net.* arrays are this state_dict, with the heads under their older names (_state.py)
        self.embed = nn.Embedding(sum(self.cardinalities), hidden)
        self.target = TargetEmbedding(n_tokens, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.blocks = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth)])
        self.heads = nn.ModuleList(heads)
        nn.init.normal_(self.embed.weight, std=0.1)
        nn.init.normal_(self.target.weight, std=0.1)
        self._heads: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.train(False)

    def _mask_buffer(self, name: str, valid: np.ndarray) -> None:
        bias = torch.as_tensor(np.where(valid, 0.0, MASK_BIAS), dtype=torch.float32)
        self.register_buffer(name, bias, persistent=False)

    def sub_bias(self, j: int) -> torch.Tensor:
        """Sub-bin token ``j``'s logit bias per bin code (rows) and sub-bin (columns)."""
        return self.get_buffer(f"sub_bias_{j}")

    def code_bias(self, j: int) -> torch.Tensor:
        return self.get_buffer(f"code_bias_{j}")

    def train(self, mode: bool = True) -> ArgnNetwork:
        self._heads = {}
        super().train(mode)
        return self

    def trunk(self, context: torch.Tensor) -> torch.Tensor:
        """Residual ReLU layers over the normalised context (plus each token's target vector).

        Dropout masks whole hidden units of a row.
        """
        relu = torch.nn.functional.relu
        h = relu(self.norm(self.target(context)))
        if self.training and self.dropout > 0:
            keep = torch.rand(h.shape[0], *([1] * (h.dim() - 2)), h.shape[-1], device=h.device) > self.dropout
            h = h * keep.to(h.dtype) / (1.0 - self.dropout)
        for block in self.blocks:
            h = h + relu(block(h))
        return h

    def context_mask(
        self, n: int, schema_share: float, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``mask[b, j, i] = 1`` when token ``i`` precedes token ``j`` in row ``b``'s column order."""
        device = self.offsets.device
        keys = torch.rand(n, self.n_groups, device=device, generator=generator)
        schema = torch.rand(n, 1, device=device, generator=generator) < schema_share
        keys = torch.where(schema, torch.arange(self.n_groups, device=device, dtype=keys.dtype), keys)
        rank = keys.argsort(dim=1).argsort(dim=1)
        return self._mask(rank)

    def schema_mask(self, n: int) -> torch.Tensor:
        """The context mask of the schema order for ``n`` rows (draws nothing)."""
        rank = torch.arange(self.n_groups, device=self.offsets.device).expand(n, self.n_groups)
        return self._mask(rank)

    def _mask(self, rank: torch.Tensor) -> torch.Tensor:
        position = rank[:, self.group] * self.stride + self.within
        mask: torch.Tensor = (position[:, None, :] < position[:, :, None]).float()
        return mask

    def forward(self, x: torch.Tensor, mask: torch.Tensor, sub_bins: bool = False) -> torch.Tensor:
        """``log p(x[b, j] | context)`` for every row ``b`` and token ``j``, in one parallel pass.

        ``mask`` is a :meth:`context_mask`.  ``sub_bins`` renormalises sub-bin tokens over the
        sub-bins their bin has, as sampling does; training leaves that to the model, which never sees
        an invalid sub-bin.
        """
        u = self.embed(x + self.offsets)
        h = self.trunk(torch.bmm(mask, u))
        out = torch.zeros(x.shape, device=x.device, dtype=h.dtype)
        for b, members in enumerate(self.buckets):
            index = self.get_buffer(f"index_{b}")
            logits = self.heads[b](h[:, index]) + self.get_buffer(f"pad_bias_{b}")
            if sub_bins:
                for i, j in enumerate(members.tolist()):
                    if j in self.sub_bin_tokens:
                        bias = self.sub_bias(j)[x[:, j - 1]]
                        logits[:, i, : bias.shape[1]] += bias
                    if j in self.code_tokens:
                        logits[:, i, : self.code_bias(j).shape[0]] += self.code_bias(j)
            logp = torch.log_softmax(logits, dim=-1)
            out = out.index_copy(1, index, logp.gather(2, x[:, index].unsqueeze(2)).squeeze(2))
        return out

    def log_likelihood(self, x: torch.Tensor, mask: torch.Tensor, sub_bins: bool = False) -> torch.Tensor:
        """Per row, the sum over tokens of ``log p(x_j | context_j)``."""
        total: torch.Tensor = self(x, mask, sub_bins).sum(dim=1)
        return total

    def head(self, j: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ``j``'s head weight (hidden, cardinality) and bias, contiguous, cached until trained."""
        cached = self._heads.get(j)
        if cached is None:
            b, i = self.where[j]
            card = self.cardinalities[j]
            heads = cast(TokenHeads, self.heads[b])
            weight = heads.weight[i, :, :card].detach().contiguous()
            cached = self._heads[j] = (weight, heads.bias[i, :card].detach().contiguous())
        return cached
