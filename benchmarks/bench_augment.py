"""Does augmentation help a classifier on a rare class?  Bank marketing (``y == "yes"``, 11.7% of rows).

Per split seed: a stratified 80/20 split; a Mirage model is fitted on the 80% (the training rows); the
same classifier (scikit-learn's HistGradientBoosting, native categories, fixed seed) is trained on

* ``real``: the training rows alone,
* ``mirage``: the training rows plus synthetic ``yes`` rows drawn from the model given the class
  (``mirage.augment``), up to ``--share`` of the rows,
* ``smote``: the training rows plus SMOTE-NC rows up to the same share (imbalanced-learn, only if
  installed: ``pip install imbalanced-learn``; a benchmark-only dependency, never imported by mirage),

and tested on the real 20% holdout: minority recall (at the 0.5 threshold), precision and PR-AUC
(average precision).  Oversampling moves the decision threshold, so recall rises by construction;
PR-AUC (threshold-free) says whether the ranking improved.  Means and ranges over the seeds.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_augment.py [--engine cart] [--seeds 3] [--share 0.3]
[--param max_training_time=150]`` (one OpenMP thread keeps the gradient boosting from thrashing on a
shared machine).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _common import DEFAULT_DATA_DIR, format_table, has_module, load_table, write_results

TARGET, POSITIVE = "y", "yes"


def classifier_scores(train: Any, holdout: Any, seed: int) -> dict[str, float]:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score, precision_score, recall_score

    x, y = features(train), train[TARGET].eq(POSITIVE).to_numpy()
    x_test, y_test = features(holdout), holdout[TARGET].eq(POSITIVE).to_numpy()
    categorical = np.array([c in CATEGORIES for c in train.columns if c != TARGET])
    model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=seed, max_iter=200)
    model.fit(x, y)
    proba = model.predict_proba(x_test)[:, 1]
    predicted = proba >= 0.5
    return {
        "recall": float(recall_score(y_test, predicted)),
        "precision": float(precision_score(y_test, predicted, zero_division=0)),
        "pr_auc": float(average_precision_score(y_test, proba)),
    }


CATEGORIES: dict[str, list[Any]] = {}


def features(frame: Any) -> Any:
    """Categories as fixed integer codes (learned once from the whole table), numbers as floats."""
    import numpy as np

    out = np.empty((len(frame), frame.shape[1] - 1), dtype="float64")
    for j, name in enumerate(c for c in frame.columns if c != TARGET):
        if name in CATEGORIES:
            codes = {v: i for i, v in enumerate(CATEGORIES[name])}
            out[:, j] = frame[name].map(codes).astype("float64").to_numpy()
        else:
            out[:, j] = frame[name].astype("float64").to_numpy()
    return out


def smote(train: Any, share: float, seed: int) -> Any:
    import numpy as np
    import pandas as pd
    from imblearn.over_sampling import SMOTENC

    columns = [c for c in train.columns if c != TARGET]
    categorical = [j for j, c in enumerate(columns) if c in CATEGORIES]
    x = pd.DataFrame(features(train), columns=columns)
    y = train[TARGET].eq(POSITIVE).to_numpy()
    sampler = SMOTENC(
        categorical_features=categorical, sampling_strategy=share / (1 - share), random_state=seed
    )
    x_new, y_new = sampler.fit_resample(x, y)
    out = pd.DataFrame(x_new, columns=columns)
    for name in CATEGORIES:
        out[name] = np.asarray(CATEGORIES[name], dtype=object)[out[name].round().astype(int)]
    out[TARGET] = np.where(y_new, POSITIVE, "no")
    return out[train.columns]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", default="cart", help="Mirage engine (default cart)")
    parser.add_argument("--seeds", type=int, default=3, help="split seeds (default 3)")
    parser.add_argument("--param", action="append", default=[], help="engine hyperparameter NAME=NUMBER")
    parser.add_argument(
        "--share", type=float, default=0.3, help="minority share after augmenting (default 0.3)"
    )
    args = parser.parse_args()

    import numpy as np
    from sklearn.model_selection import train_test_split

    import mirage
    from mirage.engines import ENGINES

    params = {name: float(value) for name, _, value in (item.partition("=") for item in args.param)}
    data = load_table(DEFAULT_DATA_DIR / "bank_marketing.csv")
    for name in data.columns:
        if name != TARGET and data[name].dtype == object:
            CATEGORIES[name] = sorted(data[name].dropna().unique())
    arms = ["real", "mirage"] + (["smote"] if has_module("imblearn") else [])
    figures: dict[str, list[dict[str, float]]] = {arm: [] for arm in arms}
    seconds: dict[str, list[float]] = {"fit": [], "augment": [], "smote": []}
    for seed in range(args.seeds):
        train, holdout = train_test_split(data, test_size=0.2, stratify=data[TARGET], random_state=seed)
        train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
        start = time.perf_counter()
        model = ENGINES[args.engine](**params).fit(train)
        seconds["fit"].append(time.perf_counter() - start)
        start = time.perf_counter()
        augmented = mirage.augment(
            train, model, target=TARGET, minority=POSITIVE, minority_share=args.share, seed=seed
        )
        seconds["augment"].append(time.perf_counter() - start)
        print(
            f"seed {seed}: fit {seconds['fit'][-1]:.1f} s, augment {seconds['augment'][-1]:.1f} s", flush=True
        )
        assert abs(augmented[TARGET].eq(POSITIVE).mean() - args.share) < 1e-3
        figures["real"].append(classifier_scores(train, holdout, seed))
        figures["mirage"].append(classifier_scores(augmented.drop(columns="_synthetic"), holdout, seed))
        if "smote" in figures:
            start = time.perf_counter()
            smoted = smote(train, args.share, seed)
            seconds["smote"].append(time.perf_counter() - start)
            figures["smote"].append(classifier_scores(smoted, holdout, seed))
        print(f"seed {seed}: " + ", ".join(f"{arm} PR-AUC {figures[arm][-1]['pr_auc']:.4f}" for arm in arms))

    rows = []
    for arm in arms:
        cells = [arm]
        for metric in ("recall", "precision", "pr_auc"):
            values = np.array([f[metric] for f in figures[arm]])
            cells.append(f"{values.mean():.4f} [{values.min():.4f}, {values.max():.4f}]")
        rows.append(cells)
    print(
        f"\nbank_marketing, minority {TARGET} = {POSITIVE!r}, {args.engine} augmented to {args.share} of the "
        f"rows, {args.seeds} split seeds (mean [min, max]) on the real 20% holdout"
    )
    print(format_table(["training rows", "minority recall", "precision", "PR-AUC"], rows))
    print(
        f"fit {np.mean(seconds['fit']):.1f} s, augment {np.mean(seconds['augment']):.1f} s"
        + (f", SMOTE-NC {np.mean(seconds['smote']):.1f} s" if seconds["smote"] else "")
        + " (means)"
    )
    write_results(
        "bench_augment",
        {
            "engine": args.engine,
            "share": args.share,
            "seeds": args.seeds,
            "figures": figures,
            "seconds": seconds,
        },
    )


if __name__ == "__main__":
    main()
