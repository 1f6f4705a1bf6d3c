"""DP-SGD's accounting (Renyi DP of the subsampled Gaussian, on the ledger beside zCDP) and its noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mirage.errors import OptionError
from mirage.privacy import (
    RDP_ORDERS,
    BudgetExceededError,
    GaussianMechanism,
    Ledger,
    plan_dp_sgd,
    rdp_to_epsilon,
    rho_to_epsilon,
    secure_normal,
)
from mirage.privacy._sgd import subsampled_gaussian_rdp


@pytest.mark.parametrize(("q", "sigma", "steps"), [(0.01, 2.8, 2000), (0.1, 1.0, 100), (0.5, 3.0, 7)])
def test_the_rdp_is_opacus_own_analysis(q: float, sigma: float, steps: int) -> None:
    from opacus.accountants.analysis.rdp import compute_rdp

    ours = np.array(subsampled_gaussian_rdp(q, sigma, steps))
    theirs = np.array(compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=list(RDP_ORDERS)))
    finite = np.isfinite(theirs)
    assert finite.sum() > 100
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-9)


def test_full_batches_are_the_gaussian_mechanism() -> None:
    # q = 1: each step is a Gaussian of sensitivity 1 and scale sigma, rho = 1 / (2 sigma^2) per step
    curve = subsampled_gaussian_rdp(1.0, 2.0, 5)
    assert curve == pytest.approx([5 * a / 8 for a in RDP_ORDERS])


def test_the_rdp_conversion_is_never_looser_than_zcdp_for_a_zcdp_curve() -> None:
    for rho in (1e-3, 0.05, 1.0):
        curve = [rho * a for a in RDP_ORDERS]
        assert rdp_to_epsilon(curve, 1e-9) <= rho_to_epsilon(rho, 1e-9) + 1e-12


def test_the_planned_noise_is_the_least_that_fits() -> None:
    ledger = Ledger(3.0, 1e-9)
    GaussianMechanism(rho=ledger.rho_budget * 0.2)(np.array([10]), ledger=ledger, what="row count")
    plan = plan_dp_sgd(ledger, 0.05, 400)
    ledger.spend_rdp("dp-sgd", list(plan.rdp), mechanism="dp-sgd", sigma=plan.noise_multiplier)
    assert ledger.epsilon_spent <= 3.0
    # the ledger adds up: zCDP rho * alpha plus the DP-SGD curve, order by order, converted once
    total = [ledger.entries[0].rho * a + r for a, r in zip(RDP_ORDERS, plan.rdp, strict=True)]
    assert ledger.epsilon_spent == pytest.approx(rdp_to_epsilon(total, 1e-9 / 2), rel=1e-12)
    # 1% less noise would overspend: the plan is tight, not merely safe
    tighter = subsampled_gaussian_rdp(0.05, plan.noise_multiplier * 0.99, 400)
    total = [ledger.entries[0].rho * a + r for a, r in zip(RDP_ORDERS, tighter, strict=True)]
    assert rdp_to_epsilon(total, 1e-9 / 2) > 3.0


def test_the_ledger_refuses_dp_sgd_past_the_budget_and_records_nothing() -> None:
    ledger = Ledger(1.0, 1e-9)
    curve = subsampled_gaussian_rdp(0.5, 0.5, 1000)
    with pytest.raises(BudgetExceededError, match="dp-sgd: it would take the epsilon spent to"):
        ledger.spend_rdp("dp-sgd", curve, mechanism="dp-sgd")
    assert ledger.entries == []
    GaussianMechanism(rho=ledger.rho_budget)(np.array([1]), ledger=ledger, what="all of the rho")
    # the RDP conversion is tighter than zCDP's, so a little is left; a million full-batch steps is not
    with pytest.raises(BudgetExceededError, match="DP-SGD: no noise multiplier"):
        plan_dp_sgd(ledger, 1.0, 1_000_000)


def test_zcdp_after_dp_sgd_is_refused() -> None:
    ledger = Ledger(8.0, 1e-9)
    ledger.spend_rdp("dp-sgd", subsampled_gaussian_rdp(0.01, 5.0, 10), mechanism="dp-sgd")
    with pytest.raises(OptionError, match="charge DP-SGD last"):
        GaussianMechanism(rho=1e-6)(np.array([1]), ledger=ledger, what="late")


def test_a_ledger_with_dp_sgd_round_trips_and_a_tampered_one_is_refused() -> None:
    from mirage._validate import StateError

    ledger = Ledger(2.0, 1e-8)
    plan = plan_dp_sgd(ledger, 0.1, 50)
    ledger.spend_rdp("dp-sgd", list(plan.rdp), mechanism="dp-sgd", sigma=plan.noise_multiplier)
    data = ledger.to_dict()
    assert Ledger.from_dict(data) == ledger
    summary = ledger.summary()
    assert summary["mechanisms"][0]["share"] == pytest.approx(ledger.epsilon_spent / 2.0)
    data["entries"][0]["rdp"] = [10 * r for r in data["entries"][0]["rdp"]]
    with pytest.raises(StateError, match="spends more than its budget"):
        Ledger.from_dict(data)
    data["entries"][0]["rdp"] = [1.0, 2.0]
    with pytest.raises(StateError, match="not a privacy ledger"):
        Ledger.from_dict(data)


def test_the_noise_has_its_scale_and_ignores_every_seed() -> None:
    noise = secure_normal(200_000, 3.0)
    # the mean's standard error is 0.0067 and the std's 0.0047: these bounds fail with probability < 1e-20
    assert abs(noise.mean()) < 0.07
    assert noise.std() == pytest.approx(3.0, abs=0.05)
    assert math.isclose(float(np.mean(np.abs(noise) < 3.0)), 0.6827, abs_tol=0.01)
    np.random.seed(0)
    a = secure_normal(20, 1.0)
    np.random.seed(0)
    b = secure_normal(20, 1.0)
    assert not np.array_equal(a, b)
