"""Differential privacy: zCDP accounting, the Gaussian mechanism on a secure sampler, the budget ledger,
DP-SGD's accounting and noise, and the empirical audit.  Engines call these mechanisms; they never draw DP
noise themselves."""

from mirage.privacy._accounting import (
    RDP_ORDERS,
    epsilon_to_rho,
    gaussian_sigma,
    rdp_to_epsilon,
    rho_to_epsilon,
)
from mirage.privacy._audit import AuditResult, audit_counting_mechanism, epsilon_lower_bound
from mirage.privacy._ledger import BudgetExceededError, Ledger, LedgerEntry
from mirage.privacy._mechanisms import ExponentialMechanism, GaussianMechanism, secure_discrete_gaussian
from mirage.privacy._sgd import DPSGDPlan, plan_dp_sgd, secure_normal, secure_uniform

__all__ = [
    "RDP_ORDERS",
    "AuditResult",
    "DPSGDPlan",
    "BudgetExceededError",
    "ExponentialMechanism",
    "GaussianMechanism",
    "Ledger",
    "LedgerEntry",
    "audit_counting_mechanism",
    "epsilon_lower_bound",
    "epsilon_to_rho",
    "gaussian_sigma",
    "plan_dp_sgd",
    "rdp_to_epsilon",
    "rho_to_epsilon",
    "secure_discrete_gaussian",
    "secure_normal",
    "secure_uniform",
]
