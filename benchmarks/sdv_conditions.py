"""SDV's conditional sampling (``sample_from_conditions``) on one table, for ``bench_conditions.py --sdv``;
run in the interpreter that has SDV (``--sdv-python``, a separate virtual environment: SDV 2.0 pins
pandas < 3).  Imports nothing of mirage.

    python benchmarks/sdv_conditions.py DATA.csv ROWS SEED MODELS CONDITIONS.json

``MODELS``: comma-separated SDV synthesizers (``gaussian_copula``, ``tvae``); ``CONDITIONS.json``:
``{label: {column: value}}`` (SDV conditions on equality only; a label whose value is a list of
``[low, high]`` is reported as not supported).  Prints one JSON line per model: fit seconds and, per
condition, rows/s, rows returned, mean ``hours_per_week`` and the error SDV raised (its "Unable to
sample any rows for the given conditions" when its rejection runs out of tries).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

MODELS = {"gaussian_copula": "GaussianCopulaSynthesizer", "tvae": "TVAESynthesizer"}


def main() -> None:
    import numpy as np
    import pandas as pd
    from sdv import single_table
    from sdv.metadata import Metadata
    from sdv.sampling import Condition

    path, rows, seed, models, conditions_path = sys.argv[1:6]
    data = pd.read_csv(path)
    conditions: dict[str, dict[str, Any]] = json.loads(Path(conditions_path).read_text(encoding="utf-8"))
    metadata = Metadata.detect_from_dataframes({"table": data})
    for model in models.split(","):
        result: dict[str, Any] = {"model": model, "conditions": {}}
        params = {"epochs": 20} if model == "tvae" else {}
        np.random.seed(int(seed))
        start = time.perf_counter()
        synthesizer = getattr(single_table, MODELS[model])(metadata, **params)
        try:
            synthesizer.fit({"table": data})  # SDV 2.0 takes a dict of one table
        except Exception:
            synthesizer.fit(data)
        result["fit_s"] = time.perf_counter() - start
        for label, values in conditions.items():
            entry: dict[str, Any] = {}
            if any(isinstance(v, list) for v in values.values()):
                entry["error"] = "not supported (SDV conditions on equal values only)"
                result["conditions"][label] = entry
                continue
            start = time.perf_counter()
            try:
                frame = synthesizer.sample_from_conditions(
                    [Condition(num_rows=int(rows), column_values=values)], max_tries_per_batch=100
                )
                seconds = time.perf_counter() - start
                if isinstance(frame, dict):
                    frame = frame["table"]
                entry.update(
                    rows=len(frame),
                    rows_per_s=len(frame) / seconds if seconds > 0 else None,
                    hours=float(frame["hours_per_week"].mean()) if len(frame) else None,
                )
            except Exception as exc:
                entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                entry["seconds"] = time.perf_counter() - start
            result["conditions"][label] = entry
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
