"""Sampling to a folder of partitioned files, in parallel: one file per range of seeded blocks.

Block ``i`` of a sample draws from ``SeedSequence([seed, i])`` (:mod:`mirage.engines._base`), so the
rows of a range of blocks do not depend on which worker draws them or on what else it drew.  The
output folder holds ``part-00000.parquet``, ``part-00001.parquet``, ... (file ``k`` holds the blocks
of rows ``k * block_rows`` to ``(k + 1) * block_rows``), each written by the worker that drew it
through a temporary file renamed into place, and ``_SUCCESS`` last, written by the client once every
file is in: a folder without ``_SUCCESS`` is not a complete dataset.  The files are the same bytes
whatever the executor and the number of workers.

Workers get the model as its model file's bytes (manifest and safetensors arrays, sent once to each
worker) and load it with the validated loader, once per worker process.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Full, Queue
from typing import TYPE_CHECKING, Any

from mirage.errors import MirageError, OptionError, OutputExistsError
from mirage.scale._executor import executor_for
from mirage.scale._malloc import reusing_freed_memory
from mirage.scale._remote import is_url, local_path, put_atomically, remote

if TYPE_CHECKING:
    import pandas as pd

    from mirage.engines._base import Synthesizer

__all__ = ["FILE_ROWS", "FORMATS", "SUCCESS", "SampledFolder", "part_name", "sample_to", "shipped_model"]

SUCCESS = "_SUCCESS"  # written last; readers (pyarrow, pandas, Dask) skip names starting with _ or .
FORMATS = ("parquet", "csv")
FILE_ROWS = 1_000_000  # rows per file unless block_rows says otherwise
# Named, not imported: Synthesizer.sample_to calls this module, so it imports no engine module and no
# persistence (which sits above the engines, tests/test_import_graph.py); workers import the loader.
LOADER = "mirage.model_file:load_model"
#: ``sample`` options that cannot be drawn block by block, and why
REFUSED = {
    "rebalance": "gives values exact shares of the whole sample, which no block sees",
    "fair": "rebalances the whole sample, which no block sees",
    "context": "draws one row per context row, which sample_to is not given",
}

_loaded: dict[str, Any] = {}  # per worker process: the last model loaded, by the SHA-256 of its bytes


@dataclass(frozen=True)
class SampledFolder:
    """What ``sample_to`` wrote."""

    path: Path | str  # a URL (other than file://) stays a string
    rows: int
    files: tuple[str, ...]
    seed: int
    seconds: float


def part_name(index: int, file_format: str) -> str:
    return f"part-{index:05d}.{file_format}"


def shipped_model(model_file: bytes) -> Synthesizer:
    """The model in ``model_file`` (bytes), loaded once per process by the validated loader."""
    digest = hashlib.sha256(model_file).hexdigest()
    model = _loaded.get(digest)
    if model is None:
        module, _, name = LOADER.partition(":")
        model = getattr(importlib.import_module(module), name)(model_file)
        _loaded.clear()
        _loaded[digest] = model
    return model


def _write_part(
    task: tuple[int, int, int], *, model_file: bytes, folder: str, options: dict[str, Any]
) -> int:
    """Write file ``index`` (blocks from ``first_block``, ``rows`` rows); runs on a worker."""
    with reusing_freed_memory():
        return _write_file(task, model_file=model_file, folder=folder, options=options)


def _write_file(
    task: tuple[int, int, int], *, model_file: bytes, folder: str, options: dict[str, Any]
) -> int:
    from mirage.io import output_dialect, write_chunks

    index, first_block, rows = task
    model = shipped_model(model_file)
    block = options["block"]
    accept, plan = _sampling(model, options["conditions"], options["scenario"])

    def blocks() -> Iterator[Any]:
        for offset, start in enumerate(range(0, max(rows, 1), block)):
            size = min(block, rows - start)
            yield model.sample_block(
                first_block + offset, size, seed=options["seed"], accept=accept, scenario=plan
            )

    name = part_name(index, options["format"])
    dialect = output_dialect(model.schema_)
    ahead = _draws_ahead(options["draw_ahead"], options["tasks_by_host"])
    chunks = drawn_ahead(blocks()) if ahead else blocks()
    if not is_url(folder):
        return write_chunks(
            chunks, Path(folder) / name, force=True, format=options["format"], dialect=dialect
        )
    with tempfile.TemporaryDirectory(prefix="mirage-sample-") as local:
        rows_written = write_chunks(chunks, Path(local) / name, format=options["format"], dialect=dialect)
        put_atomically(Path(local) / name, f"{folder}/{name}")
    return rows_written


def _draws_ahead(asked: bool | None, tasks_by_host: Mapping[str, int]) -> bool:
    """Whether this task draws in a second thread: as ``asked``, else when this host has a core to
    spare for it (at least two cores for each task that can run here at once)."""
    if asked is not None:
        return asked
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores >= 2 * _tasks_here(tasks_by_host)


def _tasks_here(tasks_by_host: Mapping[str, int]) -> int:
    """How many tasks can run at once on this task's host (1 when it runs in the calling process)."""
    if not tasks_by_host:
        return 1
    try:
        from distributed import get_worker
        from distributed.comm import get_address_host

        host = get_address_host(get_worker().address)
    except (ImportError, ValueError):
        return 1
    return tasks_by_host.get(host, max(tasks_by_host.values()))


