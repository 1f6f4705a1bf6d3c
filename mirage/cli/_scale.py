"""What ``mirage sample``, ``fit`` and ``report`` do on partitioned data or a Dask cluster (--workers,
--cluster): kept here so that those commands only import it when asked."""

from __future__ import annotations

import secrets
from pathlib import Path

from mirage.cli._ui import UI
from mirage.errors import OptionError

__all__ = ["sample_partitioned"]


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
) -> None:
    """Rows of a table's model to a folder of partitioned files, here or on Dask."""
    import mirage
    from mirage._api import single_table

    if refused:
        raise OptionError(f"{refused[0]} cannot be combined with --format, --workers or --cluster yet")
    if output is None:
        raise OptionError("--format, --workers and --cluster write a folder: give it with -o FOLDER")
    if workers is not None and cluster is not None:
        raise OptionError("give --workers N (a local Dask cluster) or --cluster ADDRESS, not both")
    model = single_table(mirage.load(model_path), model_path)
    drawn = secrets.randbits(63) if seed is None else seed
    try:
        done = model.sample_to(
            output,
            rows,
            format=file_format or "parquet",
            seed=drawn,
            workers=workers,
            cluster=cluster,
            force=force,
        )
    except OptionError as exc:
        if str(exc).startswith("format "):
            raise OptionError(f"--{exc}") from None
        raise
    rate = done.rows / done.seconds if done.seconds > 0 else float("inf")
    where = f"{len(done.files)} file{'' if len(done.files) == 1 else 's'} in {output}"
    ui.say(f"wrote {done.rows:,} rows to {where} in {done.seconds:.2f} s ({rate:,.0f} rows/s)")
    if seed is None:
        ui.note(f"seed {drawn} (pass --seed {drawn} to draw the same rows again)")
