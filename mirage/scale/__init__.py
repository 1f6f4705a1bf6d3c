"""Scale out: the executor seam (here, or on a Dask cluster), sampling to partitioned files in
parallel, and fitting from partitioned data.  Dask is imported only when a Dask executor is used."""

from mirage.scale._executor import DaskExecutor, Executor, LocalExecutor, executor_for
from mirage.scale._fit import SAMPLE_ROWS, fit_partitions, held_out
from mirage.scale._sample import FILE_ROWS, SUCCESS, SampledFolder

__all__ = [
    "FILE_ROWS",
    "SAMPLE_ROWS",
    "SUCCESS",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "SampledFolder",
    "executor_for",
    "fit_partitions",
    "held_out",
]
