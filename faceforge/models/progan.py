"""ProGAN (Karras et al., "Progressive Growing of GANs", ICLR 2018) at 32, 64 and 128 px, unconditional or
conditional (y beside z in G, a projection term in D).

Training starts at 4x4 and doubles the resolution in phases of ``ModelConfig.phase_images`` images: 4x4 stable,
then for each doubling a fade-in (the new block's output blended in with alpha going linearly 0 -> 1 over the
images seen) and a stable stretch; the final resolution then stays for ever (:func:`stage_at`). Both networks hold
their stage (resolution, alpha) in persistent buffers, set by ``grow(images_seen)`` before every step: a
checkpoint, G_ema (whose buffers are copied from G) and a resume carry it, and nothing about the stage lives in
Python attributes a resume would not restore.

``G(z, y)`` always returns the final resolution (the current one nearest up-sampled), so sampling, the snapshot
grids (which show the growth as blocks), the Edit pane and the encoders need not know about stages; D takes any
size and average-pools it to the current resolution, as the papers make their low-resolution real images.

Widths. A 3x3 convolution at resolution r costs 9 multiply-adds per input channel per output pixel; DCGAN's 4x4
stride-2 transposed convolution costs 4, and it has no convolution at the final resolution. To train at about
DCGAN's price at equal images seen, the width at resolution r is ``min(8 ch, ch * R / (4 r))`` (half DCGAN's width
at the same resolution, ``ch`` = g_channels or d_channels) with one 3x3 convolution per block, and D's blocks
halve the resolution with a stride-2 convolution rather than the paper's convolve-then-pool (the cost of DCGAN's
stride-2 convolution, a quarter of the paper's order; ``_down_block`` says why not pool-then-convolve).
Measured on a shared 2-core Xeon (fp32, 2 threads, batch 64, 64 px, channels 64, full size, the
machine loaded so +-20%): a training step costs 0.9-1.0x DCGAN's with the same loss (wgan-gp for both), and
1.5-1.75x DCGAN's default bce step, the difference being WGAN-GP's gradient penalty (a second pass through D).
The 4..32 px phases cost far less.

Learning rate. The paper's 0.001 assumes millions of images: with weights stored N(0, 1) an Adam step moves a
weight by about lr, 0.1% of its size at 0.001 (DCGAN's 2e-4 on weights of scale 0.02 is 1%), so after the 100 steps
of a 4x4 phase the faces had not even their colours. At 32 px on the CelebA sample, 64,000 images, seed 0, SWD
x1e3 of G_ema: lr 0.001 gave 57-60, 0.003 gave 40.1 with wgan-gp and with rahinge (DCGAN: 29.2). Blending the reals
in a fade-in (``Discriminator.blend_reals``) is the paper's and kept, though it changed little here (59.5 with, 56.8
without, lr 0.001).

Phases. ``phase_images`` is 3,200 (it was 6,400): at 64 px a 64,000-image run then reaches the final resolution at
25,600 images instead of 51,200. CelebA 64 px, RaHinge, seeds 0 and 1, AMD EPYC Genoa: 36.8 and 34.7 against 37.7
and 41.1, the faces a little more often with eyes and mouths; at 32 px (WGAN-GP, the older pooled D) the two were
level, 26.6/27.3 against 27.6/27.6. With WGAN-GP at 64 px, seed 0: 36.9 (1,600 images: 37.9) against 49.4, yet
those faces stayed a plaid of blotches; the loss below is what made them faces. The app's 64 px preset sets its
own phases (60% of its 640,000 images; training/plans.py).

Loss. The default is RaHinge at lr 0.006 for both nets (MSG-GAN's), not the paper's WGAN-GP with its drift term at
0.003. CelebA, 64,000 images, seeds 0 and 1, AMD EPYC Genoa, SWD x1e3: 32 px 26.3 against 27.6; 64 px 37.7 and 41.1
against 49.4 and 54.4, and there the faces decide it: RaHinge's have eyes, mouths and hair where WGAN-GP's are a
plaid of blotches. Without a gradient penalty (a second pass through D) a step costs 0.62x (575 against 931 ms,
fp32, fully grown, run alone on that CPU: bench/results/model_step_cost_64px.md). Stored runs keep
their own loss; ``--loss wgan-gp`` (or WGAN-GP in the New-run dialog) brings the paper's lr 0.003, one D step and
drift 0.001 (the registry's ``other_losses``, training/plans.py ``apply_loss``).

Updates at low resolution. Growth needs updates, not images: trained at 4x4 alone G takes about 200 updates to
draw a face's layout, and a 64,000-image run gives each 4-16 px phase 50 steps of 64 images; its samples were colour
noise at 8 px and one pink blob at 16 px, faces formed only at 32 px, and at 64k images their coarse layout was what
was wrong (dark blotches; SWD's 16 px level the worst of any model). So at 16 px and below a step's batch is trained
as updates of ``ModelConfig.growth_batch`` (16) images (:func:`updates_per_step`): the same images, four times the
updates, for 3% more time over the run (those updates cost a few percent of a 64 px one). CelebA 64 px, 64,000
images, RaHinge, seeds 0 and 1, AMD EPYC Genoa, SWD x1e3 (the mean of the last three evaluations in brackets:
single ones swing by 10): 32.0 [36.0] and 31.5 [28.7] against 36.8 [42.9] and 34.7 [34.0], the 16 px level 33.7
and 36.5 against 52.8 and 57.2 (DCGAN 49.3 over both seeds); the faces have their layout from 32k images on, eyes,
mouths and hair, varied, with a fine speckle left. With it, D's 4x4 stride-2 kernel (39.8 [36.9]) and a second
convolution in G's finest block (31.8 [31.5], G's finest block at twice the cost) left the speckle as it was; the
eight variants measured before it are in bench/results/model_quality/HISTORY.md.
At 192,000 images (seed 0, beside DCGAN): 29.3 against 42.8 in 0.70x DCGAN's time, most faces whole, three or four
of sixteen still broken where DCGAN's are all whole (bench/results/model_quality_64px_3000steps.md).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from faceforge.config import ModelConfig
from faceforge.models.conditioning import Projection, require_y
from faceforge.models.layers import (EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm, downsample,
                                     upsample)

BASE = 4  # the first resolution trained
SPLIT_UPTO = 16  # the resolutions whose steps are taken as several updates (updates_per_step)


def resolutions(final: int) -> list[int]:
    """4, 8, ... up to the final resolution."""
    if final not in (32, 64, 128):
        raise ValueError(f"resolution must be 32, 64 or 128, not {final}")
    return [BASE * 2**i for i in range(int(math.log2(final // BASE)) + 1)]


def widths(channels: int, final: int, *, floor: float = 0.5) -> dict[int, int]:
    """Feature maps at each resolution: half DCGAN's at the same resolution, capped at 8 * channels (see the
    module docstring for why) and at least ``floor * channels`` (``ModelConfig.progan_width_floor``).

    The floor widens only the finest resolution (16 features instead of 8 at 32 px with 32 channels, 32 instead of
    16 at 64 px with 64): with 8 pixel-normalised features per pixel G's last block drew saturated colour specks
    that D's 1x1 ``from_rgb`` of 8 features hardly saw. CelebA 32 px, 64,000 images, seeds 0 and 1, SWD x1e3 (both
    with stride-2 D blocks; AMD EPYC Genoa): 27.6 and 27.6 with the floor, 37.2 and 26.0 without, the specks
    mostly gone from the faces; the cost is one block's width at the finest resolution."""
    return {r: max(1, int(floor * channels), min(8 * channels, channels * final // (4 * r)))
            for r in resolutions(final)}


def stage_at(images_seen: int, *, phase_images: int, final: int) -> tuple[int, float]:
    """(resolution, alpha) after ``images_seen`` images: phase 0 is 4x4 stable; phase 2k-1 fades in resolution
    4 * 2^k (alpha from 0 to 1 linearly in images), phase 2k holds it; from phase 2n on (n doublings) the final
    resolution is stable for ever. ``phase_images <= 0`` means no growing: the full network from the start."""
    doublings = len(resolutions(final)) - 1
    if phase_images <= 0:
        return final, 1.0
    phase, into = divmod(max(0, int(images_seen)), phase_images)
    if phase >= 2 * doublings:
        return final, 1.0
    res = BASE * 2 ** ((phase + 1) // 2)
    return res, (into / phase_images if phase % 2 else 1.0)


def updates_per_step(res: int, *, batch: int, growth_batch: int) -> int:
    """How many updates of D and G a step's batch is taken as at resolution ``res``: ``batch / growth_batch`` at
    16 px and below (``ModelConfig.growth_batch``), else one. The same images are seen either way; what the 4-16 px
    phases lack in a short run is updates (see the module docstring), and there an update costs a few percent of a
    64 px one, so four updates of 16 cost about what one of 64 does."""
    if growth_batch <= 0 or res > SPLIT_UPTO or batch <= growth_batch:
        return 1
    return batch // growth_batch


class _Progressive(nn.Module):
    """The stage, kept in buffers: ``grow`` sets it, ``stage`` reports it, ``updates_per_step`` follows it."""

    def _init_stage(self, config: ModelConfig) -> None:
        self.final = config.resolution
        self.phase_images = config.phase_images
        self.growth_batch = config.growth_batch
        self.register_buffer("stage_res", torch.tensor(BASE, dtype=torch.int64))
        self.register_buffer("stage_alpha", torch.tensor(1.0, dtype=torch.float32))

    @torch.no_grad()
    def grow(self, images_seen: int) -> None:
        res, alpha = stage_at(images_seen, phase_images=self.phase_images, final=self.final)
        self.stage_res.fill_(res)
        self.stage_alpha.fill_(alpha)

    def stage(self) -> dict[str, float]:
        return {"res": int(self.stage_res), "alpha": round(float(self.stage_alpha), 4)}

    def updates_per_step(self, batch: int) -> int:
        return updates_per_step(int(self.stage_res), batch=batch, growth_batch=self.growth_batch)

    def _current(self) -> tuple[int, float]:
        return int(self.stage_res), float(self.stage_alpha)


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)


class Generator(_Progressive):
    """G(z, y) -> image in [-1, 1], shape (N, 3, R, R) at the final resolution whatever the stage."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self._init_stage(config)
        self.z_dim = config.z_dim
        self.n_attributes = config.n_attributes
        w = widths(config.g_channels, config.resolution, floor=config.progan_width_floor)
        self.res = resolutions(config.resolution)
        self.norm = PixelNorm()
        # 4x4 block: the latent to 4x4 maps (the paper's dense layer, gain sqrt(2)/4), then a 3x3 convolution
        self.latent = EqualizedLinear(self.z_dim + self.n_attributes, w[BASE] * BASE * BASE, gain=math.sqrt(2) / 4)
        self.base = nn.Sequential(EqualizedConv2d(w[BASE], w[BASE], 3, padding=1), _act(), PixelNorm())
        self.blocks = nn.ModuleList(  # blocks[i] makes resolution res[i + 1] from res[i]
            nn.Sequential(EqualizedConv2d(w[a], w[b], 3, padding=1), _act(), PixelNorm())
            for a, b in zip(self.res[:-1], self.res[1:]))
        self.to_rgb = nn.ModuleList(EqualizedConv2d(w[r], 3, 1, gain=1.0) for r in self.res)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        res, alpha = self._current()
        x = self.norm(z)
        if self.n_attributes:
            x = torch.cat([x, require_y(y, x, "generator")], dim=1)
        h = self.norm(nn.functional.leaky_relu(self.latent(x), 0.2).view(z.shape[0], -1, BASE, BASE))
        h = self.base(h)
        last = self.res.index(res)
        prev = h
        for i in range(last):
            prev = h
            h = self.blocks[i](upsample(h, self.res[i + 1]))
        rgb = self.to_rgb[last](h)
        if alpha < 1.0 and last > 0:  # fade-in: the previous stage's image, enlarged, gives way to the new block's
            rgb = torch.lerp(upsample(self.to_rgb[last - 1](prev), res), rgb, alpha)
        return torch.tanh(upsample(rgb, self.final))


def _down_block(c_in: int, c_out: int, *, how: str) -> nn.Sequential:
    """One of D's blocks, halving the resolution (``ModelConfig.d_downsample``). "stride": a 3x3 convolution of
    stride 2 reads every pixel of its input, at the price of pooling first (it is evaluated at the output's pixels
    only). "pool": the input averaged over 2x2 first, so D saw G's newest resolution only as 2x2 means of a 1x1
    ``from_rgb``'s features, blind to what G drew inside them: its faces kept a 2x2 grid and colour speckle there.
    The convolution is element 1 either way, so both keep one state-dict layout."""
    if how == "stride":
        return nn.Sequential(nn.Identity(), EqualizedConv2d(c_in, c_out, 3, padding=1, stride=2), _act())
    if how == "pool":
        return nn.Sequential(nn.AvgPool2d(2), EqualizedConv2d(c_in, c_out, 3, padding=1), _act())
    raise ValueError(f"d_downsample must be stride or pool, not {how!r}")


class Discriminator(_Progressive):
    """D(x, y) -> one critic score per image, shape (N,); x of any size, pooled to the current resolution."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self._init_stage(config)
        self.n_attributes = config.n_attributes
        w = widths(config.d_channels, config.resolution, floor=config.progan_width_floor)
        self.res = resolutions(config.resolution)
        self.from_rgb = nn.ModuleList(nn.Sequential(EqualizedConv2d(3, w[r], 1), _act()) for r in self.res)
        self.blocks = nn.ModuleList(  # blocks[i] takes resolution res[i + 1] down to res[i]
            _down_block(w[b], w[a], how=config.d_downsample) for a, b in zip(self.res[:-1], self.res[1:]))
        c = w[BASE]
        self.head = nn.Sequential(MinibatchStdDev(config.mbstd_group), EqualizedConv2d(c + 1, c, 3, padding=1),
                                  _act(), EqualizedConv2d(c, c, BASE), _act())
        self.out = EqualizedLinear(c, 1, gain=1.0)
        self.projection = Projection(self.n_attributes, c) if self.n_attributes else None

    def blend_reals(self, x: torch.Tensor) -> torch.Tensor:
        """The real batch as D should see it at this stage: during a fade-in G's image is the previous resolution's
        enlarged, giving way to the new one with alpha, so the reals are blended the same way (the paper's
        ``process_reals``); without it a fading-in G is told apart by its blur alone and the critic runs away at
        every new resolution. Returned at the input's size (the gradient penalty mixes it with G's images)."""
        res, alpha = self._current()
        if alpha >= 1.0 or res == BASE:
            return x
        low = upsample(downsample(x, res // 2), res)
        return upsample(torch.lerp(low, downsample(x, res), alpha), x.shape[-1])

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        res, alpha = self._current()
        first = self.res.index(res)
        h = self.from_rgb[first](downsample(x, res))
        if first > 0:
            h = self.blocks[first - 1](h)
            if alpha < 1.0:  # fade-in: the new block's features blend in over the pooled image's
                h = torch.lerp(self.from_rgb[first - 1](downsample(x, res // 2)), h, alpha)
        for i in range(first - 2, -1, -1):
            h = self.blocks[i](h)
        h = self.head(h)  # (N, C, 1, 1)
        out = self.out(h.flatten(1)).flatten()
        if self.projection is not None:
            out = out + self.projection(h, require_y(y, h, "discriminator"))
        return out
