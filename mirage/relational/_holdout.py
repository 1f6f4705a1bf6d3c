"""A database's holdout: whole families of rows kept aside, never learned, for the privacy checks.

A share of each root table's rows is held out with every row that descends from them along the primary
parents (a customer with its orders and their lines); a root table that other tables are matched to
(products, which order lines point to as a second parent) is kept whole, since holding its rows out would
leave learned rows pointing nowhere, and so is a reference table (copied as is, never learned).  A
learned row whose other keys point to a held row is held too, with its descendants, so that the learned
part keeps full integrity.  The split depends on the key values, not on the order the rows were read in
(a database returns them in any order), so the report rebuilds it from the source and the fraction and
seed the model records.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mirage.errors import OptionError
from mirage.relational._plan import TablePlan, plan_tables, row_positions
from mirage.schema import DatabaseSchema

__all__ = ["held_rows", "split_database"]


def _check_fraction(fraction: float) -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
        raise OptionError(f"holdout must be a fraction strictly between 0 and 1, got {fraction!r}")


def held_rows(
    database: DatabaseSchema,
    frames: Mapping[str, pd.DataFrame],
    fraction: float,
    seed: int = 0,
    plans: Mapping[str, TablePlan] | None = None,
) -> dict[str, np.ndarray]:
    """Per table, a boolean mask of the rows held out (see the module docstring)."""
    _check_fraction(fraction)
    plans = plans if plans is not None else plan_tables(database, frames)
    matched_parents = {fk.parent for plan in plans.values() for fk in plan.matched}
    held: dict[str, np.ndarray] = {}
    for index, name in enumerate(database.order()):
        frame = frames[name]
        plan = plans[name]
        if plan.primary is None:
            mask = np.zeros(len(frame), dtype=bool)
            if name not in matched_parents and not database[name].reference and len(frame) > 1:
                mask[_chosen(frame, database[name].primary_key, fraction, seed, index)] = True
        else:
            fk = plan.primary
            positions = row_positions(frames[fk.parent], fk.parent_columns, frame, fk.columns)
            mask = _points_to(held[fk.parent], positions)
        held[name] = mask
    changed = True
    while changed:  # a learned row pointing to a held row is held, and so are its descendants
        changed = False
        for fk in database.foreign_keys:
            child, parent = frames[fk.child], frames[fk.parent]
            positions = row_positions(parent, fk.parent_columns, child, fk.columns)
            points_to_held = _points_to(held[fk.parent], positions)
            more = points_to_held & ~held[fk.child]
            if more.any():
                held[fk.child] = held[fk.child] | more
                changed = True
    return held


def _points_to(parent_held: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Which rows point to a held parent row (``positions``: each row's parent row, -1 for none)."""
    if not parent_held.size:
        return np.zeros(len(positions), dtype=bool)
    return (positions >= 0) & parent_held[np.maximum(positions, 0)]


def _chosen(frame: pd.DataFrame, key: tuple[str, ...], fraction: float, seed: int, index: int) -> np.ndarray:
    """Positions of ``round(fraction * rows)`` rows picked by ``seed`` in the order of the key values."""
    by = list(key) if key else list(frame.columns)
    ordered = frame[by].astype(str).reset_index(drop=True).sort_values(by, kind="stable").index.to_numpy()
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, 2]))
    n = min(max(1, round(fraction * len(frame))), len(frame) - 1)
    return np.sort(ordered[rng.permutation(len(frame))[:n]])


def split_database(
    database: DatabaseSchema, frames: Mapping[str, pd.DataFrame], fraction: float, seed: int = 0
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The learned and the held rows of every table (:func:`held_rows`); the learned part has full
    integrity, the held part is each table's held rows (its keys may point to learned rows)."""
    masks = held_rows(database, frames, fraction, seed)
    train = {n: frames[n][~masks[n]].reset_index(drop=True) for n in database.tables}
    held = {n: frames[n][masks[n]].reset_index(drop=True) for n in database.tables}
    return train, held
