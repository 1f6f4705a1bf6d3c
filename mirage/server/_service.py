"""What the REST endpoints and the pages both do: take in datasets, edit schemas, submit jobs, take in
model files.  Every refusal is a ``MirageError`` (one line); ``LookupError`` means "no such record"."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mirage.errors import DataError, MirageError, OptionError, SchemaError
from mirage.server._files import check_expansion, inside, remove_partial_files, sanitise_filename
from mirage.server._jobs import JOB_KINDS, Runner
from mirage.server._store import Store, new_id

__all__ = ["Limits", "Service", "UploadTooLarge"]

_CHUNK = 1 << 20
ENGINE_CHOICES = ("auto", "cart", "copula", "argn")


class UploadTooLarge(MirageError):
    """An upload went over the server's size limit."""


@dataclass(frozen=True)
class Limits:
    """``upload_bytes``: the largest request body; ``expanded_bytes``: what a compressed table file
    (Excel, Parquet) may expand to; ``sample_rows``: the most rows one sample job draws."""

    upload_bytes: int = 200 * 1024 * 1024
    expanded_bytes: int = 2 * 1024 * 1024 * 1024
    sample_rows: int = 10_000_000


class Service:
    def __init__(self, data_dir: Path, workers: int, limits: Limits) -> None:
        self.data_dir = data_dir.resolve()
        for name in ("datasets", "models", "samples", "uploads"):
            (self.data_dir / name).mkdir(parents=True, exist_ok=True)
        self.limits = limits
        self.store = Store(self.data_dir / "mirage.db")
        self.store.fail_interrupted()
        self._remove_unrecorded()
        self.runner = Runner(self.store, self.data_dir, workers)

    def _remove_unrecorded(self) -> None:
        """After a crash: half-written files, and model or sample folders no record points to."""
        remove_partial_files(self.data_dir)
        models = {m["id"] for m in self.store.models()}
        for folder in (self.data_dir / "models").iterdir():
            if folder.name not in models:
                shutil.rmtree(folder, ignore_errors=True)
        succeeded = {j["id"] for j in self.store.jobs("succeeded")}
        for folder in (self.data_dir / "samples").iterdir():
            if folder.name not in succeeded:
                shutil.rmtree(folder, ignore_errors=True)
        for leftover in (self.data_dir / "uploads").iterdir():
            leftover.unlink(missing_ok=True)

    def start(self) -> None:
        self.runner.start()

    def stop(self) -> None:
        self.runner.stop()
        self.store.close()

    def path(self, relative: str) -> Path:
        return inside(self.data_dir, relative)

    # datasets ---------------------------------------------------------------------------------
    def _receive(self, chunks: Iterator[bytes], target: Path) -> None:
        size = 0
        with open(target, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > self.limits.upload_bytes:
                    raise UploadTooLarge(
                        f"the upload is over the server's limit of {self.limits.upload_bytes:,} bytes"
                    )
                out.write(chunk)

    def add_upload(self, filename: str, stream: IO[bytes], *, on_bad_lines: str = "error") -> dict[str, Any]:
        """Take in an uploaded table; ``on_bad_lines="skip"`` leaves out malformed lines of delimited
        text (as ``mirage fit --on-bad-lines skip``), and fits read the file the same way."""
        if on_bad_lines not in ("error", "skip"):
            raise OptionError(f"on_bad_lines must be error or skip, got {on_bad_lines!r}")
        name = sanitise_filename(filename)
        text = Path(name).suffix.lower() in (".csv", ".tsv", ".txt")
        options = {"on_bad_lines": on_bad_lines} if text and on_bad_lines != "error" else {}
        dataset_id = new_id()
        folder = inside(self.data_dir, "datasets", dataset_id)
        folder.mkdir()
        target = folder / name
        try:
            self._receive(iter(lambda: stream.read(_CHUNK), b""), target)
            check_expansion(target, self.limits.expanded_bytes)
            return self._take_in(dataset_id, name, target, options)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def add_database(self, url: str, table: str | None) -> dict[str, Any]:
        from mirage.io import is_database_url, read_database, write_table

        if not is_database_url(url) or not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise OptionError(f"url {url!r}: expected sqlite:///FILE or postgresql://HOST/DB")
        if url.startswith("sqlite:"):
            file = url.split(":///", 1)[-1] if ":///" in url else ""
            if not file or file.startswith(":memory:"):
                raise OptionError(f"url {url!r}: name a SQLite file inside the data directory")
            url = f"sqlite:///{inside(self.data_dir, file)}"
        _, tables = read_database(url)
        if table is None:
            if len(tables) != 1:
                raise OptionError(f"the database holds tables {', '.join(tables)}: name one with table")
            table = next(iter(tables))
        if table not in tables:
            raise OptionError(f"table {table!r} is not in the database (tables: {', '.join(tables)})")
        dataset_id = new_id()
        folder = inside(self.data_dir, "datasets", dataset_id)
        folder.mkdir()
        name = sanitise_filename(f"{table}.parquet")
        try:
            write_table(tables[table], folder / name)
            return self._take_in(dataset_id, name, folder / name, {})
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _take_in(self, dataset_id: str, name: str, path: Path, options: dict[str, str]) -> dict[str, Any]:
        from mirage.engines._base import require_training_rows
        from mirage.io import read_table
        from mirage.schema import infer_schema

        try:
            frame = read_table(path, **options)
            require_training_rows(len(frame))
            schema = infer_schema(frame)
        except MirageError as exc:  # the message names the file as the user knows it
            raise type(exc)(str(exc).replace(str(path), name)) from exc
        (path.parent / "schema.json").write_text(schema.to_json(), encoding="utf-8")
        return self.store.add_dataset(
            dataset_id,
            name,
            f"datasets/{dataset_id}/{name}",
            len(frame),
            [str(c) for c in frame.columns],
            options,
        )

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        found = self.store.dataset(dataset_id)
        if found is None:
            raise LookupError(f"no dataset {dataset_id}")
        return found

    def delete_dataset(self, dataset_id: str) -> None:
        self.dataset(dataset_id)
        self.store.delete_dataset(dataset_id)
        shutil.rmtree(inside(self.data_dir, "datasets", dataset_id), ignore_errors=True)

    # schemas ----------------------------------------------------------------------------------
    def schema(self, dataset_id: str) -> dict[str, Any]:
        from mirage.schema import Schema

        self.dataset(dataset_id)
        return Schema.load(inside(self.data_dir, "datasets", dataset_id, "schema.json")).to_dict()

    def set_schema(self, dataset_id: str, data: Any) -> dict[str, Any]:
        from mirage.schema import Schema

        dataset = self.dataset(dataset_id)
        try:
            schema = Schema.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"schema: {exc}") from exc
        missing = [c for c in dataset["columns"] if c not in schema.names]
        extra = [c for c in schema.names if c not in dataset["columns"]]
        if missing:
            raise SchemaError(f"column {missing[0]!r} is in the data but not in the schema")
        if extra:
            raise SchemaError(f"column {extra[0]!r} is in the schema but not in the data")
        from mirage.io import atomic_path

        with atomic_path(inside(self.data_dir, "datasets", dataset_id, "schema.json"), force=True) as temp:
            temp.write_text(schema.to_json(), encoding="utf-8")
        return schema.to_dict()

    def set_kinds(self, dataset_id: str, kinds: dict[str, str], pii_types: dict[str, str]) -> dict[str, Any]:
        """Change column kinds (and PII types); a column whose kind changes keeps its name, dtype and
        nullability only, the rest being specific to the old kind."""
        schema = self.schema(dataset_id)
        for column in schema["columns"]:
            kind = kinds.get(column["name"], column["kind"])
            pii_type = pii_types.get(column["name"]) or column.get("pii_type")
            if kind != column["kind"]:
                kept = {k: column[k] for k in ("name", "dtype", "nullable") if k in column}
                column.clear()
                column.update(kept, kind=kind)
            if kind == "pii":
                column["pii_type"] = pii_type
        return self.set_schema(dataset_id, schema)

    # jobs -------------------------------------------------------------------------------------
    def submit(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        if kind not in JOB_KINDS:
            raise OptionError(f"kind {kind!r}: expected one of {', '.join(JOB_KINDS)}")
        if kind == "fit":
            dataset_id = params.pop("dataset_id", None)
            if dataset_id is None:
                raise OptionError("a fit job needs dataset_id")
            self.dataset(dataset_id)
            engine = params.get("engine") or "auto"
            if engine not in ENGINE_CHOICES:
                raise OptionError(f"engine {engine!r}: expected one of {', '.join(ENGINE_CHOICES)}")
            fit = {
                k: params[k]
                for k in ("engine", "time_budget", "holdout", "seed")
                if params.get(k) is not None
            }
            job = self.store.add_job("fit", fit, dataset_id=dataset_id)
        else:
            model_id = params.pop("model_id", None)
            if model_id is None:
                raise OptionError(f"a {kind} job needs model_id")
            self.model(model_id)
            if kind == "sample":
                rows = params.get("rows")
                if rows is None:
                    raise OptionError("a sample job needs rows")
                if rows > self.limits.sample_rows:
                    raise OptionError(
                        f"rows {rows:,} is over the server's limit of {self.limits.sample_rows:,}"
                    )
                keep: tuple[str, ...] = ("rows", "seed", "conditions")
            else:
                keep = ("seed", "target")
            job = self.store.add_job(
                kind, {k: params[k] for k in keep if params.get(k) is not None}, model_id=model_id
            )
        self.runner.submit()
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        found = self.store.job(job_id)
        if found is None:
            raise LookupError(f"no job {job_id}")
        return found

    def cancel(self, job_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        if job["state"] in ("succeeded", "failed", "cancelled"):
            raise OptionError(f"job {job_id} has {job['state']} already")
        self.runner.cancel(job_id)
        return self.job(job_id)

    def sample_file(self, job_id: str, fmt: str) -> Path:
        job = self.job(job_id)
        files = (job.get("result") or {}).get("files", {})
        if job["kind"] != "sample" or job["state"] != "succeeded" or fmt not in files:
            raise LookupError(f"job {job_id} has no {fmt} sample")
        return self.path(files[fmt])

    # models -----------------------------------------------------------------------------------
    def model(self, model_id: str) -> dict[str, Any]:
        found = self.store.model(model_id)
        if found is None:
            raise LookupError(f"no model {model_id}")
        return found

    def report_file(self, model_id: str) -> Path:
        model = self.model(model_id)
        if not model["report"]:
            raise LookupError(f"model {model_id} has no report yet: start a report job")
        return self.path(model["report"])

    def add_model_file(self, filename: str, stream: IO[bytes]) -> dict[str, Any]:
        """Take in a model file; it must load (a JSON manifest and safetensors arrays: nothing in it
        runs), so a pickle or anything else is refused with the loader's one line."""
        import mirage
        from mirage._api import single_table

        name = sanitise_filename(filename, suffixes=(".mirage",))
        model_id = new_id()
        folder = inside(self.data_dir, "models", model_id)
        folder.mkdir()
        try:
            self._receive(iter(lambda: stream.read(_CHUNK), b""), folder / "model.mirage")
            try:
                model = single_table(mirage.load(folder / "model.mirage"), name)
            except MirageError as exc:
                raise type(exc)(str(exc).replace(str(folder / "model.mirage"), name)) from exc
            except (ValueError, OSError) as exc:  # the loader's checks should catch all; in case
                raise DataError(f"model file {name}: not a Mirage model file ({exc})") from exc
            self.store.add_model(
                id=model_id,
                dataset_id=None,
                job_id=None,
                name=name,
                engine=type(model).name,
                file=f"models/{model_id}/model.mirage",
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return self.model(model_id)
