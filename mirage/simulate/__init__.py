"""Simulators: synthetic data from rules rather than learned from rows.

* :mod:`mirage.simulate._core`: agents with attributes, their own seeded generator and events on a
  clock with a fixed step, in blocks of ``BLOCK_AGENTS`` (the base for domain simulators).
* :func:`simulate_patients`: patients whose lives run through Synthea's Generic Module Framework
  modules, written as Synthea's CSV tables (:func:`patients_database` gives their keys).
* :func:`simulate_transactions`: card transactions of customers at merchants, with fraud labelled by
  pattern (:func:`transactions_database` gives their keys; :class:`Scenario` shifts behaviour from a date).
"""

from mirage.simulate._core import (
    BLOCK_AGENTS,
    DAY_MS,
    Agent,
    Clock,
    agent_random,
    population_blocks,
    run_blocks,
)
from mirage.simulate._gmf import CONDITION_TYPES, STATE_TYPES, GMFModule, load_module, load_modules
from mirage.simulate._patients import DEFAULT_END, STEP_MS, Patient, live, new_patient, simulate_patients
from mirage.simulate._tables import PATIENT_TABLES, SYNTHEA_CSV_VERSION, patients_database
from mirage.simulate._transactions import (
    CATEGORIES,
    CITIES,
    DEFAULT_FRAUD_MIX,
    FRAUD_PATTERNS,
    SEGMENTS,
    Scenario,
    load_scenario,
    simulate_transactions,
    transactions_database,
)

__all__ = [
    "BLOCK_AGENTS",
    "CATEGORIES",
    "CITIES",
    "DEFAULT_FRAUD_MIX",
    "FRAUD_PATTERNS",
    "SEGMENTS",
    "CONDITION_TYPES",
    "DAY_MS",
    "DEFAULT_END",
    "PATIENT_TABLES",
    "STATE_TYPES",
    "STEP_MS",
    "SYNTHEA_CSV_VERSION",
    "Agent",
    "Clock",
    "GMFModule",
    "Patient",
    "Scenario",
    "agent_random",
    "live",
    "load_module",
    "load_modules",
    "load_scenario",
    "new_patient",
    "patients_database",
    "population_blocks",
    "run_blocks",
    "simulate_patients",
    "simulate_transactions",
    "transactions_database",
]
