"""The executor seam: map a function over tasks (block ranges, partitions) and gather the results.

Two implementations: :class:`LocalExecutor` runs the tasks one after the other in this process (the
default; Dask is not needed) and :class:`DaskExecutor` runs them on a ``distributed`` cluster, either
a ``LocalCluster`` of worker processes it starts (``workers=N``) or an existing one (an address or a
``Client``).  Results come back in the order of the tasks, whatever worker ran which.

What a task needs besides its own arguments (the model file's bytes) is passed once as ``shared``:
Dask scatters it to every worker once rather than with each task.  Tasks are plain functions of plain
values; a partition of a Dask DataFrame stays on the worker that computed it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from types import TracebackType
from typing import Any, Protocol, TypeVar

from mirage.errors import MissingDependencyError, OptionError

__all__ = [
    "LOCAL_CLUSTER_SETTINGS",
    "SPLIT_EVERY",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "executor_for",
    "tree_reduce",
]

R = TypeVar("R")
T = TypeVar("T")

SPLIT_EVERY = 16  # results combined at a time by map_reduce (Dask's split_every)
#: Dask settings of the ``LocalCluster`` a ``DaskExecutor`` starts (``workers=N``): no statistical
#: profiler (a thread in every worker that takes the GIL 100 times a second to sample the running
#: task's stack, for the dashboard's profile page) and a 1 s event-loop tick (20 ms by default, in the
#: scheduler and every worker; it only measures the loop's latency).  Idle, the two cost a 2-worker
#: cluster about 0.1 of a core (workers 0.06, this process 0.04), against 0.01 with these settings:
#: on a 2-core machine, 5% of it.  An existing cluster (an address, a client) keeps its own settings.
LOCAL_CLUSTER_SETTINGS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
}


def check_split_every(split_every: int) -> None:
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise OptionError(f"split_every must be an integer >= 2, got {split_every!r}")


def tree_reduce(items: Iterable[T], combine: Callable[[list[T]], T], split_every: int) -> T:
    """``items`` combined in a tree, consuming them one at a time: level ``L`` holds at most
    ``split_every`` values, so at most ``split_every`` per level are held at once.

    The same tree as combining the whole list level by level (:func:`tree_levels`): consecutive groups
    of ``split_every`` (the last one shorter, alone too), until one value is left; one item is the
    result itself."""
    check_split_every(split_every)
    buffers: list[list[T]] = []
    counts: list[int] = []  # values pushed to each level

    def push(value: T, level: int) -> None:
        if level == len(buffers):
            buffers.append([])
            counts.append(0)
        buffers[level].append(value)
        counts[level] += 1
        if len(buffers[level]) == split_every:
            group, buffers[level] = buffers[level], []
            push(combine(group), level + 1)

    for item in items:
        push(item, 0)
    if not buffers:
        raise ValueError("tree_reduce: nothing to combine")
    level = 0
    while True:
        if counts[level] == 1 and level == len(buffers) - 1:
            return buffers[level][0]
        if buffers[level]:
            group, buffers[level] = buffers[level], []
            push(combine(group), level + 1)
        level += 1


def tree_levels(items: Sequence[T], combine: Callable[[list[T]], T], split_every: int) -> T:
    """``items`` combined level by level in the tree :func:`tree_reduce` builds (on Dask, ``combine``
    submits a task, so the values are futures and the tree runs on the workers)."""
    check_split_every(split_every)
    level = list(items)
    if not level:
        raise ValueError("tree_levels: nothing to combine")
    while len(level) > 1:
        level = [combine(level[i : i + split_every]) for i in range(0, len(level), split_every)]
    return level[0]


class Executor(Protocol):
    """Runs ``fn(task, **shared)`` for every task and returns the results in the tasks' order."""

    @property
    def workers(self) -> int:
        """How many tasks can run at once."""

    def tasks_by_host(self) -> dict[str, int]:
        """How many tasks can run at once on each host running tasks (empty: this process alone)."""

    def map(
        self, fn: Callable[..., R], tasks: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        """``[fn(task, **shared) for task in tasks]``, run where the executor runs tasks."""

    def map_frames(
        self, fn: Callable[..., R], frames: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        """``fn(index, frame, **shared)`` for every partition of a Dask DataFrame (``to_delayed()`` items)."""

    def map_reduce(
        self,
        fn: Callable[..., R],
        tasks: Sequence[Any],
        shared: Mapping[str, Any] | None,
        combine: Callable[[list[R]], R],
        split_every: int = SPLIT_EVERY,
        *,
        frames: bool = False,
    ) -> R:
        """The results of ``map`` (``frames``: of ``map_frames``) combined in a tree (:func:`tree_reduce`)."""

    def close(self) -> None:
        """Release what the executor started (a local cluster); an existing cluster is left running."""


class LocalExecutor:
    """Every task in this process, in order: the default, no Dask needed."""

    workers = 1

    def tasks_by_host(self) -> dict[str, int]:
        return {}

    def map(
        self, fn: Callable[..., R], tasks: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        return [fn(task, **(shared or {})) for task in tasks]

    def map_frames(
        self, fn: Callable[..., R], frames: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        return [fn(i, frame.compute(scheduler="sync"), **(shared or {})) for i, frame in enumerate(frames)]

    def map_reduce(
        self,
        fn: Callable[..., R],
        tasks: Sequence[Any],
        shared: Mapping[str, Any] | None,
        combine: Callable[[list[R]], R],
        split_every: int = SPLIT_EVERY,
        *,
        frames: bool = False,
    ) -> R:
        given = shared or {}
        if frames:
            results = (fn(i, frame.compute(scheduler="sync"), **given) for i, frame in enumerate(tasks))
        else:
            results = (fn(task, **given) for task in tasks)
        return tree_reduce(results, combine, split_every)

    def close(self) -> None:
        pass

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            "running on Dask needs the dask extra: pip install 'mirage-synth[dask]'"
        ) from None
    return distributed


class DaskExecutor:
    """Tasks on a ``distributed`` cluster: a ``LocalCluster`` of ``workers`` processes it starts, the
    cluster at ``address``, or the one a given ``client`` talks to."""

    def __init__(self, *, workers: int | None = None, address: str | None = None, client: Any = None) -> None:
        given = [
            name for name, value in (("workers", workers), ("cluster", address), ("client", client)) if value
        ]
        if len(given) != 1:
            raise OptionError(f"give one of workers, cluster or client (got {', '.join(given) or 'none'})")
        distributed = _distributed()
        self._cluster: Any = None
        self._own_client = client is None
        if client is not None:
            self.client = client
        elif address is not None:
            try:
                self.client = distributed.Client(address, timeout="30s")
            except OSError as exc:
                raise OptionError(f"cluster {address}: cannot reach the Dask scheduler ({exc})") from None
        else:
            if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
                raise OptionError(f"workers must be an integer >= 1, got {workers!r}")
            import dask

            with dask.config.set(LOCAL_CLUSTER_SETTINGS):  # workers are spawned with the config set here
                self._cluster = distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=logging.ERROR,
                )
            self.client = distributed.Client(self._cluster)

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def tasks_by_host(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for worker in self.client.scheduler_info(n_workers=-1)["workers"].values():
            counts[worker["host"]] = counts.get(worker["host"], 0) + int(worker.get("nthreads", 1))
        return counts

    def _scatter(self, shared: Mapping[str, Any] | None) -> dict[str, Any]:
        # in a list: Dask scatters a dict's (or a list's) items one by one, the value is wanted whole.
        # hash=False: a key of its own, not one derived from the value, which an earlier map's
        # scatter of the same value (the schema, every pass) may still be releasing
        return {
            name: self.client.scatter([value], broadcast=True, hash=False)[0]
            for name, value in (shared or {}).items()
        }

    def map(
        self, fn: Callable[..., R], tasks: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        futures = self.client.map(fn, list(tasks), pure=False, **self._scatter(shared))
        return list(self.client.gather(futures))

    def map_frames(
        self, fn: Callable[..., R], frames: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        parts = self.client.compute(list(frames))  # each partition stays on the worker that made it
        futures = self.client.map(fn, list(range(len(parts))), parts, pure=False, **self._scatter(shared))
        results = list(self.client.gather(futures))
        del parts
        return results

    def map_reduce(
        self,
        fn: Callable[..., R],
        tasks: Sequence[Any],
        shared: Mapping[str, Any] | None,
        combine: Callable[[list[R]], R],
        split_every: int = SPLIT_EVERY,
        *,
        frames: bool = False,
    ) -> R:
        check_split_every(split_every)
        scattered = self._scatter(shared)
        if frames:
            parts = self.client.compute(list(tasks))
            futures = self.client.map(fn, list(range(len(parts))), parts, pure=False, **scattered)
        else:
            futures = self.client.map(fn, list(tasks), pure=False, **scattered)
        root = tree_levels(futures, partial(self.client.submit, combine, pure=False), split_every)
        return self.client.gather(root)

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def executor_for(
    *, workers: int | None = None, cluster: str | None = None, client: Any = None
) -> LocalExecutor | DaskExecutor:
    """The executor the options ask for: Dask when ``workers``, ``cluster`` (a scheduler address) or
    ``client`` is given, else the local one.  Close it when done (it is a context manager)."""
    if workers is None and cluster is None and client is None:
        return LocalExecutor()
    return DaskExecutor(workers=workers, address=cluster, client=client)
