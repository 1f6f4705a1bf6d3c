"""The fit-time memorisation check of ``kde`` (whose kernel width decides how close it sits to its
training rows): a setting is read by the DCR share of rows drawn from a model of part of the training
rows, and the engine climbs a ladder of settings of less capacity until one reads under the limit.

The rows (at most ``CHECK_ROWS`` of them, drawn at random) are cut in ``FOLDS`` folds.  One reading of
a setting: for each of the first ``READ_FOLDS`` folds in turn, a fresh engine with that setting learns
the other folds, as a user would fit it (its encoder and score space refitted on those rows alone),
and draws ``CHECK_SYNTHETIC_ROWS`` rows, which :func:`mirage.evaluation._privacy.dcr` (the figure the
report reads) compares with the rows learned and with the fold held out; the reading is the mean of
the folds' shares.  A model whose encoder saw the held-out rows decodes its draws through knots placed
on them too, and reads low (on insurance kde read about 0.50 that way where refitting reads 0.53-0.56),
hence the refit.  A fold whose interval lies wholly above the limit settles the reading (the setting
fails without reading the others).  A setting is kept when its reading is at most
``limit - DCR_MARGIN``: the margin is for the noise of a reading on a few hundred rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from mirage._progress import report
from mirage.engines._base import Synthesizer

__all__ = ["CHECK_MIN_ROWS", "DCR_MARGIN", "READ_FOLDS", "Trial", "MemorisationCheck", "first_passing"]

CHECK_ROWS = 4_000
CHECK_MIN_ROWS = 100  # below this many rows there is too little to read a DCR share on
CHECK_SYNTHETIC_ROWS = 2_000  # synthetic rows per fold: fewer read too noisily on tied tables
FOLDS = 5  # a model of four fifths is read against the fifth held out
READ_FOLDS = 3  # a reading is the mean over this many folds, each held out in turn
DCR_MARGIN = 0.02

# a setting, as the hyperparameters (over the engine's own) of the trial engines that read it: set so
# that a trial runs no check of its own and chooses nothing it can be given (a trial is then one cheap fit)
Trial = Mapping[str, Any]
S = TypeVar("S")


class MemorisationCheck:
    """The folds of a table's rows and their decoded learned columns, read against engines refitted
    on them."""

    def __init__(
        self,
        engine: Synthesizer,
        parts: Mapping[str, np.ndarray],
        folds: list[np.ndarray],
        rng: np.random.Generator,
        *,
        limit: float,
        seed: int,
    ) -> None:
        self.engine, self.limit, self.seed = engine, limit - DCR_MARGIN, seed
        self.folds = folds
        rows = np.concatenate(folds)
        self.learned = [c.name for c in engine.encoder_.schema if c.kind.learned]
        subset = {name: np.asarray(values)[rows] for name, values in parts.items()}
        self.frame = engine.encoder_.decode(subset, len(rows), rng, 0, only=self.learned)
        self.position = {int(r): i for i, r in enumerate(rows)}

    @staticmethod
    def folds_of(n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """``FOLDS`` folds of at most ``CHECK_ROWS`` of ``n`` rows, drawn at random."""
        return np.array_split(rng.permutation(n)[:CHECK_ROWS], FOLDS)

    def rest(self, fold: int) -> np.ndarray:
        """The rows of every fold but ``fold``."""
        return np.concatenate([f for g, f in enumerate(self.folds) if g != fold])

    def read(self, trial: Trial, rng: np.random.Generator) -> tuple[float, bool, int]:
        """``(mean DCR share, passes, folds read)`` of engines fitted with the hyperparameters ``trial``."""
        from mirage._progress import progress_to
        from mirage.evaluation._privacy import dcr
        from mirage.schema import Schema

        learned = self.engine.encoder_.schema
        schema = Schema([c for c in learned if c.kind.learned], locale=learned.locale)
        shares: list[float] = []
        for f, held in enumerate(self.folds[:READ_FOLDS]):
            rest = self.rest(f)
            train = self.frame.iloc[[self.position[int(r)] for r in rest]].reset_index(drop=True)
            unseen = self.frame.iloc[[self.position[int(r)] for r in held]].reset_index(drop=True)
            seed = self.seed + f
            model = type(self.engine)(**{**self.engine.get_params(), **trial, "seed": seed})
            with progress_to(_silent):
                model.fit(train, schema, encoding_options=self.engine.encoding_)
                synthetic = model.sample(min(len(train), CHECK_SYNTHETIC_ROWS), seed=seed)
            result = dcr(train, unseen, synthetic, schema, seed=seed, return_distances=False)
            shares.append(float(result["dcr_share"]))
            if float(result["dcr_share_ci"][0]) > self.limit:
                return float(np.mean(shares)), False, len(shares)
        share = float(np.mean(shares))
        return share, share <= self.limit, len(shares)


def _silent(task: str, done: int, total: int, detail: str) -> None:
    return None


def first_passing(
    check: MemorisationCheck,
    settings: Sequence[S],
    trial: Callable[[S], Trial],
    describe: Callable[[S], dict[str, Any]],
    readings: list[dict[str, Any]],
    rng: np.random.Generator,
) -> S | None:
    """The least widened of ``settings`` (most capacity first) whose reading passes (``trial(setting)``:
    the hyperparameters its trial engines fit with), the readings
    appended to ``readings`` in the ladder's order (``describe(setting)`` with its share and folds
    read); None when none passes.

    The first setting (the fit's own) is read first; past it, the ladder is searched by bisection
    (readings fall as settings widen, so a setting between a failing and a passing one decides which
    half to read next): ``1 + log2(steps)`` readings instead of one per step, which is what a table
    that needs a wide setting, or passes none, cost.  A setting is only ever kept on its own reading.
    """
    read: dict[int, dict[str, Any]] = {}

    def passes(i: int) -> bool:
        share, ok, folds = check.read(trial(settings[i]), rng)
        read[i] = {**describe(settings[i]), "dcr_share": round(share, 4), "folds": folds}
        report("privacy check", len(read), len(settings), f"DCR share {share:.3f}")
        return ok

    found: int | None = None
    if settings and passes(0):
        found = 0
    else:
        low, high = 1, len(settings) - 1
        while low <= high:
            middle = (low + high) // 2
            if passes(middle):
                found, high = middle, middle - 1
            else:
                low = middle + 1
    readings.extend(read[i] for i in sorted(read))
    return None if found is None else settings[found]
