"""StyleGAN 2's building blocks in their CPU-friendly form (faceforge/models/stylegan.py puts them together).

- :class:`MappingNetwork`: z (pixel-normalised; y embedded and normalised beside it when conditional) through
  ``layers`` equalised linear layers with learning-rate multiplier 0.01 (Karras et al. 2019, appendix C) to w.
- :class:`ModulatedConv`: the *non-fused* modulated convolution of StyleGAN 2 (section 2.2): the activations are
  scaled by the per-sample style, convolved with the one shared weight, and the result scaled by the per-sample
  demodulation factor ``1 / sqrt(sum_{i,k} (w_oik s_i)^2)``. It is the same arithmetic as the fused form (one
  weight per sample as a grouped convolution) but runs one ordinary batched convolution, which oneDNN does far
  faster on a CPU than N small ones. Up-sampling is bilinear (``F.interpolate``) instead of the paper's FIR
  filter, applied after the modulation (a per-channel scale commutes with it) so the multiply runs at the lower
  resolution.
- :class:`Noise`: per-pixel noise with a learned per-layer strength (zero at start). Training draws it from the
  global RNG (the training loop saves and restores that RNG around a stopped step and checkpoints it, so a resume
  is bit-identical); sampling uses a constant persistent buffer, so one w gives one image.
- :class:`ToRGB`: a modulated 1x1 convolution without demodulation.
- :class:`ResidualBlock`: D's block, two 3x3 convolutions and a 1x1 skip, down-sampled by average pooling, the
  sum scaled by 1/sqrt(2).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from faceforge.models.conditioning import ConditionFade
from faceforge.models.layers import EqualizedConv2d, EqualizedLinear

NOISE_MODES = ("const", "random", "none")
SQRT2 = math.sqrt(2.0)


def act(x: torch.Tensor) -> torch.Tensor:
    """LeakyReLU(0.2) times sqrt(2): keeps unit variance through a layer (StyleGAN 2's ``lrelu`` gain)."""
    return F.leaky_relu(x, 0.2) * SQRT2


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


class MappingNetwork(nn.Module):
    """(z, y) -> w. The slow learning rate (0.01) keeps W from moving faster than the synthesis network follows."""

    def __init__(self, *, z_dim: int, n_attributes: int, w_dim: int, layers: int, lr_multiplier: float = 0.01,
                 y_like_z: bool = True):
        super().__init__()
        if layers < 1:
            raise ValueError(f"the mapping network needs at least one layer, not {layers}")
        self.n_attributes = n_attributes
        # y is embedded to w_dim features and normalised (as StyleGAN 2-ADA does); there z_dim = w_dim, so y and z
        # weigh the same in the input. Here z_dim may be smaller (100 against 256), so the normalised embedding is
        # scaled by sqrt(z_dim / w_dim) to z's weight (ModelConfig.y_like_z; runs stored before it had y weigh
        # w_dim / z_dim times z and keep that)
        self.embed = EqualizedLinear(n_attributes, w_dim, gain=1.0) if n_attributes else None
        self.y_gain = math.sqrt(z_dim / w_dim) if y_like_z else 1.0
        self.fade = ConditionFade() if n_attributes else None
        dims = [z_dim + (w_dim if n_attributes else 0)] + [w_dim] * layers
        self.layers = nn.ModuleList(EqualizedLinear(a, b, gain=1.0, lr_multiplier=lr_multiplier)
                                    for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = normalize_2nd_moment(z.float())
        if self.embed is not None:
            if y is None:
                raise ValueError("this conditional generator needs an attribute vector y")
            x = torch.cat([x, self.fade(normalize_2nd_moment(self.embed(y.to(x.dtype))) * self.y_gain)], dim=1)
        for layer in self.layers:
            x = act(layer(x))
        return x


class ModulatedConv(nn.Module):
    """A k x k modulated convolution (``demodulate=False`` and k = 1 is the ToRGB's), optionally up-sampling its
    input by 2 first (bilinear)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, w_dim: int,
                 demodulate: bool = True, up: bool = False):
        super().__init__()
        self.affine = EqualizedLinear(w_dim, in_channels, gain=1.0, bias_init=1.0)  # style s, starts near 1
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.demodulate = demodulate
        self.up = up

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """-> (convolution of the modulated input, per-sample demodulation factor (N, out) or None); the caller
        multiplies the factor in, fused with its bias and noise (one pass over the activations fewer)."""
        s = self.affine(w)  # (N, in)
        weight = self.weight * self.scale
        x = x * s.to(x.dtype)[:, :, None, None]
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = F.conv2d(x, weight.to(x.dtype), padding=self.padding)
        if not self.demodulate:
            return x, None
        # sum over (in, k, k) of (w_oik s_i)^2 = s^2 @ (sum_k w_oik^2)^T: an (N, in) x (in, out) product
        return x, torch.rsqrt(s.float().pow(2) @ weight.float().pow(2).sum(dim=(2, 3)).t() + 1e-8)


class Noise(nn.Module):
    """Per-pixel noise times a learned strength; ``mode`` is const (the persistent buffer), random or none.
    Returns the (N or 1, 1, H, W) map to add, times ``gain``, or None for none."""

    def __init__(self, resolution: int, *, active: bool = True):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("const", torch.randn(1, 1, resolution, resolution))
        self.active = active  # off (ModelConfig.noise_max_res): no noise in any mode; the state dict is the same

    def forward(self, x: torch.Tensor, mode: str, *, gain: float = 1.0) -> torch.Tensor | None:
        if mode == "none" or not self.active:
            return None
        if mode == "random":  # the global RNG: see the module docstring
            n, _, h, w = x.shape
            noise = torch.randn(n, 1, h, w, device=x.device, dtype=x.dtype)
        elif mode == "const":
            noise = self.const.to(x.dtype)
        else:
            raise ValueError(f"noise must be one of {', '.join(NOISE_MODES)}, not {mode!r}")
        return noise * (self.strength * gain).to(x.dtype)


class StyledLayer(nn.Module):
    """Modulated 3x3 convolution, noise, bias, activation: one of G's per-resolution layers, taking one style."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, resolution: int, up: bool = False,
                 noise: bool = True):
        super().__init__()
        self.conv = ModulatedConv(in_channels, out_channels, 3, w_dim=w_dim, up=up)
        self.noise = Noise(resolution, active=noise)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: str) -> torch.Tensor:
        x, d = self.conv(x, w)
        # act(x d + noise + bias) = leaky_relu(x (d sqrt2) + bias sqrt2 + noise sqrt2) (leaky ReLU is positively
        # homogeneous): three passes over the activations instead of five, which matters on a CPU
        bias = (self.bias * SQRT2).to(x.dtype)[None, :, None, None]
        x = torch.addcmul(bias, x, (d * SQRT2).to(x.dtype)[:, :, None, None])
        n = self.noise(x, noise, gain=SQRT2)
        if n is not None:
            x = x.add_(n)
        return F.leaky_relu(x, 0.2)


class ToRGB(nn.Module):
    def __init__(self, in_channels: int, *, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv(in_channels, 3, 1, w_dim=w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w)[0] + self.bias.to(x.dtype)[None, :, None, None]


class ResidualBlock(nn.Module):
    """D's block at resolution r: 3x3 conv at r, average pool, 3x3 conv at r/2 to the next width; skip: pool and
    a 1x1 conv. The second convolution runs after the pooling (StyleGAN 2 convolves with stride 2 after a blur),
    so it costs a quarter; the sum is scaled by 1/sqrt(2) to keep unit variance. The activation gain sqrt(2) and
    that 1/sqrt(2) live in the equalised weights' gains (leaky ReLU is positively homogeneous), which saves two
    passes over the activations."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3, padding=1, gain=SQRT2)
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3, padding=1, gain=1.0)  # sqrt(2) / sqrt(2)
        self.skip = EqualizedConv2d(in_channels, out_channels, 1, bias=False, gain=1.0 / SQRT2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool2d(F.leaky_relu(self.conv0(x), 0.2), 2)
        return F.leaky_relu(self.conv1(h), 0.2) + self.skip(F.avg_pool2d(x, 2))
