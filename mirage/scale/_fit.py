"""Fitting from partitioned data: statistics computed where the partitions lie, reduced here.

The copula: each partition's codec statistics (``TableEncoder.analyze``) on the workers, merged by
``reduce`` here, so the encoder is the one a fit on all rows gives (number categories whose rare
values hold many rows learned as numbers, from their merged counts, as in memory); then two more
passes: per sub-column value counts of the encoded rows (merged exactly up to
``EncodingOptions.exact_values_limit`` distinct values, sketched past it), from which its marginals
and each value's normal score follow as they do in memory; and per partition the sums of the normal
scores, their squares and cross products, and the counts of rows where both of a pair are present,
which add up to the correlation.  Nothing row-sized reaches the client, and each pass's
per-partition results are combined in a tree of ``split_every`` (``Executor.map_reduce``: on Dask on
the workers), so the client never holds every partition's statistics at once.  Combined counts and
exact value counts are the flat merge's; the score sums are added in the tree's order (equal to the
flat sum up to rounding); sketched values past ``exact_values_limit`` merge within the sketch's
documented rank error either way.

Engines that learn from rows in memory (cart, argn) fit on a uniform random sample of ``sample_rows``
rows drawn across the partitions (:mod:`mirage.scale._reservoir`: uniform without replacement
whatever the partition sizes); the engine's ``fit`` learns the sample, its encoder included.  The
model records how it was fitted in ``training_["partitioned"]``:
partitions, rows seen, the sample's size and seed (``sample_rows`` is absent for the copula, which
learns from every row).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from mirage.encoding import EncodingOptions, SubColumn, TableEncoder
from mirage.encoding._continuous import ContinuousStats
from mirage.encoding._sketch import Observed, ValueSketch, merge_observed, observe
from mirage.encoding._stats import ValueCounts
from mirage.encoding._tails import Tails
from mirage.encoding.categorical import CategoryStats, number_categories_of_stats
from mirage.encoding.marginal import knot_count
from mirage.engines import Synthesizer, get_engine
from mirage.engines._base import missing_flags, require_training_rows, resolve_encoding_options
from mirage.errors import OptionError
from mirage.scale._executor import SPLIT_EVERY, DaskExecutor, LocalExecutor, check_split_every, executor_for
from mirage.scale._partitions import Partitions, is_dask_frame
from mirage.scale._reservoir import rows_at_or_below, sample_threshold, smallest_keys
from mirage.schema import Schema, infer_schema

__all__ = ["SAMPLE_ROWS", "check_holdout", "fit_partitions", "held_out"]

SAMPLE_ROWS = 100_000  # rows an engine that learns from rows in memory fits on (cart, argn)
CHUNK_ROWS = 100_000  # rows a task encodes at a time
SCORE_GRID = 4_096  # ranks a sketched sub-column's normal scores are interpolated between
ROWS_ENGINES = ("copula",)  # engines fitted from every row's statistics; the others from a sample


def fit_partitions(
    data: Any,
    *,
    engine: str = "copula",
    schema: Schema | None = None,
    sample_rows: int = SAMPLE_ROWS,
    sample_seed: int = 0,
    workers: int | None = None,
    cluster: str | None = None,
    client: Any = None,
    read_options: Mapping[str, Any] | None = None,
    encoding_options: EncodingOptions | None = None,
    holdout: float | None = None,
    split_seed: int = 0,
    split_every: int = SPLIT_EVERY,
    **hyperparameters: Any,
) -> Synthesizer:
    """Learn partitioned ``data`` (a Dask DataFrame, a glob pattern such as ``data/*.parquet``, or a list
    of files) with ``engine``, here or on Dask (``workers``, ``cluster`` or ``client``; a Dask
    DataFrame without them uses the default ``distributed`` client if there is one).

    The schema, when not given, is inferred from the first partition.  ``sample_rows`` (default
    100,000) and ``sample_seed``: the uniform sample an engine other than the copula fits on.
    ``holdout``: the fraction of each partition's rows kept aside, never learned (chosen per partition
    by ``split_seed`` and the partition's index: :func:`held_out` gives them back).  ``split_every``
    (default 16): partitions' statistics combined at a time, in a tree.  A schema's rules
    are learned by the engines that fit on the sample (from the sample's rows); the copula, which
    learns every row's statistics, refuses them.
    """
    if isinstance(sample_rows, bool) or not isinstance(sample_rows, int) or sample_rows < 1:
        raise OptionError(f"sample_rows must be an integer >= 1, got {sample_rows!r}")
    check_holdout(holdout, split_seed)
    check_split_every(split_every)
    parts = Partitions.of(data, read_options)
    if schema is None:
        schema = infer_schema(parts.first())
    if schema.rules and engine in ROWS_ENGINES:
        raise OptionError(
            f"schema rules: the {engine} engine learns partitioned data from every row's statistics and "
            "cannot learn rules that way yet; fit with engine='cart' (it learns the rules on a uniform "
            "sample of sample_rows rows) or fit in memory"
        )
    if holdout is not None:
        parts.holdout = (holdout, split_seed, False)
    options = resolve_encoding_options(encoding_options, schema)
    model = get_engine(engine)(**hyperparameters)
    model._check_params()
    if client is None and workers is None and cluster is None and is_dask_frame(data):
        client = _default_client()
    with executor_for(workers=workers, cluster=cluster, client=client) as executor:
        shared = {"schema": schema.to_dict(), "options": _options_state(options)}
        sample = 0 if engine in ROWS_ENGINES else sample_rows
        limit = options.exact_values_limit
        merge = partial(_merge_analyzed, columns=schema.names, limit=limit, sample=sample)
        rows, stats, keys = parts.reduce(
            executor, _analyze, merge, {**shared, "sample": sample, "seed": sample_seed}, split_every
        )
        require_training_rows(rows)
        record: dict[str, Any] = {"partitions": len(parts), "rows_seen": rows}
        if holdout is not None:
            record["holdout"] = {"fraction": holdout, "split_seed": split_seed}
        if engine not in ROWS_ENGINES:
            return _fit_sample(
                model, parts, executor, keys, schema, options, sample_rows, sample_seed, record
            )
        taught, stats = _number_categories_as_numbers(schema, stats, options)
        encoder = TableEncoder(taught, options)
        for codec, merged in zip(encoder.codecs, stats, strict=True):  # TableEncoder.reduce, codec by codec
            codec.reduce(merged)
        return _fit_copula(model, parts, executor, encoder, rows, record, split_every, schema)


def check_holdout(holdout: float | None, split_seed: int) -> None:
    if holdout is not None and (
        isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0.0 < holdout < 1.0
    ):
        raise OptionError(f"holdout must be a fraction strictly between 0 and 1, got {holdout!r}")
    if isinstance(split_seed, bool) or not isinstance(split_seed, int) or split_seed < 0:
        raise OptionError(f"split_seed must be a non-negative integer, got {split_seed!r}")


def _rows(index: int, frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def held_out(
    data: Any,
    holdout: float,
    *,
    split_seed: int = 0,
    read_options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """The rows ``fit_partitions(data, holdout=holdout, split_seed=split_seed)`` kept aside, partition
    after partition (gathered here: for a report's privacy checks, or written out)."""
    check_holdout(holdout, split_seed)
    parts = Partitions.of(data, read_options)
    parts.holdout = (holdout, split_seed, True)
    with executor_for(workers=workers, cluster=cluster, client=client) as executor:
        frames = parts.map(executor, _rows)
    return pd.concat(frames, ignore_index=True)


def _default_client() -> Any:
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


def _options_state(options: EncodingOptions) -> dict[str, Any]:
    return {
        "rare_min_count": options.rare_min_count,
        "locale": options.locale,
        "exact_values_limit": options.exact_values_limit,
    }


def _analyze(
    index: int,
    frame: pd.DataFrame,
    *,
    schema: dict[str, Any],
    options: dict[str, Any],
    sample: int,
    seed: int,
) -> tuple[int, list[list[Any]], np.ndarray]:
    """A partition's rows, codec statistics (a list of one per codec) and (``sample``) its smallest
    ``sample`` keys; on a worker."""
    table = Schema.from_dict(schema)
    frame = frame.reset_index(drop=True)
    stats = TableEncoder(table, EncodingOptions(**options)).analyze(frame)
    smallest = smallest_keys(index, frame, sample=sample, seed=seed)[1] if sample else np.empty(0)
    return len(frame), [[s] for s in stats], smallest


def _merge_analyzed(
    nodes: list[tuple[int, list[list[Any]], np.ndarray]], *, columns: list[str], limit: int, sample: int
) -> tuple[int, list[list[Any]], np.ndarray]:
    """``_analyze``'s results (or merges of them), in the partitions' order, merged: rows added, each
    codec's statistics merged (numbers, dates and categories; the other codecs' small statistics are
    kept as a list for their ``reduce``), the smallest ``sample`` keys of all kept."""
    stats: list[list[Any]] = []
    for i, column in enumerate(columns):
        entries = [entry for _, codecs, _ in nodes for entry in codecs[i]]
        if all(type(e) is ContinuousStats for e in entries):
            stats.append([ContinuousStats.merge(entries, column, limit)])
        elif all(type(e) is CategoryStats for e in entries):
            stats.append([CategoryStats.merge(entries, column)])
        else:
            stats.append(entries)
    keys = np.sort(np.concatenate([k for _, _, k in nodes]))[:sample] if sample else np.empty(0)
    return sum(n for n, _, _ in nodes), stats, keys


def _number_categories_as_numbers(
    schema: Schema, stats: list[list[Any]], options: EncodingOptions
) -> tuple[Schema, list[list[Any]]]:
    """The schema the copula learns (number categories whose rare values hold many rows turned into
    numbers, as an in-memory fit turns them) and the columns' statistics under it: a turned column's
    rows per value become a number column's value counts, with no second pass over the rows."""
    categories = {
        name: CategoryStats.merge(entries, name)
        for name, entries in zip(schema.names, stats, strict=True)
        if entries and all(type(e) is CategoryStats for e in entries)
    }
    taught = number_categories_of_stats(schema, categories, options.rare_min_count)
    if taught is schema:
        return schema, stats
    limit = options.exact_values_limit
    return taught, [
        [_counted_numbers(categories[new.name], limit)] if new != old else entries
        for old, new, entries in zip(schema, taught, stats, strict=True)
    ]


def _counted_numbers(column: CategoryStats, limit: int) -> ContinuousStats:
    """A number category column's statistics as a number column's: the same rows per value."""
    counted = column.counts.as_dict()
    values = np.array(list(counted), dtype="float64")
    counts = np.array(list(counted.values()), dtype="int64")
    order = np.argsort(values, kind="stable")
    observed = merge_observed([ValueCounts(values[order], counts[order])], limit)
    return ContinuousStats(column.missing, observed, missing_rows=column.rows - int(counts.sum()))


def _fit_sample(
    model: Synthesizer,
    parts: Partitions,
    executor: LocalExecutor | DaskExecutor,
    keys: np.ndarray,
    schema: Schema,
    options: EncodingOptions,
    sample_rows: int,
    seed: int,
    record: dict[str, Any],
) -> Synthesizer:
    threshold = sample_threshold([keys], sample_rows)
    sample = pd.concat(
        parts.map(executor, rows_at_or_below, {"threshold": threshold, "seed": seed}), ignore_index=True
    )
    model.fit(sample, schema, encoding_options=options)
    model.training_["partitioned"] = {**record, "sample_rows": len(sample), "sample_seed": seed}
    return model


# --- the copula from partition statistics ---------------------------------------------------------------


def _encoder(schema: dict[str, Any], encoder: tuple[dict[str, Any], dict[str, np.ndarray]]) -> TableEncoder:
    state, arrays = encoder
    return TableEncoder.from_state(Schema.from_dict(schema), state, arrays)


def _present(parts: Mapping[str, np.ndarray], subcolumns: list[SubColumn]) -> dict[int, np.ndarray]:
    """Sub-column index -> the rows its missing flag says are present (for sub-columns with a flag)."""
    return {j: parts[subcolumns[f].name] == 0 for j, f in missing_flags(subcolumns).items()}


def _chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """The partition in slices of ``CHUNK_ROWS`` rows, so that a task's memory does not grow with it."""
    frame = frame.reset_index(drop=True)
    for start in range(0, max(len(frame), 1), CHUNK_ROWS):
        yield frame.iloc[start : start + CHUNK_ROWS].reset_index(drop=True)


def _value_counts(
    index: int, frame: pd.DataFrame, *, schema: dict[str, Any], encoder: Any, limit: int
) -> list[tuple[Observed, Observed | None]]:
    """Per sub-column: the present rows' values and (a sub-column with a flag) the others'; on a worker."""
    table = _encoder(schema, encoder)
    subcolumns = table.subcolumns
    seen: list[list[Observed]] = [[] for _ in subcolumns]
    others: list[list[Observed]] = [[] for _ in subcolumns]
    for chunk in _chunks(frame):
        parts = table.encode(chunk)
        present = _present(parts, subcolumns)
        for j, s in enumerate(subcolumns):
            x = parts[s.name]
            if j in present:
                seen[j] = [merge_observed([*seen[j], observe(x[present[j]], limit)], limit)]
                others[j] = [merge_observed([*others[j], observe(x[~present[j]], limit)], limit)]
            else:
                seen[j] = [merge_observed([*seen[j], observe(x, limit)], limit)]
    return [(a[0], b[0] if b else None) for a, b in zip(seen, others, strict=True)]


def _merge_counted(
    nodes: list[list[tuple[Observed, Observed | None]]], *, limit: int
) -> list[tuple[Observed, Observed | None]]:
    """``_value_counts``' results (or merges of them) merged, sub-column by sub-column."""
    merged: list[tuple[Observed, Observed | None]] = []
    for j in range(len(nodes[0])):
        others = [other for _, other in (node[j] for node in nodes) if other is not None]
        present = merge_observed([node[j][0] for node in nodes], limit)
        merged.append((present, merge_observed(others, limit) if others else None))
    return merged


def _add_sums(nodes: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """``_score_sums``' results (or sums of them) added."""
    return tuple(np.sum([node[i] for node in nodes], axis=0) for i in range(4))


def _score_sums(
    index: int,
    frame: pd.DataFrame,
    *,
    schema: dict[str, Any],
    encoder: Any,
    tables: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The partition's normal scores summed: pair counts, sums, squares and cross products; on a worker."""
    table = _encoder(schema, encoder)
    subcolumns = table.subcolumns
    p = len(subcolumns)
    sums = [np.zeros((p, p)) for _ in range(4)]
    for chunk in _chunks(frame):
        parts = table.encode(chunk)
        present = _present(parts, subcolumns)
        n = len(chunk)
        x = np.zeros((n, p))
        known = np.ones((n, p))
        for j, s in enumerate(subcolumns):
            values, scores = tables[j]
            rows = present.get(j)
            v = parts[s.name] if rows is None else parts[s.name][rows]
            if s.discrete:
                score = scores[np.clip(v.astype("int64"), 0, scores.size - 1)]
            else:
                score = _lookup(values, scores, v.astype("float64"))
            if rows is None:
                x[:, j] = score
            else:
                x[rows, j] = score
                known[~rows, j] = 0.0
        for total, part in zip(
            sums, (known.T @ known, x.T @ known, np.square(x).T @ known, x.T @ x), strict=True
        ):
            total += part
    return sums[0], sums[1], sums[2], sums[3]


def _lookup(values: np.ndarray, scores: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Scores of ``x``: exact where ``values`` holds every value, interpolated between ranks otherwise."""
    at = np.clip(np.searchsorted(values, x), 0, values.size - 1)
    exact = values[at] == x
    if exact.all():
        return scores[at]
    return np.where(exact, scores[at], np.interp(x, values, scores))


def _interval_means(counts: np.ndarray, discrete: bool) -> np.ndarray:
    """Each distinct value's normal score from the rows holding it (as ``normal_scores`` gives it)."""
    from mirage.encoding.marginal import _pdf

    n = counts.sum()
    upper = np.cumsum(counts) / n
    lower = upper - counts / n
    a, b = ndtri(np.clip(lower, 0.0, 1.0)), ndtri(np.clip(upper, 0.0, 1.0))
    mass = np.maximum(upper - lower, 1e-300)
    means = (_pdf(a) - _pdf(b)) / mass
    if not discrete:
        means = np.where(counts == 1, ndtri((lower + upper) / 2.0), means)
    return np.asarray(means, dtype="float64")


def _order_statistics(counts: ValueCounts, positions: np.ndarray) -> np.ndarray:
    """The values at (0-based, integer) sorted positions of the counted rows."""
    cumulative = np.cumsum(counts.counts)
    return counts.values[np.searchsorted(cumulative, positions, side="right")]


def _quantiles(observed: Observed, probs: np.ndarray) -> np.ndarray:
    """``np.quantile`` of the observed rows (linear interpolation, as numpy computes it)."""
    if isinstance(observed, ValueSketch):
        knots = observed.quantiles(probs)
        knots[probs <= 0.0], knots[probs >= 1.0] = observed.minimum, observed.maximum
        return knots
    position = probs * (observed.size - 1)
    low = np.floor(position)
    t = position - low
    a = _order_statistics(observed, low.astype("int64"))
    b = _order_statistics(observed, np.minimum(low + 1, observed.size - 1).astype("int64"))
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)


def _marginal_table(s: SubColumn, observed: Observed, n_knots: int, min_count: int) -> np.ndarray:
    """What ``Marginal.fit`` learns from the observed rows."""
    if s.discrete:
        assert isinstance(observed, ValueCounts)
        counts = np.zeros(max(1, s.cardinality))
        codes = observed.values.astype("int64")
        counts[codes] = observed.counts
        return np.cumsum(counts) / counts.sum()
    n, k = observed.size, max(1, min_count)
    if k > 1 and n < 3 * k:
        if not n:
            return np.zeros(1)
        assert isinstance(observed, ValueCounts)
        return np.array([float(np.mean(observed.expand()))])
    low, high = ((k - 1) / (n - 1), (n - k) / (n - 1)) if k > 1 else (0.0, 1.0)
    return _quantiles(observed, np.linspace(low, high, min(knot_count(n, k, n_knots), max(2, n))))


def _marginal_tails(s: SubColumn, observed: Observed, table: np.ndarray, min_count: int) -> Tails:
    """What ``Marginal.fit`` learns of the rows past the end knots, from the ``min_count - 1`` smallest
    and largest (from a sketch: its quantiles there)."""
    n, k = observed.size, max(1, min_count)
    if s.discrete or k <= 1 or n < 3 * k:
        return Tails()
    ends = np.r_[np.arange(k - 1), np.arange(n - k + 1, n)]
    if isinstance(observed, ValueSketch):
        values = observed.quantiles(ends / (n - 1))
    else:
        values = _order_statistics(observed, ends)
    return Tails.fit(values, float(table[0]), float(table[-1]), rows=n)


def _score_table(s: SubColumn, observed: Observed) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their normal scores (a discrete sub-column: per code)."""
    if isinstance(observed, ValueSketch):
        ranks = (np.arange(SCORE_GRID) + 0.5) / SCORE_GRID
        return observed.quantiles(ranks), ndtri(ranks)
    held = observed.counts > 0
    values, means = observed.values[held], _interval_means(observed.counts[held], s.discrete)
    if not s.discrete:
        return values, means
    scores = np.zeros(max(1, s.cardinality, int(values.max()) + 1 if values.size else 1))
    scores[values.astype("int64")] = means
    return values, scores


def _fit_copula(
    model: Synthesizer,
    parts: Partitions,
    executor: LocalExecutor | DaskExecutor,
    encoder: TableEncoder,
    rows: int,
    record: dict[str, Any],
    split_every: int = SPLIT_EVERY,
    user_schema: Schema | None = None,
) -> Synthesizer:
    """The copula from the partitions' statistics under ``encoder`` (whose schema may learn number
    categories as numbers); the model answers to ``user_schema`` (default: the encoder's)."""
    from mirage.engines.copula import _keep_links_where_present, _nearest_correlation, _safe_cholesky

    schema = encoder.schema
    subcolumns = encoder.subcolumns
    limit = encoder.options.exact_values_limit
    shared = {"schema": schema.to_dict(), "encoder": encoder.get_state()}
    counted = parts.reduce(
        executor, _value_counts, partial(_merge_counted, limit=limit), {**shared, "limit": limit}, split_every
    )
    flags = missing_flags(subcolumns)
    tables, marginals, shares, tails = [], [], {}, []
    quantiles, shrinkage = model.get_params()["quantiles"], model.get_params()["shrinkage"]
    # one partition's counts were never merged (a merge of one sketch compacts it again: not twice)
    merged = len(parts) > 1
    for j, s in enumerate(subcolumns):
        present = counted[j][0] if merged else merge_observed([counted[j][0]], limit)
        if j in flags:
            shares[j] = present.size / rows
        if present.size == 0:  # never present: the placeholders, as an in-memory fit takes them
            other = counted[j][1]
            if other is None:
                present = merge_observed([], limit)
            else:
                present = other if merged else merge_observed([other], limit)
        marginals.append(_marginal_table(s, present, quantiles, encoder.options.rare_min_count))
        tails.append(_marginal_tails(s, present, marginals[-1], encoder.options.rare_min_count))
        tables.append(_score_table(s, present))
    p = len(subcolumns)
    if p:
        summed = parts.reduce(executor, _score_sums, _add_sums, {**shared, "tables": tables}, split_every)
        count, sums, squares, cross = (np.sum([summed[i]], axis=0) for i in range(4))
        corr = _correlation_from_sums(count, sums, squares, cross)
        if flags:
            for j, f in flags.items():
                _keep_links_where_present(corr, j, f, shares[j])
            corr = _nearest_correlation(corr)
        corr = (1.0 - shrinkage) * corr + shrinkage * np.eye(p)
        np.fill_diagonal(corr, 1.0)
        cholesky = _safe_cholesky(corr)
    else:
        cholesky = np.zeros((0, 0))
    encoder_state, encoder_arrays = encoder.get_state()
    state = {
        "encoder": encoder_state,
        "engine": {"subcolumns": [vars(s) for s in subcolumns], "discrete": [s.discrete for s in subcolumns]},
        "n_training_rows": rows,
        "training": {"partitioned": record},
    }
    if user_schema is not None and user_schema.to_dict() != schema.to_dict():
        state["encoder_schema"] = schema.to_dict()
    arrays = dict(encoder_arrays)
    arrays.update({f"engine.marginal.{j}": table for j, table in enumerate(marginals)})
    arrays.update({f"engine.marginal.{j}.tails": t.to_array() for j, t in enumerate(tails) if t.any})
    arrays["engine.cholesky"] = cholesky
    # the loader's checks: the state is what a file would hold
    model.set_state(user_schema or schema, state, arrays)
    return model


def _correlation_from_sums(
    count: np.ndarray, sums: np.ndarray, squares: np.ndarray, cross: np.ndarray
) -> np.ndarray:
    """Pearson correlation of each pair over the rows where both are present (``_pairwise_correlation``)."""
    safe = np.maximum(count, 1.0)
    mean_a, mean_b = sums / safe, sums.T / safe
    cov = cross / safe - mean_a * mean_b
    var_a = np.maximum(squares / safe - np.square(mean_a), 0.0)
    var_b = var_a.T
    ok = (count >= 2) & (var_a > 1e-12) & (var_b > 1e-12)
    corr = np.where(ok, cov / np.sqrt(np.where(ok, var_a * var_b, 1.0)), 0.0)
    corr = np.clip((corr + corr.T) / 2.0, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr
