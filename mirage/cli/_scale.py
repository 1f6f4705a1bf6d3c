"""What ``mirage sample``, ``fit`` and ``report`` do on partitioned data or a Dask cluster (--workers,
--cluster): kept here so that those commands only import it when asked."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from mirage.cli._options import check_output
from mirage.cli._ui import UI
from mirage.errors import OptionError, OutputExistsError

__all__ = ["fit_partitioned", "sample_partitioned"]


def sample_partitioned(
    ui: UI,
    model_path: Path,
    rows: int,
    output: str | None,
    file_format: str | None,
    seed: int | None,
    force: bool,
    workers: int | None,
    cluster: str | None,
    *,
    refused: list[str],
    where: str | None = None,
) -> None:
    """Rows of a table's model to a folder of partitioned files, here or on Dask (``where``: the
    ``--where`` conditions, drawn block by block on the workers)."""
    import mirage
    from mirage._api import single_table

    if refused:
        raise OptionError(
            f"{refused[0]} gives shares of the whole sample, which no block sees: it cannot be combined "
            "with --format, --workers or --cluster; sample to one file (-o FILE) instead"
        )
    if output is None:
        raise OptionError("--format, --workers and --cluster write a folder: give it with -o FOLDER")
    if workers is not None and cluster is not None:
        raise OptionError("give --workers N (a local Dask cluster) or --cluster ADDRESS, not both")
    model = single_table(mirage.load(model_path), model_path)
    conditions = None
    if where:
        from mirage.control import parse_where

        try:
            conditions = parse_where(where, model)
        except OptionError as exc:
            raise OptionError(f"--where: {exc}") from None
    drawn = secrets.randbits(63) if seed is None else seed
    single = _single_file_format(output, file_format)
    if single is not None:
        check_output(Path(output), force)
    folder = str(_parts_folder(Path(output))) if single is not None else output
    try:
        done = model.sample_to(
            folder,
            rows,
            format=single or file_format or "parquet",
            seed=drawn,
            workers=workers,
            cluster=cluster,
            force=force if single is None else True,
            conditions=conditions,
        )
        if single is not None:
            _join_parts(Path(folder), Path(output), single, force)
    except OutputExistsError as exc:
        raise OutputExistsError(str(exc).replace("force=True", "--force")) from None
    except OptionError as exc:
        if str(exc).startswith(("format ", "cluster ")):
            raise OptionError(f"--{exc}") from None
        raise
    finally:
        if single is not None:
            shutil.rmtree(folder, ignore_errors=True)
    rate = done.rows / done.seconds if done.seconds > 0 else float("inf")
    where = (
        str(output)
        if single is not None
        else f"{len(done.files)} file{'' if len(done.files) == 1 else 's'} in {output}"
    )
    ui.say(f"wrote {done.rows:,} rows to {where} in {done.seconds:.2f} s ({rate:,.0f} rows/s)")
    if seed is None:
        ui.note(f"seed {drawn} (pass --seed {drawn} to draw the same rows again)")


_SINGLE_FILE_FORMATS = {".csv": "csv", ".parquet": "parquet"}
_OTHER_FILE_SUFFIXES = (".tsv", ".txt", ".jsonl", ".json", ".xlsx", ".xls")


def _single_file_format(output: str, file_format: str | None) -> str | None:
    """The format of one output file ``-o rows.csv`` asked of a drawing split over processes (None:
    a folder of parts); a suffix that parts cannot be joined into, or that contradicts ``--format``,
    is an ``OptionError``."""
    suffix = Path(output).suffix.lower()
    if suffix in _OTHER_FILE_SUFFIXES:
        raise OptionError(
            f"-o {output}: rows drawn in blocks are written as CSV or Parquet; give -o FILE.csv, "
            "FILE.parquet or a folder"
        )
    single = _SINGLE_FILE_FORMATS.get(suffix)
    if single is not None and file_format is not None and file_format != single:
        raise OptionError(f"--format {file_format} contradicts -o {output}; give one or the other")
    return single


def _parts_folder(output: Path) -> Path:
    return output.with_name(f".{output.name}.parts-{secrets.token_hex(4)}")


def _join_parts(folder: Path, output: Path, file_format: str, force: bool) -> None:
    """The parts in ``folder`` (in order) joined into the one file ``output``, written atomically: CSV
    parts after the first lose their header line, Parquet parts become row groups of one file."""
    from mirage.io import atomic_path

    parts = sorted(folder.glob(f"part-*.{file_format}"))
    with atomic_path(output, force=force) as temp:
        if file_format == "csv":
            with temp.open("wb") as sink:
                for index, part in enumerate(parts):
                    with part.open("rb") as source:
                        if index:
                            source.readline()
                        shutil.copyfileobj(source, sink, 1 << 20)
            return
        import pyarrow.parquet as pq

        writer = None
        try:
            for part in parts:
                table = pq.read_table(part)
                if writer is None:
                    writer = pq.ParquetWriter(temp, table.schema)
                writer.write_table(table.cast(writer.schema) if table.schema != writer.schema else table)
        finally:
            if writer is not None:
                writer.close()


def fit_partitioned(
    ui: UI,
    data: str,
    output: Path,
    *,
    engine: str,
    schema_path: Path | None,
    hyperparameters: dict[str, Any],
    encoding_options: Any,
    holdout: float | None,
    force: bool,
    reading: dict[str, Any],
    workers: int | None,
    cluster: str | None,
    sample_rows: int | None,
    split_seed: int = 0,
) -> None:
    """Learn files (a glob pattern or one file), partition by partition, here or on Dask; ``holdout``:
    that fraction of each partition kept aside (``mirage.scale.held_out`` gives the rows back)."""
    import time

    from rich.table import Table

    if workers is not None and cluster is not None:
        raise OptionError("give --workers N (a local Dask cluster) or --cluster ADDRESS, not both")
    chosen = "copula" if engine == "auto" else engine
    start = time.perf_counter()
    try:
        model = _fit(
            data,
            chosen,
            schema_path,
            sample_rows,
            workers,
            cluster,
            reading,
            encoding_options,
            hyperparameters,
            holdout,
            split_seed,
        )
    except OptionError as exc:
        if str(exc).startswith("cluster "):
            raise OptionError(f"--{exc}") from None
        raise
    seconds = time.perf_counter() - start
    model.save(output, force=force)
    if ui.quiet:
        return
    record = model.training_["partitioned"]
    summary = Table.grid(padding=(0, 2))
    summary.add_row("rows", f"{record['rows_seen']:,} in {record['partitions']:,} partitions")
    if "holdout" in record:
        held = record["holdout"]
        summary.add_row(
            "holdout", f"{held['fraction']:g} of each partition kept aside (seed {held['split_seed']})"
        )
    if "sample_rows" in record:
        summary.add_row("learned from", f"a uniform sample of {record['sample_rows']:,} rows")
    summary.add_row("columns", str(len(model.schema_)))
    summary.add_row("engine", chosen)
    summary.add_row("seconds", f"{seconds:.2f}")
    summary.add_row("model", str(output))
    ui.table(summary)


def sampled_inputs(
    ui: UI,
    inputs: list[Path],
    data: str | None,
    holdout: Path | None,
    rows: int,
    seed: int,
    reading: dict[str, Any],
) -> tuple[Any, Any, Any, Any, str]:
    """``mirage report --sample ROWS``: uniform samples of the real, holdout and synthetic rows (a model's
    are drawn), the schema (a model's, else None) and the sentence that states the sample."""
    import mirage
    from mirage._api import single_table
    from mirage.scale import LocalExecutor
    from mirage.scale._partitions import Partitions
    from mirage.scale._reservoir import uniform_sample

    def drawn(source: str | Path, what: str) -> tuple[Any, int]:
        ui.note(f"drawing a uniform sample of {rows:,} {what} rows from {source}")
        return uniform_sample(Partitions.of(str(source), reading), LocalExecutor(), rows, seed)

    if len(inputs) == 1:
        if data is None:
            raise OptionError("--sample with a model needs --data: the real rows (a file or a glob of them)")
        model = single_table(mirage.load(inputs[0]), inputs[0])
        real, seen = drawn(data, "real")
        ui.note(f"sampling {rows:,} rows from {inputs[0]}")
        synthetic, schema = model.sample(rows, seed=seed), model.schema_
        made = f"{rows:,} synthetic rows drawn from the model"
    elif len(inputs) == 2:
        if data is not None:
            raise OptionError("--data goes with a model file; with REAL SYNTHETIC files give neither")
        real, seen = drawn(inputs[0], "real")
        synthetic, total = drawn(inputs[1], "synthetic")
        schema, made = None, f"{len(synthetic):,} of {total:,} synthetic rows"
    else:
        raise OptionError("give one model file, or a real and a synthetic data file")
    held = None
    stated = f"a uniform sample (seed {seed}): {len(real):,} of {seen:,} real rows, {made}"
    if holdout is not None:
        held, kept = drawn(holdout, "holdout")
        stated += f", {len(held):,} of {kept:,} holdout rows"
    return real, held, synthetic, schema, stated


def _fit(
    data: str,
    engine: str,
    schema_path: Path | None,
    sample_rows: int | None,
    workers: int | None,
    cluster: str | None,
    reading: dict[str, Any],
    encoding_options: Any,
    hyperparameters: dict[str, Any],
    holdout: float | None,
    split_seed: int,
) -> Any:
    from mirage.scale import SAMPLE_ROWS, fit_partitions
    from mirage.schema import Schema

    return fit_partitions(
        data,
        engine=engine,
        schema=Schema.load(schema_path) if schema_path is not None else None,
        sample_rows=SAMPLE_ROWS if sample_rows is None else sample_rows,
        workers=workers,
        cluster=cluster,
        read_options=reading,
        encoding_options=encoding_options,
        holdout=holdout,
        split_seed=split_seed,
        **hyperparameters,
    )
