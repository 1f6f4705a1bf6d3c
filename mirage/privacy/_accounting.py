"""Zero-concentrated DP (Bun and Steinke 2016): rho-zCDP implies (rho + 2 sqrt(rho ln(1/delta)), delta)-DP.

Every mechanism is charged in rho (rho adds up under composition); the user's (epsilon, delta) is turned
into the largest rho whose conversion stays within epsilon at that delta.
"""

from __future__ import annotations

import math

from mirage.errors import OptionError

__all__ = ["epsilon_to_rho", "gaussian_sigma", "rho_to_epsilon"]


def rho_to_epsilon(rho: float, delta: float) -> float:
    """The epsilon that ``rho``-zCDP guarantees at ``delta`` (0 for rho 0)."""
    _check_delta(delta)
    if rho < 0:
        raise OptionError(f"rho must be >= 0, got {rho!r}")
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


def epsilon_to_rho(epsilon: float, delta: float) -> float:
    """The largest rho with ``rho_to_epsilon(rho, delta) <= epsilon``: (sqrt(L + eps) - sqrt(L))**2."""
    _check_delta(delta)
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise OptionError(f"epsilon must be a finite number > 0, got {epsilon!r}")
    log_term = math.log(1.0 / delta)
    return (math.sqrt(log_term + epsilon) - math.sqrt(log_term)) ** 2


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """The Gaussian noise scale that makes a query of L2 ``sensitivity`` rho-zCDP:
    sensitivity / sqrt(2 rho)."""
    if rho <= 0:
        raise OptionError(f"rho must be > 0, got {rho!r}")
    return sensitivity / math.sqrt(2.0 * rho)


def _check_delta(delta: float) -> None:
    if not (0.0 < delta < 1.0):
        raise OptionError(f"delta must be in (0, 1), got {delta!r}")
