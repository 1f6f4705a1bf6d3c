"""Memorisation guard: an engine's privacy knob is raised until its rows stop favouring the rows it learned.

Whether a model reproduces its training rows can only be read against rows it did not learn, so the
guard reads it inside the training data, before the real fit.  The rows are cut into five folds (fewer
on large tables, where one fold holds enough rows); for each setting of the engine's privacy knob,
weakest first, the engine learns the rows outside a fold, samples as many rows as it learned, and
the DCR share (:func:`mirage.evaluation._privacy.dcr`, the figure the report's privacy check reads)
is read against the fold.  The mean over the folds is the setting's reading; the first setting that
reads at most ``max_dcr_share`` is kept, and the strongest one, with a warning, when none does.

The knob is the method's own (the rows a tree leaf must describe, the strength of a network's
regularisation), so a table that a model memorises at its default gets a coarser model, and one it
does not is left alone: nothing is tuned to the tables the project measures on.  The check only
ever strengthens a setting the user gave.  Below ``MIN_ROWS`` rows a fold is too small to read, and
the check is skipped (recorded as such).

The engines run it when their ``max_dcr_share`` hyperparameter is set (``--param
max_dcr_share=0.53``); it is off by default, for three measured reasons: a reading on a small table is
as noisy as the effect it looks for (+-0.02-0.03 over five folds of a thousand rows), the coarser
model loses structure that is the population's, not the rows' (on 2,000 rows of Adult, cart's leaves
grow from 50 to 252 rows and no longer keep that workclass and occupation are missing together), and each
setting costs up to five fits (a 3-second ``argn`` fit of titanic takes 17 seconds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mirage._progress import progress_to, report
from mirage._warnings import warn

if TYPE_CHECKING:
    from mirage.encoding import EncodingOptions
    from mirage.engines._base import Synthesizer
    from mirage.schema import Schema

__all__ = ["MIN_ROWS", "PrivacyKnob", "describe", "guard"]

MIN_ROWS = 100
FOLDS = 5
HELD_ROWS = 2_000  # enough held-out rows for a reading; past this, fewer folds are read
MAX_CHECK_ROWS = 20_000  # larger tables are checked on a sample of this many rows
TASK = "privacy check"


@dataclass(frozen=True)
class PrivacyKnob:
    """How an engine trades fidelity for distance to its training rows.

    ``settings(engine, n_rows)`` lists the hyperparameter settings to try on a table of ``n_rows``
    rows, weakest first, each a mapping of hyperparameter names to values; the first is the engine's
    own (what it would fit with without the check).  ``name`` says what the settings turn.
    """

    name: str
    settings: Callable[[Any, int], Sequence[Mapping[str, Any]]]


def guard(
    engine: Synthesizer,
    data: pd.DataFrame,
    schema: Schema,
    knob: PrivacyKnob,
    limit: float,
    *,
    context: pd.DataFrame | None = None,
    context_schema: Schema | None = None,
    options: EncodingOptions | None = None,
) -> dict[str, Any]:
    """Read the DCR share of each of ``knob``'s settings on folds of ``data``; the record of the check.

    The record's ``chosen`` is the setting to fit with (None when the check was skipped).  With a
    ``context`` (one row per data row), each trial learns and samples given the context rows of its
    training folds.
    """
    n = len(data)
    settings = list(knob.settings(engine, n))
    record: dict[str, Any] = {"knob": knob.name, "max_dcr_share": limit, "readings": [], "chosen": None}
    skipped = None
    if n < MIN_ROWS:
        skipped = f"fewer than {MIN_ROWS} rows"
    elif not any(c.kind.learned for c in schema):  # identifiers and text only: nothing is learned
        skipped = "no learned column to compare rows on"
    elif not settings:
        skipped = "no setting to try"
    if skipped is not None:
        record["skipped"] = skipped
        return record
    seed = int(getattr(engine, "seed", 0))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6A4D]))
    rows = rng.permutation(n)[: min(n, MAX_CHECK_ROWS)]
    folds = np.array_split(rows, FOLDS)
    used = min(FOLDS, max(1, math.ceil(HELD_ROWS / len(folds[0]))))
    record.update(folds=used, rows=len(rows))
    total = used * len(settings)
    done = 0
    for setting in settings:
        shares = []
        for f in range(used):
            rows_in = np.concatenate([folds[g] for g in range(FOLDS) if g != f])
            train, held = data.iloc[rows_in], data.iloc[folds[f]]
            given = (
                None if context is None else (context.iloc[rows_in], context.iloc[folds[f]], context_schema)
            )
            shares.append(_reading(engine, setting, train, held, schema, seed + f, given, options))
            done += 1
            report(TASK, done, total, describe(setting))
        share = float(np.mean(shares))
        record["readings"].append({"setting": dict(setting), "dcr_share": round(share, 4)})
        report(TASK, done, total, f"{describe(setting)}: DCR share {share:.3f}")
        if share <= limit:
            break
    # the first setting that met the limit, else the strongest
    record.update(chosen=dict(setting), met=share <= limit)
    if not record["met"]:
        warn(
            f"{engine.name}: even at {describe(setting)} the synthetic rows sit closer to the rows "
            f"learned than to unseen rows (DCR share {share:.3f} in the fit's own check, limit {limit}); "
            "the table may be too small to learn without memorising it"
        )
    report(TASK, total, total, describe(setting))
    return record


def describe(setting: Mapping[str, Any]) -> str:
    """``min_samples_leaf=100`` or ``dropout=0.45, weight_decay=0.06``."""
    return ", ".join(f"{k}={v}" for k, v in setting.items())


def _reading(
    engine: Synthesizer,
    setting: Mapping[str, Any],
    train: pd.DataFrame,
    held: pd.DataFrame,
    schema: Schema,
    seed: int,
    context: tuple[pd.DataFrame, pd.DataFrame, Schema | None] | None = None,
    options: EncodingOptions | None = None,
) -> float:
    """The DCR share of one setting: learn ``train``, read the synthetic rows against ``held``.

    ``context``: the train and held rows' contexts and its schema.  The synthetic rows are then drawn
    given the contexts of both, one row each: rows drawn given the training rows' contexts alone
    would sit near those rows (a child near the child of the same parent) without copying anything;
    given every context, a model that copies nothing reads 0.5 as without a context.
    """
    from mirage.evaluation._privacy import dcr  # the evaluation's own figure, read inside the fit

    params = {**engine.get_params(), **setting, "max_dcr_share": None, "seed": seed}
    trial = type(engine)(**params)
    with progress_to(_silent):
        if context is None:
            trial.fit(train, schema, encoding_options=options)
            synthetic = trial.sample(len(train), seed=seed)
        else:
            trained, unseen, context_schema = context
            trial.fit(train, schema, context=trained, context_schema=context_schema, encoding_options=options)
            synthetic = trial.sample(seed=seed, context=pd.concat([trained, unseen], ignore_index=True))
    return float(dcr(train, held, synthetic, schema, seed=seed, return_distances=False)["dcr_share"])


def _silent(task: str, done: int, total: int, detail: str) -> None:
    return None
