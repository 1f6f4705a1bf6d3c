"""Differential privacy: zCDP accounting, the Gaussian mechanism on a secure sampler, the budget ledger
and the empirical audit.  Engines call these mechanisms; they never draw DP noise themselves."""

from mirage.privacy._accounting import epsilon_to_rho, gaussian_sigma, rho_to_epsilon
from mirage.privacy._audit import AuditResult, audit_counting_mechanism, epsilon_lower_bound
from mirage.privacy._ledger import BudgetExceededError, Ledger, LedgerEntry
from mirage.privacy._mechanisms import ExponentialMechanism, GaussianMechanism, secure_discrete_gaussian

__all__ = [
    "AuditResult",
    "BudgetExceededError",
    "ExponentialMechanism",
    "GaussianMechanism",
    "Ledger",
    "LedgerEntry",
    "audit_counting_mechanism",
    "epsilon_lower_bound",
    "epsilon_to_rho",
    "gaussian_sigma",
    "rho_to_epsilon",
    "secure_discrete_gaussian",
]
