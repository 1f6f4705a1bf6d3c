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
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol, TypeVar

from mirage.errors import MissingDependencyError, OptionError

__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "executor_for"]

R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn(task, **shared)`` for every task and returns the results in the tasks' order."""

    @property
    def workers(self) -> int:
        """How many tasks can run at once."""

    def map(
        self, fn: Callable[..., R], tasks: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        """``[fn(task, **shared) for task in tasks]``, run where the executor runs tasks."""

    def map_frames(
        self, fn: Callable[..., R], frames: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        """``fn(index, frame, **shared)`` for every partition of a Dask DataFrame (``to_delayed()`` items)."""

    def close(self) -> None:
        """Release what the executor started (a local cluster); an existing cluster is left running."""


class LocalExecutor:
    """Every task in this process, in order: the default, no Dask needed."""

    workers = 1

    def map(
        self, fn: Callable[..., R], tasks: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        return [fn(task, **(shared or {})) for task in tasks]

    def map_frames(
        self, fn: Callable[..., R], frames: Sequence[Any], shared: Mapping[str, Any] | None = None
    ) -> list[R]:
        return [fn(i, frame.compute(scheduler="sync"), **(shared or {})) for i, frame in enumerate(frames)]

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

    def _scatter(self, shared: Mapping[str, Any] | None) -> dict[str, Any]:
        # in a list: Dask scatters a dict's (or a list's) items one by one, the value is wanted whole
        return {
            name: self.client.scatter([value], broadcast=True)[0] for name, value in (shared or {}).items()
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
