"""The argn network under per-row gradient wrappers (Opacus' GradSampleModule) and torch.compile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.engines.argn import ArgnSynthesizer

torch = pytest.importorskip("torch")
opacus = pytest.importorskip("opacus")


@pytest.fixture(scope="module")
def fitted() -> ArgnSynthesizer:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], size=300),
            "size": rng.normal(10, 3, size=300).round(2),
            "count": rng.integers(0, 5, size=300),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, size=300), unit="D"),
        }
    )
    synthesizer = ArgnSynthesizer(max_epochs=2, seed=0)
    synthesizer.fit(frame)
    return synthesizer


def _network_and_batch(fitted: ArgnSynthesizer, n: int) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A copy of the fitted network in training mode without dropout, ``n`` rows and their context mask."""
    assert fitted.network_ is not None
    network = fitted._new_network(fitted.depth, 0.0)
    network.load_state_dict(fitted.network_.state_dict())
    network.train(True)
    tokens = torch.as_tensor(fitted.discretiser_.encode(fitted.encoder_.encode(fitted.sample(n, seed=3))))
    mask = network.context_mask(n, 0.5, torch.Generator().manual_seed(4))
    return network, tokens, mask


def _gradients(network: torch.nn.Module, tokens: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    network.zero_grad(set_to_none=True)
    (-network.log_likelihood(tokens, mask).mean()).backward()
    return {name: p.grad.detach().clone() for name, p in network.named_parameters()}


# the embedding's input (token codes) needs no gradient, so Opacus' backward hook fires on its output
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_grad_sample_module_gives_every_parameter_its_per_row_gradients(fitted: ArgnSynthesizer) -> None:
    from opacus import GradSampleModule

    n = 12
    network, tokens, mask = _network_and_batch(fitted, n)
    plain, _, _ = _network_and_batch(fitted, n)
    wrapped = GradSampleModule(network)
    loss = -wrapped(tokens, mask).sum(dim=1).mean()
    loss.backward()
    ordinary = _gradients(plain, tokens, mask)
    one_row = {i: _gradients(plain, tokens[i : i + 1], mask[i : i + 1]) for i in (0, n - 1)}
    names = [name for name, _ in network.named_parameters()]
    assert any(name.startswith("heads.") for name in names) and "target.weight" in names
    for name, p in network.named_parameters():
        sample = getattr(p, "grad_sample", None)
        assert sample is not None, name
        assert sample.shape == (n, *p.shape), name
        torch.testing.assert_close(sample.mean(dim=0), ordinary[name], rtol=1e-4, atol=1e-6, msg=name)
        for i, grads in one_row.items():
            torch.testing.assert_close(sample[i], grads[name], rtol=1e-4, atol=1e-6, msg=f"{name} row {i}")


def test_torch_compile_gives_the_same_log_likelihoods(fitted: ArgnSynthesizer) -> None:
    network, tokens, mask = _network_and_batch(fitted, 40)
    network.train(False)
    compiled = torch.compile(network, backend="eager")
    with torch.no_grad():
        for sub_bins in (False, True):
            expected = network(tokens, mask, sub_bins)
            torch.testing.assert_close(compiled(tokens, mask, sub_bins), expected, rtol=0, atol=0)
