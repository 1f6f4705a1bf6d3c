"""The privacy ledger: every mechanism call that touched the data, what it measured and what it cost.

A ledger holds the user's (epsilon, delta), turned into a zCDP budget rho; ``spend`` refuses, with
``BudgetExceededError``, any charge that would take the total past it, before the mechanism runs.  It is
stored in the model file (JSON) and shown by ``mirage budget`` and ``mirage info``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mirage.errors import MirageError, OptionError
from mirage.privacy._accounting import epsilon_to_rho, rho_to_epsilon

__all__ = ["BudgetExceededError", "Ledger", "LedgerEntry"]

SLACK = 1e-12  # rounding of float sums of shares that add up to the whole budget


class BudgetExceededError(MirageError):
    """A mechanism would spend more privacy budget than is left."""


@dataclass(frozen=True)
class LedgerEntry:
    what: str  # what was measured, such as "marginal age x income"
    mechanism: str  # "gaussian"
    rho: float
    sigma: float = 0.0
    delta: float = 0.0  # delta spent outside zCDP (a threshold on noisy counts), added to the user's delta


@dataclass
class Ledger:
    """The user's budget and every charge against it."""

    epsilon: float
    delta: float
    entries: list[LedgerEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.epsilon, bool) or not isinstance(self.epsilon, (int, float)):
            raise OptionError(f"epsilon must be a number > 0, got {self.epsilon!r}")
        epsilon_to_rho(float(self.epsilon), float(self.delta))  # checks both

    @property
    def zcdp_delta(self) -> float:
        """The delta left to the zCDP conversion after what thresholds spent."""
        return self.delta - self.delta_spent

    @property
    def rho_budget(self) -> float:
        return epsilon_to_rho(self.epsilon, self.delta / 2)

    @property
    def rho_spent(self) -> float:
        return math.fsum(e.rho for e in self.entries)

    @property
    def delta_spent(self) -> float:
        return math.fsum(e.delta for e in self.entries)

    @property
    def rho_left(self) -> float:
        return max(0.0, self.rho_budget - self.rho_spent)

    @property
    def epsilon_spent(self) -> float:
        """The epsilon of everything spent so far, at half the user's delta (the other half
        is for thresholds)."""
        return rho_to_epsilon(self.rho_spent, self.delta / 2)

    def spend(self, what: str, rho: float, *, mechanism: str, sigma: float = 0.0, delta: float = 0.0) -> None:
        """Record a charge, or raise ``BudgetExceededError`` (nothing recorded) if it would overspend."""
        if not (rho >= 0 and math.isfinite(rho)) or delta < 0:
            raise OptionError(f"{what}: a charge must be finite and >= 0, got rho {rho!r}, delta {delta!r}")
        if self.rho_spent + rho > self.rho_budget * (1 + SLACK):
            raise BudgetExceededError(
                f"{what}: spending rho {rho:.4g} would exceed the privacy budget epsilon {self.epsilon:g} "
                f"at delta {self.delta:g} (rho {self.rho_budget:.4g}, {self.rho_spent:.4g} already spent)"
            )
        if self.delta_spent + delta > self.delta / 2 * (1 + SLACK):
            raise BudgetExceededError(
                f"{what}: spending delta {delta:.3g} would exceed the half of delta {self.delta:g} "
                "kept for thresholds"
            )
        self.entries.append(LedgerEntry(what, mechanism, float(rho), float(sigma), float(delta)))

    def summary(self) -> dict[str, Any]:
        """The ledger as a report shows it: the budget, what was spent, and each mechanism's share of
        the budget's rho."""
        total = self.rho_budget
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "rho": total,
            "epsilon_spent": self.epsilon_spent,
            "rho_spent": self.rho_spent,
            "delta_spent": self.delta_spent,
            "mechanisms": [{**asdict(e), "share": e.rho / total if total > 0 else 0.0} for e in self.entries],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "rho_budget": self.rho_budget,
            "rho_spent": self.rho_spent,
            "epsilon_spent": self.epsilon_spent,
            "entries": [asdict(e) for e in self.entries],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ledger:
        from mirage._validate import StateError

        try:
            entries = [LedgerEntry(**dict(e)) for e in data["entries"]]
            ledger = cls(float(data["epsilon"]), float(data["delta"]), entries)
        except (KeyError, TypeError, ValueError, OptionError) as exc:
            raise StateError("ledger", f"is not a privacy ledger ({exc})") from None
        if ledger.rho_spent > ledger.rho_budget * (1 + SLACK):
            raise StateError("ledger", "spends more than its budget")
        return ledger
