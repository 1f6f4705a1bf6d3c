"""The Gaussian mechanism on integer counts, with OpenDP's discrete Gaussian sampler.

OpenDP samples the discrete Gaussian exactly (Canonne, Kamath and Steinke 2020) from the operating
system's cryptographically secure generator: no floating-point attack surface, and no seed.  The
user's ``seed`` never reaches this module; it only fixes sampling from the fitted model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mirage.errors import MissingDependencyError
from mirage.privacy._accounting import gaussian_sigma
from mirage.privacy._ledger import Ledger

__all__ = ["ExponentialMechanism", "GaussianMechanism", "secure_discrete_gaussian"]

INSTALL = 'pip install "mirage-synth[dp]"'


def _opendp() -> Any:
    try:
        import opendp.prelude as dp
    except ImportError:
        raise MissingDependencyError(
            f"differential privacy needs OpenDP, which is not installed: {INSTALL}"
        ) from None
    dp.enable_features("contrib")
    return dp


def secure_discrete_gaussian(values: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` (integers) plus independent discrete Gaussian noise of scale ``sigma``
    (OpenDP, from the operating system's secure generator)."""
    dp = _opendp()
    flat = np.asarray(values, dtype=np.int64).ravel()
    if flat.size == 0:
        return flat.reshape(np.shape(values))
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int)
    measurement = space >> dp.m.then_gaussian(float(sigma))
    noisy = np.asarray(measurement([int(v) for v in flat]), dtype=np.int64)
    return noisy.reshape(np.shape(values))


@dataclass(frozen=True)
class GaussianMechanism:
    """Noisy integer counts of L2 ``sensitivity``, charged ``rho`` on a ledger.

    ``noise_factor`` multiplies the calibrated scale; 1 is the only correct value (the audit's
    deliberately broken mechanism uses 0.5).
    """

    rho: float
    sensitivity: float = 1.0
    noise_factor: float = 1.0

    @property
    def sigma(self) -> float:
        return gaussian_sigma(self.rho, self.sensitivity) * self.noise_factor

    def __call__(self, counts: np.ndarray, *, ledger: Ledger | None = None, what: str = "") -> np.ndarray:
        if ledger is not None:
            ledger.spend(what or "counts", self.rho, mechanism="gaussian", sigma=self.sigma)
        return secure_discrete_gaussian(counts, self.sigma)


@dataclass(frozen=True)
class ExponentialMechanism:
    """The index of the (noisily) largest score, each score of sensitivity ``sensitivity`` (a row added or
    removed moves every score by at most that much), charged ``rho`` on a ledger.

    OpenDP's report-noisy-max with Gumbel noise (the exponential mechanism), its scale calibrated so
    that OpenDP's own zCDP accounting of it is ``rho``: ``scale = sensitivity / sqrt(2 rho)``.
    """

    rho: float
    sensitivity: float = 1.0

    @property
    def scale(self) -> float:
        return gaussian_sigma(self.rho, self.sensitivity)

    def __call__(self, scores: np.ndarray, *, ledger: Ledger | None = None, what: str = "") -> int:
        dp = _opendp()
        space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.linf_distance(T=float)
        measurement = space >> dp.m.then_noisy_max(dp.zero_concentrated_divergence(), scale=self.scale)
        # the charge is what OpenDP's accountant says of the calibrated scale (equal to rho up to rounding)
        rho = float(measurement.map(float(self.sensitivity)))
        if ledger is not None:
            ledger.spend(what or "selection", max(rho, self.rho), mechanism="exponential", sigma=self.scale)
        return int(measurement([float(v) for v in np.asarray(scores, dtype="float64").ravel()]))
