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
from mirage.engines.vae._training import MIN_DELTA, SIGMA_RANGE

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
    best = training["best_val_loss"]
    # a loss counts as better only by MIN_DELTA of the best, so a later one may sit a little below it
    assert best in losses and min(losses) >= best - MIN_DELTA * abs(best)


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


def test_a_continuous_columns_mode_is_drawn_sharper_as_the_mode_temperature_falls(
    model: VaeSynthesizer,
) -> None:
    """Every row's outputs alike: each mode of ``amount`` given probability 0.4 / 0.6 (scalar 0, so a
    row's value is its mode's mean).  At 1 the modes are drawn 40/60, at 0.5 in proportion to the
    squares (31/69), at 0 the likeliest one alone."""
    layout = model.layout_
    _, modes = [span for span in layout.spans if layout.subcolumns[span.subcolumn].column == "amount"]
    assert modes.width == 2
    vectors = np.zeros((20_000, layout.width), dtype="float32")
    vectors[:, modes.start : modes.start + 2] = [0.4, 0.6]
    for span in layout.code_spans:
        vectors[:, span.start] = 1.0
    likeliest = layout.normaliser.decode("amount::value", np.array([1]), np.zeros(1))[0]

    def share_of_the_likeliest(temperature: float) -> float:
        decoded = layout.decode(vectors, np.random.default_rng(0), mode_temperature=temperature)
        return float(np.isclose(decoded["amount::value"], likeliest).mean())

    assert share_of_the_likeliest(1.0) == pytest.approx(0.6, abs=0.02)
    assert share_of_the_likeliest(0.5) == pytest.approx(0.36 / 0.52, abs=0.02)
    assert share_of_the_likeliest(0.0) == 1.0


def test_a_sample_decodes_its_modes_at_the_engines_mode_temperature(table: pd.DataFrame) -> None:
    """The same weights (same seed) sampled at two temperatures: the modes decoded at 0 are each row's
    likeliest, so its rows differ from those at 1, which draws them."""
    assert VaeSynthesizer().mode_temperature == 0.7
    likeliest = VaeSynthesizer(**FAST, mode_temperature=0.0).fit(table)
    drawn = VaeSynthesizer(**FAST, mode_temperature=1.0).fit(table)
    a, b = likeliest.get_state()[1], drawn.get_state()[1]
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not likeliest.sample(500, seed=2).equals(drawn.sample(500, seed=2))


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


def test_a_file_written_before_mode_temperature_samples_its_modes_as_it_did(
    model: VaeSynthesizer, tmp_path
) -> None:
    from tests.model_files import edit_manifest

    saved = model.save(tmp_path / "vae.mirage")
    older = edit_manifest(
        saved, tmp_path / "older.mirage", lambda m: m["hyperparameters"].pop("mode_temperature")
    )
    loaded, current = mirage.load(older), mirage.load(saved)
    assert loaded.mode_temperature == 1.0 and current.mode_temperature == 0.7
    current.mode_temperature = 1.0
    pd.testing.assert_frame_equal(loaded.sample(200, seed=3), current.sample(200, seed=3))


@pytest.mark.slow
def test_the_plain_evidence_bound_keeps_a_small_table_from_being_memorised() -> None:
    """titanic, five 80/20 splits (as benchmarks/bench_classic.py splits them): with ``kl_weight=1`` the
    synthetic rows sit no closer to the learned rows than to unseen ones (mean DCR share at most 0.53).
    At TVAE's halved KL weight (0.5) and a latent of 128 it read 0.545."""
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
