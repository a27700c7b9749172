"""DCGAN and conditional DCGAN at 32, 64 and 128 px.

The architecture is the PyTorch DCGAN example's (transposed convs 4x4/2, BatchNorm, ReLU in G, LeakyReLU in D),
with the number of up/down blocks set by the resolution. Where the conditional variant feeds its attribute vector
y is ``ModelConfig.conditioning`` (faceforge/models/conditioning.py): by default IcGAN's best placement, y
concatenated with z at G's input and as constant feature maps at D's *first* layer. y is a float vector, so
continuous attribute values (sliders at -2..+2) work the same as the training labels.

With ``conditioning="input"`` the parameters and their names are exactly those of every run trained before the
choice existed, so their checkpoints load unchanged.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from faceforge.config import ModelConfig
from faceforge.models.conditioning import (ConditionalBatchNorm2d, Projection, check_conditioning,
                                           discriminator_kind, generator_input_takes_y, require_y)


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
    elif isinstance(module, ConditionalBatchNorm2d):  # visited after its Linear children: back to identity in y
        module.reset_parameters()


def _conditioning(config: ModelConfig, n_attributes: int) -> str:
    """The placement of y; "none" for an unconditional model, whatever the config says."""
    if not n_attributes:
        return "none"
    check_conditioning(config.conditioning)
    return config.conditioning


class Generator(nn.Module):
    """G(z, y) -> image in [-1, 1], shape (N, 3, R, R)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.z_dim = config.z_dim
        self.n_attributes = config.n_attributes if config.name == "cdcgan" else 0
        self.conditioning = _conditioning(config, self.n_attributes)
        cbn = self.conditioning == "cbn"
        n = _n_blocks(config.resolution)
        ngf = config.g_channels
        widths = [ngf * 2 ** (n - 1 - i) for i in range(n)]  # e.g. 64px: 512, 256, 128, 64

        def norm(channels: int) -> nn.Module:
            return ConditionalBatchNorm2d(channels, self.n_attributes) if cbn else nn.BatchNorm2d(channels)

        self.y_at_input = bool(self.n_attributes) and generator_input_takes_y(self.conditioning)
        in_dim = self.z_dim + (self.n_attributes if self.y_at_input else 0)
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim, widths[0], 4, 1, 0, bias=False), norm(widths[0]),
                                   nn.ReLU(True)]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), norm(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.apply(weights_init)

    def latent_weights(self) -> list[torch.Tensor]:
        """The first layer's map from z, (channels * 16, z_dim) (y's rows left out): the matrix SeFa
        (faceforge/directions/sefa.py) takes eigenvectors of."""
        first = self.main[0].weight[: self.z_dim]  # (in, C, 4, 4) for a transposed convolution
        return [first.reshape(self.z_dim, -1).t().detach()]

    def early_layer(self) -> nn.Module:
        """The first block's output (after its normalisation and ReLU): the activation GANSpace
        (faceforge/directions/ganspace.py) takes principal components of for a model without W."""
        return self.main[2]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_attributes:
            y = require_y(y, z, "generator")
            if self.y_at_input:
                z = torch.cat([z, y], dim=1)
        x = z[:, :, None, None]
        for layer in self.main:  # a plain loop: conditional BatchNorm layers take y as well
            x = layer(x, y) if isinstance(layer, ConditionalBatchNorm2d) else layer(x)
        return x


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # GroupNorm(1) = layer norm over C,H,W; safe with a gradient penalty (no batch coupling)
        return nn.GroupNorm(1, channels)
    return nn.Identity()


class Discriminator(nn.Module):
    """D(x, y) -> one logit (or critic value) per image, shape (N,).

    ``D(x, y, with_aux=True)`` returns ``(logit, aux)``: ``aux`` is D's prediction of y, (N, A) raw scores, for
    the auxiliary-classifier placement (``predicts_y``), and None for the others. The training loop asks for it
    through faceforge/training/conditioning_loss.py.
    """

    def __init__(self, config: ModelConfig, norm: str = "batch"):
        super().__init__()
        self.config = config
        self.n_attributes = config.n_attributes if config.name == "cdcgan" else 0
        self.conditioning = _conditioning(config, self.n_attributes)
        kind = discriminator_kind(self.conditioning)
        self.y_maps = kind == "input"
        self.predicts_y = kind == "acgan"
        n = _n_blocks(config.resolution)
        ndf = config.d_channels
        widths = [ndf * 2**i for i in range(n)]  # 64px: 64, 128, 256, 512
        self.first = nn.Conv2d(3 + (self.n_attributes if self.y_maps else 0), widths[0], 4, 2, 1, bias=False)
        layers: list[nn.Module] = [nn.LeakyReLU(0.2, True)]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), _norm(norm, b), nn.LeakyReLU(0.2, True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)
        self.projection = Projection(self.n_attributes, widths[-1]) if kind == "projection" else None
        self.aux_head = nn.Conv2d(widths[-1], self.n_attributes, 4, 1, 0) if self.predicts_y else None
        self.apply(weights_init)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.y_maps:
            maps = require_y(y, x, "discriminator")[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            x = torch.cat([x, maps], dim=1)
        return self.body(self.first(x))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, *, with_aux: bool = False):
        h = self.features(x, y)
        out = self.head(h).flatten()
        if self.projection is not None:
            out = out + self.projection(h, require_y(y, h, "discriminator"))
        if not with_aux:
            return out
        return out, (self.aux_head(h).flatten(1) if self.aux_head is not None else None)
