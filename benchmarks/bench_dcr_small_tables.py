"""How high the DCR share of a table of few rows reads from models that cannot copy a row.

    python benchmarks/bench_dcr_small_tables.py [--rows 30,60,100,300] [--seeds 400]

A model fitted on the training rows carries their particulars through every number it estimates, and
the DCR share reads that, whether or not a row is copied.  For one categorical column of ``C`` levels
sampled at the training frequencies the excess is exact: a pool of ``N`` rows (training and holdout
together, any split) reads ``0.5 + (C - 1) / (2 (N - 1))`` on average (the vote of a synthetic row of
level ``c`` is ``t_c / (t_c + h_c)``, drawn at rate ``t_c / T``; the hypergeometric variance of ``t_c``
gives the rest).  This script measures that, and the same count of estimated numbers ``p`` for
parametric models where it is an approximation (the optimism AIC corrects a log-likelihood for), next
to a draw from the true distribution (``p = 0``):

* ``true``: fresh rows of the population;
* ``normal``: one normal column, its mean and standard deviation estimated (``p = 2``);
* ``normal (mean)``: the same with the true standard deviation (``p = 1``);
* ``categorical C``: one column of ``C`` equally likely levels, drawn at the training frequencies
  (``p = C - 1``);
* ``regions``: the deep test schema's regions (a climate of 3 levels, a lognormal population whose
  location depends on the climate), learned by a lognormal per climate and the climate's shares
  (``p = 2 + 3 * 2 = 8``) or by the shares and one lognormal (``p = 4``); ``--engines`` adds Mirage's
  engines learning the same rows.

So a table of ``N`` rows stays under the 0.53 bar only with a model of at most ``0.06 (N - 1)``
estimated numbers: 3.5 at 60 rows, 6 at 100, 18 at 300.  Each pool is split 80/20, ``--factor``
times the training rows are drawn, and the share is read by :func:`mirage.evaluation._privacy.dcr`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import format_table

Draw = Callable[[np.random.Generator, int], pd.DataFrame]
Fit = Callable[[pd.DataFrame, np.random.Generator, int], pd.DataFrame]

CLIMATES = np.array(["cold", "mild", "hot"])
CLIMATE_LOCATION = {"cold": 11.5, "mild": 12.0, "hot": 12.5}


def _normal(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": rng.normal(0.0, 1.0, n)})


def _normal_fit(train: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": rng.normal(train["x"].mean(), train["x"].std(), n)})


def _normal_mean_fit(train: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": rng.normal(train["x"].mean(), 1.0, n)})


def _categorical(levels: int) -> Draw:
    def draw(rng: np.random.Generator, n: int) -> pd.DataFrame:
        return pd.DataFrame({"c": rng.integers(0, levels, n).astype(str)})

    return draw


def _frequencies_fit(train: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({"c": train["c"].to_numpy()[rng.integers(0, len(train), n)]})


def _regions(rng: np.random.Generator, n: int) -> pd.DataFrame:
    climate = rng.choice(CLIMATES, n)
    location = np.array([CLIMATE_LOCATION[c] for c in climate])
    return pd.DataFrame({"climate": climate, "population": np.round(rng.lognormal(location, 1.0))})


def _regions_fit(per_climate: bool) -> Fit:
    def fit(train: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
        climate = train["climate"].to_numpy()[rng.integers(0, len(train), n)]
        logs = np.log(train["population"].clip(lower=1.0))
        population = np.empty(n)
        for level in np.unique(climate):
            rows = climate == level
            own = logs[train["climate"] == level] if per_climate else logs
            spread = own.std() if len(own) > 1 else logs.std()
            population[rows] = rng.lognormal(own.mean(), spread, rows.sum())
        return pd.DataFrame({"climate": climate, "population": np.round(population)})

    return fit


def _engine_fit(spec: str) -> Fit:
    """``name`` or ``name@param=value@...`` (values as JSON: ``gmm@quantiles=null``)."""
    engine, *settings = spec.split("@")
    params = {key: json.loads(value) for key, _, value in (s.partition("=") for s in settings)}

    def fit(train: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
        import warnings

        import mirage

        seed = int(rng.integers(2**31 - 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mirage.fit(train, engine=engine, seed=seed, **params).sample(n, seed=seed)

    return fit


def _cases(rows: int, engines: list[str]) -> list[tuple[str, int | None, Draw, Fit | None]]:
    cases: list[tuple[str, int | None, Draw, Fit | None]] = [
        ("true (normal)", 0, _normal, None),
        ("normal (mean)", 1, _normal, _normal_mean_fit),
        ("normal", 2, _normal, _normal_fit),
    ]
    for levels in (3, 8):
        if levels < rows // 4:
            cases.append((f"categorical {levels}", levels - 1, _categorical(levels), _frequencies_fit))
    cases += [
        ("regions, one lognormal", 4, _regions, _regions_fit(False)),
        ("regions, lognormal per climate", 8, _regions, _regions_fit(True)),
    ]
    cases += [(f"regions, {engine}", None, _regions, _engine_fit(engine)) for engine in engines]
    return cases


def measure(rows: int, seeds: int, factor: int, engines: list[str]) -> list[dict[str, Any]]:
    from mirage.evaluation._privacy import dcr

    results = []
    for name, params, draw, fit in _cases(rows, engines):
        shares = []
        for seed in range(seeds):
            rng = np.random.default_rng(np.random.SeedSequence([seed, rows]))
            pool = draw(rng, rows)
            order = rng.permutation(rows)
            held = rows // 5
            holdout, train = pool.iloc[order[:held]], pool.iloc[order[held:]]
            n = factor * len(train)
            synthetic = draw(rng, n) if fit is None else fit(train, rng, n)
            shares.append(dcr(train, holdout, synthetic, seed=seed, return_distances=False)["dcr_share"])
        values = np.asarray(shares)
        results.append(
            {
                "rows": rows,
                "model": name,
                "estimated": params,
                "predicted": None if params is None else 0.5 + params / (2 * (rows - 1)),
                "share": float(values.mean()),
                "stderr": float(values.std(ddof=1) / math.sqrt(len(values))),
            }
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="30,60,100,300", help="pool sizes (training and holdout rows)")
    parser.add_argument("--seeds", type=int, default=400, help="pools drawn per size and model")
    parser.add_argument("--factor", type=int, default=5, help="synthetic rows per training row")
    parser.add_argument(
        "--engines",
        default="",
        help="Mirage engines for the regions, e.g. gmm@quantiles=null,bayesnet@sub_bins=null,copula",
    )
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    table = []
    for rows in (int(r) for r in args.rows.split(",")):
        for result in measure(rows, args.seeds, args.factor, engines):
            table.append(
                [
                    str(result["rows"]),
                    result["model"],
                    "" if result["estimated"] is None else str(result["estimated"]),
                    "" if result["predicted"] is None else f"{result['predicted']:.3f}",
                    f"{result['share']:.3f} +- {result['stderr']:.3f}",
                ]
            )
            print(table[-1], file=sys.stderr, flush=True)
    print(
        format_table(["rows", "model", "estimated numbers", "0.5 + p / 2(N-1)", "DCR share"], table, left=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
