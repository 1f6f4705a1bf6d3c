"""Write public tables that no Mirage default was tuned on, as CSVs, for confirmation runs.

    pip install palmerpenguins vega_datasets statsmodels     # data packages, not Mirage dependencies
    python benchmarks/unseen_tables.py /tmp/unseen
    export MIRAGE_BENCH_TARGETS=penguins=species,wine=target,cars=Origin
    MIRAGE_BENCH_TARGETS+=,anes96=vote,seattle_weather=weather,fair=affairs
    python benchmarks/bench_engines.py --data /tmp/unseen \
        --tables penguins,wine,cars,anes96,seattle_weather,fair --seeds 20 --full-seeds 3 --big-seeds 5

The shared tables (``../shared/data``) are where defaults get chosen; these six (178 to 6,366 rows:
numeric, coded survey answers, dates, a spiky heavy-tailed column, missing values) are where a
choice is confirmed.  Each comes from a package's bundled file, so nothing is downloaded at run time;
a table whose package is missing is skipped with a line saying which package to install.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from mirage.io._atomic import atomic_path


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(package)
    return Path(spec.origin).parent.joinpath(*parts)


def _penguins() -> pd.DataFrame:
    return pd.read_csv(_package_file("palmerpenguins", "data", "penguins.csv"))


def _wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    return load_wine(as_frame=True).frame


def _cars() -> pd.DataFrame:
    records = json.loads(_package_file("vega_datasets", "_data", "cars.json").read_text(encoding="utf-8"))
    return pd.DataFrame(records).drop(columns=["Name"])  # a unique name per row: an identifier


def _seattle_weather() -> pd.DataFrame:
    return pd.read_csv(_package_file("vega_datasets", "_data", "seattle-weather.csv"))


def _fair() -> pd.DataFrame:
    return pd.read_csv(_package_file("statsmodels", "datasets", "fair", "fair.csv"))


def _anes96() -> pd.DataFrame:
    frame = pd.read_csv(_package_file("statsmodels", "datasets", "anes96", "anes96.csv"), sep=r"\s+")
    frame.columns = [str(c).strip("'") for c in frame.columns]
    return frame


TABLES: dict[str, tuple[str, Callable[[], pd.DataFrame]]] = {
    "penguins": ("palmerpenguins", _penguins),
    "wine": ("scikit-learn", _wine),
    "cars": ("vega_datasets", _cars),
    "seattle_weather": ("vega_datasets", _seattle_weather),
    "fair": ("statsmodels", _fair),
    "anes96": ("statsmodels", _anes96),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--force", action="store_true", help="replace tables already in the folder")
    args = parser.parse_args()
    if args.folder.exists() and not args.folder.is_dir():
        parser.error(f"{args.folder} is a file, not a folder")
    args.folder.mkdir(parents=True, exist_ok=True)
    for name, (package, load) in TABLES.items():
        target = args.folder / f"{name}.csv"
        if target.exists() and not args.force:
            print(f"{name}: kept {target} (already there; --force replaces it)")
            continue
        try:
            frame = load()
        except (ModuleNotFoundError, FileNotFoundError):
            print(f"{name}: skipped (pip install {package})")
            continue
        with atomic_path(target, force=True) as partial:  # a killed run leaves no half-written table
            frame.to_csv(partial, index=False)
        print(f"{name}: {len(frame):,} rows x {frame.shape[1]} columns")


if __name__ == "__main__":
    main()
