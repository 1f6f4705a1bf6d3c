"""argn's own AdamW: the same update as ``torch.optim.AdamW``, learning rate changes included, without
importing ``torch._dynamo``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engines.test_gan_vae_optimiser import small_network, torch_dynamo_modules_after

pytest.importorskip("torch")

import torch

from mirage.engines.argn._optimiser import AdamW

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 5e-3, "weight_decay": 1e-3},
        {"lr": 1e-2, "weight_decay": 0.2, "betas": (0.8, 0.99)},
        {"lr": 5e-2, "weight_decay": 0.0},
    ],
)
def test_twenty_steps_end_where_torch_adamw_ends(settings: dict) -> None:
    ours, theirs = small_network(5), small_network(5)
    mine = AdamW(ours.parameters(), **settings)
    reference = torch.optim.AdamW(theirs.parameters(), **settings)
    generator = torch.Generator().manual_seed(1)
    for step in range(20):
        if step == 10:  # the training loops halve the rate on an epoch without progress
            mine.lr *= 0.5
            for group in reference.param_groups:
                group["lr"] *= 0.5
        x = torch.randn(32, 6, generator=generator)
        y = torch.randn(32, 3, generator=generator)
        for net, optimiser in ((ours, mine), (theirs, reference)):
            optimiser.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            optimiser.step()
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-6), name
        assert name == "unused" or not torch.equal(a, small_network(5).get_parameter(name))
    assert torch.equal(ours.get_parameter("unused"), torch.ones(4))


@pytest.mark.slow  # a fresh interpreter importing torch: ~15 s on a loaded machine
def test_a_fit_and_a_sequence_fit_do_not_import_torch_dynamo() -> None:
    script = (
        "from mirage.engines.argn import ArgnSynthesizer\n"
        "from mirage.sequential import ArgnSequenceSynthesizer, infer_sequence_schema\n"
        "ArgnSynthesizer(max_epochs=2).fit(frame).sample(10)\n"
        "events = pd.DataFrame({'e': np.repeat(np.arange(30), 4), 't': np.tile(np.arange(4), 30),\n"
        "                       'x': rng.normal(size=120)})\n"
        "schema = infer_sequence_schema(events, 'e', 't')\n"
        "ArgnSequenceSynthesizer(max_epochs=2).fit(events, schema).sample(5)\n"
    )
    assert torch_dynamo_modules_after(script) == "[]"
