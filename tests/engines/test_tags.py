"""Capability tags: what each engine declares, and the base contract for what it does not support."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from mirage.engines import ENGINES, EngineTags, Synthesizer
from mirage.engines.copula import CopulaSynthesizer
from mirage.errors import OptionError
from tests.conformance.test_check_engine import PARAMS

ENGINE_NAMES = sorted(ENGINES)


def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=100), "g": rng.choice(["a", "b"], 100)})


def test_tags_are_frozen_and_default_to_nothing_beyond_fit_and_sample() -> None:
    tags = Synthesizer.get_tags()
    assert tags == EngineTags()
    assert not any(dataclasses.asdict(tags).values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        tags.impute = True  # type: ignore[misc]


def test_each_built_in_engine_declares_what_it_can_do() -> None:
    tags = {name: ENGINES.unchecked(name).get_tags() for name in ENGINE_NAMES}
    assert tags["argn"] == EngineTags(
        native_conditions=True, impute=True, log_prob=True, context=True, privacy_guard=True, scenario=True
    )
    assert tags["cart"] == EngineTags(
        native_conditions=True, impute=True, context=True, privacy_guard=True, scenario=True
    )
    assert tags["copula"] == EngineTags(native_conditions=True, impute=True, context=True, scenario=True)
    assert tags["bayesnet"] == EngineTags(
        native_conditions=True, impute=True, log_prob=True, context=True, privacy_guard=True, scenario=True
    )
    assert tags["gmm"].context and tags["gmm"].impute and tags["gmm"].scenario
    assert {n for n, t in tags.items() if t.context} == {"argn", "bayesnet", "cart", "copula", "gmm"}


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_privacy_guard_follows_the_privacy_knob(name: str) -> None:
    cls = ENGINES.unchecked(name)
    assert cls.get_tags().privacy_guard == (cls.privacy_knob is not None)
    assert cls.get_tags().privacy_guard == ("max_dcr_share" in cls.params)


class UntaggedCopula(CopulaSynthesizer):
    """The copula engine with no capability declared: the base class refuses what the tags deny."""

    tags = EngineTags()


def test_an_engine_without_impute_says_so_by_name() -> None:
    model = UntaggedCopula().fit(table())
    can = "argn, bayesnet, cart, copula, gmm, kde"
    with pytest.raises(OptionError, match=rf"the copula engine cannot impute .*impute=False.*{can}"):
        model.impute(table())


@pytest.mark.parametrize("name", [n for n in ENGINE_NAMES if not ENGINES.unchecked(n).get_tags().log_prob])
def test_an_engine_without_a_capability_says_so_by_name(name: str) -> None:
    model = ENGINES[name](**PARAMS.get(name, {})).fit(table())
    no_log_prob = rf"the {name} engine cannot give log-probabilities .*log_prob=False"
    with pytest.raises(OptionError, match=no_log_prob):
        model.log_prob(table())
