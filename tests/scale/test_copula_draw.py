"""The copula's draw finds codes on the normal line (issue 20, sampling throughput): the same values
as the quantile transform ``marginal.inverse(ndtr(z))`` it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

import mirage
from mirage.engines.copula import _code_thresholds, _codes


def _table(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    x = rng.normal(size=n)
    many = rng.choice([f"c{i:02d}" for i in range(30)], size=n, p=np.r_[0.5, np.full(29, 0.5 / 29)])
    return pd.DataFrame(
        {
            "x": x,
            "y": np.where(rng.random(n) < 0.1, np.nan, 2 * x + rng.normal(size=n)),
            "flag": np.where(x + rng.normal(size=n) > 0, "yes", "no"),
            "three": rng.choice(["a", "b", "c"], size=n, p=[0.7, 0.2, 0.1]),
            "many": many,
            "count": rng.poisson(3, size=n),
        }
    )


def _reference(model: object, z: np.ndarray) -> dict[str, np.ndarray]:
    u = ndtr(z)
    pairs = zip(model.subcolumns_, model.marginals_, strict=True)  # type: ignore[attr-defined]
    return {s.name: m.inverse(u[:, j]) for j, (s, m) in enumerate(pairs)}


def test_values_equal_the_quantile_transform_of_the_scores() -> None:
    model = mirage.fit(_table(), engine="copula", seed=3)
    p = len(model.subcolumns_)  # type: ignore[attr-defined]
    rng = np.random.default_rng(8)
    z = rng.standard_normal((40_000, p)) @ model.cholesky_.T  # type: ignore[attr-defined]
    z[:5] = np.array([-np.inf, -40.0, 0.0, 40.0, np.inf])[:, None]  # the far ends
    cuts = model._thresholds()  # type: ignore[attr-defined]
    sizes = [c.size for c in cuts if c is not None]
    assert max(sizes) > 4 and min(sizes) <= 4  # both ways of counting
    for j, cut in enumerate(cuts):  # scores exactly on each threshold and one float below it
        if cut is not None and cut.size:
            on = np.resize(np.r_[cut, np.nextafter(cut, -np.inf)], 1000)
            z[5 : 5 + on.size, j] = on
    drawn, expected = model._values(z), _reference(model, z)  # type: ignore[attr-defined]
    assert drawn.keys() == expected.keys()
    for name in expected:
        assert drawn[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(drawn[name], expected[name], err_msg=name)


def test_a_drawn_block_is_the_quantile_transform_of_the_normals_times_the_cholesky_factor() -> None:
    """``_sample`` multiplies in the transposed layout and finds codes through a table of bins: the
    same numbers as ``normals @ cholesky.T`` mapped by each marginal's ``inverse(ndtr(.))``."""
    model = mirage.fit(_table(), engine="copula", seed=3)
    p = len(model.subcolumns_)  # type: ignore[attr-defined]
    drawn = model._sample(50_000, np.random.default_rng(8))  # type: ignore[attr-defined]
    z = np.random.default_rng(8).standard_normal((50_000, p)) @ model.cholesky_.T  # type: ignore[attr-defined]
    expected = _reference(model, z)
    for name in expected:
        assert drawn[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(drawn[name], expected[name], err_msg=name)


def test_codes_through_the_bin_table_equal_a_binary_search_near_and_far_from_every_threshold() -> None:
    rng = np.random.default_rng(2)
    cut = np.r_[-np.inf, np.sort(rng.normal(size=30)), 7.999, 8.0, 8.5, np.inf]
    bins = np.linspace(-8.0, 8.0, 4097)  # the table's bin edges, and floats just beside them and the cuts
    finite = cut[np.isfinite(cut)]
    z = np.r_[
        rng.normal(size=20_000),
        bins,
        np.nextafter(bins, -np.inf),
        np.nextafter(bins, np.inf),
        finite,
        np.nextafter(finite, -np.inf),
        finite + 1e-10,
        [-1e300, -9.0, 9.0, 1e300],
    ]
    expected = np.searchsorted(cut, z, side="right")
    np.testing.assert_array_equal(_codes(z, cut), expected)
    np.testing.assert_array_equal(_codes(np.r_[z, np.nan, -np.inf], cut)[:-2], expected)  # not finite


@pytest.mark.parametrize(
    "table",
    [
        np.array([0.3, 1.0]),
        np.array([0.0, 0.0, 0.4, 0.4, 1.0, 1.0, 1.0]),  # codes without probability, first, middle and last
        np.array([1e-300, 0.5, 1.0 - 1e-16, 1.0]),
        np.cumsum(np.full(50, 1 / 50)),
    ],
)
def test_thresholds_are_the_first_floats_whose_normal_probability_reaches_each_step(
    table: np.ndarray,
) -> None:
    cut = _code_thresholds(table)
    assert cut.shape == (table.size - 1,) and np.all(cut[1:] >= cut[:-1])
    for p, t in zip(table[:-1], cut, strict=True):
        if p <= 0:
            assert t == -np.inf
        else:
            assert ndtr(t) >= p and ndtr(np.nextafter(t, -np.inf)) < p
    z = np.r_[cut[np.isfinite(cut)], np.nextafter(cut[np.isfinite(cut)], -np.inf), np.linspace(-9, 9, 4001)]
    reference = np.minimum(np.searchsorted(table, ndtr(z), side="right"), table.size - 1)
    np.testing.assert_array_equal(_codes(z, cut), reference)


def test_a_saved_and_loaded_model_draws_the_same_rows(tmp_path: object) -> None:
    model = mirage.fit(_table(), engine="copula", seed=3)
    before = model.sample(5000, seed=11)
    path = f"{tmp_path}/m.mirage"
    model.save(path)
    from mirage.model_file import load_model

    pd.testing.assert_frame_equal(load_model(path).sample(5000, seed=11), before)