def drawn_ahead(blocks: Iterator[pd.DataFrame], depth: int = 1) -> Iterator[pd.DataFrame]:
    """``blocks``, drawn in a second thread up to ``depth`` blocks ahead of the one being written.

    Arrow's conversion and Parquet encoding and numpy's draws release the GIL, so a worker draws the
    next block while it writes this one.  The blocks come in their order; an error while drawing is
    raised here, and stopping early (an error while writing) stops the drawing thread."""
    done = object()
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = threading.Event()

    def draw() -> None:
        try:
            for block in blocks:
                while not stop.is_set():
                    try:
                        queue.put((block, None), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put((done, None))
        except BaseException as exc:  # handed to the writing thread, raised there
            queue.put((done, exc))

    thread = threading.Thread(target=draw, name="mirage-draw-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(Empty):
                queue.get(timeout=0.1)
        thread.join()


def _sampling(
    model: Synthesizer, conditions: Mapping[str, Any] | None, scenario: Mapping[str, Any] | None
) -> tuple[Any, Any]:
    """The row filter of ``conditions`` and the resolved ``scenario``, as ``Synthesizer.sample_chunks``
    makes them (so a block drawn here is the block ``sample`` draws); built on each worker."""
    from mirage.engines._scenario import resolve_scenario

    if scenario is not None and not model.get_tags().scenario:
        raise model._unsupported("scenario", "sample a scenario")
    if scenario is not None and conditions:
        raise OptionError("a scenario cannot be combined with conditions or a context yet; pass one of them")
    if conditions and model.rules_ is not None:
        accept = model.rules_.condition_filter(conditions, model._condition_filter)
    else:
        accept = model._condition_filter(conditions) if conditions else None
    plan = None if scenario is None else resolve_scenario(scenario, model.schema_, model.encoder_)
    return accept, plan


def _check_model(model: Synthesizer) -> None:
    from mirage.control._rules import Unique

    model._require_fitted()
    if model.context_schema_ is not None:
        raise OptionError("sample_to: a model fitted with a context samples given context rows; use sample")
    if model.rules_ is not None and any(isinstance(rule, Unique) for rule in model.rules_.rules):
        raise OptionError(
            "sample_to: a unique rule needs every earlier block's values, so its blocks cannot be drawn "
            "apart; sample to one file (mirage sample -o FILE)"
        )


def _prepare_remote(url: str, force: bool) -> None:
    """``_prepare_folder`` at a URL: an existing, non-empty folder refused unless ``force``."""
    fs, root = remote(url)
    if fs.isfile(root):
        raise OutputExistsError(f"output '{url}' is a file; partitioned output goes to a folder")
    names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)] if fs.isdir(root) else []
    if names and not force:
        raise OutputExistsError(f"output folder '{url}' is not empty; pass force=True to replace its files")
    if SUCCESS in names:
        fs.rm(f"{root}/{SUCCESS}")  # first: the folder stops looking complete
    for name in names:
        if name.startswith("part-") and name.rsplit(".", 1)[-1] in FORMATS:
            fs.rm(f"{root}/{name}")
    fs.makedirs(root, exist_ok=True)


def _prepare_folder(folder: Path, file_format: str, force: bool) -> None:
    """Refuse an existing output unless ``force``; with it, remove what an earlier run wrote there."""
    if not folder.parent.is_dir():
        raise OptionError(
            f"cannot write '{folder}': folder '{folder.parent}' does not exist; create it first"
        )
    if folder.exists() and not folder.is_dir():
        raise OutputExistsError(f"output '{folder}' is a file; partitioned output goes to a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise OutputExistsError(
                f"output folder '{folder}' is not empty; pass force=True to replace its files"
            )
        (folder / SUCCESS).unlink(missing_ok=True)  # first: the folder stops looking complete
        for old in folder.iterdir():
            if old.name.startswith("part-") and old.suffix in {f".{f}" for f in FORMATS}:
                old.unlink()
    folder.mkdir(exist_ok=True)


