"""Zero-concentrated DP (Bun and Steinke 2016): rho-zCDP implies (rho + 2 sqrt(rho ln(1/delta)), delta)-DP.

Every mechanism is charged in rho (rho adds up under composition); the user's (epsilon, delta) is turned
into the largest rho whose conversion stays within epsilon at that delta.  DP-SGD, which has no finite
rho, is charged by its Renyi DP curve (Mironov 2017) at ``RDP_ORDERS``; ``rdp_to_epsilon`` converts.
"""

from __future__ import annotations

import math

from mirage.errors import OptionError

__all__ = ["RDP_ORDERS", "epsilon_to_rho", "gaussian_sigma", "rdp_to_epsilon", "rho_to_epsilon"]

# the Renyi orders a DP-SGD charge is given at: integers (the subsampled Gaussian's RDP has a closed
# form there), every one to 128, then coarser; an epsilon of 0.3 at delta 1e-9 is best converted near
# order 70, one of 10 near 3
RDP_ORDERS: tuple[float, ...] = (
    *(float(a) for a in range(2, 129)),
    *(float(a) for a in (160, 192, 256, 384, 512, 1024)),
)


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


def rdp_to_epsilon(rdp: list[float], delta: float) -> float:
    """The least epsilon at ``delta`` over the orders of a Renyi DP curve (``rdp[k]`` at ``RDP_ORDERS[k]``):
    rdp + ln((a - 1) / a) - (ln delta + ln a) / (a - 1), Balle et al. 2020 (the conversion Opacus uses)."""
    _check_delta(delta)
    best = math.inf
    for alpha, value in zip(RDP_ORDERS, rdp, strict=True):
        epsilon = value + math.log1p(-1.0 / alpha) - (math.log(delta) + math.log(alpha)) / (alpha - 1)
        best = min(best, epsilon)
    return max(best, 0.0)


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """The Gaussian noise scale that makes a query of L2 ``sensitivity`` rho-zCDP:
    sensitivity / sqrt(2 rho)."""
    if rho <= 0:
        raise OptionError(f"rho must be > 0, got {rho!r}")
    return sensitivity / math.sqrt(2.0 * rho)


def _check_delta(delta: float) -> None:
    if not (0.0 < delta < 1.0):
        raise OptionError(f"delta must be in (0, 1), got {delta!r}")
