"""The server's records (datasets, jobs, models) in a SQLite file under the data directory.

The server and its worker processes share the file (WAL mode, so that readers never wait on a
writer); a job's state moves queued -> running -> succeeded | failed | cancelled, and a worker's
final write only lands while the job still reads ``running`` (a cancel that came first wins).
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

__all__ = ["FINISHED", "INTERRUPTED", "Store", "new_id"]

FINISHED = ("succeeded", "failed", "cancelled")
INTERRUPTED = "interrupted: the server stopped while the job ran; start it again"

_META = sa.MetaData()
_DATASETS = sa.Table(
    "datasets",
    _META,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("file", sa.String, nullable=False),  # relative to the data directory
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("columns", sa.Text, nullable=False),  # JSON list of names
    sa.Column("read_options", sa.Text, nullable=False, default="{}"),  # JSON: how to read the file again
    sa.Column("created", sa.Float, nullable=False),
)
_JOBS = sa.Table(
    "jobs",
    _META,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("dataset_id", sa.String(32)),
    sa.Column("model_id", sa.String(32)),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("task", sa.String, nullable=False, default=""),
    sa.Column("done", sa.Integer, nullable=False, default=0),
    sa.Column("total", sa.Integer, nullable=False, default=0),
    sa.Column("detail", sa.String, nullable=False, default=""),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("error", sa.String),
    sa.Column("result", sa.Text),  # JSON: what the job made (a model id, sample files)
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("started", sa.Float),
    sa.Column("finished", sa.Float),
)
_MODELS = sa.Table(
    "models",
    _META,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("dataset_id", sa.String(32)),
    sa.Column("job_id", sa.String(32)),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("engine", sa.String, nullable=False),
    sa.Column("file", sa.String, nullable=False),
    sa.Column("report", sa.String),  # the HTML report, relative to the data directory, once made
    sa.Column("created", sa.Float, nullable=False),
)


def new_id() -> str:
    return secrets.token_hex(8)


def _on_connect(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """The records of one data directory; every method is one short transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.engine = sa.create_engine(f"sqlite:///{self.path}", connect_args={"timeout": 30})
        sa.event.listen(self.engine, "connect", _on_connect)
        _META.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # datasets ---------------------------------------------------------------------------------
    def add_dataset(
        self, id: str, name: str, file: str, rows: int, columns: list[str], read_options: dict[str, str]
    ) -> dict[str, Any]:
        record = {
            "id": id,
            "name": name,
            "file": file,
            "rows": rows,
            "columns": json.dumps(columns),
            "read_options": json.dumps(read_options),
            "created": time.time(),
        }
        with self.engine.begin() as db:
            db.execute(_DATASETS.insert().values(**record))
        return self.dataset(id) or {}

    def dataset(self, id: str) -> dict[str, Any] | None:
        return self._one(_DATASETS, id)

    def datasets(self) -> list[dict[str, Any]]:
        return self._all(_DATASETS)

    def delete_dataset(self, id: str) -> None:
        with self.engine.begin() as db:
            db.execute(_DATASETS.delete().where(_DATASETS.c.id == id))

    # models -----------------------------------------------------------------------------------
    def model(self, id: str) -> dict[str, Any] | None:
        return self._one(_MODELS, id)

    def models(self) -> list[dict[str, Any]]:
        return self._all(_MODELS)

    def add_model(self, **record: Any) -> None:
        with self.engine.begin() as db:
            db.execute(_MODELS.insert().values(created=time.time(), **record))

    def set_report(self, model_id: str, report: str) -> None:
        with self.engine.begin() as db:
            db.execute(_MODELS.update().where(_MODELS.c.id == model_id).values(report=report))

    # jobs -------------------------------------------------------------------------------------
    def add_job(
        self, kind: str, params: dict[str, Any], *, dataset_id: str | None = None, model_id: str | None = None
    ) -> dict[str, Any]:
        id = new_id()
        with self.engine.begin() as db:
            db.execute(
                _JOBS.insert().values(
                    id=id,
                    kind=kind,
                    dataset_id=dataset_id,
                    model_id=model_id,
                    params=json.dumps(params),
                    state="queued",
                    created=time.time(),
                )
            )
        return self.job(id) or {}

    def job(self, id: str) -> dict[str, Any] | None:
        return self._one(_JOBS, id)

    def jobs(self, state: str | None = None) -> list[dict[str, Any]]:
        return self._all(_JOBS, None if state is None else _JOBS.c.state == state)

    def start_job(self, id: str) -> bool:
        """Mark a queued job running; False when it is no longer queued (cancelled meanwhile)."""
        return self._move(id, ("queued",), state="running", started=time.time())

    def set_progress(self, id: str, task: str, done: int, total: int, detail: str, progress: float) -> None:
        with self.engine.begin() as db:
            db.execute(
                _JOBS.update()
                .where(_JOBS.c.id == id, _JOBS.c.state == "running")
                .values(task=task, done=done, total=total, detail=detail[:500], progress=progress)
            )

    def finish_job(self, id: str, result: dict[str, Any], model: dict[str, Any] | None = None) -> bool:
        """Mark a running job succeeded (and record the model it made, in the same transaction);
        False when it was cancelled or failed meanwhile."""
        with self.engine.begin() as db:
            moved = db.execute(
                _JOBS.update()
                .where(_JOBS.c.id == id, _JOBS.c.state == "running")
                .values(state="succeeded", progress=1.0, result=json.dumps(result), finished=time.time())
            ).rowcount
            if moved and model is not None:
                db.execute(_MODELS.insert().values(created=time.time(), **model))
            if moved and "report" in result:
                db.execute(
                    _MODELS.update().where(_MODELS.c.id == result["model_id"]).values(report=result["report"])
                )
        return bool(moved)

    def fail_job(self, id: str, error: str, *, states: tuple[str, ...] = ("queued", "running")) -> bool:
        return self._move(id, states, state="failed", error=error, finished=time.time())

    def cancel_job(self, id: str) -> bool:
        return self._move(
            id, ("queued", "running"), state="cancelled", error="cancelled", finished=time.time()
        )

    def fail_interrupted(self) -> list[str]:
        """Mark every job a previous server left queued or running as failed (at start-up)."""
        ids = [job["id"] for job in self._all(_JOBS, _JOBS.c.state.in_(("queued", "running")))]
        for id in ids:
            self.fail_job(id, INTERRUPTED)
        return ids

    def _move(self, id: str, states: tuple[str, ...], **values: Any) -> bool:
        with self.engine.begin() as db:
            moved = db.execute(
                _JOBS.update().where(_JOBS.c.id == id, _JOBS.c.state.in_(states)).values(**values)
            ).rowcount
        return bool(moved)

    # ------------------------------------------------------------------------------------------
    def _one(self, table: sa.Table, id: str) -> dict[str, Any] | None:
        with self.engine.connect() as db:
            row = db.execute(table.select().where(table.c.id == id)).mappings().first()
        return None if row is None else _decoded(dict(row))

    def _all(self, table: sa.Table, where: Any = None) -> list[dict[str, Any]]:
        query = table.select().order_by(table.c.created.desc())
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as db:
            return [_decoded(dict(row)) for row in db.execute(query).mappings()]


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("columns", "params", "result", "read_options"):
        if name in row and isinstance(row[name], str):
            row[name] = json.loads(row[name])
    return row
