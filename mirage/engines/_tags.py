"""What an engine can do, declared once per class and read by the CLI and the conformance suite."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EngineTags"]


@dataclass(frozen=True)
class EngineTags:
    """An engine's capabilities, in the scikit-learn style (read them with ``Engine.get_tags()``).

    * ``native_conditions``: ``sample(conditions=...)`` draws matching rows directly instead of
      filtering unconditioned ones (every engine accepts conditions; the others reject rows).
    * ``impute``: ``impute(data)`` fills missing cells given the rest of each row (partial-row sampling).
    * ``log_prob``: ``log_prob(data)`` gives each row's log-probability under the model.
    * ``context``: ``fit(data, context=...)`` learns each row given a context row (a parent table's
      row, later an entity's history) and ``sample(context=...)`` draws one row given each.
    * ``differential_privacy``: the fit spends a differential privacy budget.
    * ``privacy_guard``: the engine has a privacy knob the memorisation guard can strengthen
      (``max_dcr_share``); ``get_tags`` derives it from the class's ``privacy_knob``.
    * ``scenario``: ``sample(scenario=...)`` redraws what depends on the intervened columns given them
      (see :mod:`mirage.engines._scenario`); the others refuse a scenario.
    """

    native_conditions: bool = False
    impute: bool = False
    log_prob: bool = False
    context: bool = False
    differential_privacy: bool = False
    privacy_guard: bool = False
    scenario: bool = False
