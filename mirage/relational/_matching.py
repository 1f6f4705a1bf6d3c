"""Which generated parent row a child row refers to, for every foreign key that is not the table's
primary parent (a second parent, a self-reference, a key that breaks a cycle).

The child learned the referenced parent's columns as its own (denormalised), so each generated child
row says what kind of parent it wants; it gets the nearest generated parent row on those columns
(numbers standardised, categories one-hot), within a bounded reuse: each parent row takes at most its
capacity (the number of children it drew for this key, rescaled to the rows to place), so popular
products stay popular and no parent is used far more than the model said.  Where a key must be unique
within a group (an order's lines each name a different product), a parent already used in the row's
group is skipped.  Rows are placed in random order, in rounds over each row's nearest candidates,
vectorised, then again among the parents that still have room; the few left over take the nearest
parent with room, then any parent the group allows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["feature_matrix", "match_rows"]

NEIGHBOURS = 16  # candidate parents per child row and phase
PHASES = 6  # searches among the parents with room left, before the row-by-row fallback
TOP_CATEGORIES = 32  # a categorical feature is one-hot over its most frequent parent values
BASE_WEIGHT = 0.2  # a parent column the child's own columns say nothing about still counts this much
JITTER = 1e-6  # breaks ties between identical parents at random, not by row order
KD_TREE_DIMENSIONS = 16  # up to this many features a k-d tree finds neighbours faster than brute force


def feature_weights(parent: pd.DataFrame, own: pd.DataFrame, rows: int = 20_000) -> dict[str, float]:
    """How much each parent column matters when matching: ``BASE_WEIGHT`` plus how well the child's own
    columns predict it in the real data (a small tree's R² on held-out rows, or its accuracy gain over
    the most frequent value), so an order line's price picks the product by its price first."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    weights = {str(c): BASE_WEIGHT for c in parent.columns}
    if own.shape[1] == 0 or len(own) < 40:
        return weights
    take = np.random.default_rng(0).permutation(len(own))[:rows]
    x = np.column_stack([_codes(own[c].iloc[take]) for c in own.columns])
    half = len(take) // 2
    leaf = max(10, len(take) // 100)
    for name in parent.columns:
        values = parent[name].iloc[take]
        if _is_number(values):
            y = _as_float(values)
            keep = np.isfinite(y)
            if keep[:half].sum() < 10 or keep[half:].sum() < 10 or np.nanstd(y) == 0:
                continue
            model = DecisionTreeRegressor(min_samples_leaf=leaf, max_depth=8, random_state=0)
            model.fit(x[:half][keep[:half]], y[:half][keep[:half]])
            score = float(model.score(x[half:][keep[half:]], y[half:][keep[half:]]))
        else:
            labels = _codes(values)
            base = float(pd.Series(labels[half:]).value_counts(normalize=True).iloc[0])
            if base >= 1.0:
                continue
            model = DecisionTreeClassifier(min_samples_leaf=leaf, max_depth=8, random_state=0)
            model.fit(x[:half], labels[:half])
            score = (float(model.score(x[half:], labels[half:])) - base) / (1.0 - base)
        weights[str(name)] = BASE_WEIGHT + float(np.clip(score, 0.0, 1.0))
    return weights


def _codes(values: pd.Series) -> np.ndarray:
    """A column as numbers a tree can split: numbers (nulls as -1e12), categories as codes."""
    if _is_number(values):
        return np.nan_to_num(_as_float(values), nan=-1e12)
    return pd.factorize(values.astype(object), use_na_sentinel=True)[0].astype(float)


def feature_matrix(
    child: pd.DataFrame, parent: pd.DataFrame, weights: dict[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The child and parent rows as numbers on one scale (the frames have the same columns), each
    column's block multiplied by its weight."""
    child_parts: list[np.ndarray] = []
    parent_parts: list[np.ndarray] = []
    for name in parent.columns:
        weight = 1.0 if weights is None else float(weights.get(str(name), 1.0))
        start = len(parent_parts)
        _encode_pair(parent[name], child[name], parent_parts, child_parts)
        for i in range(start, len(parent_parts)):
            parent_parts[i] = parent_parts[i] * weight
            child_parts[i] = child_parts[i] * weight
    if not parent_parts:
        return np.zeros((len(child), 0)), np.zeros((len(parent), 0))
    return np.column_stack(child_parts), np.column_stack(parent_parts)


def _encode_pair(
    p: pd.Series, c: pd.Series, parent_parts: list[np.ndarray], child_parts: list[np.ndarray]
) -> None:
    if _is_number(p) and _is_number(c):
        pv, cv = _as_float(p), _as_float(c)
        present = pv[np.isfinite(pv)]
        centre = float(present.mean()) if present.size else 0.0
        scale = float(present.std()) if present.size else 0.0
        scale = scale if scale > 0 else 1.0
        pz, cz = (pv - centre) / scale, (cv - centre) / scale
        p_missing, c_missing = ~np.isfinite(pz), ~np.isfinite(cz)
        parent_parts.append(np.where(p_missing, 0.0, pz))
        child_parts.append(np.where(c_missing, 0.0, cz))
        if p_missing.any() or c_missing.any():
            parent_parts.append(p_missing.astype(float))
            child_parts.append(c_missing.astype(float))
        return
    ptext, ctext = p.astype(object).where(p.notna(), None), c.astype(object).where(c.notna(), None)
    top = ptext.value_counts(dropna=False).index[:TOP_CATEGORIES]
    for value in top:
        parent_parts.append((ptext == value).to_numpy(dtype=float) / np.sqrt(2))
        child_parts.append((ctext == value).to_numpy(dtype=float) / np.sqrt(2))


def _is_number(values: pd.Series) -> bool:
    dtype = values.dtype
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
    )


def _as_float(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = pd.to_datetime(values)
        days = (stamps - pd.Timestamp(0, tz=stamps.dt.tz)).dt.total_seconds() / 86_400.0
        return days.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def match_rows(
    child: np.ndarray,
    parent: np.ndarray,
    rng: np.random.Generator,
    *,
    capacity: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """For each child row, the index of its parent row (-1 where its group has used every parent).

    ``child`` and ``parent`` are feature matrices (:func:`feature_matrix`); ``capacity`` the most child
    rows each parent takes (None: no bound; a bound the rows cannot fit in is exceeded where needed);
    ``groups`` an integer per child row within which parents must differ (None: no such rule);
    ``exclude`` a parent each child row must not take (a row is not its own manager), -1 for none.
    """
    n_child, n_parent = child.shape[0], parent.shape[0]
    out = np.full(n_child, -1, dtype=np.int64)
    if n_child == 0 or n_parent == 0:
        return out
    room = np.full(n_parent, n_child, dtype=np.int64) if capacity is None else capacity.astype(np.int64)
    order = rng.permutation(n_child)
    used = np.empty(0, dtype=np.int64)  # group * n_parent + parent, for pairs already placed
    todo = np.arange(n_child)  # positions in ``order`` still without a parent
    for _ in range(PHASES):  # each phase looks among the parents that still have room
        open_parents = np.flatnonzero(room > 0)
        if todo.size == 0 or open_parents.size == 0:
            break
        k = min(open_parents.size, NEIGHBOURS)
        local = _candidates(child[order[todo]], parent[open_parents], k, room[open_parents], rng)
        candidates = open_parents[local]
        pending = np.arange(todo.size)  # rows of ``candidates`` still without a parent
        for r in range(k):
            if pending.size == 0:
                break
            rows = order[todo[pending]]
            proposed = candidates[pending, r]
            ok = room[proposed] > 0
            if exclude is not None:
                ok &= proposed != exclude[rows]
            pairs = np.empty(0, dtype=np.int64)
            if groups is not None:
                pairs = groups[rows].astype(np.int64) * n_parent + proposed
                ok &= ~np.isin(pairs, used)
                ok &= ~pd.Series(pairs).duplicated().to_numpy()
            # within a round, a parent takes the first rows that proposed it, up to its room
            rank = pd.Series(proposed[ok]).groupby(proposed[ok]).cumcount().to_numpy()
            ok[ok] = rank < room[proposed[ok]]
            out[rows[ok]] = proposed[ok]
            np.subtract.at(room, proposed[ok], 1)
            if groups is not None:
                used = np.concatenate([used, pairs[ok]])
            pending = pending[~ok]
        todo = todo[pending]
    placed = set(used.tolist()) if todo.size else set()
    everyone = np.arange(n_parent, dtype=np.int64)
    for position in todo.tolist():
        row = order[position]
        banned = np.zeros(n_parent, dtype=bool)
        if groups is not None:
            base = int(groups[row]) * n_parent
            banned = np.fromiter((base + j in placed for j in everyone.tolist()), dtype=bool, count=n_parent)
        if exclude is not None and exclude[row] >= 0:
            banned[exclude[row]] = True
        distance = np.asarray(
            ((parent - child[row]) ** 2).sum(axis=1) if parent.shape[1] else rng.random(n_parent)
        )
        open_ = ~banned & (room > 0)
        allowed = open_ if open_.any() else ~banned
        if not allowed.any():
            continue
        choice = int(np.flatnonzero(allowed)[np.argmin(distance[allowed])])
        out[row] = choice
        room[choice] -= 1
        if groups is not None:
            placed.add(int(groups[row]) * n_parent + choice)
    return out


def _candidates(
    child: np.ndarray, parent: np.ndarray, k: int, room: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each child row's ``k`` candidate parents, nearest first (random by room without features)."""
    if parent.shape[1] == 0:
        weight = np.clip(room, 0, None).astype(float)
        weight = weight / weight.sum() if weight.sum() > 0 else None
        return rng.choice(parent.shape[0], size=(child.shape[0], k), p=weight)
    from sklearn.neighbors import NearestNeighbors

    jittered = parent + rng.normal(0.0, JITTER, size=parent.shape)
    algorithm = "kd_tree" if parent.shape[1] <= KD_TREE_DIMENSIONS else "auto"
    index = NearestNeighbors(n_neighbors=k, algorithm=algorithm).fit(jittered)
    found: np.ndarray = index.kneighbors(child, return_distance=False)
    return found.astype(np.int64)
