"""Shared helpers for the benchmark scripts in this folder (not part of the ``mirage`` package).

Every measurement runs in a fresh *spawned* process (``run_isolated``) so that its peak memory is
its own.  On Linux a spawned child's ``ru_maxrss`` starts from the launching process's high-water
mark (the kernel carries it across ``exec``), so a launcher must stay small: import only the
standard library and this module at top level, and never load data or models in the launcher.
``VmHWM`` from ``/proc/self/status`` (the high-water mark of the child's own address space) is
recorded next to ``ru_maxrss`` as a cross-check.

Nothing here imports numpy, pandas or mirage at module level, for the same reason.
"""

from __future__ import annotations

import gc
import importlib.metadata
import importlib.util
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BENCH_DIR",
    "DEFAULT_DATA_DIR",
    "REPO_ROOT",
    "RESULTS_DIR",
    "TARGET_COLUMNS",
    "Isolated",
    "Timing",
    "environment_info",
    "format_table",
    "has_module",
    "load_table",
    "median",
    "package_versions",
    "peak_rss_mib",
    "run_isolated",
    "timed",
    "vm_hwm_mib",
    "write_results",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# the shared datasets sit beside the checkout; MIRAGE_SHARED_DATA points elsewhere (as for the tests)
DEFAULT_DATA_DIR = Path(os.environ.get("MIRAGE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
# each shared table's usual prediction target (for TSTR / TRTR)
TARGET_COLUMNS = {
    "adult": "income",
    "bank_marketing": "y",
    "insurance": "charges",
    "titanic": "survived",
    "diabetes": "target",
    "breast_cancer": "target",
}
# other tables' targets, for a benchmark run on a folder of one's own (``--data``):
# MIRAGE_BENCH_TARGETS="wine=target,penguins=species"
for _item in filter(None, os.environ.get("MIRAGE_BENCH_TARGETS", "").split(",")):
    _table, _, _column = (part.strip() for part in _item.partition("="))
    if not (_table and _column):
        raise SystemExit(f"MIRAGE_BENCH_TARGETS: {_item!r} is not TABLE=COLUMN")
    TARGET_COLUMNS[_table] = _column

MIB = 1024 * 1024
T = TypeVar("T")


# --- memory -----------------------------------------------------------------------------------
def peak_rss_mib() -> float:
    """This process's RSS high-water mark (``getrusage(RUSAGE_SELF).ru_maxrss``) in MiB, absolute."""
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return maxrss / MIB if sys.platform == "darwin" else maxrss / 1024


def vm_hwm_mib() -> float | None:
    """``VmHWM`` of ``/proc/self/status`` in MiB (Linux only; ``None`` elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- timing -----------------------------------------------------------------------------------
@dataclass
class Timing(Generic[T]):
    """One timed call: its result, wall and CPU seconds, and the tracemalloc peak when traced."""

    result: T
    seconds: float
    cpu_s: float
    traced_mib: float | None = None


def timed(work: Callable[[], T], *, trace: bool = False) -> Timing[T]:
    """Run ``work()`` once and time it (wall clock and this process's CPU time, all threads).

    CPU time is less sensitive than wall time to other processes on a busy machine.  With ``trace``
    the tracemalloc peak (MiB allocated through Python's allocators, numpy arrays included) is
    recorded too, but tracemalloc slows allocation-heavy code several times, so traced runs are for
    memory only and their seconds should not be reported.
    """
    gc.collect()
    if trace:
        tracemalloc.start()
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        result = work()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        traced = tracemalloc.get_traced_memory()[1] / MIB if trace else None
    finally:
        if trace:
            tracemalloc.stop()
    return Timing(result, seconds, cpu, traced)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


# --- isolated measurements --------------------------------------------------------------------
@dataclass
class Isolated:
    """What one measurement process returned: its own result dict plus its memory figures."""

    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    peak_rss_mib: float | None = None
    vm_hwm_mib: float | None = None
    wall_s: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "result": self.result,
            "peak_rss_mib": self.peak_rss_mib,
            "vm_hwm_mib": self.vm_hwm_mib,
            "process_wall_s": self.wall_s,
            "error": self.error,
        }


def _child_main(conn: Connection, target: Callable[..., dict[str, Any]], args: tuple[Any, ...]) -> None:
    try:
        result = target(*args)
        conn.send(("ok", result, peak_rss_mib(), vm_hwm_mib()))
    except BaseException:  # report anything, including SystemExit and KeyboardInterrupt
        conn.send(("error", traceback.format_exc(), peak_rss_mib(), vm_hwm_mib()))
    finally:
        conn.close()


def run_isolated(target: Callable[..., dict[str, Any]], *args: Any, timeout: float | None = None) -> Isolated:
    """Run ``target(*args)`` in a fresh spawned Python process and collect its peak memory.

    ``target`` must be a module-level function (it is pickled by reference) returning a small
    JSON-able dict.  A crash, a kill (e.g. out of memory) or ``timeout`` gives ``ok=False``.
    """
    context = mp.get_context("spawn")
    parent_end, child_end = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(child_end, target, args), daemon=True)
    start = time.perf_counter()
    process.start()
    child_end.close()
    message: tuple[Any, ...] | None = None
    try:
        if parent_end.poll(timeout):
            message = parent_end.recv()
    except EOFError:
        message = None
    finally:
        parent_end.close()
    if message is None and process.is_alive():
        process.kill()
    process.join()
    wall = time.perf_counter() - start
    if message is None:
        timed_out = timeout is not None and wall >= timeout
        why = f"timed out after {timeout:.0f} s" if timed_out else f"died with exit code {process.exitcode}"
        return Isolated(ok=False, wall_s=wall, error=f"measurement process {why}")
    status, payload, rss, hwm = message
    if status != "ok":
        return Isolated(ok=False, peak_rss_mib=rss, vm_hwm_mib=hwm, wall_s=wall, error=str(payload))
    return Isolated(ok=True, result=dict(payload), peak_rss_mib=rss, vm_hwm_mib=hwm, wall_s=wall)


# --- data -------------------------------------------------------------------------------------
def load_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file the way ``mirage.io.read_table`` does for clean files.

    Only empty cells are missing; text columns are ``object`` dtype with ``NaN`` for missing values
    (also under pandas 3, whose default would be the ``str`` dtype).  Uses pandas only, so a
    process that benchmarks another library does not pay for importing mirage.
    """
    import numpy as np
    import pandas as pd
    from pandas.api.types import is_object_dtype

    source = Path(path)
    if source.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(source)
    else:
        sep = "\t" if source.suffix.lower() == ".tsv" else ","
        frame = pd.read_csv(source, sep=sep, keep_default_na=False, na_values=[""])
    for position, dtype in enumerate(frame.dtypes):
        if is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
            values = frame.iloc[:, position].to_numpy(dtype=object, na_value=np.nan)
            column: Any = pd.Series(values, index=frame.index, dtype=object)
            frame.isetitem(position, column)
    return frame


# --- environment ------------------------------------------------------------------------------
def has_module(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def package_versions(names: Sequence[str]) -> dict[str, str | None]:
    """Installed distribution versions, read from metadata (nothing is imported)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def environment_info() -> dict[str, Any]:
    """Where and when: interpreter, machine, load average and the repository's commit."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "loadavg": list(load) if load else None,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "blas_env": {
            k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS") or k.startswith("OPENBLAS")
        },
    }


# --- output -----------------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_results(
    name: str, payload: dict[str, Any], extra: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Write ``payload`` as JSON to ``results/<name>-<UTC time>.json`` (and to ``extra`` if given)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    targets = [RESULTS_DIR / f"{name}-{stamp}.json"]
    if extra is not None:
        targets.append(Path(extra))
    text = json.dumps(payload, indent=2, default=_json_default, allow_nan=True) + "\n"
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return targets


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """A plain-text table; the first ``left`` columns are left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if index < left else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])
