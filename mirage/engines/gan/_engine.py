"""The ``gan`` engine: settings, fitting, sampling and state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from mirage._progress import report
from mirage._validate import StateError, require_array, require_int
from mirage.encoding import SubColumn
from mirage.engines._base import EngineTags
from mirage.engines._guard import PrivacyKnob
from mirage.engines._neural import (
    DETECTION_ROWS,
    TINY_TABLE,
    VectorSynthesizer,
    detection_auc,
    load_weights,
    weight_arrays,
)
from mirage.engines._params import SAMPLE, SEED, Param, integer, number
from mirage.engines._registry import register_engine
from mirage.engines._registry import require as require_dependencies

if TYPE_CHECKING:
    from mirage.engines.gan._network import Generator
    from mirage.engines.gan._training import ConditionSampler

__all__ = ["GanSynthesizer"]

# rows; below it, and again below TINY_TABLE, networks half as wide (they train faster and memorise
# less): on diabetes (442 rows) 128 units read a DCR share of 0.558 over 20 split seeds, 64 units 0.528
SMALL_TABLE = 5_000
MIN_VALIDATION = 20  # held-out rows needed to score detection; fewer: train for max_epochs


def auto_batch(n: int) -> int:
    """About a third of the rows, between 50 and 500 (CTGAN's batch).  A step's CPU is mostly per
    operation, not per row (on 963 rows, 300-row steps cost 1.2x 100-row ones), so fewer, larger steps
    see the rows as often for less."""
    return int(min(500, max(50, round(n / 30) * 10)))


def auto_patience(n: int) -> int:
    """Validation checks without a better detection score before training stops, for ``n`` training
    rows: 1, and 3 from ``SMALL_TABLE`` rows, where a check's score moves less from one to the next and
    one worse reading stopped training early (adult and bank marketing, 10,000 rows, 3 split seeds:
    detection AUC .979 and .934 at 1, .974 and .923 at 3, CTGAN's .976 and .923)."""
    return 1 if n < SMALL_TABLE else 3


GUARD_STEPS = 3  # settings past the fit's own, each halving the networks' width
MIN_GUARD_HIDDEN = 16


def auto_hidden(n: int) -> int:
    """The width of the generator's and critic's layers for ``n`` training rows: 64, 128 from
    ``TINY_TABLE`` rows, 256 from ``SMALL_TABLE``."""
    return 64 if n < TINY_TABLE else 128 if n < SMALL_TABLE else 256


def _hidden_sizes(engine: GanSynthesizer, rows: int) -> list[dict[str, int]]:
    """The settings the memorisation guard tries: the fit's own width of the generator's and critic's
    layers, then halved ``GUARD_STEPS`` times (not below ``MIN_GUARD_HIDDEN``).  A narrower generator
    can describe fewer of the rows' details, so its rows land less often near learned ones."""
    own = engine.hidden_size or auto_hidden(rows)
    sizes = [own] + [max(MIN_GUARD_HIDDEN, own // 2**i) for i in range(1, GUARD_STEPS + 1)]
    return [{"hidden_size": size} for size in dict.fromkeys(sizes)]


@register_engine
class GanSynthesizer(VectorSynthesizer):
    name = "gan"
    params: ClassVar[Mapping[str, Param]] = {
        "max_training_time": number(0, low_open=True, allow_inf=True, note="seconds"),
        "max_epochs": integer(1),
        "patience": integer(1, optional=True, note=f"(None: 1 below {SMALL_TABLE:,} rows, 3 from it)"),
        "min_steps": integer(0),
        "batch_size": integer(2, optional=True),
        "pac": integer(1),
        "critic_every": integer(1, note="generator steps per critic step"),
        "hidden_size": integer(1, optional=True),
        "noise_size": integer(1),
        "learning_rate": number(0, low_open=True),
        "validation_share": number(0, 0.5, high_open=True),
        "cpu_threads": integer(1, optional=True, stage=SAMPLE),
        "max_dcr_share": number(0, 1, low_open=True, optional=True, note="(None: no check)"),
        "seed": SEED,
    }
    privacy_knob = PrivacyKnob("hidden size", _hidden_sizes)
    tags = EngineTags()

    def __init__(
        self,
        *,
        max_training_time: float = 600.0,
        max_epochs: int = 300,
        patience: int | None = None,
        min_steps: int = 300,
        batch_size: int | None = None,
        pac: int = 10,
        critic_every: int = 2,
        hidden_size: int | None = None,
        noise_size: int = 128,
        learning_rate: float = 4e-4,
        validation_share: float = 0.1,
        cpu_threads: int | None = 1,
        max_dcr_share: float | None = None,
        seed: int = 0,
    ) -> None:
        self.max_training_time = max_training_time
        self.max_epochs = max_epochs
        self.patience = patience
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.pac = pac
        self.critic_every = critic_every
        self.hidden_size = hidden_size
        self.noise_size = noise_size
        self.learning_rate = learning_rate
        self.validation_share = validation_share
        self.cpu_threads = cpu_threads
        self.max_dcr_share = max_dcr_share
        self.seed = seed

    # --- learning ---------------------------------------------------------------------------------
    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        require_dependencies(self.name)
        parts = self._fit_layout(parts, subcolumns, rng, self.seed)
        n = self.n_training_rows_
        self.hidden_ = int(self._knob_setting("hidden_size"))
        if self.layout_.width == 0:
            self.generator_: Generator | None = None
            self.sampler_: ConditionSampler | None = None
            report("fit", 1, 1)
            return
        import torch

        from mirage.engines.argn._runtime import torch_scope
        from mirage.engines.gan._network import Critic, Generator
        from mirage.engines.gan._training import ConditionSampler, TrainingSettings, generate, train

        data = self.layout_.encode(parts, rng)
        order = rng.permutation(n)
        n_val = min(round(n * self.validation_share), DETECTION_ROWS)
        n_val = n_val if n_val >= MIN_VALIDATION else 0
        held = {name: values[order[:n_val]] for name, values in parts.items()}
        train_rows = data[order[n_val:]]
        sampler = ConditionSampler(self.layout_, train_rows)
        batch = min(self.batch_size or auto_batch(train_rows.shape[0]), train_rows.shape[0])
        pac = self.pac if batch >= 2 * self.pac else 1
        batch = batch // pac * pac
        settings = TrainingSettings(
            max_training_time=self.max_training_time,
            max_epochs=self.max_epochs,
            patience=self.patience or auto_patience(n),
            min_steps=self.min_steps,
            batch_size=batch,
            pac=pac,
            critic_every=self.critic_every,
            noise_size=self.noise_size,
            learning_rate=self.learning_rate,
            seed=self.seed,
        )
        layout = self.layout_

        def score(generator: Generator) -> float:
            draw = np.random.default_rng([self.seed, 1])
            fake = layout.decode(generate(generator, sampler, layout, n_val, self.noise_size, draw), draw)
            return detection_auc(held, fake, subcolumns, self.seed)

        hidden = (self.hidden_, self.hidden_)
        with torch_scope(self.cpu_threads):
            torch.manual_seed(self.seed)
            generator = Generator(self.noise_size + sampler.width, hidden, layout.width)
            critic = Critic(layout.width + sampler.width, hidden, pac)
            result = train(
                generator, critic, layout, sampler, train_rows, settings, rng, score if n_val else None
            )
        self.generator_ = generator
        self.sampler_ = sampler
        self.training_.update(
            {
                "stopped": result.stopped,
                "best_detection_auc": result.best_score if n_val else None,
                "best_epoch": result.best_epoch,
                "epochs": len(result.history),
                "history": result.history,
                "hidden": self.hidden_,
                "batch_size": batch,
                "pac": pac,
                "validation_rows": n_val,
            }
        )

    # --- sampling ---------------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        if self.generator_ is None or self.sampler_ is None:
            return {}
        from mirage.engines.argn._runtime import torch_scope
        from mirage.engines.gan._training import generate

        with torch_scope(self.cpu_threads):
            rows = generate(self.generator_, self.sampler_, self.layout_, n, self.noise_size, rng)
        return self.layout_.decode(rows, rng)

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Rows redrawn by the generator conditioned on the first intervened discrete sub-column's new
        code (the conditional vector), the intervened sub-columns keeping their values.  An intervention
        on numbers only changes those numbers (the generator cannot be conditioned on them)."""
        if self.generator_ is None or self.sampler_ is None or not parts:
            return parts
        spans = self.sampler_.spans
        picked = next(
            (
                i
                for i, span in enumerate(spans)
                if span.subcolumn >= 0 and self.subcolumns_[span.subcolumn].name in fixed
            ),
            None,
        )
        if picked is None:
            return parts
        from mirage.engines.argn._runtime import torch_scope
        from mirage.engines.gan._training import generate

        codes = np.asarray(parts[self.subcolumns_[spans[picked].subcolumn].name], dtype="int64")
        with torch_scope(self.cpu_threads):
            rows = generate(
                self.generator_,
                self.sampler_,
                self.layout_,
                codes.size,
                self.noise_size,
                rng,
                given=(picked, codes),
            )
        drawn = self.layout_.decode(rows, rng)
        return {name: parts[name] if name in fixed else values for name, values in drawn.items()}

    # --- persistence ------------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = self._layout_state(self.generator_ is not None)
        state["hidden"] = self.hidden_
        if self.generator_ is not None and self.sampler_ is not None:
            arrays.update(weight_arrays(self.generator_))
            arrays.update({f"frequency.{i}": p for i, p in enumerate(self.sampler_.frequency)})
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        has_network = self._restore_layout(state, arrays)
        self.hidden_ = require_int(state, "hidden", low=1)
        if self._guard_choice().get("hidden_size") != self.hidden_:  # else the guard narrowed it
            self._require_recorded("hidden_size", self.hidden_, "state.engine.hidden")
        self.generator_ = None
        self.sampler_ = None
        if not has_network:
            return
        from mirage.engines.argn._runtime import torch_scope
        from mirage.engines.gan._network import Generator
        from mirage.engines.gan._training import ConditionSampler

        sampler = ConditionSampler(self.layout_)
        for i, span in enumerate(sampler.spans):
            p = require_array(arrays, f"frequency.{i}", kind="f", shape=(span.width,))
            if np.any(p < 0) or abs(float(p.sum()) - 1.0) > 1e-6:
                raise StateError(f"frequency.{i}", "expected probabilities summing to 1", array=True)
            sampler.frequency.append(p)
        with torch_scope(None):  # the initial weights must not draw from torch's global random state
            generator = Generator(
                self.noise_size + sampler.width, (self.hidden_, self.hidden_), self.layout_.width
            )
        load_weights(generator, arrays)
        self.generator_ = generator
        self.sampler_ = sampler
