"""What the vector-based neural engines (``gan``, ``vae``) share: rows as vectors, a detection score,
the engine's layout and state (:class:`VectorSynthesizer`) and early stopping (:class:`EarlyStopping`).

:class:`RowLayout` turns encoded sub-columns into one float vector per row: a discrete sub-column is a
one-hot span (softmax), a continuous one a scalar (tanh) followed by a one-hot span of its mode
(:mod:`mirage.encoding.modes`).  Networks emit one logit per vector entry; ``activate`` applies each
span's activation in torch, and ``RowLayout.decode`` turns activated outputs back into sub-columns,
drawing each discrete code from its softmax with the seeded ``numpy`` generator.

:func:`detection_auc` is the validation score early stopping reads: how well a small gradient-boosted
classifier tells held-out real rows from generated ones (0.5: not at all).  PyTorch and scikit-learn
are imported only inside functions.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mirage._progress import EpochProgress, TrainingDone, report_event
from mirage._validate import StateError, require, require_array, require_bool, require_mapping, within
from mirage.encoding import SubColumn
from mirage.encoding._base import MISSING_PART
from mirage.encoding.modes import ModeNormaliser
from mirage.engines._base import Synthesizer, missing_flags

if TYPE_CHECKING:
    import torch

__all__ = [
    "DETECTION_ROWS",
    "PREFIX",
    "TINY_TABLE",
    "Adam",
    "EarlyStopping",
    "RowLayout",
    "Span",
    "SpanMasks",
    "Activation",
    "TrainingResult",
    "VectorSynthesizer",
    "detection_auc",
    "fill_placeholders",
    "load_weights",
    "missing_patterns",
    "present_masks",
    "weight_arrays",
]

PREFIX = "net."
PATTERN = -1  # the sub-column index of the span of missing patterns
COUNTER = "num_batches_tracked"  # batch norm's training counter: not needed to sample, not saved
DETECTION_ROWS = 2_000  # real and as many generated rows per detection score, at most
# training rows below which gan's networks are narrower: with fewer rows, more of what a wide generator
# can say is the rows' chance detail
TINY_TABLE = 1_000


@dataclass(frozen=True)
class Span:
    start: int
    width: int
    softmax: bool  # else one tanh scalar
    subcolumn: int  # index into the layout's sub-columns


def fill_placeholders(
    parts: Mapping[str, np.ndarray], subcolumns: Sequence[SubColumn], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``parts`` with the placeholder of every missing cell (a median, the most frequent category)
    replaced by a value drawn from the column's present cells, so that no model learns the placeholder
    as a spike that reappears in rows that are not missing."""
    out = dict(parts)
    for name, present in present_masks(parts, subcolumns).items():
        values = np.asarray(parts[name])
        if present.any() and not present.all():
            filled = values.copy()
            filled[~present] = rng.choice(values[present], size=int((~present).sum()))
            out[name] = filled
    return out


def present_masks(parts: Mapping[str, np.ndarray], subcolumns: Sequence[SubColumn]) -> dict[str, np.ndarray]:
    """Per sub-column with a missing flag: where its values are real, not a missing cell's placeholder."""
    return {
        subcolumns[j].name: parts[subcolumns[f].name] == 0 for j, f in missing_flags(list(subcolumns)).items()
    }


