"""Jobs (fit, sample, report) in worker processes, and the runner that starts, watches and cancels them.

Each job runs in a fresh Python process (``python -c``, importing only what the job needs): a
crash, a kill or running out of memory ends that job alone, and the runner marks it failed.  The
worker reports the library's progress events (the ones the CLI shows) to the store; the server
streams them from there.  Outputs are written atomically and recorded in the same transaction that
marks the job succeeded, so no partial file is ever listed.  A worker dies with the server (Linux's
parent-death signal, and a watch on the parent as a fallback).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirage.server._store import INTERRUPTED, Store, new_id

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["JOB_KINDS", "Runner", "run_job"]

JOB_KINDS = ("fit", "sample", "report")
_WORKER = "import sys; from mirage.server._jobs import run_job; run_job(*sys.argv[1:4], int(sys.argv[4]))"
_PROGRESS_EVERY = 0.2  # seconds between progress writes (the last step of a task is always written)


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def run_job(db_path: str, data_dir: str, job_id: str, parent: int) -> None:
    """The worker process's body: run one job and record its outcome in the store."""
    _die_with_parent(parent)
    with contextlib.suppress(OSError, AttributeError):  # the server's answers come before the jobs' work
        os.nice(10)
    store = Store(db_path)
    try:
        job = store.job(job_id)
        if job is None or job["state"] != "running":
            return
        try:
            _run(store, Path(data_dir), job)
        except BaseException as exc:  # everything ends as one line in the store
            store.fail_job(job_id, error_message(exc), states=("running",))
            if not isinstance(exc, Exception):
                raise
    finally:
        store.close()


def error_message(exc: BaseException) -> str:
    """A one-line message: the CLI's wording of a ``MirageError``, else the exception's type and text."""
    from mirage.cli._wording import cli_message
    from mirage.errors import MirageError

    if isinstance(exc, MirageError):
        return " ".join(cli_message(str(exc)).split())
    return " ".join(f"unexpected {type(exc).__name__}: {exc}".split())


class _ProgressWriter:
    def __init__(self, store: Store, job_id: str) -> None:
        self.store, self.job_id, self.last = store, job_id, 0.0

    def __call__(self, event: Any) -> None:
        from mirage._progress import describe

        now = time.monotonic()
        total = max(int(event.total), 0)
        done = min(int(event.done), total) if total else int(event.done)
        if now - self.last < _PROGRESS_EVERY and done < total:
            return
        self.last = now
        share = done / total if total else 0.0
        # the "fit" task's share is the job's; later tasks (the privacy guard, writing) keep it full
        progress = share if event.task == "fit" else 0.99
        self.store.set_progress(self.job_id, event.task, done, total, describe(event), min(progress, 0.99))


def _run(store: Store, data_dir: Path, job: dict[str, Any]) -> None:
    from mirage._progress import progress_events_to

    with progress_events_to(_ProgressWriter(store, job["id"])):
        if job["kind"] == "fit":
            _fit(store, data_dir, job)
        elif job["kind"] == "sample":
            _sample(store, data_dir, job)
        else:
            _report(store, data_dir, job)


def _fit(store: Store, data_dir: Path, job: dict[str, Any]) -> None:
    import mirage
    from mirage.io import read_table
    from mirage.schema import Schema

    params = job["params"]
    dataset = store.dataset(job["dataset_id"])
    if dataset is None:
        raise LookupError(f"dataset {job['dataset_id']} was deleted")
    source = data_dir / dataset["file"]
    schema = Schema.load(source.parent / "schema.json")
    engine = params.get("engine", "auto")
    options = dataset.get("read_options") or {}
    frame = read_table(source, **options)
    holdout, seed = params.get("holdout", 0.2), int(params.get("seed", 0))
    hyperparameters: dict[str, Any] = {"seed": seed}
    budget = params.get("time_budget")
    if budget is not None and _fits(engine, frame, holdout, seed) == ("argn",):
        hyperparameters["max_training_time"] = float(budget)
    model = mirage.fit(
        frame,
        engine=engine,
        schema=schema,
        holdout=holdout,
        split_seed=seed,
        source=source,
        read_options=options,
        **hyperparameters,
    )
    engine = model.name  # what auto picked
    model_id = new_id()
    folder = data_dir / "models" / model_id
    folder.mkdir(parents=True)
    model.save(folder / "model.mirage")
    record = {
        "id": model_id,
        "dataset_id": dataset["id"],
        "job_id": job["id"],
        "name": f"{Path(dataset['name']).stem} ({engine})",
        "engine": engine,
        "file": f"models/{model_id}/model.mirage",
    }
    if not store.finish_job(job["id"], {"model_id": model_id, "engine": engine}, model=record):
        _remove_tree(folder)  # cancelled while saving: nothing stays


