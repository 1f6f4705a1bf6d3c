"""The empirical audit of the Gaussian mechanism on neighbouring datasets, with OpenDP's secure sampler.

The claimed (2, 1e-3) is audited with 100,000 runs per dataset: the calibrated mechanism stays below it,
and the same mechanism with half the noise (deliberately broken) exceeds it.
"""

from __future__ import annotations

import numpy as np
import pytest

from mirage.privacy import GaussianMechanism, Ledger, audit_counting_mechanism, epsilon_lower_bound

pytest.importorskip("opendp")

EPSILON, DELTA, RUNS = 2.0, 1e-3, 100_000
COUNTS = np.array([40])  # a one-cell marginal (a count); the neighbour adds one row to it


def mechanism(noise_factor: float) -> GaussianMechanism:
    return GaussianMechanism(rho=Ledger(EPSILON, DELTA).rho_budget, noise_factor=noise_factor)


def test_the_calibrated_mechanism_stays_below_its_claimed_epsilon() -> None:
    result = audit_counting_mechanism(mechanism(1.0), COUNTS, 0, delta=DELTA / 2, runs=RUNS)
    assert result.epsilon_lower_bound < EPSILON


def test_a_mechanism_with_half_the_noise_fails_the_same_audit() -> None:
    result = audit_counting_mechanism(mechanism(0.5), COUNTS, 0, delta=DELTA / 2, runs=RUNS)
    assert result.epsilon_lower_bound > EPSILON


def test_the_lower_bound_is_vacuous_when_the_rates_agree() -> None:
    assert epsilon_lower_bound(500, 500, 10_000, 1e-3) == 0.0
    assert epsilon_lower_bound(10, 600, 10_000, 1e-3) > 2.0
