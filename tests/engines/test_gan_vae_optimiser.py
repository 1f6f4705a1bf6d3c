"""The neural engines' own Adam: the same update as ``torch.optim.Adam``, without importing torch._dynamo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

import torch

from mirage.engines._neural import Adam

ROOT = Path(__file__).resolve().parents[2]


def small_network(seed: int) -> torch.nn.Module:
    """A two-layer network with one parameter that never gets a gradient (shared with argn's test)."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    net.unused = torch.nn.Parameter(torch.ones(4))  # never gets a gradient: left alone by both
    return net


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 1e-3, "weight_decay": 1e-5},
        {"lr": 2e-4, "betas": (0.5, 0.9), "weight_decay": 1e-6},
        {"lr": 5e-2, "eps": 1e-6},
    ],
)
def test_twenty_steps_end_where_torch_adam_ends(settings: dict) -> None:
    ours, theirs = small_network(3), small_network(3)
    mine = Adam(ours.parameters(), **settings)
    reference = torch.optim.Adam(theirs.parameters(), **settings)
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        x = torch.randn(32, 6, generator=generator)
        y = torch.randn(32, 3, generator=generator)
        for net, optimiser in ((ours, mine), (theirs, reference)):
            optimiser.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            optimiser.step()
    moved = False
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-6), name
        moved |= not torch.equal(a, small_network(3).get_parameter(name))
    assert moved
    assert torch.equal(ours.get_parameter("unused"), torch.ones(4))
    steps = {id(p): int(step) for p, step in zip(mine.params, mine.steps, strict=True)}
    assert steps.pop(id(ours.get_parameter("unused"))) == 0 and set(steps.values()) == {20}


@pytest.mark.slow  # a fresh interpreter importing torch: ~15 s on a loaded machine
def test_a_fit_does_not_import_torch_dynamo() -> None:
    script = (
        "from mirage.engines.gan import GanSynthesizer\n"
        "from mirage.engines.vae import VaeSynthesizer\n"
        "VaeSynthesizer(max_epochs=2, hidden_size=8, latent_size=4).fit(frame).sample(10)\n"
        "GanSynthesizer(max_epochs=2, hidden_size=8, noise_size=4).fit(frame).sample(10)\n"
    )
    assert torch_dynamo_modules_after(script) == "[]"


def torch_dynamo_modules_after(script: str) -> str:
    """The ``torch._dynamo`` modules a fresh interpreter has imported after running ``script``, as the
    printed sorted list (``script`` sees ``np``, ``pd``, ``rng`` and a 300-row ``frame``)."""
    setup = (
        "import sys, numpy as np, pandas as pd\n"
        "rng = np.random.default_rng(0)\n"
        "frame = pd.DataFrame({'k': rng.choice(['a', 'b'], 300), 'x': rng.normal(size=300)})\n"
    )
    report = "print(sorted(m for m in sys.modules if m.startswith('torch._dynamo')))\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", setup + script + report],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_a_parameter_with_a_gradient_on_every_other_step_counts_only_those_steps() -> None:
    ours, theirs = small_network(4), small_network(4)
    mine = Adam(ours.parameters(), lr=1e-2, weight_decay=1e-4)
    reference = torch.optim.Adam(theirs.parameters(), lr=1e-2, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(2)
    for step in range(12):
        x = torch.randn(16, 6, generator=generator)
        for net, optimiser in ((ours, mine), (theirs, reference)):
            optimiser.zero_grad()
            loss = net(x).pow(2).mean()
            if step % 2 == 0:  # every parameter has a gradient on these steps, "unused" too
                loss = loss + net.unused.pow(2).sum()
            loss.backward()
            optimiser.step()
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-6), name
    assert not torch.equal(ours.get_parameter("unused"), torch.ones(4))
    steps = {id(p): int(step) for p, step in zip(mine.params, mine.steps, strict=True)}
    assert steps.pop(id(ours.get_parameter("unused"))) == 6 and set(steps.values()) == {12}
