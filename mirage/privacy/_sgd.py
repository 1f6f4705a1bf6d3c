"""DP-SGD's accounting and noise (Abadi et al. 2016): Poisson-subsampled steps, each row's gradient clipped
to L2 norm ``clip``, Gaussian noise of scale ``noise_multiplier * clip`` added to their sum.

The accountant is the Renyi DP analysis of the subsampled Gaussian (Mironov, Talwar and Zhang 2019), as in
Opacus' RDP accountant (a test holds the two equal);
``plan_dp_sgd`` finds the least noise multiplier whose charge, added to what the ledger already holds,
stays within the user's epsilon, and the charge goes on the ledger before a single step runs.

The noise and the batches come from the operating system's cryptographically secure generator
(``os.urandom``), never from the user's seed: an attacker who knows the seed must not know the noise,
nor which rows each batch held (the subsampling's amplification needs that secret).  Gaussians are made
by Box-Muller from 53-bit uniforms, four of them summed and halved, as Opacus' secure mode does
(a defence against floating-point attacks on a single Gaussian draw, Holohan and Braghin 2021).
OpenDP's exact sampler, used for counts, takes about 0.4 ms a draw: too slow for a noise value per
weight per step.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from mirage.errors import OptionError
from mirage.privacy._accounting import RDP_ORDERS
from mirage.privacy._ledger import BudgetExceededError, Ledger, LedgerEntry, _epsilon_of

__all__ = ["DPSGDPlan", "plan_dp_sgd", "secure_normal", "secure_uniform"]

MAX_NOISE_MULTIPLIER = 1e4
VACUOUS = 1e300


@dataclass(frozen=True)
class DPSGDPlan:
    noise_multiplier: float  # noise scale / clip
    sample_rate: float  # each row's chance to be in a step's batch
    steps: int
    rdp: tuple[float, ...]  # its Renyi DP at RDP_ORDERS


def subsampled_gaussian_rdp(sample_rate: float, noise_multiplier: float, steps: int) -> list[float]:
    """The RDP of ``steps`` Poisson-subsampled Gaussian steps at the (integer) ``RDP_ORDERS``: Mironov,
    Talwar and Zhang (2019), steps * log(A_a) / (a - 1) with
    A_a = sum_k C(a, k) q^k (1 - q)^(a - k) exp((k^2 - k) / (2 sigma^2)), the same closed form as Opacus'
    ``compute_rdp`` at integer orders (a test holds the two equal), vectorised: the noise search calls it
    a few dozen times."""
    from scipy.special import gammaln, logsumexp

    if noise_multiplier <= 0:
        return [VACUOUS] * len(RDP_ORDERS)
    q, sigma2 = float(sample_rate), float(noise_multiplier) ** 2
    out = []
    for alpha in RDP_ORDERS:
        a = int(alpha)
        if q >= 1.0:
            value = steps * a / (2.0 * sigma2)
        else:
            k = np.arange(a + 1, dtype="float64")
            log_binomial = gammaln(a + 1.0) - gammaln(k + 1.0) - gammaln(a - k + 1.0)
            terms = log_binomial + k * math.log(q) + (a - k) * math.log1p(-q) + (k * k - k) / (2.0 * sigma2)
            value = steps * float(logsumexp(terms)) / (a - 1)
        # an order where the bound overflows bounds nothing: a huge finite value says so in JSON
        out.append(value if math.isfinite(value) else VACUOUS)
    return out


def plan_dp_sgd(ledger: Ledger, sample_rate: float, steps: int, *, tolerance: float = 1e-3) -> DPSGDPlan:
    """The least noise multiplier (to a relative ``tolerance``, rounded up) for which ``steps`` steps at
    ``sample_rate`` fit in what is left of ``ledger``'s epsilon; ``BudgetExceededError`` when none does."""
    if not (0 < sample_rate <= 1) or steps < 1:
        raise OptionError(f"DP-SGD needs a sample rate in (0, 1] and steps >= 1, got {sample_rate}, {steps}")

    def fits(multiplier: float) -> bool:
        curve = tuple(subsampled_gaussian_rdp(sample_rate, multiplier, steps))
        entry = LedgerEntry("dp-sgd", "dp-sgd", 0.0, multiplier, 0.0, curve)
        return _epsilon_of([*ledger.entries, entry], ledger.delta / 2) <= ledger.epsilon

    high = 1.0
    while not fits(high):
        high *= 2.0
        if high > MAX_NOISE_MULTIPLIER:
            raise BudgetExceededError(
                f"DP-SGD: no noise multiplier up to {MAX_NOISE_MULTIPLIER:g} fits {steps} steps at sample "
                f"rate {sample_rate:.3g} in epsilon {ledger.epsilon:g}: raise epsilon or train fewer epochs"
            )
    low = high / 2.0 if high > 1.0 else 0.0  # does not fit (or is no noise at all)
    while high - low > tolerance * high:
        middle = (low + high) / 2.0
        if middle > 0 and fits(middle):
            high = middle
        else:
            low = middle
    return DPSGDPlan(high, sample_rate, steps, tuple(subsampled_gaussian_rdp(sample_rate, high, steps)))


def secure_uniform(size: int) -> np.ndarray:
    """``size`` uniforms in [0, 1), 53 bits each, from the operating system's secure generator."""
    words = np.frombuffer(os.urandom(8 * size), dtype=np.uint64)
    return (words >> np.uint64(11)).astype("float64") * 2.0**-53


def secure_normal(size: int, std: float) -> np.ndarray:
    """``size`` Gaussian values of scale ``std`` from the secure generator: four Box-Muller draws
    summed and halved (the sum of four N(0, 1) halved is N(0, 1))."""
    total = np.zeros(size)
    for _ in range(4):
        u1, u2 = secure_uniform(size), secure_uniform(size)
        total += np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * math.pi * u2)
    return total * (std / 2.0)
