"""The IcGAN encoders' networks (see :mod:`faceforge.editing.encoders` for how they are trained and used)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


def _n_blocks(resolution: int) -> int:
    if resolution not in (32, 64, 128):
        raise ValueError(f"resolution must be 32, 64 or 128, not {resolution}")
    return int(math.log2(resolution)) - 2


class ConvEncoder(nn.Module):
    """image (N,3,R,R) in [-1,1] -> (N, out_dim): the DCGAN discriminator's conv stack (4x4 stride-2 convs,
    BatchNorm, LeakyReLU; widths c, 2c, 4c, ...) down to 4x4, then a small fully connected head."""

    def __init__(self, resolution: int, out_dim: int, channels: int = 64, hidden: int = 256):
        super().__init__()
        n = _n_blocks(resolution)
        widths = [channels * 2**i for i in range(n)]
        layers: list[nn.Module] = [nn.Conv2d(3, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(widths[-1] * 16, hidden), nn.LeakyReLU(0.2, True),
                                  nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass
class EncoderSpec:
    resolution: int
    z_dim: int
    n_attributes: int
    channels: int = 64
    hidden: int = 256
    y_loss: str = "bce"  # bce | mse: how E_y's output maps to y (bce: y = tanh(logit / 2))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def build_encoders(spec: EncoderSpec) -> tuple[ConvEncoder, ConvEncoder | None]:
    E_z = ConvEncoder(spec.resolution, spec.z_dim, spec.channels, spec.hidden)
    E_y = ConvEncoder(spec.resolution, spec.n_attributes, spec.channels, spec.hidden) if spec.n_attributes else None
    return E_z, E_y
