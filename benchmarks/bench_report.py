"""Report scores per shared dataset and engine: the figures behind the evaluation issue's note.

    python benchmarks/bench_report.py [--engines cart,copula] [--datasets adult,titanic] [--out DIR]
                                      [--repeat N]

Each dataset is split 80/20 (seed 0), the engine learns the 80%, samples as many rows, and
``mirage.evaluate`` scores the sample against the training rows and the holdout.  Writes one HTML
and JSON report per (dataset, engine) under ``--out`` and prints a table.  ``eval s`` is the median
wall time of ``--repeat`` calls of ``mirage.evaluate`` (the reports of every call must be equal);
the datasets are read from ``MIRAGE_SHARED_DATA`` (default: ``../shared/data`` beside the checkout).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _common import DEFAULT_DATA_DIR

import mirage
from mirage.evaluation import evaluate, split_holdout
from mirage.io import read_table

TARGETS = {
    "adult": "income",
    "bank_marketing": "y",
    "titanic": "survived",
    "insurance": "charges",
    "diabetes": "target",
    "breast_cancer": "target",
    "fmri_sequences": "signal",
}
COLUMNS = (
    "quality",
    "marginal_k3",
    "detection_auc",
    "utility_ratio",
    "dcr_share",
    "mia_auc",
    "inference_risk",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="copula,cart")
    parser.add_argument("--datasets", default=",".join(TARGETS))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "reports")
    parser.add_argument("--repeat", type=int, default=1, help="evaluate calls timed per pair (median)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"{'dataset':15s} {'engine':7s} {'fit s':>6s} {'eval s':>6s} "
        + " ".join(f"{c:>14s}" for c in COLUMNS)
    )
    for name in args.datasets.split(","):
        frame = read_table(DEFAULT_DATA_DIR / f"{name}.csv")
        train, holdout = split_holdout(frame, 0.2, seed=0)
        for engine in args.engines.split(","):
            start = time.perf_counter()
            model = mirage.fit(train, engine=engine)
            fit_s = time.perf_counter() - start
            synthetic = model.sample(len(train), seed=1)
            seconds, texts = [], set()
            for _ in range(max(1, args.repeat)):
                start = time.perf_counter()
                report = evaluate(
                    train, synthetic, holdout=holdout, target=TARGETS[name], schema=model.schema_
                )
                seconds.append(time.perf_counter() - start)
                texts.add(report.to_json())
            if len(texts) != 1:
                raise SystemExit(f"{name}/{engine}: repeated evaluate calls gave different reports")
            eval_s = statistics.median(seconds)
            report.to_html(str(args.out / f"{name}-{engine}.html"), force=True)
            report.to_json(str(args.out / f"{name}-{engine}.json"), force=True)
            cells = " ".join(f"{_fmt(report.scores.get(c)):>14s}" for c in COLUMNS)
            print(f"{name:15s} {engine:7s} {fit_s:6.1f} {eval_s:6.1f} {cells}", flush=True)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
