"""The ``gan`` engine: training-by-sampling, PacGAN packs, early stopping on detection, budgets, state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage._progress import EpochProgress, TrainingDone, progress_events_to
from mirage.errors import ModelFileError

pytest.importorskip("torch")

from mirage.engines.gan import GanSynthesizer
from mirage.engines.gan._engine import SMALL_TABLE, auto_patience
from mirage.engines.gan._training import MIN_DELTA, ConditionSampler

FAST = {"max_epochs": 20, "hidden_size": 32, "noise_size": 16}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """A rare category (3% of rows) that changes the amount, and a bimodal number."""
    rng = np.random.default_rng(0)
    n = 600
    kind = rng.choice(["common", "usual", "rare"], size=n, p=[0.6, 0.37, 0.03])
    amount = np.where(kind == "rare", 500.0, 0.0) + np.where(rng.random(n) < 0.5, 10.0, 60.0)
    return pd.DataFrame({"kind": kind, "amount": np.round(amount + rng.normal(0, 2, n), 2)})


@pytest.fixture(scope="module")
def model(table: pd.DataFrame) -> GanSynthesizer:
    return GanSynthesizer(**FAST).fit(table)


def test_training_by_sampling_picks_rare_codes_by_log_frequency(
    model: GanSynthesizer, table: pd.DataFrame
) -> None:
    layout = model.layout_
    data = layout.encode(model.encoder_.encode(table), np.random.default_rng(0))
    sampler = ConditionSampler(layout, data)
    rng = np.random.default_rng(1)
    cond, which, codes = sampler.draw(20_000, rng, training=True)
    span = next(i for i, s in enumerate(sampler.spans) if layout.subcolumns[s.subcolumn].column == "kind")
    rare = model.encoder_.encode(pd.DataFrame({"kind": ["rare"], "amount": [0.0]}))["kind::code"][0]
    picked = codes[which == span]
    # by frequency the rare code is 3% of picks; by the log of its count it is about a fifth
    assert 0.12 < np.mean(picked == rare) < 0.3
    rows = sampler.matching_rows(which, codes, rng)
    start = sampler.spans[span].start
    chosen = which == span
    assert np.all(data[rows[chosen], start + codes[chosen]] == 1.0)  # each real row has the picked code
    assert np.all(cond.sum(axis=1) == 1.0)
    _, which, codes = sampler.draw(20_000, rng, training=False)
    assert np.mean(codes[which == span] == rare) < 0.06  # sampling follows the real frequency


def test_the_rare_category_and_both_modes_are_learned(model: GanSynthesizer, table: pd.DataFrame) -> None:
    synth = model.sample(4_000, seed=1)
    assert 0.005 < (synth["kind"] == "rare").mean() < 0.2  # emitted, though 20 epochs are few
    assert model.modes_.n_modes("amount::value") >= 2
    low = synth["amount"].between(0, 30).mean()
    assert 0.2 < low < 0.8


def test_early_stopping_reads_a_validation_detection_score(table: pd.DataFrame) -> None:
    model = GanSynthesizer(**{**FAST, "max_epochs": 500, "patience": 1}).fit(table)
    training = model.training_
    assert training["stopped"] == "early_stopping" and training["epochs"] < 500
    scores = [h["detection_auc"] for h in training["history"] if "detection_auc" in h]
    assert len(scores) >= 2 and 0.5 <= min(scores) <= 1.0
    # the best kept is the first score that no later one beats by MIN_DELTA
    assert training["best_detection_auc"] in scores
    assert min(scores) >= training["best_detection_auc"] - MIN_DELTA
    assert training["pac"] == 10 and training["batch_size"] % 10 == 0


def test_by_default_training_stops_at_the_first_detection_check_that_does_not_improve(
    table: pd.DataFrame,
) -> None:
    training = GanSynthesizer(**{**FAST, "max_epochs": 500}).fit(table).training_
    checks = [h["epoch"] for h in training["history"] if "detection_auc" in h]
    assert training["stopped"] == "early_stopping"
    assert checks[-2] == training["best_epoch"] < checks[-1]


def test_the_time_budget_stops_training_and_progress_is_reported(table: pd.DataFrame) -> None:
    events: list[object] = []
    with progress_events_to(events.append):
        model = GanSynthesizer(**{**FAST, "max_epochs": 10_000, "max_training_time": 0.5}).fit(table)
    assert model.training_["stopped"] == "max_training_time"
    assert any(isinstance(e, EpochProgress) for e in events)
    assert isinstance(events[-1], TrainingDone) or any(isinstance(e, TrainingDone) for e in events)


def test_same_seed_same_weights_other_seed_other_weights(table: pd.DataFrame, model: GanSynthesizer) -> None:
    again = GanSynthesizer(**FAST).fit(table)
    a, b = model.get_state()[1], again.get_state()[1]
    assert all(np.array_equal(a[k], b[k]) for k in a)
    other = GanSynthesizer(**FAST, seed=1).fit(table).get_state()[1]
    assert not all(np.array_equal(a[k], other[k]) for k in a)


def test_the_state_round_trips_and_a_changed_hidden_size_is_refused(model: GanSynthesizer) -> None:
    state, arrays = model.get_state()
    loaded = GanSynthesizer(**FAST)
    loaded.set_state(model.schema_, state, arrays)
    pd.testing.assert_frame_equal(loaded.sample(200, seed=3), model.sample(200, seed=3))
    other = GanSynthesizer(**{**FAST, "hidden_size": 33})
    with pytest.raises(ModelFileError, match="hidden_size"):
        other.set_state(model.schema_, state, arrays)


def test_number_values_read_each_number_back_from_a_row_vector(
    model: GanSynthesizer, table: pd.DataFrame
) -> None:
    """The numbers' distribution loss compares values rebuilt from row vectors: mode mean plus spread
    times the scalar gives back each encoded value (in the sub-column's scaled units)."""
    import torch

    from mirage.engines.gan._training import NumberValues

    parts = model.encoder_.encode(table)
    data = model.layout_.encode(parts, np.random.default_rng(0))
    values = NumberValues(model.layout_)(torch.from_numpy(data)).numpy()
    assert values.shape == (len(table), 1)
    expected = model.modes_.modes["amount::value"].scale(np.asarray(parts["amount::value"], dtype="float64"))
    assert np.allclose(values[:, 0], expected, atol=1e-4)


@pytest.mark.parametrize("critic_every", [1, 3])
def test_the_critic_steps_once_per_critic_every_generator_steps(
    table: pd.DataFrame, critic_every: int
) -> None:
    model = GanSynthesizer(**{**FAST, "max_epochs": 4, "critic_every": critic_every}).fit(table)
    training = model.training_
    steps = (len(table) - training["validation_rows"]) // training["batch_size"]
    generator_steps = steps * training["epochs"]
    critic_steps = sum(entry["critic_steps"] for entry in training["history"])
    assert critic_steps == -(-generator_steps // critic_every)


def test_the_dense_span_activation_matches_the_padded_one() -> None:
    """The same Gumbel draws and probabilities as ``Activation`` (spans hundreds of logits apart), and
    each one-hot column's log-probability within its span."""
    import torch

    from mirage.engines._neural import Activation, Span
    from mirage.engines.gan._training import DenseSpans

    spans = [Span(0, 1, False, 0), Span(1, 3, True, 0), Span(4, 1, True, 1), Span(5, 4, True, 2)]
    logits = torch.randn(16, 9, generator=torch.Generator().manual_seed(0)) * 3
    logits[:, 1:4] += 300.0
    padded, dense = Activation(spans), DenseSpans(spans)
    torch.manual_seed(1)
    expected = padded(logits, 0.2)
    torch.manual_seed(1)
    assert torch.allclose(dense(logits, 0.2), expected, atol=1e-6)
    log_p, grouped = dense.log_softmax(logits), padded.grouped_log_softmax(logits)
    for i, span in enumerate(s for s in spans if s.softmax):
        cols = slice(span.start, span.start + span.width)
        assert torch.allclose(log_p[:, cols], grouped[:, i, : span.width], atol=1e-5)
    assert torch.equal(log_p[:, 0], torch.zeros(16))


def test_patience_is_one_check_on_small_tables_and_three_from_five_thousand_rows() -> None:
    assert GanSynthesizer().patience is None
    assert [auto_patience(n) for n in (100, SMALL_TABLE - 1, SMALL_TABLE, 40_000)] == [1, 1, 3, 3]
    assert GanSynthesizer(patience=2).patience == 2
