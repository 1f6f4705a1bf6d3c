"""Hyperparameters: unknown names, ``set_params``, ``clone``, and what a failed fit leaves behind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mirage
import mirage.engines
import mirage.errors
from mirage.engines import ENGINES, Synthesizer, clone
from mirage.errors import NotFittedError, OptionError
from tests.conformance.test_check_engine import PARAMS

ENGINE_NAMES = sorted(ENGINES)


def table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=rows), "g": rng.choice(["a", "b", "c"], rows)})


def learned(model: Synthesizer) -> list[str]:
    return [name for name in vars(model) if name.endswith("_")]


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_an_unknown_hyperparameter_is_an_option_error_naming_it_and_the_valid_ones(name: str) -> None:
    cls = ENGINES[name]
    with pytest.raises(OptionError, match=r"unknown hyperparameter 'bogus' .*valid: .*\bseed\b"):
        cls(bogus=1)
    with pytest.raises(OptionError, match="'bogus'"):
        cls().set_params(bogus=1)


def test_mirage_fit_names_an_unknown_hyperparameter() -> None:
    with pytest.raises(OptionError, match=r"'bogus' for the copula engine \(valid: .*shrinkage"):
        mirage.fit(table(), engine="copula", bogus=1)


def test_not_fitted_error_is_one_class_exported_from_errors_engines_and_mirage() -> None:
    assert mirage.NotFittedError is mirage.errors.NotFittedError is mirage.engines.NotFittedError
    assert issubclass(NotFittedError, mirage.MirageError)


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_set_params_sets_checks_and_returns_the_model(name: str) -> None:
    model = ENGINES[name](seed=1)
    assert model.set_params(seed=5) is model and model.get_params()["seed"] == 5
    with pytest.raises(OptionError, match="seed must be an integer >= 0, got -1"):
        model.set_params(seed=-1)
    assert model.seed == 5


def test_changing_a_fit_time_hyperparameter_discards_the_fit_but_a_sample_time_one_keeps_it() -> None:
    model = ENGINES["copula"]().fit(table())
    model.set_params(seed=0)  # unchanged value: still fitted
    assert model.is_fitted
    model.set_params(shrinkage=0.2)
    assert not model.is_fitted and not learned(model)
    with pytest.raises(NotFittedError):
        model.sample(3)


def test_sample_time_hyperparameter_keeps_the_fit() -> None:
    pytest.importorskip("torch")
    model = ENGINES["argn"](max_epochs=2).fit(table())
    model.set_params(temperature=0.5)
    assert model.is_fitted and len(model.sample(3, seed=1)) == 3


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_clone_is_a_fresh_unfitted_model_with_the_same_hyperparameters(name: str) -> None:
    model = ENGINES[name](seed=3, **PARAMS.get(name, {})).fit(table())
    copy = clone(model)
    assert type(copy) is type(model) and copy is not model
    assert copy.get_params() == model.get_params()
    assert not copy.is_fitted and not learned(copy)
    assert model.is_fitted
    with pytest.raises(OptionError, match="clone expects a Synthesizer"):
        clone("copula")  # type: ignore[type-var]


class Boom(RuntimeError):
    pass


def failing_fit(model: Synthesizer) -> None:
    def _fit(*args: object) -> None:
        model.partial_ = 1  # type: ignore[attr-defined]
        raise Boom

    model._fit = _fit  # type: ignore[method-assign]


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_a_failed_first_fit_leaves_no_learned_attribute(name: str) -> None:
    model = ENGINES[name](**PARAMS.get(name, {}))
    failing_fit(model)
    with pytest.raises(Boom):
        model.fit(table())
    assert not model.is_fitted and learned(model) == []


def test_a_failed_refit_keeps_the_previous_fit_intact() -> None:
    model = ENGINES["copula"]().fit(table())
    before, state = model.sample(50, seed=1), dict(vars(model))
    failing_fit(model)
    with pytest.raises(Boom):
        model.fit(table(300, seed=9))
    assert {k: v for k, v in vars(model).items() if k != "_fit"} == state
    pd.testing.assert_frame_equal(model.sample(50, seed=1), before)
