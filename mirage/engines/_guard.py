"""Memorisation guard: an engine's privacy knob is raised until its rows stop favouring the rows it learned.

Whether a model reproduces its training rows can only be read against rows it did not learn, so the
guard reads it inside the training data, before the real fit.  The rows are cut into five folds (fewer
on large tables, where one fold holds enough rows); for each setting of the engine's privacy knob,
weakest first, the engine learns the rows outside a fold, samples ``SYNTHETIC_FACTOR`` times as many
rows as it learned (more synthetic rows leave the reading's expectation as it is and shrink the
synthetic side of its noise), and the DCR share (:func:`mirage.evaluation._privacy.dcr`, the figure the
report's privacy check reads) is read against the fold.  The mean over the folds is the setting's
reading.

A single reading is as noisy as the effect it looks for (+-0.02-0.03 on a table of a thousand rows,
and the readings of two settings on the same folds are hardly correlated), so the first setting that
happens to read under the limit is not taken.  The ladder is the engine's own, geometric and capped
(cart: leaves 1.5 times larger a step, five steps at most); the weakest, the middle and the strongest
setting are read, their mean readings are fitted by a non-increasing sequence (isotonic regression: a
stronger setting does not copy more, so a stronger one reading higher than a weaker one is noise and
both get their pooled mean), the steps between lie on the straight line between their neighbours, and
the setting kept is the weakest of the whole ladder whose *fitted* share is at most
``max_dcr_share``.  A table the model clearly does not memorise (the engine's own setting reads
``CLEAR_MARGIN`` under the limit) costs one setting's readings, any other three.  When no setting
meets the limit, the strongest is kept, with a warning.

The knob is the method's own (the rows a tree leaf must describe, the strength of a network's
regularisation), so a table that a model memorises at its default gets a coarser model, and one it
does not is left alone: nothing is tuned to the tables the project measures on.  The check only
ever strengthens a setting the user gave.  Below ``MIN_ROWS`` rows a fold is too small to read, and
above the knob's ``max_rows`` the engine reads under the bar at its own setting, so the check is
skipped on both (recorded as such).

The engines run it when their ``max_dcr_share`` hyperparameter is set (``--param
max_dcr_share=0.53``; ``DEFAULT_MAX_DCR_SHARE`` is that bar, for the engines' defaults to name).  It is
off by default, on 20 split seeds of cart: it brings titanic (0.552 -> 0.518) and insurance (0.555 ->
0.530) to the bar but not diabetes (0.554 -> 0.558: larger leaves do not lower its share), the
coarser model loses structure that is the population's (detection AUC up by 0.15-0.24 on titanic,
insurance, diabetes, breast cancer and 2,000 rows of Adult), and the readings cost 1.5-7 CPU seconds
on a small table whose fit takes a tenth of one.
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

__all__ = [
    "DEFAULT_MAX_DCR_SHARE",
    "MIN_ROWS",
    "PrivacyKnob",
    "describe",
    "decreasing_fit",
    "guard",
    "outcome",
    "read_steps",
]

# the limit the engines' ``max_dcr_share`` defaults to: the project's bar, as the report reads it
# (mirage.evaluation._privacy.DCR_SHARE_LIMIT; not imported, the evaluation is loaded lazily)
DEFAULT_MAX_DCR_SHARE = 0.53
MIN_ROWS = 100
FOLDS = 5
HELD_ROWS = 2_000  # enough held-out rows for a reading; past this, fewer folds are read
MAX_CHECK_ROWS = 20_000  # larger tables are checked on a sample of this many rows
SYNTHETIC_FACTOR = 4  # synthetic rows drawn per learned row in each reading ...
SYNTHETIC_ROWS = 10_000  # ... up to this many (or as many as learned, if more)
CLEAR_MARGIN = 0.02  # an engine's own setting reading this far under the limit is kept unread further
TASK = "privacy check"


@dataclass(frozen=True)
class PrivacyKnob:
    """How an engine trades fidelity for distance to its training rows.

    ``settings(engine, n_rows)`` lists the hyperparameter settings to try on a table of ``n_rows``
    rows, weakest first, each a mapping of hyperparameter names to values; the first is the engine's
    own (what it would fit with without the check).  ``name`` says what the settings turn.
    ``max_rows``: tables of more rows are not checked (the engine was measured at or under the bar
    there at its own setting, and a reading would cost more than the fit); None: no such size.
    """

    name: str
    settings: Callable[[Any, int], Sequence[Mapping[str, Any]]]
    max_rows: int | None = None


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
    """Read the DCR share of ``knob``'s settings on folds of ``data``; the record of the check.

    The record's ``chosen`` is the setting to fit with (None when the check was skipped), chosen by
    its ``fitted_share``; each reading holds a setting read, its mean share over the folds
    (``dcr_share``) and the decreasing fit there (``fitted``).  With a ``context`` (one row per data
    row), each trial learns and samples given the context rows of its training folds.
    """
    n = len(data)
    settings = list(knob.settings(engine, n))
    record: dict[str, Any] = {"knob": knob.name, "max_dcr_share": limit, "readings": [], "chosen": None}
    skipped = None
    if n < MIN_ROWS:
        skipped = f"fewer than {MIN_ROWS} rows"
    elif knob.max_rows is not None and n > knob.max_rows:
        skipped = f"more than {knob.max_rows:,} rows"
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
    steps = read_steps(len(settings))
    total = used * len(steps)
    done = 0
    read: list[int] = []  # the steps read, and their mean shares
    means: list[float] = []
    for step in steps:
        setting = settings[step]
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
        read.append(step)
        means.append(float(np.mean(shares)))
        record["readings"].append({"setting": dict(setting), "dcr_share": round(means[-1], 4)})
        report(TASK, done, total, f"{describe(setting)}: DCR share {means[-1]:.3f}")
        if step == 0 and means[-1] <= limit - CLEAR_MARGIN:
            break  # clearly under the limit at the engine's own setting: nothing to strengthen
    at_read = decreasing_fit(means)
    for reading, value in zip(record["readings"], at_read, strict=True):
        reading["fitted"] = round(value, 4)
    # the steps between two read ones lie on the straight line between their fitted shares
    fitted = list(np.interp(np.arange(read[-1] + 1), read, at_read))
    # the weakest setting whose fitted share meets the limit, else the strongest
    met = [k for k, value in enumerate(fitted) if value <= limit]
    k = met[0] if met else len(fitted) - 1
    record.update(chosen=dict(settings[k]), met=bool(met), fitted_share=round(float(fitted[k]), 4))
    if not met:
        warn(
            f"{engine.name}: even at {describe(settings[k])} the synthetic rows sit closer to the rows "
            f"learned than to unseen rows (DCR share {fitted[k]:.3f} in the fit's own check, limit {limit}); "
            "the table may be too small to learn without memorising it"
        )
    report(TASK, total, total, describe(settings[k]))
    return record


def read_steps(count: int) -> list[int]:
    """The steps of a ladder of ``count`` settings that are read: all of up to three, else the
    weakest, the middle and the strongest (the fitted line places the others between them)."""
    if count <= 3:
        return list(range(count))
    return [0, count // 2, count - 1]


def decreasing_fit(values: Sequence[float]) -> list[float]:
    """The non-increasing sequence closest to ``values`` in squared error (isotonic regression, by
    pooling adjacent violators): a stronger setting that reads higher than a weaker one is noise, and
    both get their mean."""
    blocks: list[list[float]] = []  # [mean, count]
    for value in values:
        blocks.append([float(value), 1.0])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            (m2, c2), (m1, c1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    return [mean for mean, count in blocks for _ in range(int(count))]


def outcome(record: Mapping[str, Any]) -> str:
    """One line for ``mirage fit``: ``min_samples_leaf=112 (fitted DCR share 0.521, limit 0.53)``."""
    if "skipped" in record:
        return f"skipped ({record['skipped']})"
    verdict = "" if record.get("met", False) else "; none met it"
    return (
        f"{describe(record.get('chosen') or {})} (fitted DCR share {record.get('fitted_share')}, "
        f"limit {record.get('max_dcr_share')}{verdict})"
    )


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
    given the contexts of both, ``SYNTHETIC_FACTOR`` rows each: rows drawn given the training rows'
    contexts alone would sit near those rows (a child near the child of the same parent) without
    copying anything; given every context, a model that copies nothing reads 0.5 as without a context.
    """
    from mirage.evaluation._privacy import dcr  # the evaluation's own figure, read inside the fit

    params = {**engine.get_params(), **setting, "max_dcr_share": None, "seed": seed}
    trial = type(engine)(**params)
    with progress_to(_silent):
        if context is None:
            trial.fit(train, schema, encoding_options=options)
            synthetic = trial.sample(_synthetic_rows(len(train)), seed=seed)
        else:
            trained, unseen, context_schema = context
            trial.fit(train, schema, context=trained, context_schema=context_schema, encoding_options=options)
            repeats = max(1, _synthetic_rows(len(train)) // len(train))
            given = pd.concat([trained, unseen] * repeats, ignore_index=True)
            synthetic = trial.sample(seed=seed, context=given)
    return float(dcr(train, held, synthetic, schema, seed=seed, return_distances=False)["dcr_share"])


def _synthetic_rows(learned: int) -> int:
    return min(SYNTHETIC_FACTOR * learned, max(learned, SYNTHETIC_ROWS))


def _silent(task: str, done: int, total: int, detail: str) -> None:
    return None
