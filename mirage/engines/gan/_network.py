"""The generator and the PacGAN critic, as in CTGAN."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Critic", "Generator", "gradient_penalty"]


class _Residual(nn.Module):
    """Linear, batch norm and ReLU, its output concatenated to its input."""

    def __init__(self, width_in: int, width_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width_in, width_out)
        self.bn = nn.BatchNorm1d(width_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """Noise and a conditional vector in, one logit per entry of the row vector out."""

    def __init__(self, width_in: int, hidden: tuple[int, ...], width_out: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = width_in
        for h in hidden:
            layers.append(_Residual(width, h))
            width += h
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(width, width_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.out(self.body(x))
        return out


class Critic(nn.Module):
    """Scores packs of ``pac`` rows together (PacGAN), so that a collapsed generator is seen as one."""

    def __init__(self, width_in: int, hidden: tuple[int, ...], pac: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.pac = pac
        layers: list[nn.Module] = []
        width = width_in * pac
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.body = nn.Sequential(*layers)
        self.width_in = width_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x.reshape(-1, self.pac * self.width_in))
        return out


def gradient_penalty(
    critic: Critic, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0
) -> torch.Tensor:
    """WGAN-GP: the critic's gradient norm pulled to 1 on points between real and generated packs."""
    pac, width = critic.pac, real.shape[1]
    alpha = torch.rand(real.shape[0] // pac, 1, 1).repeat(1, pac, width).reshape(-1, width)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(mixed)
    (gradients,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = gradients.reshape(-1, pac * width).norm(2, dim=1)
    penalty: torch.Tensor = ((norms - 1) ** 2).mean() * weight
    return penalty
