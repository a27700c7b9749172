"""MSG-GAN (Karnewar & Wang, CVPR 2020): multi-scale gradients instead of progressive growing.

G emits an RGB image at every resolution from 4 px up to R (a 1x1 "ToRGB" on each block's features) and D reads
each of them at the depth of the same resolution, so D's gradient reaches every block of G directly from the first
step: all scales train at once, with no fade-in schedule. ``G(z, y)`` returns the final image only (sampling and
editing call it that way); ``G(z, y, scales=True)`` returns the whole list, which the training loop gives to D
together with the real batch pooled to the same sizes. ``D(x, y)`` with one image pools it down itself.

The blocks are the paper's ProGAN-style ones: equalised learning rate, 2x up-sampling and 3x3 convolutions,
LeakyReLU(0.2) and pixel norm in G, minibatch standard deviation at D's 4x4 end; no BatchNorm, so no sample of a
batch sees another except through the minibatch stddev group. D combines each lower-resolution image with its
features as ``config.msg_combine`` says: "simple" concatenates the 3 RGB channels (the paper's phi_simple),
"lincat" concatenates a 1x1 convolution of the image (phi_lincat). When conditional, y goes beside the
pixel-normalised z in G, and D adds the projection term <W y, pooled features> to its logit.

G up-samples with nearest neighbours, as the paper does (``config.msg_upsample``). Runs made before that option
existed up-sampled bilinearly, chosen because nearest left a block texture in 64 px faces; that was the wrong
trade. With one 3x3 convolution per block a bilinear map is smooth, and the sharpening each block must learn to
draw edges on it rings (our reading of what the grids show): at 64 px by 13,000 CelebA images every face was a
ring around a dark blob, and at 64,000 one template of swirls and dark eye holes lay over every face (SWD 46.5,
and 36.5 in an earlier session, seed 0). With nearest the faces are varied and face-like from the first
snapshots and the score is better (64 px: 26.5 and 28.6, seeds 0 and 1), with a faint block texture left.
Measured and not kept: a weaker low-pass (the mean of nearest and bilinear) 31.9 with faces more alike; nearest
with a second convolution in the last two blocks 28.6, smoother but with a hint of a shared template again; a
learned 4x4 transposed convolution (DCGAN's) collapsed to one face by 19,000 images (stopped there). A run's own
stored config without the field keeps bilinear (config.ModelConfig.ABSENT_MEANS), so its pixels do not change.

Learning rate. 0.006 for both nets, twice the paper's 0.003: with weights stored N(0, 1) an Adam step of lr moves
a weight by about lr of its size, so at 0.003 G learned too slowly for a run of 64,000 images (DCGAN's 2e-4 on
weights of about 0.02 moves them by 1%). 32 px CelebA, 64,000 images, SWD x1e3 of G_ema, seed 0 unless said:
0.003 47.5; G alone at 0.005 37.5, at 0.008 31.7; both at 0.006 28.2 (seed 1: 27.2), both at 0.01 32.5; D alone
slower (0.0015) 47.2; twice G's width at 0.003 40.3 (D's 48.6); DCGAN 33.7 and 32.1. The faces at 0.006 are as
varied as DCGAN's, where at 0.003 they were dark and alike.

Widths are set by cost, not copied from the paper: the model is compared with DCGAN at equal images seen on a
2-core CPU. The width at resolution r is ``min(8 ch, ch * R / (4 r))`` (half DCGAN's at each resolution; 256, 128,
64, 32, 16 at 64 px with the default 64, as ProGAN here) with one 3x3 convolution per block, and D pools *before*
each block's convolution (as progan.py does), so its convolutions run at the lower resolution; the paper's
convolve-then-pool made D four times dearer here. Measured in one process (64 px, batch 64, fp32, 2 threads,
Trainer.train_step, best of 2, "Intel(R) Xeon(R) Processor" with AMX, other work paused): DCGAN bce 1,291 ms;
MSG-GAN rahinge 1,035 ms (0.80x), hinge 956 ms (0.74x), wgan-gp 1,485 ms (1.15x); ProGAN wgan-gp at full size
1,345 ms (1.04x).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from faceforge.config import ModelConfig
from faceforge.models.conditioning import Projection, require_y
from faceforge.models.layers import (EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm, downsample,
                                     upsample2x)

WIDTH_DIVISOR = 4  # width at resolution r is channels / WIDTH_DIVISOR * R / r (see the module docstring)
WIDTH_CAP = 8  # ... and at most WIDTH_CAP * channels


def resolutions(resolution: int) -> list[int]:
    """The scales G emits and D reads, smallest first: 4, 8, ..., resolution."""
    if resolution not in (32, 64, 128):
        raise ValueError(f"resolution must be 32, 64 or 128, not {resolution}")
    return [2 ** k for k in range(2, int(math.log2(resolution)) + 1)]


def width(channels: int, *, res: int, resolution: int) -> int:
    """Feature maps at ``res`` px: doubling per halving of the resolution, so every block costs about the same."""
    return max(2, min(WIDTH_CAP * channels, channels * resolution // (WIDTH_DIVISOR * res)))


def _act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class Generator(nn.Module):
    """G(z, y) -> image in [-1, 1], shape (N, 3, R, R); ``scales=True`` -> the list of images at 4, 8, ..., R px."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.z_dim = config.z_dim
        self.n_attributes = config.n_attributes
        self.sizes = resolutions(config.resolution)
        w = [width(config.g_channels, res=r, resolution=config.resolution) for r in self.sizes]
        self.norm = PixelNorm()
        # the latent to 4x4 maps: ProGAN's "4x4 transposed conv" is this linear layer (gain sqrt(2)/4 as theirs)
        self.latent = EqualizedLinear(self.z_dim + self.n_attributes, w[0] * 16, gain=math.sqrt(2.0) / 4)
        self.base = EqualizedConv2d(w[0], w[0], 3, padding=1)
        self.blocks = nn.ModuleList(EqualizedConv2d(a, b, 3, padding=1) for a, b in zip(w[:-1], w[1:]))
        self.to_rgb = nn.ModuleList(EqualizedConv2d(c, 3, 1, gain=1.0) for c in w)
        self.upsample = config.msg_upsample

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, *, scales: bool = False):
        x = self.norm(z)
        if self.n_attributes:
            x = torch.cat([x, require_y(y, x, "generator")], dim=1)
        h = self.norm(_act(self.latent(x).view(x.shape[0], -1, 4, 4)))
        h = self.norm(_act(self.base(h)))
        if not scales:  # sampling: the final image only, so the ToRGB of the lower scales is skipped
            for block in self.blocks:
                h = self.norm(_act(block(upsample2x(h, self.upsample))))
            return torch.tanh(self.to_rgb[-1](h))
        images = [torch.tanh(self.to_rgb[0](h))]
        for block, rgb in zip(self.blocks, self.to_rgb[1:]):
            h = self.norm(_act(block(upsample2x(h, self.upsample))))
            images.append(torch.tanh(rgb(h)))
        return images


