"""``engine="auto"``: an engine whose defaults keep the no-copying bar, picked by the table's size and,
where two such engines suit it, by how well a classifier tells each one's rows from the real ones.

Mirage's benchmark tables (shared and unseen, 20+ split seeds) put ``bayesnet`` and ``gmm`` within the
bar (DCR share <= 0.53) on the tables below 5,000 rows (but for a 178-row one), where ``cart``, ``argn``
and ``copula`` resolve finely enough to sit nearer the rows they learned; which of the two gives better
rows depends on the table (``gmm`` on continuous measurements, ``bayesnet`` on tables ruled by a few
categories), so both are fitted and the one whose rows are harder to tell from the real ones is kept
(scored against the rows learned: a quarter held out read noisier and picked worse on the benchmark
tables, stop 38).  From 5,000 rows ``argn`` gives the best rows within the bar, and past ``MAX_CELLS``
the ``copula`` is the one fast enough.

Given a context (a child table's rows given their parent rows), only the engines that condition on one
are candidates, each scored on its rows beside the context rows they were drawn for (``cart`` where
none can).  That keeps no bar: on the relational benchmark's child tables they read over it as ``cart``
does (README, related tables).
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding import EncodingOptions
from mirage.engines._base import Synthesizer
from mirage.engines._registry import get_engine
from mirage.errors import DataError
from mirage.schema import Schema

__all__ = ["AutoChoice", "choose_engine", "fit_auto"]

MAX_CELLS = 5_000_000  # past this many cells the copula, the fastest engine, learns the table
NEURAL_ROWS = 5_000  # from this many rows argn keeps the bar (with PyTorch installed)
MEASURED = ("bayesnet", "gmm")
FALLBACK = "cart"  # given a context that none of the candidates conditions on
SCORED_ROWS = 5_000  # real and synthetic rows a side when the two candidates are compared
SCORE_FOLDS = 3


@dataclass(frozen=True)
class AutoChoice:
    """The engines ``auto`` fits (the better of them is kept when there are two) and why."""

    candidates: tuple[str, ...]
    reason: str


def choose_engine(data: pd.DataFrame, *, context: bool = False) -> AutoChoice:
    """The engines ``engine="auto"`` would fit on ``data`` and a one-line reason a user can read;
    ``context``: given a context, of the engines that condition on one."""
    rows, cols = data.shape
    size = f"{rows:,} rows x {cols} columns" + (" given a parent row" if context else "")
    if rows * cols > MAX_CELLS:
        return AutoChoice(("copula",), f"{size} is over {MAX_CELLS:,} cells: the copula engine is fastest")
    if rows >= NEURAL_ROWS and _has_torch():
        return AutoChoice(
            ("argn",), f"{size}: from {NEURAL_ROWS:,} rows argn gives the best rows within the bar"
        )
    if not context:
        return AutoChoice(
            MEASURED,
            f"{size}: {' and '.join(MEASURED)} keep the no-copying bar at this size; both fitted, the one "
            "whose rows a classifier tells from the real ones least kept",
        )
    able = tuple(name for name in MEASURED if get_engine(name).get_tags().context)
    if len(able) > 1:
        return AutoChoice(
            able,
            f"{size}: {' and '.join(able)} fitted given it, the one whose rows beside their parent rows a "
            "classifier tells from the real ones least kept",
        )
    named = " and ".join(MEASURED)
    if able:
        return AutoChoice(able, f"{size}: of {named}, {able[0]} conditions on one")
    return AutoChoice(
        (FALLBACK,),
        f"{size}: {named} cannot condition on one, so {FALLBACK} (which may sit nearer the rows it learned)",
    )


def fit_auto(
    data: pd.DataFrame,
    schema: Schema | None = None,
    *,
    context: pd.DataFrame | None = None,
    context_schema: Schema | None = None,
    encoding_options: EncodingOptions | None = None,
    engine_defaults: Mapping[str, Mapping[str, Any]] | None = None,
    **hyperparameters: Any,
) -> tuple[Synthesizer, str]:
    """Fit what :func:`choose_engine` picks for ``data``.

    ``engine_defaults``: per engine name, hyperparameters a candidate of that name takes unless
    ``hyperparameters`` set them (a database's, :data:`mirage.relational.DATABASE_PARAMS`).

    Of two candidates, both are fitted on all the rows and the one whose sampled rows a classifier tells
    least from ``data`` (detection AUC over ``SCORE_FOLDS`` folds, seeded by ``seed``) is kept; the
    data's warnings are said once, from the kept fit.  With ``context`` (row ``i`` the context of data
    row ``i``, see :meth:`Synthesizer.fit`) the candidates condition on it and each is scored on its rows
    drawn for the real context rows, beside them.  That the candidates keep the bar is measured on
    benchmark tables, not checked here.  Returns the fitted model and the reason, with the scores when
    measured; both are kept in the model's ``training_["auto"]`` (and so in its file)."""
    choice = choose_engine(data, context=context is not None)

    def fit(name: str) -> Synthesizer:
        params = {**(engine_defaults or {}).get(name, {}), **hyperparameters}
        return get_engine(name)(**params).fit(
            data, schema, context=context, context_schema=context_schema, encoding_options=encoding_options
        )

    if len(choice.candidates) == 1:
        return _picked(fit(choice.candidates[0]), choice.reason)
    fitted: list[tuple[Synthesizer, list[warnings.WarningMessage]]] = []
    for name in choice.candidates:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            model = fit(name)
        fitted.append((model, said))
    seed = int(hyperparameters.get("seed") or 0)
    aucs: dict[str, float] | None
    try:
        aucs = {model.name: _detection_auc(model, data, seed, context) for model, _ in fitted}
    except DataError as exc:  # too few distinct rows to score: the first candidate, and the user is told
        aucs = None
        kept, said = fitted[0]
        why = str(exc).split(";")[0]  # detection's advice after ';' (lower folds) is not the user's
        reason = f"{choice.reason}; not measured ({why}), so {kept.name}"
    else:
        scored = aucs
        kept, said = min(fitted, key=lambda pair: scored[pair[0].name])
        scores = ", ".join(f"{name} {auc:.3f}" for name, auc in aucs.items())
        reason = f"{choice.reason} (detection AUC {scores}; 0.5 = indistinguishable)"
    for text, category, filename, lineno in dict.fromkeys(
        (str(m.message), m.category, m.filename, m.lineno) for m in said
    ):
        warnings.warn_explicit(text, category, filename, lineno)
    return _picked(kept, reason, aucs)


