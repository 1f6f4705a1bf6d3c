"""Mode-specific normalisation: modes found by a variational mixture, values back through their modes."""

from __future__ import annotations

import numpy as np
import pytest

from mirage.encoding import SubColumn
from mirage.encoding.modes import ModeNormaliser
from mirage.errors import ModelFileError

VALUE = SubColumn("x::value", "x", "value", discrete=False)


def _bimodal(n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(-50, 2, n // 2), rng.normal(100, 5, n - n // 2)])


def test_two_separated_bumps_are_two_modes_and_values_come_back() -> None:
    x = _bimodal()
    normaliser = ModeNormaliser(seed=1).fit({VALUE.name: x}, [VALUE], {})
    modes = normaliser.modes[VALUE.name]
    centres = modes.unscale(modes.means)
    assert normaliser.n_modes(VALUE.name) >= 2
    assert np.min(np.abs(centres - -50)) < 2 and np.min(np.abs(centres - 100)) < 3
    mode, scalar = normaliser.encode(VALUE.name, x, np.random.default_rng(2))
    assert np.all(np.abs(scalar) <= 1)
    low, high = modes.unscale(np.array([modes.low, modes.high]))
    # the only values not given back: those clipped, and the extremes beyond the 10th (value protection)
    inside = (np.abs(scalar) < 1) & (x >= low) & (x <= high)
    assert inside.mean() > 0.98
    np.testing.assert_allclose([low, high], [np.sort(x)[9], np.sort(x)[-10]], rtol=1e-12)
    np.testing.assert_allclose(
        normaliser.decode(VALUE.name, mode, scalar)[inside], x[inside], rtol=1e-9, atol=1e-9
    )


def test_a_small_table_gets_one_mode_and_gives_back_one_value() -> None:
    x = np.linspace(0, 1, 10)
    normaliser = ModeNormaliser(min_rows=10).fit({VALUE.name: x}, [VALUE], {})
    assert normaliser.n_modes(VALUE.name) == 1
    back = normaliser.decode(VALUE.name, np.zeros(5, "int64"), np.linspace(-1, 1, 5))
    np.testing.assert_allclose(back, 0.5)  # under 3 * min_rows rows, no value of its own is emitted


def test_placeholders_of_missing_cells_are_not_learned() -> None:
    x = np.where(np.arange(1000) < 500, 7.0, np.random.default_rng(0).normal(100, 1, 1000))
    present = {VALUE.name: np.arange(1000) >= 500}
    normaliser = ModeNormaliser().fit({VALUE.name: x}, [VALUE], present)
    modes = normaliser.modes[VALUE.name]
    assert modes.unscale(np.array([-1.0]))[0] > 90  # the range is that of the present values


def test_values_near_float64_limits_do_not_overflow() -> None:
    x = np.random.default_rng(0).normal(size=500) * 1e300
    with np.errstate(over="raise", invalid="raise"):
        normaliser = ModeNormaliser().fit({VALUE.name: x}, [VALUE], {})
        mode, scalar = normaliser.encode(VALUE.name, x, np.random.default_rng(0))
        back = normaliser.decode(VALUE.name, mode, scalar)
    assert np.isfinite(back).all() and x.min() <= back.min() and back.max() <= x.max()


def test_state_round_trip_and_a_bad_state_is_a_clear_error() -> None:
    x = _bimodal()
    normaliser = ModeNormaliser(seed=3).fit({VALUE.name: x}, [VALUE], {})
    state, arrays = normaliser.get_state()
    again = ModeNormaliser.from_state(state, arrays)
    mode, scalar = normaliser.encode(VALUE.name, x, np.random.default_rng(4))
    np.testing.assert_array_equal(
        again.decode(VALUE.name, mode, scalar), normaliser.decode(VALUE.name, mode, scalar)
    )
    arrays[f"{VALUE.name}.stds"] = -arrays[f"{VALUE.name}.stds"]
    with pytest.raises(ModelFileError, match="stds"):
        ModeNormaliser.from_state(state, arrays)


def test_same_seed_same_modes() -> None:
    x = _bimodal()
    a = ModeNormaliser(seed=5).fit({VALUE.name: x}, [VALUE], {}).get_state()[1]
    b = ModeNormaliser(seed=5).fit({VALUE.name: x}, [VALUE], {}).get_state()[1]
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_the_modes_are_those_of_a_full_covariance_mixture() -> None:
    """The mixture is fitted with a diagonal covariance for speed: in one dimension that is the full
    covariance's model, so the modes are those of scikit-learn's full-covariance fit."""
    import warnings

    from sklearn.mixture import BayesianGaussianMixture

    x = _bimodal()
    z = (x - x.min()) / (x.max() - x.min()) * 2 - 1
    means, stds, weights = ModeNormaliser()._mixture(z, 10, 7)
    full = BayesianGaussianMixture(
        n_components=10,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=1e-3,
        max_iter=100,
        random_state=7,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full.fit(z.reshape(-1, 1))
    top = np.argsort(full.weights_)[::-1][: means.size]
    order = top[np.argsort(full.means_.ravel()[top])]
    np.testing.assert_allclose(means, full.means_.ravel()[order], atol=1e-10)
    np.testing.assert_allclose(stds, np.sqrt(full.covariances_.ravel()[order]), atol=1e-10)
    np.testing.assert_allclose(weights, full.weights_[order] / full.weights_[order].sum(), atol=1e-10)


def test_a_spike_is_a_mode_that_decodes_to_its_value_exactly() -> None:
    """92% zeros and a long tail (adult's capital gain): the zeros are a point mode, encoded with their
    own code and decoded exactly, and the state keeps it; as a narrow Gaussian mode zero came back as
    values spread over a few hundred around it."""
    rng = np.random.default_rng(3)
    x = np.where(rng.random(5000) < 0.92, 0.0, np.round(rng.lognormal(8.0, 1.0, 5000)))
    normaliser = ModeNormaliser(seed=0)
    normaliser.reduce("gain", [normaliser.analyze(x, rng)], rng)
    mode, scalar = normaliser.encode("gain", x, np.random.default_rng(1))
    zero = int(mode[x == 0.0][0])
    assert (mode[x == 0.0] == zero).all() and zero not in set(mode[x != 0.0].tolist())
    assert (scalar[x == 0.0] == 0.0).all()
    anywhere = np.random.default_rng(2).uniform(-1.0, 1.0, 100)
    assert (normaliser.decode("gain", np.full(100, zero), anywhere) == 0.0).all()
    state, arrays = normaliser.get_state()
    again = ModeNormaliser.from_state(state, arrays)
    assert (again.decode("gain", np.full(100, zero), anywhere) == 0.0).all()
    others = again.decode("gain", mode[x != 0.0], scalar[x != 0.0])
    assert np.median(others) > 1000.0


def test_values_decoded_past_a_protected_bound_are_drawn_from_its_tail_and_saved() -> None:
    rng = np.random.default_rng(5)
    x = rng.lognormal(3.0, 0.6, 2000)
    x[0] = x.max() * 10  # a lone far outlier
    normaliser = ModeNormaliser(seed=1).fit({VALUE.name: x}, [VALUE], {})
    modes = normaliser.modes[VALUE.name]
    assert modes.tails.high.share > 0 and modes.tails.low.share > 0
    mode, scalar = normaliser.encode(VALUE.name, x, np.random.default_rng(2))
    high = float(modes.unscale(np.array([modes.high]))[0])
    folded = normaliser.decode(VALUE.name, mode, scalar)  # without a generator: folded inside, as before
    assert folded.max() <= high + 1e-9
    drawn = normaliser.decode(VALUE.name, mode, scalar, np.random.default_rng(3))
    ordered = np.sort(x)
    assert 0.003 < np.mean(drawn > high) < 0.01 and drawn.max() < 0.2 * x.max()  # the outlier: not approached
    assert not np.isin(drawn, ordered[-10:]).any()
    state, arrays = normaliser.get_state()
    again = ModeNormaliser.from_state(state, arrays)
    np.testing.assert_array_equal(again.decode(VALUE.name, mode, scalar, np.random.default_rng(3)), drawn)
    del arrays[f"{VALUE.name}.tails"]  # a file from before tails: folded inside
    assert (
        ModeNormaliser.from_state(state, arrays)
        .decode(VALUE.name, mode, scalar, np.random.default_rng(3))
        .max()
        <= high + 1e-9
    )