class Discriminator(nn.Module):
    """D(x, y) -> one logit (or critic value) per image, shape (N,). ``x`` is the list G(z, y, scales=True) gives
    (4 px up to R) or one (N, 3, R, R) image, pooled here to every scale."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.msg_combine not in ("simple", "lincat"):
            raise ValueError(f"msg_combine must be simple or lincat, not {config.msg_combine!r}")
        self.config = config
        self.n_attributes = config.n_attributes
        self.sizes = resolutions(config.resolution)
        w = [width(config.d_channels, res=r, resolution=config.resolution) for r in self.sizes]
        self.lincat = config.msg_combine == "lincat"
        # what each lower scale's image adds to the features there: its 3 channels, or a 1x1 conv of it (half the
        # features' width, as the paper's code does)
        extra = [max(3, c // 2) if self.lincat else 3 for c in w]
        self.from_rgb = EqualizedConv2d(3, w[-1], 1)
        self.combine = nn.ModuleList(EqualizedConv2d(3, e, 1) for e in extra[:-1]) if self.lincat else None
        # from the highest resolution down: a block at resolution r turns its features into r/2's width, pooled
        ins = [w[-1]] + [c + e for c, e in zip(w[1:-1][::-1], extra[1:-1][::-1])]
        self.blocks = nn.ModuleList(EqualizedConv2d(a, b, 3, padding=1) for a, b in zip(ins, w[:-1][::-1]))
        self.mbstd = MinibatchStdDev(group_size=config.mbstd_group)
        self.final_conv = EqualizedConv2d(w[0] + extra[0] + 1, w[0], 3, padding=1)
        self.final_4x4 = EqualizedConv2d(w[0], w[0], 4)
        self.head = EqualizedLinear(w[0], 1, gain=1.0)
        self.projection = Projection(self.n_attributes, w[0]) if self.n_attributes else None

    def pyramid(self, x: torch.Tensor | list[torch.Tensor]) -> list[torch.Tensor]:
        if isinstance(x, (list, tuple)):
            if [t.shape[-1] for t in x] != self.sizes:
                raise ValueError(f"D expects images at {self.sizes} px, got {[t.shape[-1] for t in x]}")
            return list(x)
        return [downsample(x, r) for r in self.sizes]

    def _combine(self, h: torch.Tensor, image: torch.Tensor, index: int) -> torch.Tensor:
        image = image.to(h.dtype)
        return torch.cat([h, _act(self.combine[index](image)) if self.lincat else image], dim=1)

    def features(self, x: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        """D's last features, (N, C, 1, 1), from every scale of the image."""
        images = self.pyramid(x)
        h = _act(self.from_rgb(images[-1]))
        for block, index in zip(self.blocks, range(len(self.sizes) - 2, -1, -1)):
            h = _act(block(F.avg_pool2d(h, 2)))  # pooled first: the 3x3 conv runs at the lower resolution
            h = self._combine(h, images[index], index)
        h = _act(self.final_conv(self.mbstd(h)))
        return _act(self.final_4x4(h))

    def forward(self, x: torch.Tensor | list[torch.Tensor], y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        out = self.head(h.flatten(1)).flatten()
        if self.projection is not None:
            out = out + self.projection(h, require_y(y, h, "discriminator"))
        return out