def sample_to(
    model: Synthesizer,
    path: str | os.PathLike[str],
    n: int,
    *,
    seed: int,
    block: int,
    format: str = "parquet",
    block_rows: int = FILE_ROWS,
    workers: int | None = None,
    cluster: str | None = None,
    client: Any = None,
    force: bool = False,
    conditions: Mapping[str, Any] | None = None,
    scenario: Mapping[str, Any] | None = None,
    draw_ahead: bool | None = None,
    **refused: Any,
) -> SampledFolder:
    """Draw ``n`` rows of ``model`` into the folder ``path``, one file per ``block_rows`` rows.

    ``seed``: the sample's seed; ``block``: the rows of a seeded block (``BLOCK_ROWS``, given by the
    engine, whose method calls this).  ``format``: ``parquet`` or ``csv``.  ``block_rows``: rows per
    file, a multiple of ``block`` (default 1,000,000).  Runs here (the default), on a local Dask
    cluster of ``workers`` processes, on the cluster at ``cluster`` (a scheduler address) or through
    ``client`` (a ``distributed.Client``).  The rows are those of ``model.sample(n, seed=seed)`` and
    the files the same bytes however they are run.  An existing, non-empty folder is refused unless ``force``.
    ``conditions`` and ``scenario`` are those of ``model.sample`` (the rows are ``model.sample(n,
    seed=seed, conditions=conditions)``'s); ``rebalance``, ``fair`` and ``context`` are refused
    (``OptionError`` naming the option): they need the whole sample (shares, a context's rows) at once.
    ``draw_ahead``: whether each task draws its next block in a second thread while it writes one
    (the default, ``None``: where its host has two cores for each task running there at once, so one
    worker on a 2-core machine uses both and two workers do not fight over them); the bytes written
    are the same either way.
    """
    for name in refused:
        if name in REFUSED:
            raise OptionError(
                f"sample_to: {name} {REFUSED[name]}; draw the rows with sample(..., {name}=...)"
            )
        raise TypeError(f"sample_to() got an unexpected keyword argument {name!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise OptionError(f"n must be a non-negative integer, got {n!r}")
    if format not in FORMATS:
        raise OptionError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if (
        isinstance(block_rows, bool)
        or not isinstance(block_rows, int)
        or block_rows < block
        or block_rows % block
    ):
        raise OptionError(f"block_rows must be a positive multiple of {block:,}, got {block_rows!r}")
    if draw_ahead is not None and not isinstance(draw_ahead, bool):
        raise OptionError(f"draw_ahead must be True, False or None, got {draw_ahead!r}")
    _check_model(model)
    _sampling(model, conditions, scenario)  # bad conditions or scenario: refused here, before any file
    text = os.fspath(path)
    folder: Path | str
    if is_url(text) and local_path(text) is None:
        folder = text.rstrip("/")
        _prepare_remote(folder, force)
        shipped = folder
    else:
        folder = Path(local_path(text) or text)
        _prepare_folder(folder, format, force)
        shipped = str(folder.resolve())
    per_file = block_rows // block
    tasks = [
        (index, index * per_file, min(block_rows, n - index * block_rows))
        for index in range(max(1, math.ceil(n / block_rows)))
    ]
    buffer = _model_file(model)
    options = {
        "seed": seed,
        "format": format,
        "block": block,
        "conditions": None if not conditions else dict(conditions),
        "scenario": None if scenario is None else dict(scenario),
    }
    start = time.perf_counter()
    with executor_for(workers=workers, cluster=cluster, client=client) as executor:
        options["tasks_by_host"] = executor.tasks_by_host()
        options["draw_ahead"] = draw_ahead
        written = executor.map(
            _write_part, tasks, {"model_file": buffer, "folder": shipped, "options": options}
        )
    if sum(written) != n:
        raise MirageError(f"sample_to: the files hold {sum(written):,} rows, not {n:,}")  # pragma: no cover
    files = tuple(part_name(index, format) for index, _, _ in tasks)
    _write_success(folder, model, n, seed, format, block_rows, files)
    return SampledFolder(folder, n, files, seed, time.perf_counter() - start)


def _model_file(model: Synthesizer) -> bytes:
    import io

    stream = io.BytesIO()
    model.save(stream)
    return stream.getvalue()


def _write_success(
    folder: Path | str,
    model: Synthesizer,
    rows: int,
    seed: int,
    file_format: str,
    block_rows: int,
    files: tuple[str, ...],
) -> None:
    from mirage.io import atomic_path

    manifest = {
        "rows": rows,
        "files": list(files),
        "format": file_format,
        "block_rows": block_rows,
        "seed": seed,
        "engine": model.name,
    }
    text = json.dumps(manifest, indent=2) + "\n"
    if isinstance(folder, str):
        with tempfile.TemporaryDirectory(prefix="mirage-sample-") as local:
            (Path(local) / SUCCESS).write_text(text, encoding="utf-8")
            put_atomically(Path(local) / SUCCESS, f"{folder}/{SUCCESS}")
        return
    with atomic_path(folder / SUCCESS, force=True) as temp:
        temp.write_text(text, encoding="utf-8")