def missing_patterns(parts: Mapping[str, np.ndarray], flags: Sequence[str], min_rows: int) -> np.ndarray:
    """The patterns of missing flags (rows of 0/1) seen in at least ``min_rows`` rows, the commonest first
    (the all-present pattern always among them)."""
    if not flags:
        return np.zeros((1, 0), dtype="int64")
    matrix = np.column_stack([np.asarray(parts[f], dtype="int64") for f in flags])
    patterns, counts = np.unique(matrix, axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    kept = patterns[order][counts[order] >= min_rows]
    present = np.zeros((1, len(flags)), dtype="int64")
    if not any(np.array_equal(row, present[0]) for row in kept):
        kept = np.concatenate([present, kept])
    return np.ascontiguousarray(kept)


class Adam:
    """``torch.optim.Adam``'s update (bias-corrected moments, ``eps`` added to the corrected root, weight
    decay as an L2 term added to the gradient) over plain tensors.

    ``torch.optim``'s first step imports ``torch._dynamo`` (a quarter of a small table's fit, measured
    on ``vae``); this update calls the fused kernel behind ``torch.optim.Adam(fused=True)`` directly, one
    call for every parameter (a loop of ``_foreach`` calls over per-parameter step sizes cost 290 us a
    step on ``vae``'s 92,000 weights, the kernel 70 us).  As there, a parameter without a gradient is left
    alone and its step count (``steps``) does not advance.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        import torch

        self.params = list(params)
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.counts = torch.zeros(len(self.params))
        self.steps = list(self.counts.unbind())  # the kernel reads one 0-d tensor per parameter
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        import torch

        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        params = [self.params[i] for i in live]
        grads = [p.grad for p in params if p.grad is not None]
        steps = [self.steps[i] for i in live]
        with torch.no_grad():
            if len(live) == len(self.params):
                self.counts += 1.0
            else:
                self.counts[live] += 1.0
            torch._fused_adam_(
                params,
                grads,
                [self.exp_avg[i] for i in live],
                [self.exp_avg_sq[i] for i in live],
                [],
                steps,
                lr=self.lr,
                beta1=self.betas[0],
                beta2=self.betas[1],
                weight_decay=self.weight_decay,
                eps=self.eps,
                amsgrad=False,
                maximize=False,
            )


class RowLayout:
    """Where each sub-column sits in a row vector.

    The missing flags of all columns form one span together, a code per *pattern* of missing cells
    (``patterns``: one row of 0/1 per code, from :func:`missing_patterns`), so columns that are missing
    together stay missing together; a pattern seen in fewer than ``min_rows`` rows is encoded as the
    nearest kept one (fewest flags changed).
    """

    def __init__(
        self, subcolumns: Sequence[SubColumn], normaliser: ModeNormaliser, patterns: np.ndarray
    ) -> None:
        self.subcolumns = list(subcolumns)
        self.normaliser = normaliser
        self.flags = [s.name for s in self.subcolumns if s.part == MISSING_PART]
        self.patterns = patterns
        self.spans: list[Span] = []
        start = 0
        if self.flags:
            self.spans.append(Span(start, patterns.shape[0], True, PATTERN))
            start += patterns.shape[0]
        for j, s in enumerate(self.subcolumns):
            if s.part == MISSING_PART:
                continue
            if s.discrete:
                self.spans.append(Span(start, max(1, s.cardinality), True, j))
                start += max(1, s.cardinality)
            else:
                k = normaliser.n_modes(s.name)
                self.spans += [Span(start, 1, False, j), Span(start + 1, k, True, j)]
                start += 1 + k
        self.width = start

    def _discrete(self, span: Span) -> bool:
        return span.subcolumn == PATTERN or self.subcolumns[span.subcolumn].discrete

    @property
    def code_spans(self) -> list[Span]:
        """The one-hot spans of discrete sub-columns (and of the missing patterns) with two codes or more
        (what a condition picks)."""
        return [span for span in self.spans if span.softmax and self._discrete(span) and span.width > 1]

    def encode(self, parts: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """Rows as float32 vectors (modes drawn from each value's posterior)."""
        n = len(next(iter(parts.values()))) if parts else 0
        out = np.zeros((n, self.width), dtype="float32")
        rows = np.arange(n)
        for span in self.spans:
            if span.subcolumn == PATTERN:
                flags = np.column_stack([np.asarray(parts[f], dtype="int64") for f in self.flags])
                distance = np.abs(flags[:, None, :] - self.patterns[None, :, :]).sum(axis=2)
                out[rows, span.start + distance.argmin(axis=1)] = 1.0
                continue
            s = self.subcolumns[span.subcolumn]
            if s.discrete:
                out[rows, span.start + np.asarray(parts[s.name], dtype="int64")] = 1.0
            elif not span.softmax:
                mode, scalar = self.normaliser.encode(s.name, parts[s.name], rng)
                out[:, span.start] = scalar
                out[rows, span.start + 1 + mode] = 1.0
        return out

    def decode(
        self, vectors: np.ndarray, rng: np.random.Generator, mode_temperature: float = 1.0
    ) -> dict[str, np.ndarray]:
        """Sub-columns from activated outputs: every code drawn from its span's probabilities, a
        continuous sub-column's mode from them raised to ``1 / mode_temperature`` (0: the likeliest
        mode, as TVAE decodes).  The scalar a network emits is a distance from the mode it meant for the
        row, so a mode drawn apart from it pairs that scalar with another mode's mean and loosens what
        ties the row's columns together (breast cancer's radius, perimeter and area)."""
        n = vectors.shape[0]
        codes: dict[int, np.ndarray] = {}
        u = rng.random((n, sum(1 for span in self.spans if span.softmax)))
        i = 0
        for span in self.spans:
            if span.softmax:
                p = np.maximum(
                    np.asarray(vectors[:, span.start : span.start + span.width], dtype="float64"), 0.0
                )
                if mode_temperature != 1.0 and not self._discrete(span):
                    if mode_temperature == 0.0:
                        codes[span.start] = p.argmax(axis=1)
                        i += 1
                        continue
                    p = (p / np.maximum(p.max(axis=1, keepdims=True), 1e-300)) ** (1.0 / mode_temperature)
                cdf = np.cumsum(p, axis=1)
                draw = u[:, i] * cdf[:, -1]
                codes[span.start] = np.minimum((cdf < draw[:, None]).sum(axis=1), span.width - 1)
                i += 1
        parts: dict[str, np.ndarray] = {}
        for span in self.spans:
            if span.subcolumn == PATTERN:
                pattern = self.patterns[codes[span.start]]
                parts.update({f: pattern[:, k].astype("int64") for k, f in enumerate(self.flags)})
                continue
            s = self.subcolumns[span.subcolumn]
            if s.discrete:
                parts[s.name] = codes[span.start].astype("int64")
            elif not span.softmax:
                scalar = np.asarray(vectors[:, span.start], dtype="float64")
                parts[s.name] = self.normaliser.decode(s.name, codes[span.start + 1], scalar, rng)
        return {sub.name: parts[sub.name] for sub in self.subcolumns}


class SpanMasks:
    """A layout's spans as whole-width masks, for losses written so that every operation the gradient
    passes through is dense (gathering the spans into a padded tensor made the backward pass scatter):
    ``sums`` (width x one-hot spans) adds each column to its span's sum by one matrix product, ``soft``
    marks the one-hot columns, ``scalar`` the tanh ones (a scalar span is one column wide)."""

    def __init__(self, spans: Sequence[Span]) -> None:
        import torch

        soft = [span for span in spans if span.softmax]
        width = max((span.start + span.width for span in spans), default=0)
        self.sums = torch.zeros(width, len(soft))
        for i, span in enumerate(soft):
            self.sums[span.start : span.start + span.width, i] = 1.0
        self.soft = self.sums.sum(dim=1)
        self.scalar = 1.0 - self.soft
        self.padded = Activation(spans).padded
        # each one-hot span's columns, its first one standing in for the padding: no -inf column to add
        self.own_columns = torch.where(self.padded < width, self.padded, self.padded[:, :1])

    def span_max(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(n, spans)`` each one-hot span's largest logit and ``(n, width)`` the shift of every column
        (its span's largest logit; a scalar's own logit), subtracted before an exponential so that a
        span's sum neither overflows nor vanishes; no gradient."""
        import torch

        with torch.no_grad():
            largest = logits[:, self.own_columns].amax(dim=2)
            return largest, largest @ self.sums.T + logits * self.scalar


class Activation:
    """Each span's activation at once: tanh for scalars, softmax (Gumbel-softmax at temperature ``tau``)
    for one-hots, the one-hots gathered into one padded tensor so that a wide table costs one call."""

    def __init__(self, spans: Sequence[Span]) -> None:
        import torch

        soft = [span for span in spans if span.softmax]
        width = max((span.start + span.width for span in spans), default=0)
        longest = max((span.width for span in soft), default=1)
        padded = np.full((len(soft), longest), width, dtype="int64")  # the padding column: -inf
        for i, span in enumerate(soft):
            padded[i, : span.width] = np.arange(span.start, span.start + span.width)
        self.width = width
        self.padded = torch.from_numpy(padded)
        self.scalar_cols = torch.tensor([span.start for span in spans if not span.softmax], dtype=torch.long)
        self.soft_cols = torch.from_numpy(np.concatenate([padded[i, : s.width] for i, s in enumerate(soft)]))
        self.soft_span = torch.from_numpy(np.concatenate([np.full(s.width, i) for i, s in enumerate(soft)]))
        self.soft_pos = torch.from_numpy(np.concatenate([np.arange(s.width) for s in soft]))
        self.soft_index = {span.start: i for i, span in enumerate(soft)}  # a span's row in ``padded``

    def grouped_log_softmax(self, logits: torch.Tensor) -> torch.Tensor:
        """``(n, spans, longest)`` log-probabilities of every one-hot span (padding at -inf)."""
        import torch

        n = logits.shape[0]
        extended = torch.cat([logits, torch.full((n, 1), -torch.inf, dtype=logits.dtype)], dim=1)
        return torch.log_softmax(extended[:, self.padded], dim=2)

    def __call__(self, logits: torch.Tensor, tau: float | None = None) -> torch.Tensor:
        import torch

        n = logits.shape[0]
        out = torch.zeros(n, self.width, dtype=logits.dtype)
        if self.scalar_cols.numel():
            out = out.index_copy(1, self.scalar_cols, torch.tanh(logits[:, self.scalar_cols]))
        if self.soft_cols.numel():
            if tau is not None:
                logits = (logits - torch.empty_like(logits).exponential_().log()) / tau
            extended = torch.cat([logits, torch.full((n, 1), -torch.inf, dtype=logits.dtype)], dim=1)
            p = torch.softmax(extended[:, self.padded], dim=2)
            out = out.index_copy(1, self.soft_cols, p[:, self.soft_span, self.soft_pos])
        return out


def _parts_matrix(parts: Mapping[str, np.ndarray], subcolumns: Sequence[SubColumn]) -> np.ndarray:
    return np.column_stack([np.asarray(parts[s.name], dtype="float64") for s in subcolumns])


def detection_auc(
    real: Mapping[str, np.ndarray], fake: Mapping[str, np.ndarray], subcolumns: Sequence[SubColumn], seed: int
) -> float:
    """The AUC of a classifier telling ``real`` rows from ``fake`` ones (sub-columns), trained on one half
    of each and scored on the other; 0.5 is the best a generator can reach."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    x_real, x_fake = _parts_matrix(real, subcolumns), _parts_matrix(fake, subcolumns)
    rng = np.random.default_rng(seed)
    n = min(x_real.shape[0], x_fake.shape[0], DETECTION_ROWS)
    if n < 10:
        return 0.5
    x_real = x_real[rng.permutation(x_real.shape[0])[:n]]
    x_fake = x_fake[rng.permutation(x_fake.shape[0])[:n]]
    x = np.concatenate([x_real, x_fake])
    y = np.concatenate([np.ones(n), np.zeros(n)])
    half = np.concatenate([np.arange(n) % 2 == 0, np.arange(n) % 2 == 0])
    categorical = np.array([s.discrete and 1 < s.cardinality <= 255 for s in subcolumns])
    classifier = HistGradientBoostingClassifier(
        max_iter=40,
        max_depth=4,
        learning_rate=0.2,
        categorical_features=categorical if categorical.any() else None,
        early_stopping=False,
        random_state=seed,
    )
    with threadpool_limits(1):
        classifier.fit(x[half], y[half])
        score = classifier.predict_proba(x[~half])[:, 1]
    auc = float(roc_auc_score(y[~half], score))
    return max(auc, 1.0 - auc)


def weight_arrays(network: torch.nn.Module, prefix: str = PREFIX) -> dict[str, np.ndarray]:
    """One ``net.<state_dict key>`` array per weight or buffer of ``network``."""
    return {
        f"{prefix}{key}": tensor.detach().cpu().numpy()
        for key, tensor in network.state_dict().items()
        if not key.endswith(COUNTER)
    }


def load_weights(network: torch.nn.Module, arrays: Mapping[str, np.ndarray], prefix: str = PREFIX) -> None:
    """Load ``arrays`` into ``network``, each checked for its key, kind and shape; no extra ones allowed."""
    import torch

    weights = {}
    for key, tensor in network.state_dict().items():
        if key.endswith(COUNTER):
            weights[key] = tensor
            continue
        kind = "f" if tensor.is_floating_point() else "i"
        value = require_array(arrays, f"{prefix}{key}", kind=kind, shape=tuple(tensor.shape))
        weights[key] = torch.from_numpy(np.ascontiguousarray(value)).to(tensor.dtype)
    extra = sorted(k for k in arrays if k.startswith(prefix) and k[len(prefix) :] not in weights)
    if extra:
        raise StateError(extra[0], "not a weight of this network", array=True)
    network.load_state_dict(weights)
    network.train(False)


@dataclass
class TrainingResult:
    """What a training loop did: one entry per epoch, why it stopped, the best validation score (lower
    is better) and its epoch."""

    history: list[dict[str, float]] = field(default_factory=list)
    stopped: str = "max_epochs"
    best_score: float = math.inf
    best_epoch: int = 0


class EarlyStopping:
    """The best validation score so far, the weights of ``modules`` it was reached with, and the
    epoch loop's bookkeeping: one history entry and progress event per epoch, the stop reason.

    A score counts as better when it is below the best by ``min_delta`` (``relative``: by that share of
    the best); the first score always does.  ``patience`` checks without a better one stop training.
    Scores of epochs before ``min_epochs`` are recorded but neither kept nor counted against the
    patience: a generator scored that early can look as good as a trained one on a score read on few
    rows while it has learned the marginals and none of the dependence.
    """

    def __init__(
        self,
        modules: Sequence[torch.nn.Module],
        *,
        max_epochs: int,
        max_training_time: float,
        patience: int,
        min_delta: float,
        relative: bool = False,
        min_epochs: int = 1,
    ) -> None:
        self.modules = list(modules)
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.max_training_time = max_training_time
        self.patience = patience
        self.min_delta = min_delta
        self.relative = relative
        self.result = TrainingResult()
        self.bad = 0
        self.start = time.perf_counter()
        self.best_states: list[Mapping[str, Any]] = [copy.deepcopy(m.state_dict()) for m in self.modules]

    @property
    def out_of_time(self) -> bool:
        return time.perf_counter() - self.start > self.max_training_time

    def score(self, epoch: int, value: float) -> None:
        """Record a validation score of the weights as they are now."""
        if epoch < self.min_epochs:
            return
        margin = self.min_delta * abs(self.result.best_score) if self.relative else self.min_delta
        if not self.result.best_epoch or value < self.result.best_score - margin:
            self.result.best_score, self.result.best_epoch, self.bad = value, epoch, 0
            self.best_states = [copy.deepcopy(m.state_dict()) for m in self.modules]
        else:
            self.bad += 1

    def end_epoch(
        self, entry: dict[str, float], train_loss: float, val_loss: float, out_of_time: bool
    ) -> bool:
        """Add the epoch's ``entry`` (its number under ``"epoch"``) to the history, report progress and
        say whether to stop."""
        epoch = int(entry["epoch"])
        elapsed = time.perf_counter() - self.start
        entry["seconds"] = elapsed
        self.result.history.append(entry)
        left = min(self.max_training_time - elapsed, (self.max_epochs - epoch) * elapsed / epoch)
        report_event(
            EpochProgress(
                "fit",
                epoch,
                self.max_epochs,
                train_loss,
                val_loss,
                self.result.best_epoch,
                elapsed,
                max(left, 0.0),
            )
        )
        if out_of_time:
            self.result.stopped = "max_training_time"
            return True
        if self.bad >= self.patience:
            self.result.stopped = "early_stopping"
            return True
        return False

    def finish(self) -> TrainingResult:
        """Load the best weights (none scored: keep the last ones), leave the modules in evaluation mode
        and report the end of training."""
        if self.result.best_epoch:
            for module, state in zip(self.modules, self.best_states, strict=True):
                module.load_state_dict(state)
        else:
            self.result.best_epoch = len(self.result.history)
        for module in self.modules:
            module.train(False)
        result = self.result
        report_event(TrainingDone("fit", len(result.history), result.best_epoch, result.stopped))
        return result


class VectorSynthesizer(Synthesizer):
    """An engine that learns rows as vectors of a :class:`RowLayout`: the mode-specific normalisation and
    the layout at fit time, their part of the model's state, and the check of a loaded network flag."""

    subcolumns_: list[SubColumn]
    modes_: ModeNormaliser
    layout_: RowLayout

    def _fit_layout(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator, seed: int
    ) -> dict[str, np.ndarray]:
        """Learn the modes and the layout; ``parts`` with missing cells' placeholders redrawn."""
        self.subcolumns_ = subcolumns
        min_rows = self.encoding_.rare_min_count
        self.modes_ = ModeNormaliser(min_rows=min_rows, seed=seed).fit(
            parts, subcolumns, present_masks(parts, subcolumns)
        )
        flags = [s.name for s in subcolumns if s.part == MISSING_PART]
        self.layout_ = RowLayout(subcolumns, self.modes_, missing_patterns(parts, flags, min_rows))
        return fill_placeholders(parts, subcolumns, rng)

    def _layout_state(self, has_network: bool) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        modes_state, modes_arrays = self.modes_.get_state()
        state = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "modes": modes_state,
            "network": has_network,
        }
        arrays = {f"modes.{k}": v for k, v in modes_arrays.items()}
        arrays["patterns"] = self.layout_.patterns
        return state, arrays

    def _restore_layout(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bool:
        """Restore the sub-columns, modes and layout of ``state``; whether it has a network."""
        self.subcolumns_ = self._restore_subcolumns(state)
        own = {k[len("modes.") :]: v for k, v in arrays.items() if k.startswith("modes.")}
        with within("modes", "modes."):
            self.modes_ = ModeNormaliser.from_state(require_mapping(require(state, "modes")), own)
        continuous = [s.name for s in self.subcolumns_ if not s.discrete]
        if sorted(self.modes_.modes) != sorted(continuous):
            raise StateError("modes.subcolumns", f"expected the continuous sub-columns {continuous}")
        flags = [s for s in self.subcolumns_ if s.part == MISSING_PART]
        patterns = require_array(arrays, "patterns", kind="i", shape=(None, len(flags)))
        if patterns.shape[0] < 1 or not np.isin(patterns, (0, 1)).all():
            raise StateError("patterns", "expected at least one row of 0/1 flags", array=True)
        self.layout_ = RowLayout(self.subcolumns_, self.modes_, patterns.astype("int64"))
        has_network = require_bool(state, "network")
        if has_network != (self.layout_.width > 0):
            raise StateError(
                "network", f"expected {str(self.layout_.width > 0).lower()} for these sub-columns"
            )
        return has_network
