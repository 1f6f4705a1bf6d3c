"""The history network of argn's sequential mode: an entity encoder, a GRU over the previous events and
per-token heads drawn token by token within each event (imported only when torch is used).

An event is a row of tokens: a stop flag (the entity's history has ended), the gap tokens (days crossed
and time of day, or the gap itself), then the value columns' tokens, as argn's discretiser gives them.
Event ``t``'s token ``j`` is drawn given the entity (its context and attributes), the GRU state after
events ``0..t-1`` (plus the step and the previous event's position in time: its quantile among the
training events' times and since the entity's first event, and for timestamps its calendar) and
the tokens ``0..j-1`` of event ``t``: the residual trunk and the stacked heads are argn's own
(:mod:`mirage.engines.argn._network`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from mirage.engines.argn._network import MASK_BIAS, ArgnNetwork

__all__ = ["LENGTH_SCALARS", "MAX_STEP", "POSITION_SCALARS", "SequenceNetwork"]

MAX_STEP = 64  # steps from here on share the last step embedding
POSITION_SCALARS = 2  # the previous event's time and the time since the first one, scaled to about [0, 1]
LENGTH_SCALARS = 2  # with drawn lengths: the share of events left and the time left per event left


class SequenceNetwork(nn.Module):
    """``log p(event tokens | entity, previous events)`` for padded histories, and its sampling pieces."""

    entity_offsets: torch.Tensor
    position_offsets: torch.Tensor

    def __init__(
        self,
        entity_cardinalities: Sequence[int],
        event_cardinalities: Sequence[int],
        sub_bin_valid: Mapping[int, np.ndarray],
        code_valid: Mapping[int, np.ndarray],
        hidden: int,
        depth: int,
        dropout: float,
        position_cardinalities: Sequence[int],
        n_scalars: int = POSITION_SCALARS,
    ) -> None:
        super().__init__()
        self.hidden = hidden
        self.position_cardinalities = [int(c) for c in position_cardinalities]
        self.event_cardinalities = [int(c) for c in event_cardinalities]
        self.entity_cardinalities = [int(c) for c in entity_cardinalities]
        n_tokens = len(self.event_cardinalities)
        # the within-event part is argn's network: token embeddings, target vectors, trunk, heads;
        # each event token is its own column group, drawn in the schema order
        self.events = ArgnNetwork(
            self.event_cardinalities, list(range(n_tokens)), sub_bin_valid, code_valid, hidden, depth, dropout
        )
        entity_offsets = np.concatenate([[0], np.cumsum(self.entity_cardinalities)[:-1]]).astype("int64")
        self.register_buffer("entity_offsets", torch.as_tensor(entity_offsets), persistent=False)
        self.entity_embed = nn.Embedding(max(1, sum(self.entity_cardinalities)), hidden)
        self.entity_state = nn.Linear(hidden, hidden)
        position_offsets = np.concatenate([[0], np.cumsum(self.position_cardinalities)[:-1]]).astype("int64")
        self.register_buffer("position_offsets", torch.as_tensor(position_offsets), persistent=False)
        self.position_embed = nn.Embedding(max(1, sum(self.position_cardinalities)), hidden)
        self.step_embed = nn.Embedding(MAX_STEP, hidden)
        self.time_scale = nn.Linear(n_scalars, hidden)  # the position in time, finer than its bins
        self.start = nn.Parameter(torch.zeros(hidden))
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        nn.init.normal_(self.entity_embed.weight, std=0.1)
        nn.init.normal_(self.position_embed.weight, std=0.1)
        nn.init.normal_(self.step_embed.weight, std=0.1)
        self.train(False)

    # --- pieces shared by training and sampling ----------------------------------------------------
    def entity_vector(self, entity: torch.Tensor) -> torch.Tensor:
        """``(B, hidden)``: the sum of the entity's token embeddings."""
        if entity.shape[1] == 0:
            return torch.zeros(entity.shape[0], self.hidden, device=entity.device)
        vector: torch.Tensor = self.entity_embed(entity + self.entity_offsets).sum(dim=1)
        return vector

    def initial_state(self, vector: torch.Tensor) -> torch.Tensor:
        """The GRU's state before the first event, ``(1, B, hidden)``."""
        return torch.tanh(self.entity_state(vector)).unsqueeze(0)

    def event_vector(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(..., hidden)``: the sum of an event's token embeddings (``tokens``: ``(..., J)``)."""
        out: torch.Tensor = self.events.embed(tokens + self.events.offsets).sum(dim=-2)
        return out

    def step_input(self, steps: torch.Tensor, position: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        """The step's and the previous event's position's part of a GRU input (``position``: its codes,
        ``(..., P)``: where in time it lies, its calendar; ``scalars``: ``(..., 2)``, where it lies
        as numbers)."""
        out: torch.Tensor = self.step_embed(steps.clamp(max=MAX_STEP - 1)) + self.time_scale(scalars)
        if self.position_cardinalities:
            out = out + self.position_embed(position + self.position_offsets).sum(dim=-2)
        return out

    # --- training ----------------------------------------------------------------------------------
    def forward(
        self,
        entity: torch.Tensor,
        events: torch.Tensor,
        position: torch.Tensor,
        scalars: torch.Tensor,
        weight: torch.Tensor,
    ) -> torch.Tensor:
        """The weighted negative log-likelihood summed over a batch of padded histories.

        ``entity``: ``(B, E)`` tokens; ``events``: ``(B, T, J)`` tokens (the step after the last event
        holds the stop flag); ``position``: ``(B, T, P)`` codes of the previous event's position in time
        (the entity's first time for the first event), ``scalars`` ``(B, T, 2)`` the same as numbers;
        ``weight``: ``(B, T, J)``, 1 where a token counts.
        """
        b, t, j = events.shape
        vector = self.entity_vector(entity)
        u = self.event_vector(events)
        previous = torch.cat([self.start.expand(b, 1, self.hidden), u[:, :-1]], dim=1)
        steps = torch.arange(t, device=events.device).expand(b, t)
        states, _ = self.gru(previous + self.step_input(steps, position, scalars), self.initial_state(vector))
        base = (states + vector.unsqueeze(1)).reshape(b * t, 1, self.hidden)
        flat = events.reshape(b * t, j)
        embedded = self.events.embed(flat + self.events.offsets)
        context = base + embedded.cumsum(dim=1) - embedded  # the tokens before each one in its event
        h = self.events.trunk(context)
        net = self.events
        logp = torch.zeros(flat.shape, device=flat.device, dtype=h.dtype)
        for k in range(len(net.buckets)):
            index = net.get_buffer(f"index_{k}")
            logits = net.heads[k](h[:, index]) + net.get_buffer(f"pad_bias_{k}")
            scores = torch.log_softmax(logits, dim=-1).gather(2, flat[:, index].unsqueeze(2)).squeeze(2)
            logp = logp.index_copy(1, index, scores)
        total: torch.Tensor = -(logp * weight.reshape(b * t, j)).sum()
        return total

    # --- sampling ----------------------------------------------------------------------------------
    def draw_event(
        self,
        base: torch.Tensor,
        known: Mapping[int, torch.Tensor],
        allowed: Mapping[int, torch.Tensor | Callable[[torch.Tensor], torch.Tensor]],
        rng: np.random.Generator,
    ) -> torch.Tensor:
        """One event's tokens ``(n, J)`` drawn token by token given ``base`` (GRU state plus entity).

        ``known[j]``: codes token ``j`` takes as given (not drawn, draws nothing); ``allowed[j]``: a
        logit bias restricting token ``j``'s codes, ``(card,)`` or per row ``(n, card)``, or a function
        of the codes drawn so far ``(n, J)`` (zeros from token ``j`` on) giving it.
        """
        net = self.events
        n = base.shape[0]
        x = torch.zeros(n, len(self.event_cardinalities), dtype=torch.long)
        context = base.clone()
        for j, card in enumerate(self.event_cardinalities):
            if j in known:
                code = known[j]
            else:
                weight, head_bias = net.head(j)
                h = net.norm(context + net.target.weight[j]).relu_()
                for block in net.blocks:
                    h = h.add_(block(h).relu_())
                logits = torch.addmm(head_bias, h, weight)
                if j in net.sub_bin_tokens:
                    logits = logits.add_(net.sub_bias(j)[x[:, j - 1]])
                if j in net.code_tokens:
                    logits = logits.add_(net.code_bias(j))
                if j in allowed:
                    bias = allowed[j]
                    logits = logits.add_(bias if isinstance(bias, torch.Tensor) else bias(x))
                cdf = logits.sub_(logits.amax(dim=1, keepdim=True)).exp_().cumsum_(dim=1)
                u = torch.from_numpy(rng.random(n, dtype=np.float32)).unsqueeze(1).mul_(cdf[:, -1:])
                code = torch.searchsorted(cdf, u).squeeze(1).clamp_(max=card - 1)
            context = context + net.embed(code + net.offsets[j])
            x[:, j] = code
        return x


def stop_bias(stop: bool) -> torch.Tensor:
    """The logit bias that forces the stop flag to ``stop``."""
    return torch.as_tensor([MASK_BIAS, 0.0] if stop else [0.0, MASK_BIAS], dtype=torch.float32)
