"""SDV's HMASynthesizer on a database given as a folder of Parquet files and a metadata JSON; run by
``bench_relational.py --sdv`` in the interpreter that has SDV (``--sdv-python``), which may be a
separate virtual environment (SDV pins pandas < 3).  Imports nothing of mirage.

    python benchmarks/sdv_hma.py REAL_FOLDER METADATA.json OUT_FOLDER SEED

Writes the sampled tables into OUT_FOLDER as Parquet and prints one JSON line: fit and sample seconds
(wall and CPU) and the process's peak memory, or the error HMA raised.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    import pandas as pd
    from sdv.metadata import Metadata
    from sdv.multi_table import HMASynthesizer

    real_folder, metadata_path, out_folder, seed = sys.argv[1:5]
    spec = json.loads(Path(metadata_path).read_text(encoding="utf-8"))
    frames = {name: pd.read_parquet(Path(real_folder) / f"{name}.parquet") for name in spec["tables"]}
    result: dict[str, object] = {}
    try:
        metadata = Metadata.load_from_dict(spec)
        metadata.validate()
        metadata.validate_data(frames)
        start, cpu = time.perf_counter(), time.process_time()
        synthesizer = HMASynthesizer(metadata)
        synthesizer.fit(frames)
        result["fit_s"] = time.perf_counter() - start
        result["fit_cpu_s"] = time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        import numpy as np

        np.random.seed(int(seed))
        sample = getattr(synthesizer, "sample_scale", None) or synthesizer.sample  # SDV 2 renamed it
        synthetic = sample(scale=1.0)
        result["sample_s"] = time.perf_counter() - start
        result["sample_cpu_s"] = time.process_time() - cpu
        Path(out_folder).mkdir(parents=True, exist_ok=True)
        for name, frame in synthetic.items():
            frame.to_parquet(Path(out_folder) / f"{name}.parquet", index=False)
        result["ok"] = True
    except Exception as exc:  # HMA's refusal is a result of the benchmark
        result["ok"] = False
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
