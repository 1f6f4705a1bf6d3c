"""The neural engines' privacy knobs: what the memorisation guard tries, and a fit with its choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._warnings import MirageWarning
from mirage.errors import ModelFileError

pytest.importorskip("torch")

from mirage.engines.gan import GanSynthesizer
from mirage.engines.vae import VaeSynthesizer


def _frame(rows: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    kind = rng.choice(["a", "b", "c"], size=rows)
    return pd.DataFrame({"kind": kind, "x": np.where(kind == "a", 5.0, 0.0) + rng.normal(size=rows)})


def test_the_vae_guard_doubles_the_kl_weight_from_the_fits_own() -> None:
    for own in (0.5, 0.3):
        engine = VaeSynthesizer(kl_weight=own)
        settings = type(engine).privacy_knob.settings(engine, 1_000)
        assert [s["kl_weight"] for s in settings] == [own, own * 2, own * 4, own * 8]


def test_the_vaes_own_kl_weight_falls_as_the_rows_grow_from_twice_the_plain_bound_to_tvaes() -> None:
    knob = VaeSynthesizer.privacy_knob
    assert knob is not None
    assert [s["kl_weight"] for s in knob.settings(VaeSynthesizer(), 350)] == [2.0, 4.0, 8.0, 16.0]
    own = {
        rows: knob.settings(VaeSynthesizer(), rows)[0]["kl_weight"]
        for rows in (100, 700, 1_000, 1_400, 10**6)
    }
    assert own == {100: 2.0, 700: 1.0, 1_000: 0.7, 1_400: 0.5, 10**6: 0.5}
    assert knob.settings(VaeSynthesizer(kl_weight=0.5), 350)[0]["kl_weight"] == 0.5


def test_the_gan_guard_halves_the_width_from_the_fits_own_down_to_a_floor() -> None:
    knob = GanSynthesizer.privacy_knob
    assert knob is not None
    assert [s["hidden_size"] for s in knob.settings(GanSynthesizer(), 1_000)] == [128, 64, 32, 16]
    assert [s["hidden_size"] for s in knob.settings(GanSynthesizer(), 10_000)] == [256, 128, 64, 32]
    assert [s["hidden_size"] for s in knob.settings(GanSynthesizer(hidden_size=20), 1_000)] == [20, 16]


def test_the_gans_own_width_is_halved_below_a_thousand_rows() -> None:
    knob = GanSynthesizer.privacy_knob
    assert knob is not None
    assert [s["hidden_size"] for s in knob.settings(GanSynthesizer(), 999)] == [64, 32, 16]
    assert knob.settings(GanSynthesizer(hidden_size=128), 999)[0]["hidden_size"] == 128


@pytest.mark.slow  # fifteen small fits: ~16 s on a loaded machine
def test_a_vae_fit_under_a_limit_none_meets_trains_with_the_heaviest_kl_weight() -> None:
    settings = {"max_epochs": 3, "hidden_size": 8, "latent_size": 4}
    with pytest.warns(MirageWarning, match="vae: even at kl_weight=16.0"):
        model = VaeSynthesizer(**settings, max_dcr_share=0.01).fit(_frame())
    record = model.training_["guard"]
    # the weakest, middle and strongest of the four steps are read (mirage.engines._guard.read_steps),
    # from the fit's own weight on 150 rows, twice the plain bound's
    assert [r["setting"]["kl_weight"] for r in record["readings"]] == [2.0, 8.0, 16.0]
    assert record["chosen"] == {"kl_weight": 16.0}
    assert model.get_params()["kl_weight"] is None  # the user's setting (automatic) stays as given
    # the guard's choice is what the fit trained with: the same weights as a plain fit at kl_weight=16
    plain = VaeSynthesizer(**settings, kl_weight=16.0).fit(_frame())
    a, b = model.get_state()[1], plain.get_state()[1]
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_gan_narrowed_by_the_guard_round_trips_and_a_kept_width_is_checked(tmp_path: Path) -> None:
    settings = {"max_epochs": 2, "noise_size": 8, "hidden_size": 32}
    with pytest.warns(MirageWarning, match="gan: even at hidden_size=16"):
        model = GanSynthesizer(**settings, max_dcr_share=0.01).fit(_frame())
    assert isinstance(model, GanSynthesizer)
    assert model.training_["guard"]["chosen"] == {"hidden_size": 16}
    assert model.hidden_ == 16
    loaded = mirage.load(model.save(tmp_path / "gan.mirage"))
    assert isinstance(loaded, GanSynthesizer)
    pd.testing.assert_frame_equal(loaded.sample(100, seed=2), model.sample(100, seed=2))
    # without the guard, a recorded width other than the one given is still refused
    plain = GanSynthesizer(**settings).fit(_frame())
    state, arrays = plain.get_state()
    with pytest.raises(ModelFileError, match="hidden_size"):
        GanSynthesizer(**{**settings, "hidden_size": 16}).set_state(plain.schema_, state, arrays)
