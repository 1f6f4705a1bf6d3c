"""Two runs of ``bench_engines.py`` side by side: per table and engine, each metric's mean before and
after, their difference, and fit seconds and sample rows/s as ratios.

A quality metric that moves the wrong way by more than ``--tolerance`` (0.005) or a speed ratio worse
than ``--speed`` (0.9: 10% slower) is flagged with ``!``.  Run both on the same machine in one
session (the machine is shared and noisy), e.g. the commit before a change with its tree first on
``PYTHONPATH``:

    git archive 4457fe1 | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before python benchmarks/bench_engines.py --out /tmp/before.json
    python benchmarks/bench_engines.py --out /tmp/after.json
    python benchmarks/compare_engines.py /tmp/before.json /tmp/after.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from _common import format_table

# metric -> +1 when higher is better, -1 when lower is better, 0 when nearer to 0.5 is better
DIRECTIONS = {"dcr_share": 0, "quality": 1, "detection_auc": 0, "utility_ratio": 1, "marginal_accuracy": 1}


def _means(results: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, float]]:
    out: dict[tuple[str, str], dict[str, float]] = {}
    for key in dict.fromkeys((r["table"], r["engine"]) for r in results):
        runs = [r for r in results if (r["table"], r["engine"]) == key and "error" not in r]
        means: dict[str, float] = {}
        for metric in [*DIRECTIONS, "fit_s", "sample_rows_per_s"]:
            values = [float(r[metric]) for r in runs if r.get(metric) is not None]
            if values:
                means[metric] = sum(values) / len(values)
        means["seeds"] = len(runs)
        out[key] = means
    return out


def _worse(metric: str, before: float, after: float) -> float:
    """How much worse ``after`` is than ``before`` (negative: better)."""
    direction = DIRECTIONS[metric]
    if direction == 0:
        return abs(after - 0.5) - abs(before - 0.5)
    return (before - after) * direction


def compare(before: dict[str, Any], after: dict[str, Any], tolerance: float, speed: float) -> list[list[str]]:
    old, new = _means(before["results"]), _means(after["results"])
    rows = []
    for key in [k for k in new if k in old]:
        row = [key[0], key[1], f"{int(new[key]['seeds'])}"]
        for metric in DIRECTIONS:
            if metric not in old[key] or metric not in new[key]:
                row.append("-")
                continue
            a, b = old[key][metric], new[key][metric]
            flag = "!" if _worse(metric, a, b) > tolerance else ""
            row.append(f"{a:.3f} -> {b:.3f} ({b - a:+.3f}){flag}")
        for metric, higher_better in (("fit_s", False), ("sample_rows_per_s", True)):
            if metric not in old[key] or metric not in new[key] or old[key][metric] == 0:
                row.append("-")
                continue
            ratio = new[key][metric] / old[key][metric]
            slower = ratio < speed if higher_better else ratio > 1 / speed
            row.append(f"{ratio:.2f}{'!' if slower else ''}")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.005, help="largest loss of a quality metric")
    parser.add_argument("--speed", type=float, default=0.9, help="smallest speed ratio (after/before)")
    args = parser.parse_args(argv)
    before = json.loads(args.before.read_text(encoding="utf-8"))
    after = json.loads(args.after.read_text(encoding="utf-8"))
    rows = compare(before, after, args.tolerance, args.speed)
    headers = ["table", "engine", "seeds", *DIRECTIONS, "fit s after/before", "rows/s after/before"]
    print(format_table(headers, rows, left=3))
    flagged = [f"{r[1]} x {r[0]}" for r in rows if any(cell.endswith("!") for cell in r)]
    print(f"\n! worse than the tolerance: {', '.join(flagged) if flagged else 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
