"""The quantile sketch kept past ``EncodingOptions.exact_values_limit``: rank error, its bounds, speed.

    python benchmarks/bench_sketch.py [--rows 2000000] [--partitions 1,4,16,64]

For each input (lognormal rounded to cents, uniform integers, the same sorted so each partition holds
one stretch of the values) and each partition count, the rows are analyzed in contiguous partitions and
reduced once (also as a reduce of two halves' reduces, one pass more): the worst error of 2,001 evenly
spaced quantiles against the exact ranks, the sketch's certified bound (``rank_error``), the stated
bound (one ``PASS_RANK_ERROR`` per pass), items kept, seconds, and whether reducing the partitions in
reverse order gives the same sketch bit for bit.  This is a script, not a test.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import format_table, write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--partitions", default="1,4,16,64")
    args = parser.parse_args()

    from mirage.encoding._sketch import PASS_RANK_ERROR, ValueSketch
    from mirage.encoding._stats import ValueCounts

    rng = np.random.default_rng(0)
    amounts = np.round(rng.lognormal(3, 1, args.rows), 2)
    integers = rng.integers(0, 10**9, args.rows).astype("float64")
    inputs = {
        "lognormal": amounts,
        "integers": integers,
        "lognormal sorted": np.sort(amounts),
        "integers sorted": np.sort(integers),
    }
    ranks = np.linspace(0, 1, 2001)

    def worst(sketch: ValueSketch, exact: np.ndarray) -> float:
        q = sketch.quantiles(ranks)
        low = np.searchsorted(exact, q, side="left") / exact.size
        high = np.searchsorted(exact, q, side="right") / exact.size
        return float(np.maximum(0.0, np.maximum(low - ranks, ranks - high)).max())

    rows: list[list[str]] = []
    figures: list[dict[str, object]] = []
    for name, x in inputs.items():
        exact = np.sort(x)
        for count in (int(p) for p in args.partitions.split(",")):
            start = time.perf_counter()
            parts = [ValueSketch.of(ValueCounts.of(p)) for p in np.array_split(x, count)]
            once = ValueSketch.merge(parts)
            seconds = time.perf_counter() - start
            same = once == ValueSketch.merge(parts[::-1])
            shapes = [("reduce", once, 2)]
            if count > 1:
                halves = [ValueSketch.merge(parts[: count // 2]), ValueSketch.merge(parts[count // 2 :])]
                shapes.append(("reduce of reduces", ValueSketch.merge(halves), 3))
            for shape, sketch, passes in shapes:
                measured = worst(sketch, exact)
                figure = {
                    "input": name,
                    "partitions": count,
                    "shape": shape,
                    "worst_rank_error": measured,
                    "certified": sketch.rank_error,
                    "stated": passes * PASS_RANK_ERROR,
                    "items": sketch.retained,
                    "seconds": seconds,
                    "same_in_reverse_order": same,
                }
                figures.append(figure)
                rows.append(
                    [
                        name,
                        str(count),
                        shape,
                        f"{measured:.5%}",
                        f"{sketch.rank_error:.5%}",
                        f"{passes * PASS_RANK_ERROR:.5%}",
                        str(sketch.retained),
                        f"{seconds:.2f}",
                        str(same),
                    ]
                )
    headers = ["input", "parts", "shape", "worst", "certified", "stated", "items", "s", "same reversed"]
    print(format_table(headers, rows, left=3))
    write_results("bench_sketch", {"rows": args.rows, "figures": figures})


if __name__ == "__main__":
    main()