def _detection_auc(model: Synthesizer, data: pd.DataFrame, seed: int, context: pd.DataFrame | None) -> float:
    from mirage.evaluation._detection import detection_scores

    rows = min(len(data), SCORED_ROWS)
    taken = np.random.RandomState(seed).permutation(len(data))[:rows] if rows < len(data) else None
    real = data if taken is None else data.iloc[taken]
    schema = model.schema_
    if context is None or model.context_schema_ is None:
        synthetic = model.sample(rows, seed=seed)
    else:  # each row beside the context row it was drawn for, so what it owes its parent is scored too
        given = context.reset_index(drop=True)
        given = given if taken is None else given.iloc[taken].reset_index(drop=True)
        synthetic = pd.concat([given, model.sample(context=given, seed=seed)], axis=1)
        real = pd.concat([given, real.reset_index(drop=True)], axis=1)
        schema = Schema(columns=[*model.context_schema_.columns, *model.schema_.columns])
    scores = detection_scores(
        real, synthetic, schema, max_rows=rows, folds=SCORE_FOLDS, top=0, seed=seed, n_threads=1
    )
    return float(scores["detection_auc"])


def _picked(model: Synthesizer, reason: str, aucs: dict[str, float] | None = None) -> tuple[Synthesizer, str]:
    model.training_["auto"] = {"reason": reason, **({"detection_auc": aucs} if aucs else {})}
    return model, reason


def _has_torch() -> bool:
    return importlib.util.find_spec("torch") is not None
