from __future__ import annotations

import math

import numpy as np
import pytest

from mirage.errors import OptionError
from mirage.privacy import (
    BudgetExceededError,
    ExponentialMechanism,
    GaussianMechanism,
    Ledger,
    epsilon_to_rho,
    gaussian_sigma,
    rho_to_epsilon,
    secure_discrete_gaussian,
)


def test_rho_and_epsilon_convert_both_ways() -> None:
    for epsilon, delta in [(0.3, 1e-9), (1.0, 1e-6), (10.0, 1e-5)]:
        rho = epsilon_to_rho(epsilon, delta)
        assert math.isclose(rho_to_epsilon(rho, delta), epsilon, rel_tol=1e-12)
    assert math.isclose(rho_to_epsilon(0.5, 1e-5), 0.5 + 2 * math.sqrt(0.5 * math.log(1e5)))


def test_the_gaussian_scale_follows_the_formula() -> None:
    assert math.isclose(gaussian_sigma(0.125), 2.0)
    assert math.isclose(gaussian_sigma(0.5, sensitivity=math.sqrt(2)), math.sqrt(2))
    with pytest.raises(OptionError, match="rho"):
        gaussian_sigma(0.0)


def test_the_noise_has_the_scale_it_claims() -> None:
    pytest.importorskip("opendp")
    mechanism = GaussianMechanism(rho=0.02)
    noise = secure_discrete_gaussian(np.zeros(40_000, dtype=np.int64), mechanism.sigma)
    assert mechanism.sigma == pytest.approx(5.0)
    assert abs(noise.mean()) < 0.15
    assert noise.std() == pytest.approx(5.0, rel=0.03)
    assert noise.dtype == np.int64


def test_the_noise_ignores_every_seed() -> None:
    pytest.importorskip("opendp")
    np.random.seed(0)
    a = secure_discrete_gaussian(np.zeros(50, dtype=np.int64), 10.0)
    np.random.seed(0)
    b = secure_discrete_gaussian(np.zeros(50, dtype=np.int64), 10.0)
    assert not np.array_equal(a, b)


def test_the_ledger_records_each_charge_and_refuses_to_overspend() -> None:
    pytest.importorskip("opendp")
    ledger = Ledger(1.0, 1e-6)
    half = GaussianMechanism(rho=ledger.rho_budget / 2)
    half(np.array([3, 4]), ledger=ledger, what="marginal a")
    half(np.array([3, 4]), ledger=ledger, what="marginal b")
    assert [e.what for e in ledger.entries] == ["marginal a", "marginal b"]
    assert ledger.epsilon_spent == pytest.approx(1.0)
    with pytest.raises(BudgetExceededError, match="marginal c: spending rho"):
        GaussianMechanism(rho=1e-6)(np.array([1]), ledger=ledger, what="marginal c")
    assert len(ledger.entries) == 2
    assert Ledger.from_dict(ledger.to_dict()) == ledger


def test_a_bad_budget_is_a_clear_error() -> None:
    with pytest.raises(OptionError, match="epsilon"):
        Ledger(0.0, 1e-6)
    with pytest.raises(OptionError, match="delta"):
        Ledger(1.0, 0.0)


def test_the_exponential_mechanism_is_charged_what_opendp_accounts_and_picks_a_clear_winner() -> None:
    pytest.importorskip("opendp")
    ledger = Ledger(10.0, 1e-6)
    select = ExponentialMechanism(rho=0.02)
    assert select.scale == pytest.approx(5.0)  # sensitivity / sqrt(2 rho), as the Gaussian's sigma
    # a score 200 scale units ahead loses with probability below 1e-80: the pick is certain
    assert select(np.array([0.0, 1000.0, 3.0]), ledger=ledger, what="edge 1") == 1
    assert ledger.entries[-1].what == "edge 1" and ledger.entries[-1].mechanism == "exponential"
    assert ledger.entries[-1].rho == pytest.approx(0.02)
