"""``engine="auto"``: an engine whose defaults keep the no-copying bar, picked by the table's size and,
where two such engines suit it, by how well a classifier tells each one's rows from the real ones.

Mirage's benchmark tables (shared and unseen, 20+ split seeds) put ``bayesnet`` and ``gmm`` within the
bar (DCR share <= 0.53) on the tables below 5,000 rows (but for a 178-row one), where ``cart``, ``argn``
and ``copula`` resolve finely enough to sit nearer the rows they learned; which of the two gives better
rows depends on the table (``gmm`` on continuous measurements, ``bayesnet`` on tables ruled by a few
categories), so both are fitted on three quarters of the rows, scored against the quarter left out, and
the one whose rows are harder to tell from those unseen rows is refitted on all of them.  From 5,000
rows ``argn`` gives the best rows within the bar, and past ``MAX_CELLS`` the ``copula`` is the one fast
enough.
"""

from __future__ import annotations

import importlib.util
import warnings
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
SCORE_SHARE = 0.25  # of the rows, left out of the candidates' scoring fits and scored against
SCORED_ROWS = 5_000  # at most this many held-out rows (and as many synthetic ones) a side
SCORE_FOLDS = 3
SCORE_SPLIT = 0xA070  # the scoring split's seed stream, apart from a user's --holdout split


@dataclass(frozen=True)
class AutoChoice:
    """The engines ``auto`` fits (the better of them is kept when there are two) and why."""

    candidates: tuple[str, ...]
    reason: str


def choose_engine(data: pd.DataFrame) -> AutoChoice:
    """The engines ``engine="auto"`` would fit on ``data`` and a one-line reason a user can read."""
    rows, cols = data.shape
    size = f"{rows:,} rows x {cols} columns"
    if rows * cols > MAX_CELLS:
        return AutoChoice(("copula",), f"{size} is over {MAX_CELLS:,} cells: the copula engine is fastest")
    if rows >= NEURAL_ROWS and _has_torch():
        return AutoChoice(
            ("argn",), f"{size}: from {NEURAL_ROWS:,} rows argn gives the best rows within the bar"
        )
    return AutoChoice(
        MEASURED,
        f"{size}: bayesnet and gmm keep the no-copying bar at this size; both fitted on 3/4 of the rows, "
        "the one whose rows a classifier tells least from the other 1/4 refitted on all",
    )


def fit_auto(
    data: pd.DataFrame,
    schema: Schema | None = None,
    *,
    encoding_options: EncodingOptions | None = None,
    **hyperparameters: Any,
) -> tuple[Synthesizer, str]:
    """Fit what :func:`choose_engine` picks for ``data``.

    Of two candidates, each is fitted on a seeded ``1 - SCORE_SHARE`` of the rows and the one whose
    sampled rows a classifier tells least from the rows left out (detection AUC over ``SCORE_FOLDS``
    folds) is refitted on all of them: plain model selection on unseen rows (that both candidates keep
    the bar is measured on benchmark tables, not checked here).  Returns the fitted model and the
    reason, with the scores when measured; both are kept in the model's ``training_["auto"]`` (and so
    in its file)."""
    choice = choose_engine(data)
    if len(choice.candidates) == 1:
        return _picked(
            _fit(choice.candidates[0], data, schema, encoding_options, hyperparameters), choice.reason
        )
    seed = int(hyperparameters.get("seed") or 0)
    try:
        aucs = _held_out_detection(choice.candidates, data, schema, encoding_options, hyperparameters, seed)
    except DataError as exc:  # too few rows to score: the first candidate, and the user is told
        first = choice.candidates[0]
        reason = f"{choice.reason}; not measured ({exc}), so {first}"
        return _picked(_fit(first, data, schema, encoding_options, hyperparameters), reason)
    best = min(aucs, key=lambda name: aucs[name])
    scores = ", ".join(f"{name} {auc:.3f}" for name, auc in aucs.items())
    model = _fit(best, data, schema, encoding_options, hyperparameters)
    return _picked(
        model, f"{choice.reason} (detection AUC on held-out rows {scores}; 0.5 = indistinguishable)", aucs
    )


def _fit(
    name: str,
    data: pd.DataFrame,
    schema: Schema | None,
    encoding_options: EncodingOptions | None,
    hyperparameters: dict[str, Any],
) -> Synthesizer:
    return get_engine(name)(**hyperparameters).fit(data, schema, encoding_options=encoding_options)


def _held_out_detection(
    candidates: tuple[str, ...],
    data: pd.DataFrame,
    schema: Schema | None,
    encoding_options: EncodingOptions | None,
    hyperparameters: dict[str, Any],
    seed: int,
) -> dict[str, float]:
    from mirage.evaluation._detection import detection_scores

    order = np.random.default_rng(np.random.SeedSequence([seed, SCORE_SPLIT])).permutation(len(data))
    cut = round(SCORE_SHARE * len(data))
    held = data.iloc[np.sort(order[:cut])].reset_index(drop=True)
    learned = data.iloc[np.sort(order[cut:])].reset_index(drop=True)
    if len(held) > SCORED_ROWS:
        held = held.sample(n=SCORED_ROWS, random_state=seed)
    aucs: dict[str, float] = {}
    with warnings.catch_warnings():  # the data's warnings come once, from the fit that is kept
        warnings.simplefilter("ignore")
        for name in candidates:
            model = _fit(name, learned, schema, encoding_options, hyperparameters)
            synthetic = model.sample(len(held), seed=seed)
            scores = detection_scores(
                held,
                synthetic,
                model.schema_,
                max_rows=len(held),
                folds=SCORE_FOLDS,
                top=0,
                seed=seed,
                n_threads=1,
            )
            aucs[name] = float(scores["detection_auc"])
    return aucs


def _picked(model: Synthesizer, reason: str, aucs: dict[str, float] | None = None) -> tuple[Synthesizer, str]:
    model.training_["auto"] = {"reason": reason, **({"detection_auc": aucs} if aucs else {})}
    return model, reason


def _has_torch() -> bool:
    return importlib.util.find_spec("torch") is not None
