"""The history network's training loss: each counted token's log-likelihood given the entity, the
previous events and the tokens before it in its event; padding changes nothing."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from mirage.sequential._argn_network import SequenceNetwork  # noqa: E402

EVENT_CARDS = [2, 5, 3, 7]
POSITION_CARDS = [4, 6]


def _network() -> SequenceNetwork:
    torch.manual_seed(0)
    return SequenceNetwork([3, 4], EVENT_CARDS, {}, {}, 16, 1, 0.0, POSITION_CARDS, n_scalars=2)


def _batch(b: int, t: int, seed: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    entity = torch.stack([torch.randint(0, c, (b,), generator=generator) for c in (3, 4)], dim=1)
    events = torch.stack([torch.randint(0, c, (b, t), generator=generator) for c in EVENT_CARDS], dim=2)
    position = torch.stack([torch.randint(0, c, (b, t), generator=generator) for c in POSITION_CARDS], 2)
    scalars = torch.rand(b, t, 2, generator=generator)
    weight = (torch.rand(b, t, len(EVENT_CARDS), generator=generator) > 0.2).float()
    return entity, events, position, scalars, weight


def _reference(network: SequenceNetwork, *batch: torch.Tensor) -> torch.Tensor:
    """The loss token by token: ``-sum weight * log p(token | state, entity, earlier tokens)``."""
    entity, events, position, scalars, weight = batch
    b, t, j = events.shape
    net = network.events
    vector = network.entity_vector(entity)
    u = network.event_vector(events)
    previous = torch.cat([network.start.expand(b, 1, network.hidden), u[:, :-1]], dim=1)
    steps = torch.arange(t).expand(b, t)
    given = previous + network.step_input(steps, position, scalars)
    states, _ = network.gru(given, network.initial_state(vector))
    total = torch.zeros(())
    for k in range(j):
        before = net.embed(events[:, :, :k] + net.offsets[:k]).sum(dim=2) if k else torch.zeros_like(states)
        h = net.trunk((states + vector.unsqueeze(1) + before).reshape(b * t, 1, -1).expand(b * t, j, -1))
        weights, bias = net.head(k)
        logp = torch.log_softmax(h[:, k] @ weights + bias, dim=-1)
        chosen = logp.gather(1, events[:, :, k].reshape(-1, 1)).squeeze(1)
        total = total - (chosen * weight[:, :, k].reshape(-1)).sum()
    return total


def test_the_loss_is_each_counted_tokens_log_likelihood() -> None:
    network = _network()
    batch = _batch(5, 6, seed=1)
    with torch.no_grad():
        assert float(network(*batch)) == pytest.approx(float(_reference(network, *batch)), rel=1e-5)


def test_steps_whose_tokens_do_not_count_change_nothing() -> None:
    network = _network()
    entity, events, position, scalars, weight = _batch(4, 5, seed=2)
    padded = _batch(4, 9, seed=3)  # four more steps of other tokens, none of which counts
    events9, position9, scalars9, weight9 = (p.clone() for p in padded[1:])
    events9[:, :5], position9[:, :5], scalars9[:, :5] = events, position, scalars
    weight9[:, :5], weight9[:, 5:] = weight, 0.0
    weight[1, 3:] = 0.0  # a history ending early within the batch
    weight9[1, 3:5] = 0.0
    with torch.no_grad():
        short = float(network(entity, events, position, scalars, weight))
        long = float(network(entity, events9, position9, scalars9, weight9))
    assert long == pytest.approx(short, rel=1e-6)
    assert short > 0
