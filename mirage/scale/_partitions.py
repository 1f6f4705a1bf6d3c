"""Partitioned data: files matched by a glob (or listed; local paths or fsspec URLs, see
:mod:`mirage.scale._remote`) and read on the workers, or the partitions of a Dask DataFrame, each
computed where it lies; either way a task gets its partition's index and rows."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from mirage.errors import DataError, OptionError
from mirage.scale._executor import SPLIT_EVERY, DaskExecutor, LocalExecutor
from mirage.scale._malloc import reusing_freed_memory
from mirage.scale._remote import is_pattern, is_url, local_copy, url_files

__all__ = ["Partitions", "is_dask_frame", "is_pattern", "split_partition"]

HOLDOUT_STREAM = 0x401D  # the holdout split's stream of a seed, as mirage.evaluation._holdout draws it

R = TypeVar("R")


def is_dask_frame(data: object) -> bool:
    """Whether ``data`` is a Dask DataFrame (told without importing Dask)."""
    kind = type(data)
    return (
        kind.__module__.split(".")[0] == "dask"
        and hasattr(data, "to_delayed")
        and hasattr(data, "npartitions")
    )


def split_partition(
    index: int, frame: pd.DataFrame, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Partition ``index``'s ``(training, holdout)`` rows: ``round(fraction * rows)`` rows held out,
    chosen by ``SeedSequence([seed, HOLDOUT_STREAM, index])``, so the split of a partition depends on
    its index and rows only (not on the worker, nor on the other partitions)."""
    n = len(frame)
    order = np.random.default_rng(np.random.SeedSequence([seed, HOLDOUT_STREAM, index])).permutation(n)
    held = np.zeros(n, dtype=bool)
    held[order[: round(fraction * n)]] = True
    frame = frame.reset_index(drop=True)
    return frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)


def _one_side(
    fn: Callable[..., R], holdout: tuple[float, int, bool], index: int, frame: pd.DataFrame, **shared: Any
) -> R:
    """``fn`` on the training rows of the partition (``holdout``: fraction, seed, and True for the
    held-out rows instead)."""
    fraction, seed, held = holdout
    return fn(index, split_partition(index, frame, fraction, seed)[int(held)], **shared)


def _read(path: str, reading: Mapping[str, Any]) -> pd.DataFrame:
    """A partition's rows (a URL's through a local copy of it)."""
    from mirage.io import read_table

    if not is_url(path):
        return read_table(path, **reading)
    with local_copy(path) as local:
        return read_table(local, **reading)


def _on_file(fn: Callable[..., R], task: tuple[int, str], *, reading: Mapping[str, Any], **shared: Any) -> R:
    index, path = task
    with reusing_freed_memory():
        return fn(index, _read(path, reading), **shared)


def _on_frame(fn: Callable[..., R], index: int, frame: pd.DataFrame, **shared: Any) -> R:
    with reusing_freed_memory():
        return fn(index, frame, **shared)


@dataclass
class Partitions:
    """Files (read on the workers with ``read_options``) or a Dask DataFrame's partitions."""

    files: list[str] = field(default_factory=list)
    frame: Any = None
    read_options: Mapping[str, Any] = field(default_factory=dict)
    #: ``(fraction, split seed, held)``: tasks see only the training rows of each partition (``held``:
    #: only the held-out rows); None: every row
    holdout: tuple[float, int, bool] | None = None

    @classmethod
    def of(cls, data: Any, read_options: Mapping[str, Any] | None = None) -> Partitions:
        """``data``: a Dask DataFrame, a glob pattern (``data/*.parquet``), or a list of file paths."""
        if is_dask_frame(data):
            return cls(frame=data)
        if isinstance(data, (str, os.PathLike)):
            text = os.fspath(data)
            if is_url(text):
                files = url_files(text)
            else:
                files = sorted(glob.glob(text)) if is_pattern(text) else [text]
            if not files:
                raise DataError(f"no file matches '{text}'")
        elif isinstance(data, Sequence) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
            files = [f for p in data for f in (url_files(p) if is_url(p) else [os.fspath(p)])]
        else:
            raise OptionError(
                "partitioned data is a Dask DataFrame, a glob pattern, a URL or a list of files, got "
                f"{type(data).__name__}"
            )
        for path in files:
            if not is_url(path) and not Path(path).is_file():
                raise DataError(f"partition '{path}' is not a file")
        return cls(files=files, read_options=dict(read_options or {}))

    def __len__(self) -> int:
        return len(self.files) if self.frame is None else int(self.frame.npartitions)

    def first(self) -> pd.DataFrame:
        """The first partition, read here (to infer a schema from)."""
        if self.frame is not None:
            return self.frame.get_partition(0).compute()
        return _read(self.files[0], self.read_options)

    def map(
        self,
        executor: LocalExecutor | DaskExecutor,
        fn: Callable[..., R],
        shared: Mapping[str, Any] | None = None,
    ) -> list[R]:
        """``fn(index, rows, **shared)`` for every partition, in the partitions' order."""
        if self.holdout is not None:
            fn = partial(_one_side, fn, self.holdout)
        if self.frame is None:
            tasks = list(enumerate(self.files))
            return executor.map(
                partial(_on_file, fn), tasks, {**(shared or {}), "reading": self.read_options}
            )
        return executor.map_frames(partial(_on_frame, fn), list(self.frame.to_delayed()), shared)

    def reduce(
        self,
        executor: LocalExecutor | DaskExecutor,
        fn: Callable[..., R],
        combine: Callable[[list[R]], R],
        shared: Mapping[str, Any] | None = None,
        split_every: int = SPLIT_EVERY,
    ) -> R:
        """``fn(index, rows, **shared)`` for every partition, combined in a tree of ``split_every``
        (``combine`` takes a list of results, or of combined results, in the partitions' order)."""
        if self.holdout is not None:
            fn = partial(_one_side, fn, self.holdout)
        if self.frame is None:
            tasks = list(enumerate(self.files))
            given = {**(shared or {}), "reading": self.read_options}
            return executor.map_reduce(partial(_on_file, fn), tasks, given, combine, split_every)
        delayed = list(self.frame.to_delayed())
        return executor.map_reduce(partial(_on_frame, fn), delayed, shared, combine, split_every, frames=True)
