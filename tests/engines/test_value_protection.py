"""Value protection: a numeric or datetime value held by fewer than ``rare_min_count`` training rows
(a rare extreme above all) is never emitted, neither drawn as it is nor reached by clipping; the rows
past the protected bounds are drawn from a smooth tail, with their share, not folded inside."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions
from mirage.engines import (
    BayesNetSynthesizer,
    Between,
    CartSynthesizer,
    CopulaSynthesizer,
    GmmSynthesizer,
    KdeSynthesizer,
    Synthesizer,
)
from mirage.engines._protect import protected_range, rank_windows
from tests.conformance.test_check_engine import PARAMS


def _table_with_rare_extremes(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    amount = rng.lognormal(3.0, 0.5, size=rows).round(2)
    amount[:3] = [25_000.0, 40_000.0, 90_000.0]  # three customers nobody else resembles
    hours = rng.integers(0, 90 * 24, size=rows)
    stamps = (np.datetime64("2024-01-01T00:00", "ns") + hours * np.timedelta64(1, "h")).astype(
        "datetime64[ns]"
    )
    stamps[3:5] = np.array(["2031-06-01T03:17", "2032-02-29T23:59"], dtype="datetime64[ns]")
    return pd.DataFrame(
        {"segment": rng.choice(["a", "b", "c"], size=rows), "amount": amount, "paid_at": stamps}
    )


def _argn(seed: int) -> Synthesizer:
    pytest.importorskip("torch")
    from mirage.engines.argn import ArgnSynthesizer

    return ArgnSynthesizer(seed=seed, max_epochs=3)


def _gan(seed: int) -> Synthesizer:
    pytest.importorskip("torch")
    from mirage.engines.gan import GanSynthesizer

    return GanSynthesizer(seed=seed)  # at FAST's few steps the generator barely reaches the tails


def _vae(seed: int) -> Synthesizer:
    pytest.importorskip("torch")
    from mirage.engines.vae import VaeSynthesizer

    return VaeSynthesizer(seed=seed, **PARAMS.get("vae", {}))


# one of each protection mechanism: cart's leaf windows, the quantile marginals (copula, gmm, kde),
# the discretiser's end intervals (bayesnet, argn), the mode normaliser (gan, vae)
ENGINES = [
    CartSynthesizer,
    CopulaSynthesizer,
    GmmSynthesizer,
    KdeSynthesizer,
    BayesNetSynthesizer,
    _argn,
    _gan,
    _vae,
]


@pytest.mark.parametrize("engine", ENGINES)
def test_rare_extremes_are_never_emitted_nor_approached(engine: Callable[..., Synthesizer]) -> None:
    frame = _table_with_rare_extremes()
    synth = engine(seed=1).fit(frame).sample(4000, seed=2)
    amount = np.sort(frame["amount"].to_numpy())
    # the three customers nobody resembles (25,000 and up) are not approached; the tail's own reach is a
    # few of its typical excesses past the 10th largest amount (about 60)
    assert synth["amount"].max() < 1_000 and synth["amount"].min() >= 0
    assert not synth["amount"].isin(amount[-3:]).any()
    stamps = np.sort(frame["paid_at"].to_numpy())
    assert synth["paid_at"].max() < np.datetime64("2025-01-01")
    assert not synth["paid_at"].isin(stamps[-2:]).any()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_tail_past_the_protected_bound_keeps_its_share(engine: Callable[..., Synthesizer]) -> None:
    rng = np.random.default_rng(3)
    rows = 1_000
    amount = rng.lognormal(3.0, 0.6, rows)  # continuous: an exact match would be a copy
    amount[0] = amount.max() * 10  # a lone far outlier
    frame = pd.DataFrame({"segment": rng.choice(["a", "b"], rows), "amount": amount})
    synth = engine(seed=1).fit(frame).sample(8_000, seed=2)["amount"].to_numpy()
    ordered = np.sort(amount)
    bound, share = ordered[-10], 9 / rows  # value protection's bound: the 10th largest
    assert 0.3 * share < np.mean(synth > bound) < 3.0 * share  # main drew none past it
    assert np.mean(synth > np.quantile(amount, 0.99)) > 0.004  # the real share is 0.01
    assert not np.isin(synth, ordered[-10:]).any()
    assert synth.max() < ordered[-2] + (ordered[-2] - bound)  # the outlier's ten times is not approached


def test_cart_without_protection_emits_training_values() -> None:
    frame = _table_with_rare_extremes()
    no_protection = EncodingOptions(rare_min_count=1)
    synth = (
        CartSynthesizer(smoothing=0.0, seed=1).fit(frame, encoding_options=no_protection).sample(4000, seed=2)
    )
    assert synth["amount"].isin(frame["amount"]).all()


def test_rank_windows_span_k_rows_and_keep_shared_values_exact() -> None:
    column = np.array([0.0] * 12 + [1.0, 2.0, 3.0, 4.0, 5.0, 100.0])
    lo, hi = rank_windows(np.array([0.0, 3.0, 100.0]), column, 4)
    assert lo[0] == hi[0] == 0.0  # held by 12 rows: its own window
    assert (lo[1], hi[1]) == (2.0, 5.0)
    assert (lo[2], hi[2]) == (3.0, 100.0)  # the extreme: a draw over the four largest values
    assert list(protected_range(column, 4)) == [0.0, 0.0, 0.0, 3.0]  # [low, a, b, high]


@pytest.mark.parametrize("rows", [1, 20, 30, 35, 40, 200])
def test_protected_range_is_ordered_at_any_size(rows: int) -> None:
    bounds = protected_range(np.linspace(0.0, 1.0, rows), 10)
    assert np.all(np.diff(bounds) >= 0)


def test_a_condition_past_the_protected_bound_draws_from_the_tail() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"segment": rng.choice(["a", "b"], 1_000), "amount": rng.lognormal(3.0, 0.6, 1_000)})
    model = CopulaSynthesizer(seed=1).fit(frame)
    past = float(np.sort(frame["amount"])[-10]) + 1.0  # beyond the 10th largest: main drew nothing there
    synth = model.sample(50, seed=2, conditions={"amount": Between(past, None)})
    assert len(synth) == 50 and (synth["amount"] >= past).all()
