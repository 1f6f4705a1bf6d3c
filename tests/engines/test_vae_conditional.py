"""``vae``'s scenario redraw: the latent point of a row drawn given its intervened values."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from mirage.encoding import SubColumn
from mirage.encoding.modes import ModeNormaliser
from mirage.engines._neural import RowLayout
from mirage.engines.vae import VaeSynthesizer
from mirage.engines.vae._conditional import FixedRows, conditional_latents
from mirage.engines.vae._training import Decoder
from tests.engines.test_scenarios import table


def test_the_latent_is_drawn_from_its_posterior_given_the_intervened_code() -> None:
    """A one-dimensional latent whose decoder gives code 1 of ``flag`` the probability sigmoid(3z):
    given code 1, z follows N(0, 1) times sigmoid(3z), whose mean (0.69) a quadrature gives."""
    import torch

    layout = RowLayout(
        [SubColumn(name="flag", column="flag", part="code", discrete=True, cardinality=2)],
        ModeNormaliser(),
        np.zeros((1, 0), dtype="int64"),
    )
    decoder = Decoder(1, (1,), 2)
    with torch.no_grad():
        decoder.body[0].weight.fill_(1.0)
        decoder.body[0].bias.fill_(20.0)  # ReLU(z + 20) is z + 20 for any latent drawn
        decoder.out.weight.copy_(torch.tensor([[0.0], [3.0]]))
        decoder.out.bias.copy_(torch.tensor([0.0, -60.0]))
    rng = np.random.default_rng(0)
    given = FixedRows.of(layout, {"flag": np.ones(20_000, dtype="int64")}, {"flag"}, rng)
    z = conditional_latents(decoder, given, 1, rng, mode_temperature=1.0).numpy().ravel()

    grid = np.linspace(-8, 8, 16_001)
    density = np.exp(-(grid**2) / 2) / (1 + np.exp(-3 * grid))
    assert z.mean() == pytest.approx((grid * density).sum() / density.sum(), abs=0.02)


def test_a_scenario_that_changes_nothing_draws_the_rows_as_sampled() -> None:
    """Shifting ``rate`` by 0: every other column keeps the distribution the model samples.  An
    encode-decode chain through the encoder's posterior moved ``spend``'s mean by 0.15 (its residual
    spread given ``rate`` is 1)."""
    model = VaeSynthesizer(max_epochs=60, seed=0).fit(table())
    base = model.sample(10_000, seed=1)
    same = model.sample(10_000, seed=1, scenario={"shift": {"rate": 0.0}})
    assert abs(same["spend"].mean() - base["spend"].mean()) < 0.05
    assert abs((same["big"] == "yes").mean() - (base["big"] == "yes").mean()) < 0.02
    shares = [rows["segment"].value_counts(normalize=True).sort_index() for rows in (base, same)]
    assert (shares[0] - shares[1]).abs().max() < 0.02
