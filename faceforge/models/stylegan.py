"""StyleGAN 2 (Karras et al., "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020) at 32, 64 and
128 px, unconditional or conditional, in a form sized for a CPU (the blocks: faceforge/models/stylegan_layers.py).

G. z is normalised and mapped (``config.mapping_layers`` layers, 2 by default on a CPU, 8 in the paper) to w; a
learned 4x4 constant is then shaped by two modulated/demodulated 3x3 convolutions per resolution (one at 4x4),
each followed by per-pixel noise of learned strength, with a ToRGB at every resolution added to the bilinearly
up-sampled RGB of the one before (the "skip" generator). Styles: one w per modulated layer, the ToRGBs sharing
as StyleGAN 2 does - a resolution's ToRGB takes the same index as the next resolution's first convolution, so
``num_ws = 2 * log2(R) - 2`` (8, 10, 12 at 32, 64, 128 px): index 0 is the 4x4 convolution, then for the block at
4 * 2^i the convolutions take 2i - 1 and 2i, its ToRGB 2i + 1.

w_avg. A persistent buffer, the running mean of w over training batches (lerp with beta 0.995 at every training
forward, as StyleGAN 2), so checkpoints and G_ema (whose buffers are copied from G) carry it. Truncation
``w_avg + psi (w - w_avg)`` pulls a face towards the average one; psi 0 gives w_avg itself, the same face for
every z. Conditional runs: w_avg is one vector over the data's mix of y (it is tracked with the batches' own y),
so truncation pulls y's effect towards the data's average too: at psi 0 every y gives the same face, and a small
psi weakens the attributes along with the identity. A per-y average (the mean w of many z at this y, as later
work does for class-conditional truncation) keeps y while pulling the identity in; it costs a mapping pass over
a few thousand z per y at sampling time, which the editing layer can do, so the model keeps the simple one.
A conditional run starts unconditional: the embedded y and D's projection term are scaled by a strength that
grows from 0 to 1 over ``ModelConfig.condition_fade`` images (``grow``, called by the training loop); conditioned
from the first step it collapsed to a few faces per label (models/conditioning.ConditionFade says more). The
embedded y weighs as much as z in the mapping network's input (``ModelConfig.y_like_z``): before, with z_dim 100
and w_dim 256, y weighed 2.6 times z, and with Smiling and Male at 32 px (noise up to 16 px, 64k images) the runs
ended at SWD 38.8 and 40.6 against 30.1 and 35.4 balanced. The labels' hold (a judge classifier's on - off) is
erratic between runs either way (unbalanced: Smiling +0.51, Male +0.76 in seed 0 and nothing in seed 1; balanced:
+0.18/+0.78 and +0.06/+0.52 in two runs of seed 0, +0.01/+0.13 in seed 1), Smiling weaker when balanced; on a
W model the fitted directions (faceforge/directions) are the stronger way to edit an attribute.

Noise. New runs add per-pixel noise only in the layers up to 16 px (``ModelConfig.noise_max_res``; 0 is every
layer, the paper's, and what runs stored before the field keep). Noise in the 32 and 64 px layers left a
high-frequency speckle over every face at 64,000 CelebA images; without it the faces are smooth, varied in hair
and colour (bench/results/stylegan_noise_64px.png). SWD x1e3 at 64k images, seeds 0 and 1, every layer against up
to 16 px: 64 px 45.7 and 50.6 against 46.6 and 45.5; 32 px 26.8 and 41.0 against 31.9 and 38.8 (seed 0 cost
score twice, 28.1 against 33.9 in an earlier session; seed 1 gained), so at 32 px the score is a draw within the
seeds' spread and the faces, without speckle, decide.

Learning rate (the registry's default, 0.005 for both nets). The paper's 0.0025 assumes millions of images: with
weights stored N(0, 1) an Adam step moves each by about lr of its size. CelebA, 64,000 images, SWD x1e3 of G_ema,
seeds 0 and 1 (AMD EPYC Genoa): 32 px 25.5 and 30.5 against 30.9 and 37.4 at 0.0025 (mottled faces at 0.0025 in
seed 0), conditional 24.0 and 30.6; 64 px 29.3 and 34.8 against 46.8 (seed 0), faces sharp and
varied, many with warped eyes or mouths. 0.008 at 64 px: 53.1 (seed 0), blurrier.

R1 (the registry's default, ``r1_gamma`` -4: four times StyleGAN 2's heuristic 0.0002 res^2 / batch, 0.05 at 64 px
and batch 64). At the heuristic one conditional 64 px run (seed 1) collapsed to red blobs by 6,400 images, before
its labels fade in, and recovered only to blurred faces with its labels lost (SWD x1e3 72.3; labels' control
-0.09, +0.03); at four times it trained through (44.8, Smiling +0.97, Male +0.43; cdcgan beside it 55.3), and the
unconditional 64 px runs gained too, their faces less warped: 28.6 and 29.6 against 29.3 and 34.8 (CelebA, 64,000
images, seeds 0 and 1, AMD EPYC Genoa). At 32 px it cost a little: 29.1 against 28.0, conditional 28.2 against
27.3, its labels' hold weaker (Smiling +0.44/+0.70, Male +0.56/+0.12 against +0.66/+0.75, +0.63/+0.60); a weight
that depends on the resolution otherwise than res^2 was not tried. Stored runs keep their own -1.

Training-time randomness (style mixing, per-pixel noise) comes from the global torch RNG, which the training loop
checkpoints and restores around an abandoned step. In eval mode G uses the constant noise buffers and never
mixes, so one (z, y) - or one w - gives one image.

D. Residual blocks (faceforge/models/stylegan_layers.py), minibatch standard deviation, a 3x3 convolution, then
two linear layers to one logit; when conditional, a projection term on the last features. No BatchNorm.

Widths. The width at resolution r is ``min(8 ch, ch * R / (4 r))`` with ``ch`` = g_channels or d_channels: half
DCGAN's at each resolution, as ProGAN and MSG-GAN here (256, 128, 64, 32, 16 at 64 px with the default 64).
Measured (Trainer.train_step, 64 px, batch 64, bce, best of 2 after a warm-up, "Intel(R) Xeon(R) Processor",
one thread, with a long benchmark holding the other core): fp32 DCGAN 2,770 ms, StyleGAN 3,344 ms (1.21x, 19 img/s;
1.29-1.32x in two other runs); with the precision the machine chose (bf16, channels-last for both) DCGAN 1,782 ms,
StyleGAN 1,421 ms (45 img/s, 0.80x). With two threads on that loaded machine every model slowed down and StyleGAN,
with its many small per-layer operations (each a parallel region waiting for a busy core), by more: 1.8-2.5x
DCGAN's fp32 step. Dividing by 6 instead of 4 made it 0.95x (one thread); by 8, 0.64x. The activation gains are
folded into the weights and one fused multiply-add (``torch.addcmul``) to save passes over the activations.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from faceforge.config import ModelConfig
from faceforge.models.layers import EqualizedConv2d, EqualizedLinear, MinibatchStdDev
from faceforge.models.conditioning import ConditionFade, Projection
from faceforge.models.stylegan_layers import NOISE_MODES, MappingNetwork, ResidualBlock, StyledLayer, ToRGB

WIDTH_DIVISOR = 4  # width at resolution r: channels * R / (WIDTH_DIVISOR * r) (measured: the module docstring) ...
WIDTH_CAP = 8  # ... and at most WIDTH_CAP * channels
W_AVG_BETA = 0.995


def resolutions(resolution: int) -> list[int]:
    """4, 8, ..., resolution."""
    if resolution not in (32, 64, 128):
        raise ValueError(f"resolution must be 32, 64 or 128, not {resolution}")
    return [2 ** k for k in range(2, int(math.log2(resolution)) + 1)]


def num_ws(resolution: int) -> int:
    """How many styles W+ has at this resolution (see the module docstring for which layer takes which)."""
    return 2 * len(resolutions(resolution))


def width(channels: int, *, res: int, resolution: int) -> int:
    return max(2, min(WIDTH_CAP * channels, channels * resolution // (WIDTH_DIVISOR * res)))


def _y(y: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    if y is None:
        raise ValueError("this conditional discriminator needs an attribute vector y")
    return y.to(like.dtype)


class Generator(nn.Module):
    """G(z, y) -> (N, 3, R, R) in [-1, 1]; ``mapping``, ``truncate`` and ``synthesis`` are its three stages."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.z_dim, self.w_dim = config.z_dim, config.w_dim
        self.n_attributes = config.n_attributes
        self.style_mixing = config.style_mixing
        self.sizes = resolutions(config.resolution)
        self.num_ws = num_ws(config.resolution)
        c = [width(config.g_channels, res=r, resolution=config.resolution) for r in self.sizes]
        self.mapping = MappingNetwork(z_dim=self.z_dim, n_attributes=self.n_attributes, w_dim=self.w_dim,
                                      layers=config.mapping_layers, y_like_z=config.y_like_z)
        self.register_buffer("w_avg", torch.zeros(self.w_dim))
        self.const = nn.Parameter(torch.randn(1, c[0], 4, 4))
        def noisy(r: int) -> bool:
            return not config.noise_max_res or r <= config.noise_max_res

        self.base = StyledLayer(c[0], c[0], w_dim=self.w_dim, resolution=4, noise=noisy(4))
        self.convs = nn.ModuleList()
        for a, b, r in zip(c[:-1], c[1:], self.sizes[1:]):
            self.convs.append(StyledLayer(a, b, w_dim=self.w_dim, resolution=r, up=True, noise=noisy(r)))
            self.convs.append(StyledLayer(b, b, w_dim=self.w_dim, resolution=r, noise=noisy(r)))
        self.to_rgb = nn.ModuleList(ToRGB(ch, w_dim=self.w_dim) for ch in c)

    def grow(self, images_seen: int) -> None:
        """The attributes' fade-in (ModelConfig.condition_fade); nothing for an unconditional G."""
        if self.mapping.fade is not None:
            self.mapping.fade.set(images_seen, self.config.condition_fade)

    def truncate(self, w: torch.Tensor, psi: float, *, layers: int | None = None) -> torch.Tensor:
        """(N, w_dim) -> (N, num_ws, w_dim), styles < ``layers`` (all when None) lerped towards w_avg by psi."""
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)  # a tensor of its own, so an editor may change it in place
        if psi == 1.0:
            return ws
        n = self.num_ws if layers is None else max(0, min(self.num_ws, int(layers)))
        avg = self.w_avg.to(w.dtype)
        return torch.cat([avg.lerp(ws[:, :n], psi), ws[:, n:]], dim=1)

    def latent_weights(self) -> list[torch.Tensor]:
        """Each synthesis convolution's style map from w, (in_channels, w_dim), as applied (weight times its
        equalised-lr scale): the matrices SeFa (faceforge/directions/sefa.py) takes eigenvectors of."""
        convs = [self.base, *self.convs]
        return [(layer.conv.affine.weight * layer.conv.affine.scale).detach() for layer in convs]

    def synthesis(self, ws: torch.Tensor, *, noise: str = "const") -> torch.Tensor:
        """(N, num_ws, w_dim) -> image in [-1, 1]."""
        if noise not in NOISE_MODES:
            raise ValueError(f"noise must be one of {', '.join(NOISE_MODES)}, not {noise!r}")
        if ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be (N, {self.num_ws}, {self.w_dim}), not {tuple(ws.shape)}")
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.base(x, ws[:, 0], noise)
        image = self.to_rgb[0](x, ws[:, 1])
        for i, rgb in enumerate(self.to_rgb[1:], start=1):
            x = self.convs[2 * i - 2](x, ws[:, 2 * i - 1], noise)
            x = self.convs[2 * i - 1](x, ws[:, 2 * i], noise)
            image = F.interpolate(image, scale_factor=2.0, mode="bilinear", align_corners=False)
            image = image + rgb(x, ws[:, 2 * i + 1]).to(image.dtype)
        return torch.tanh(image)

    @torch.no_grad()
    def _track_w_avg(self, w: torch.Tensor) -> None:
        self.w_avg.copy_(w.detach().float().mean(dim=0).lerp(self.w_avg, W_AVG_BETA))

    def _mix_randomly(self, ws: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """Style-mixing regularisation: with probability ``style_mixing`` a second z's w takes over from a random
        layer on (one cut-off per batch, as StyleGAN 2); the global RNG, see the module docstring."""
        if self.style_mixing <= 0 or torch.rand(()).item() >= self.style_mixing:
            return ws
        cutoff = int(torch.randint(1, self.num_ws, ()).item())
        w2 = self.mapping(torch.randn_like(z), y)
        return torch.cat([ws[:, :cutoff], w2.unsqueeze(1).expand(-1, self.num_ws - cutoff, -1)], dim=1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, *, truncation: float = 1.0,
                truncation_layers: int | None = None, noise: str | None = None,
                mix: tuple[torch.Tensor, int] | None = None) -> torch.Tensor:
        """``mix=(z2, k)``: styles >= k come from z2's w (same y). ``noise`` defaults to "random" in train mode,
        "const" in eval. Training mode also tracks w_avg and applies random style mixing."""
        noise = noise or ("random" if self.training else "const")
        w = self.mapping(z, y)
        if self.training:
            self._track_w_avg(w)
        ws = self.truncate(w, truncation, layers=truncation_layers)
        if mix is not None:
            z2, k = mix
            ws2 = self.truncate(self.mapping(z2, y), truncation, layers=truncation_layers)
            ws = torch.cat([ws[:, :k], ws2[:, k:]], dim=1)
        elif self.training:
            ws = self._mix_randomly(ws, z, y)
        return self.synthesis(ws, noise=noise)


class Discriminator(nn.Module):
    """D(x, y) -> one logit per image, shape (N,)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.n_attributes = config.n_attributes
        self.sizes = resolutions(config.resolution)
        c = {r: width(config.d_channels, res=r, resolution=config.resolution) for r in self.sizes}
        self.from_rgb = EqualizedConv2d(3, c[config.resolution], 1)  # gain sqrt(2): StyleGAN 2's activation gain
        self.blocks = nn.ModuleList(ResidualBlock(c[r], c[r // 2]) for r in self.sizes[:0:-1])
        self.mbstd = MinibatchStdDev(group_size=config.mbstd_group)
        self.conv = EqualizedConv2d(c[4] + 1, c[4], 3, padding=1)
        self.fc = EqualizedLinear(c[4] * 16, c[4])
        self.out = EqualizedLinear(c[4], 1, gain=1.0)
        self.projection = Projection(self.n_attributes, c[4]) if self.n_attributes else None
        self.fade = ConditionFade() if self.n_attributes else None

    def grow(self, images_seen: int) -> None:
        """The projection term fades in with G's attributes (ModelConfig.condition_fade)."""
        if self.fade is not None:
            self.fade.set(images_seen, self.config.condition_fade)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = F.leaky_relu(self.from_rgb(x), 0.2)
        for block in self.blocks:
            h = block(h)
        h = F.leaky_relu(self.conv(self.mbstd(h)), 0.2)
        h = F.leaky_relu(self.fc(h.flatten(1)), 0.2)
        out = self.out(h).flatten()
        if self.projection is not None:
            out = out + self.fade(self.projection(h[:, :, None, None], _y(y, h)))
        return out