def _fits(engine: str, frame: pd.DataFrame, holdout: float | None, seed: int) -> tuple[str, ...]:
    """The engines ``mirage.fit`` will fit: ``auto`` picks from the rows it learns, not the whole file."""
    if engine != "auto":
        return (engine,)
    import mirage
    from mirage.evaluation._holdout import split_holdout

    learned = frame if holdout is None else split_holdout(frame, holdout, seed)[0]
    return mirage.choose_engine(learned).candidates


def _sample(store: Store, data_dir: Path, job: dict[str, Any]) -> None:
    import mirage
    from mirage._api import single_table
    from mirage.io import output_dialect, write_chunks

    params = job["params"]
    model_record = store.model(job["model_id"])
    if model_record is None:
        raise LookupError(f"model {job['model_id']} was deleted")
    path = data_dir / model_record["file"]
    model = single_table(mirage.load(path), path)
    rows = model.sample(
        int(params["rows"]), seed=int(params.get("seed", 0)), conditions=params.get("conditions")
    )
    folder = data_dir / "samples" / job["id"]
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt in ("csv", "parquet"):
        # a CSV in the source's delimiter and decimal mark, as `mirage sample` writes it
        write_chunks(rows, folder / f"sample.{fmt}", dialect=output_dialect(model.schema_))
        files[fmt] = f"samples/{job['id']}/sample.{fmt}"
    if not store.finish_job(job["id"], {"rows": len(rows), "files": files, "model_id": job["model_id"]}):
        _remove_tree(folder)


def _report(store: Store, data_dir: Path, job: dict[str, Any]) -> None:
    import mirage
    from mirage._api import single_table
    from mirage._progress import report as report_progress
    from mirage.evaluation import evaluate, recover_split

    params = job["params"]
    model_record = store.model(job["model_id"])
    if model_record is None:
        raise LookupError(f"model {job['model_id']} was deleted")
    path = data_dir / model_record["file"]
    model = single_table(mirage.load(path), path)
    real, held = recover_split(model.training_)
    seed = int(params.get("seed", 0))
    synthetic = model.sample(len(real), seed=seed)
    target = params.get("target")
    report = evaluate(real, synthetic, holdout=held, target=target, schema=model.schema_, seed=seed)
    name = f"report-{job['id']}.html"
    report_progress("writing", 0, 1, name)
    report.to_html(str(path.parent / name))
    report_progress("writing", 1, 1, name)
    relative = f"models/{model_record['id']}/{name}"
    if not store.finish_job(job["id"], {"model_id": model_record["id"], "report": relative}):
        (path.parent / name).unlink(missing_ok=True)


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


class Runner:
    """Starts queued jobs in worker processes, at most ``workers`` at a time; reaps, cancels, stops."""

    def __init__(self, store: Store, data_dir: Path, workers: int) -> None:
        self.store, self.data_dir, self.workers = store, data_dir, workers
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mirage-jobs", daemon=True)

    def start(self) -> None:
        """Start the dispatching thread (again, after ``stop``: an app's lifespan may run twice)."""
        if self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="mirage-jobs", daemon=True)
        self._thread.start()

    def submit(self) -> None:
        self._wake.set()

    def cancel(self, job_id: str) -> bool:
        cancelled = self.store.cancel_job(job_id)
        with self._lock:
            process = self._running.get(job_id)
        if cancelled and process is not None:
            process.kill()
        return cancelled

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        with self._lock:
            running = dict(self._running)
            self._running.clear()
        for job_id, process in running.items():
            process.kill()
            process.wait(timeout=10)
            self.store.fail_job(job_id, INTERRUPTED)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._reap()
            self._start_queued()
            self._wake.wait(0.2)
            self._wake.clear()

    def _reap(self) -> None:
        with self._lock:
            ended = {job_id: p for job_id, p in self._running.items() if p.poll() is not None}
            for job_id in ended:
                del self._running[job_id]
        for job_id, process in ended.items():
            code = process.returncode
            why = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            self.store.fail_job(job_id, f"the worker process ended unexpectedly ({why})", states=("running",))

    def _start_queued(self) -> None:
        with self._lock:
            free = self.workers - len(self._running)
        if free <= 0 or self._stop.is_set():
            return
        for job in sorted(self.store.jobs("queued"), key=lambda j: j["created"])[:free]:
            if not self.store.start_job(job["id"]):
                continue
            log = self.data_dir / "logs" / f"{job['id']}.log"
            log.parent.mkdir(exist_ok=True)
            command = [sys.executable, "-c", _WORKER, str(self.store.path), str(self.data_dir)]
            with open(log, "ab") as err:
                process = subprocess.Popen(
                    [*command, job["id"], str(os.getpid())],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    close_fds=True,
                )
            with self._lock:
                self._running[job["id"]] = process
