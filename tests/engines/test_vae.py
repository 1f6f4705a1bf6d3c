"""The ``vae`` engine: early stopping on the held-out loss, time budget, learned noise, state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._progress import EpochProgress, progress_events_to
from mirage.errors import ModelFileError

pytest.importorskip("torch")

from mirage.engines.vae import VaeSynthesizer
from mirage.engines.vae._training import SIGMA_RANGE

FAST = {"max_epochs": 30, "hidden_size": 32, "latent_size": 8}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 1_000
    kind = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    amount = np.where(kind == "c", 500.0, 20.0) + rng.normal(0, 3, n)
    return pd.DataFrame({"kind": kind, "amount": np.round(amount, 2)})


@pytest.fixture(scope="module")
def model(table: pd.DataFrame) -> VaeSynthesizer:
    return VaeSynthesizer(**FAST).fit(table)


@pytest.mark.slow
def test_the_dependence_between_columns_is_learned(table: pd.DataFrame) -> None:
    model = VaeSynthesizer(max_epochs=100, latent_size=16).fit(table)
    synth = model.sample(4_000, seed=1)
    assert abs((synth["kind"] == "c").mean() - 0.1) < 0.05
    high = synth["amount"] > 250
    assert 0.03 < high.mean() < 0.2
    assert (synth.loc[high, "kind"] == "c").mean() > 0.5  # 0.1 if the columns were drawn independently


def test_early_stopping_reads_the_held_out_loss(table: pd.DataFrame) -> None:
    model = VaeSynthesizer(**{**FAST, "max_epochs": 2_000, "patience": 1}).fit(table)
    training = model.training_
    assert training["stopped"] == "early_stopping" and training["epochs"] < 2_000
    losses = [h["val_loss"] for h in training["history"] if "val_loss" in h]
    assert training["best_val_loss"] == pytest.approx(min(losses))


def test_the_time_budget_stops_training_and_progress_is_reported(table: pd.DataFrame) -> None:
    events: list[object] = []
    with progress_events_to(events.append):
        model = VaeSynthesizer(**{**FAST, "max_epochs": 100_000, "max_training_time": 0.5}).fit(table)
    assert model.training_["stopped"] == "max_training_time"
    assert any(isinstance(e, EpochProgress) for e in events)


def test_the_learned_noise_stays_within_its_floor(model: VaeSynthesizer) -> None:
    assert model.decoder_ is not None
    sigma = model.decoder_.sigma.detach().numpy()
    assert sigma.min() >= SIGMA_RANGE[0] and sigma.max() <= SIGMA_RANGE[1]


@pytest.mark.slow
def test_same_seed_same_weights(table: pd.DataFrame, model: VaeSynthesizer) -> None:
    a, b = model.get_state()[1], VaeSynthesizer(**FAST).fit(table).get_state()[1]
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_model_file_round_trips_and_a_changed_size_is_refused(model: VaeSynthesizer, tmp_path) -> None:
    loaded = mirage.load(model.save(tmp_path / "vae.mirage"))
    pd.testing.assert_frame_equal(loaded.sample(200, seed=3), model.sample(200, seed=3))
    state, arrays = model.get_state()
    with pytest.raises(ModelFileError, match="net."):
        VaeSynthesizer(**{**FAST, "hidden_size": 33}).set_state(model.schema_, state, arrays)


@pytest.mark.slow
def test_the_plain_evidence_bound_keeps_a_small_table_from_being_memorised() -> None:
    """titanic, five 80/20 splits (as benchmarks/bench_classic.py splits them): with ``kl_weight=1`` the
    synthetic rows sit no closer to the learned rows than to unseen ones (mean DCR share at most 0.53).
    At TVAE's halved KL weight (0.5), the default above 1,000 rows, it read 0.545."""
    from mirage.evaluation import split_holdout
    from mirage.evaluation._privacy import dcr
    from mirage.io import read_table
    from tests.conftest import FIXTURES

    data = read_table(FIXTURES / "titanic.csv")
    shares = []
    for seed in range(5):
        train, held = split_holdout(data, 0.2, seed)
        model = mirage.fit(train, engine="vae", seed=seed, kl_weight=1.0)
        synth = model.sample(len(train), seed=seed)
        shares.append(dcr(train, held, synth, model.schema_, seed=seed, return_distances=False)["dcr_share"])
    assert np.mean(shares) <= 0.53, shares


def test_the_reconstruction_loss_is_each_spans_cross_entropy_plus_the_scalars_likelihood() -> None:
    """Against a span-by-span reference, with logits hundreds apart between spans (a span's sum of
    exponentials must neither overflow nor vanish) and in its gradient."""
    import torch

    from mirage.engines._neural import Span
    from mirage.engines.vae._training import Reconstruction

    spans = [Span(0, 1, False, 0), Span(1, 3, True, 0), Span(4, 1, True, 1), Span(5, 1, False, 1)]
    spans += [Span(6, 4, True, 2)]
    generator = torch.Generator().manual_seed(0)
    x = torch.zeros(8, 10)
    x[:, [0, 5]] = torch.rand(8, 2, generator=generator) * 2 - 1
    x[torch.arange(8), 1 + torch.randint(3, (8,), generator=generator)] = 1.0
    x[:, 4] = 1.0
    x[torch.arange(8), 6 + torch.randint(4, (8,), generator=generator)] = 1.0
    logits = torch.randn(8, 10, generator=generator) * 3
    logits[:, 1:4] += 300.0
    logits[:, 6:10] -= 300.0
    logits.requires_grad_(True)
    sigma = torch.tensor([0.3, 1, 1, 1, 1, 0.07, 1, 1, 1, 1])

    reference = torch.zeros(8)
    for span in spans:
        cols = slice(span.start, span.start + span.width)
        if span.softmax:
            reference -= (torch.log_softmax(logits[:, cols], dim=1) * x[:, cols]).sum(dim=1)
        else:
            s = sigma[span.start]
            error = (x[:, span.start] - torch.tanh(logits[:, span.start])) ** 2 / 2 / s**2
            reference += error + torch.log(s)
    expected = torch.autograd.grad(reference.sum(), logits)[0]

    got = Reconstruction(spans)(logits, x, sigma)
    assert torch.allclose(got, reference, rtol=1e-5, atol=1e-4)
    assert torch.allclose(torch.autograd.grad(got.sum(), logits)[0], expected, rtol=1e-5, atol=1e-5)
