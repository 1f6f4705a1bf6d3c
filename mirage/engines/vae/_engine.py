"""The ``vae`` engine: settings, fitting, sampling and state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from mirage._progress import report
from mirage.encoding import SubColumn
from mirage.engines._base import EngineTags
from mirage.engines._guard import PrivacyKnob
from mirage.engines._neural import VectorSynthesizer, load_weights, weight_arrays
from mirage.engines._params import SAMPLE, SEED, Param, integer, number
from mirage.engines._registry import register_engine
from mirage.engines._registry import require as require_dependencies

if TYPE_CHECKING:
    from mirage.engines.vae._training import Decoder, Encoder

__all__ = ["VaeSynthesizer"]

ENCODER_PREFIX = "encoder."  # the encoder's weights in the model file (the decoder's: "net.")
MIN_VALIDATION = 20  # held-out rows needed for early stopping; fewer: train for max_epochs
MAX_VALIDATION = 5_000
GUARD_KL_GROWTH = 2.0  # each setting the memorisation guard tries doubles the KL weight
GUARD_STEPS = 3  # settings past the fit's own
KL_ROWS = 700  # training rows at which the KL weight is 1 (the plain evidence bound)
KL_RANGE = (0.5, 2.0)  # TVAE's weight from 1,400 rows; at most twice the plain bound


def auto_kl_weight(n: int) -> float:
    """The KL weight for ``n`` training rows: ``KL_ROWS / n`` within ``KL_RANGE``.  A heavier KL term lets
    each latent point say less about the row it came from (the rate-distortion trade of a beta-VAE),
    and the fewer the rows, the more of what a latent point can say is one row's own detail.  With
    ``latent_size=32``, over 20 split seeds: diabetes (354 training rows) read a DCR share of 0.544 at a
    weight of 1 and 0.509 at 2; titanic (713) 0.508 at 1; insurance (1,070) 0.520 at 0.5."""
    return float(min(max(KL_ROWS / max(n, 1), KL_RANGE[0]), KL_RANGE[1]))


def _kl_weights(engine: VaeSynthesizer, rows: int) -> list[dict[str, float]]:
    """The settings the memorisation guard tries: the fit's own KL weight, then doubled ``GUARD_STEPS``
    times.  A heavier KL term lets each latent point say less about the row it came from, so decoded
    prior draws land less often near learned rows."""
    own = engine.kl_weight or auto_kl_weight(rows)
    return [{"kl_weight": own * GUARD_KL_GROWTH**i} for i in range(GUARD_STEPS + 1)]


def auto_batch(n: int) -> int:
    """About a tenth of the rows, between 50 and 500 (TVAE's batch)."""
    return int(min(500, max(50, round(n / 10))))


@register_engine
class VaeSynthesizer(VectorSynthesizer):
    name = "vae"
    params: ClassVar[Mapping[str, Param]] = {
        "max_training_time": number(0, low_open=True, allow_inf=True, note="seconds"),
        "max_epochs": integer(1),
        "patience": integer(1),
        "batch_size": integer(1, optional=True),
        "hidden_size": integer(1),
        "latent_size": integer(1),
        "learning_rate": number(0, low_open=True),
        "weight_decay": number(0),
        "kl_weight": number(0, low_open=True, optional=True, note="(None: 700 / rows within 0.5-2)"),
        "mode_temperature": number(0, 1, stage=SAMPLE),
        "validation_share": number(0, 0.5, high_open=True),
        "cpu_threads": integer(1, optional=True, stage=SAMPLE),
        "max_dcr_share": number(0, 1, low_open=True, optional=True, note="(None: no check)"),
        "seed": SEED,
    }
    defaults_before: ClassVar[Mapping[str, Any]] = {"mode_temperature": 1.0}  # files before it drew modes so
    privacy_knob = PrivacyKnob("KL weight", _kl_weights)
    tags = EngineTags(scenario=True)

    def __init__(
        self,
        *,
        max_training_time: float = 600.0,
        max_epochs: int = 300,
        patience: int = 3,
        batch_size: int | None = None,
        hidden_size: int = 128,
        latent_size: int = 32,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-5,
        kl_weight: float | None = None,
        mode_temperature: float = 0.7,
        validation_share: float = 0.1,
        cpu_threads: int | None = 1,
        max_dcr_share: float | None = None,
        seed: int = 0,
    ) -> None:
        self.max_training_time = max_training_time
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.hidden_size = hidden_size
        self.latent_size = latent_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.kl_weight = kl_weight
        self.mode_temperature = mode_temperature
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
        if self.layout_.width == 0:
            self.decoder_: Decoder | None = None
            self.encoder_network_: Encoder | None = None
            report("fit", 1, 1)
            return
        import torch

        from mirage.engines.argn._runtime import torch_scope
        from mirage.engines.vae._training import Decoder, Encoder, TrainingSettings, train

        n = self.n_training_rows_
        data = self.layout_.encode(parts, rng)
        order = rng.permutation(n)
        n_val = min(round(n * self.validation_share), MAX_VALIDATION)
        n_val = n_val if n_val >= MIN_VALIDATION else 0
        held, rows = data[order[:n_val]], data[order[n_val:]]
        batch = min(self.batch_size or auto_batch(rows.shape[0]), rows.shape[0])
        settings = TrainingSettings(
            max_training_time=self.max_training_time,
            max_epochs=self.max_epochs,
            patience=self.patience,
            batch_size=batch,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            kl_weight=float(self._knob_setting("kl_weight")),
            seed=self.seed,
        )
        hidden = (self.hidden_size, self.hidden_size)
        with torch_scope(self.cpu_threads):
            torch.manual_seed(self.seed)
            encoder = Encoder(self.layout_.width, hidden, self.latent_size)
            decoder = Decoder(self.latent_size, hidden, self.layout_.width)
            result = train(encoder, decoder, self.layout_, rows, held, settings)
        self.decoder_ = decoder
        self.encoder_network_ = encoder
        self.training_.update(
            {
                "stopped": result.stopped,
                "best_val_loss": result.best_score if n_val else None,
                "best_epoch": result.best_epoch,
                "epochs": len(result.history),
                "history": result.history,
                "batch_size": batch,
                "validation_rows": n_val,
            }
        )

    # --- sampling ---------------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        if self.decoder_ is None:
            return {}
        from mirage.engines.argn._runtime import torch_scope
        from mirage.engines.vae._training import generate

        with torch_scope(self.cpu_threads):
            rows = generate(self.decoder_, self.layout_, n, self.latent_size, rng)
        return self.layout_.decode(rows, rng, self.mode_temperature)

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Each row's other sub-columns redrawn from the decoder at a latent point drawn given its
        intervened ones (:mod:`mirage.engines.vae._conditional`); the intervened ones keep theirs."""
        if self.decoder_ is None or not parts:
            return parts
        from mirage.engines.argn._runtime import torch_scope
        from mirage.engines.vae._conditional import FixedRows, conditional_latents, restrict_patterns
        from mirage.engines.vae._training import generate

        with torch_scope(self.cpu_threads):
            given = FixedRows.of(self.layout_, parts, fixed, rng)
            latents = conditional_latents(self.decoder_, given, self.latent_size, rng, self.mode_temperature)
            rows = generate(self.decoder_, self.layout_, 0, self.latent_size, rng, latents=latents)
        drawn = self.layout_.decode(restrict_patterns(rows, given), rng, self.mode_temperature)
        return {name: parts[name] if name in fixed else values for name, values in drawn.items()}

    # --- persistence ------------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = self._layout_state(self.decoder_ is not None)
        if self.decoder_ is not None and self.encoder_network_ is not None:
            arrays.update(weight_arrays(self.decoder_))
            arrays.update(weight_arrays(self.encoder_network_, ENCODER_PREFIX))
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        has_network = self._restore_layout(state, arrays)
        self.decoder_ = None
        self.encoder_network_ = None
        if not has_network:
            return
        from mirage.engines.argn._runtime import torch_scope
        from mirage.engines.vae._training import Decoder, Encoder

        hidden = (self.hidden_size, self.hidden_size)
        with torch_scope(None):  # the initial weights must not draw from torch's global random state
            decoder = Decoder(self.latent_size, hidden, self.layout_.width)
            encoder = Encoder(self.layout_.width, hidden, self.latent_size)
        load_weights(decoder, arrays)
        load_weights(encoder, arrays, ENCODER_PREFIX)
        self.decoder_ = decoder
        self.encoder_network_ = encoder
