"""The layers ProGAN, MSG-GAN and StyleGAN share: equalised learning rate, pixel norm, minibatch standard deviation.

Equalised learning rate (Karras et al. 2018, section 4.1): weights are stored as N(0, 1) and multiplied by the He
constant sqrt(2 / fan_in) on every forward pass, instead of being initialised at that scale. Adam normalises each
parameter's update by its own gradient scale, so with the constant outside the parameter every layer learns at the
same speed whatever its fan-in; without it the papers' learning rates of 0.001-0.003 diverge. The scaling is one
multiply of the weight tensor (not of the activations), so the layer runs the same convolution or matmul kernel as
a plain one (bench/equalized_layer.py measures it).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class EqualizedConv2d(nn.Module):
    """A convolution whose weights are N(0, 1) scaled by gain / sqrt(fan_in) at run time; bias starts at zero."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, padding: int = 0,
                 stride: int = 1, bias: bool = True, gain: float = math.sqrt(2.0)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = padding
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding, stride=self.stride)

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return (f"{i}, {o}, kernel_size={k}, padding={self.padding}, stride={self.stride}, "
                f"bias={self.bias is not None}")


class EqualizedLinear(nn.Module):
    """A linear layer with equalised learning rate; ``lr_multiplier`` slows it further (StyleGAN's mapping network
    uses 0.01): weights are stored divided by it, and both the weight and the bias are multiplied back at run time."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, gain: float = math.sqrt(2.0),
                 lr_multiplier: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_multiplier)) if bias else None
        self.scale = gain / math.sqrt(in_features) * lr_multiplier
        self.lr_multiplier = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_multiplier if self.bias is not None else None
        if x.numel() < self.weight.numel():  # scale the smaller tensor: (x c) W^T = c (x W^T), one pass fewer
            return F.linear(x * self.scale, self.weight, bias)
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        o, i = self.weight.shape
        return f"{i}, {o}, bias={self.bias is not None}, lr_multiplier={self.lr_multiplier:g}"


class PixelNorm(nn.Module):
    """Each pixel's feature vector scaled to unit mean square (ProGAN's replacement for BatchNorm in G): no
    coupling between the samples of a batch, and no escalation of magnitudes between G and D."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)


class MinibatchStdDev(nn.Module):
    """Appends the average standard deviation over groups of ``group_size`` samples as extra feature maps, so D can
    see a batch's lack of variety (ProGAN section 3) and G is pushed away from mode collapse.

    The batch is split into groups of ``group_size`` consecutive samples (all of it when smaller or not divisible);
    each sample only ever sees its own group of consecutive samples, which is what lets multi-process training
    keep one rank's slice to itself when the group size divides the per-rank batch.
    """

    def __init__(self, group_size: int = 4, num_features: int = 1):
        super().__init__()
        self.group_size = group_size
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size > 0 else n
        if n % g:
            g = n
        f = self.num_features
        # groups of consecutive samples ([0, g), [g, 2g), ...), so a rank's slice of a global batch keeps its own
        y = x.float().reshape(n // g, g, f, c // f, h, w)
        y = y - y.mean(dim=1, keepdim=True)
        y = (y.pow(2).mean(dim=1) + 1e-8).sqrt()  # (n/g, f, c/f, h, w)
        y = y.mean(dim=(2, 3, 4))  # (n/g, f)
        y = y.repeat_interleave(g, dim=0).reshape(n, f, 1, 1).expand(n, f, h, w).to(x.dtype)
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_features={self.num_features}"


def downsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Average pooling to ``size`` x ``size`` (how the papers make the lower-resolution real images)."""
    if x.shape[-1] == size:
        return x
    return F.adaptive_avg_pool2d(x, size) if x.shape[-1] % size else F.avg_pool2d(x, x.shape[-1] // size)


def upsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Nearest-neighbour up-sampling to ``size`` x ``size`` (ProGAN's and MSG-GAN's; a 2x nearest up-sample is
    also what makes a low-resolution sample grid show its blocks when scaled to the final size)."""
    if x.shape[-1] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="nearest")


def upsample2x(x: torch.Tensor, mode: str) -> torch.Tensor:
    """2x up-sampling for MSG-GAN's G blocks, "nearest" or "bilinear" (ModelConfig.msg_upsample; models/msggan.py
    says why nearest). ProGAN keeps nearest too: with bilinear its 32 px faces dissolved into blobs (SWD 45.9 and
    46.4 against 40.1 and 40.1 with nearest, wgan-gp and rahinge, 64,000 CelebA images, seed 0)."""
    if mode == "nearest":
        return upsample(x, 2 * x.shape[-1])
    if mode == "bilinear":
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    raise ValueError(f"up-sampling must be nearest or bilinear, not {mode!r}")
