"""DCGAN and conditional DCGAN at 32, 64 and 128 px.

The architecture is the PyTorch DCGAN example's (transposed convs 4x4/2, BatchNorm, ReLU in G, LeakyReLU in D),
with the number of up/down blocks set by the resolution. The conditional variant follows the IcGAN paper's best
placement: y is concatenated with z at G's input and as constant feature maps at D's *first* layer. y is a float
vector, so continuous attribute values (sliders at -2..+2) work the same as the training labels.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from faceforge.config import ModelConfig


def _n_blocks(resolution: int) -> int:
    if resolution not in (32, 64, 128):
        raise ValueError(f"resolution must be 32, 64 or 128, not {resolution}")
    return int(math.log2(resolution)) - 2  # 4x4 base: 32 -> 3 blocks, 64 -> 4, 128 -> 5


def weights_init(module: nn.Module) -> None:
    """The DCGAN paper's N(0, 0.02) initialisation."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
        if module.weight is not None:
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """G(z, y) -> image in [-1, 1], shape (N, 3, R, R)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.z_dim = config.z_dim
        self.n_attributes = config.n_attributes if config.name == "cdcgan" else 0
        n = _n_blocks(config.resolution)
        ngf = config.g_channels
        widths = [ngf * 2 ** (n - 1 - i) for i in range(n)]  # e.g. 64px: 512, 256, 128, 64
        in_dim = self.z_dim + self.n_attributes
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(in_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.apply(weights_init)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_attributes:
            if y is None:
                raise ValueError("this conditional generator needs an attribute vector y")
            z = torch.cat([z, y.to(z.dtype)], dim=1)
        return self.main(z[:, :, None, None])


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # GroupNorm(1) = layer norm over C,H,W; safe with a gradient penalty (no batch coupling)
        return nn.GroupNorm(1, channels)
    return nn.Identity()


class Discriminator(nn.Module):
    """D(x, y) -> one logit (or critic value) per image, shape (N,)."""

    def __init__(self, config: ModelConfig, norm: str = "batch"):
        super().__init__()
        self.config = config
        self.n_attributes = config.n_attributes if config.name == "cdcgan" else 0
        n = _n_blocks(config.resolution)
        ndf = config.d_channels
        widths = [ndf * 2**i for i in range(n)]  # 64px: 64, 128, 256, 512
        self.first = nn.Conv2d(3 + self.n_attributes, widths[0], 4, 2, 1, bias=False)
        layers: list[nn.Module] = [nn.LeakyReLU(0.2, True)]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), _norm(norm, b), nn.LeakyReLU(0.2, True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)
        self.apply(weights_init)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_attributes:
            if y is None:
                raise ValueError("this conditional discriminator needs an attribute vector y")
            maps = y.to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            x = torch.cat([x, maps], dim=1)
        return self.body(self.first(x))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, y)).flatten()
