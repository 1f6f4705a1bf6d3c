"""argn's AdamW: the plain-tensor Adam of the neural engines with decoupled weight decay.

``torch.optim``'s first optimiser imports ``torch._dynamo``: 1.6 CPU seconds per process on this
machine, a quarter to a third of a small argn fit (titanic in a fresh process: 5.1-5.9 -> 3.7-4.1 CPU
s; ``benchmarks/bench_sequential_fit.py`` times sequence fits).  DP-SGD keeps ``torch.optim``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mirage.engines._neural import Adam

if TYPE_CHECKING:
    import torch

__all__ = ["AdamW"]


class AdamW(Adam):
    """``torch.optim.AdamW``'s update: each parameter with a gradient first shrinks by ``lr *
    weight_decay``, then takes Adam's step (with no L2 term).  ``lr`` may be changed between steps."""

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay=0.0)
        self.decoupled_weight_decay = weight_decay

    def step(self) -> None:
        import torch

        if self.decoupled_weight_decay:
            with torch.no_grad():
                live = [p for p in self.params if p.grad is not None]
                if live:
                    torch._foreach_mul_(live, 1.0 - self.lr * self.decoupled_weight_decay)
        super().step()
