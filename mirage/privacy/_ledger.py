"""The privacy ledger: every mechanism call that touched the data, what it measured and what it cost.

A ledger holds the user's (epsilon, delta), turned into a zCDP budget rho; ``spend`` refuses, with
``BudgetExceededError``, any charge that would take the total past it, before the mechanism runs.  It is
stored in the model file (JSON) and shown by ``mirage budget`` and ``mirage info``.

A mechanism that is not zCDP with a finite rho (DP-SGD's subsampled Gaussian) is charged by its Renyi DP
curve at ``RDP_ORDERS`` (``spend_rdp``).  zCDP rho is RDP rho * alpha at every order, so the two add up
order by order; a ledger holding such a charge converts the total to epsilon with the RDP conversion of
Balle et al. (2020) at the order that gives the least epsilon, and refuses any charge past the user's
epsilon.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mirage.errors import MirageError, OptionError
from mirage.privacy._accounting import RDP_ORDERS, epsilon_to_rho, rdp_to_epsilon, rho_to_epsilon

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
    rdp: tuple[float, ...] = ()  # a mechanism charged by its Renyi DP at RDP_ORDERS (then rho is 0)


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
        return _epsilon_of(self.entries, self.delta / 2)

    def spend_rdp(self, what: str, rdp: list[float], *, mechanism: str, sigma: float = 0.0) -> None:
        """Record a charge given as Renyi DP at ``RDP_ORDERS``, or raise ``BudgetExceededError``
        (nothing recorded) if the total would exceed the user's epsilon."""
        curve = tuple(float(r) for r in rdp)
        if len(curve) != len(RDP_ORDERS) or not all(math.isfinite(r) and r >= 0 for r in curve):
            raise OptionError(f"{what}: a Renyi DP charge has one finite value >= 0 per order")
        entry = LedgerEntry(what, mechanism, 0.0, float(sigma), 0.0, curve)
        spent = _epsilon_of([*self.entries, entry], self.delta / 2)
        if spent > self.epsilon * (1 + SLACK):
            raise BudgetExceededError(
                f"{what}: it would take the epsilon spent to {spent:.4g}, past the privacy budget "
                f"epsilon {self.epsilon:g} at delta {self.delta:g}"
            )
        self.entries.append(entry)

    def spend(self, what: str, rho: float, *, mechanism: str, sigma: float = 0.0, delta: float = 0.0) -> None:
        """Record a charge, or raise ``BudgetExceededError`` (nothing recorded) if it would overspend."""
        if not (rho >= 0 and math.isfinite(rho)) or delta < 0:
            raise OptionError(f"{what}: a charge must be finite and >= 0, got rho {rho!r}, delta {delta!r}")
        if any(e.rdp for e in self.entries) and rho > 0:
            raise OptionError(f"{what}: a zCDP charge after a Renyi DP one; charge DP-SGD last")
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
            "mechanisms": [{**asdict(e), "share": self._share(e)} for e in self.entries],
        }

    def _share(self, entry: LedgerEntry) -> float:
        """A zCDP charge's share of the budget's rho; a Renyi DP one's, of epsilon: what the total
        epsilon would lose without it."""
        if not entry.rdp:
            return entry.rho / self.rho_budget if self.rho_budget > 0 else 0.0
        others = [e for e in self.entries if e is not entry]
        return (self.epsilon_spent - _epsilon_of(others, self.delta / 2)) / self.epsilon

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
            entries = [_entry(dict(e)) for e in data["entries"]]
            ledger = cls(float(data["epsilon"]), float(data["delta"]), entries)
        except (KeyError, TypeError, ValueError, OptionError) as exc:
            raise StateError("ledger", f"is not a privacy ledger ({exc})") from None
        if ledger.rho_spent > ledger.rho_budget * (1 + SLACK) or not (
            ledger.epsilon_spent <= ledger.epsilon * (1 + SLACK)
        ):
            raise StateError("ledger", "spends more than its budget")
        return ledger


def _entry(data: dict[str, Any]) -> LedgerEntry:
    rdp = tuple(float(r) for r in data.pop("rdp", ()))
    if rdp and len(rdp) != len(RDP_ORDERS):
        raise ValueError(f"a Renyi DP charge has {len(RDP_ORDERS)} orders, not {len(rdp)}")
    return LedgerEntry(**data, rdp=rdp)


def _epsilon_of(entries: list[LedgerEntry], delta: float) -> float:
    """The epsilon of ``entries`` at ``delta``: zCDP's conversion when every charge is zCDP (as it always
    was), else the RDP conversion of the order-by-order sum."""
    rho = math.fsum(e.rho for e in entries)
    curves = [e.rdp for e in entries if e.rdp]
    if not curves:
        return rho_to_epsilon(rho, delta)
    total = [rho * alpha + math.fsum(c[k] for c in curves) for k, alpha in enumerate(RDP_ORDERS)]
    return rdp_to_epsilon(total, delta)
