"""Where a conditional GAN's attributes y enter the networks (``ModelConfig.conditioning``).

y is a float vector: binary columns are -1/+1 and continuous ones standardised (data/label_scales.py), so every
layer here is linear in y (no lookup table of classes) and a slider at +1.7 means what it says.

- ``input``: y beside z at G's input and as constant maps at D's first layer (IcGAN's best placement; the
  default, and what every run before this choice existed was trained with).
- ``projection`` (Miyato & Koyama 2018): y beside z at G's input; D's logit gains <W y, sum-pooled features>, so D
  judges "is this a real image *of y*" through an inner product instead of having to discover y among its inputs.
- ``acgan`` (Odena et al. 2017): y beside z at G's input; D does not see y but predicts it from its features with
  an extra head, learning on real images; G is rewarded when its fakes are predicted as the y it was given
  (faceforge/training/conditioning_loss.py holds the loss).
- ``cbn``: conditional BatchNorm in G (de Vries et al. 2017; as in BigGAN): every BatchNorm's scale and shift are
  linear in y, so y acts at every resolution rather than only through the first layer; G's input is z alone.
  D is the projection discriminator: like G, it then uses y in a form where a column's effect cannot be averaged
  away by the layers before it (a constant input map after a stride-2 conv mixes with every pixel), and the two
  are the combination the BigGAN/SNGAN line of work uses.
"""
from __future__ import annotations

import torch
from torch import nn

from faceforge.config import CONDITIONINGS  # noqa: F401  (kept importable from here)


def require_y(y: torch.Tensor | None, like: torch.Tensor, who: str) -> torch.Tensor:
    """A conditional network's y in ``like``'s dtype; a clear error when it was not given."""
    if y is None:
        raise ValueError(f"this conditional {who} needs an attribute vector y")
    return y.to(like.dtype)


def check_conditioning(name: str) -> None:
    if name not in CONDITIONINGS:
        raise ValueError(f"unknown conditioning {name!r}; choose one of {', '.join(CONDITIONINGS)}")


def generator_input_takes_y(conditioning: str) -> bool:
    return conditioning != "cbn"


def discriminator_kind(conditioning: str) -> str:
    """How D sees y: ``input`` (maps at its first layer), ``projection`` or ``acgan`` (predicts y instead)."""
    return "projection" if conditioning == "cbn" else conditioning


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine, then a per-sample scale ``weight + W_g y`` and shift ``bias + W_b y``.

    ``W_g`` and ``W_b`` start at zero, so at initialisation this is the plain BatchNorm DCGAN starts with and G
    only learns to use y as far as the discriminator asks it to.
    """

    def __init__(self, channels: int, n_attributes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.gain = nn.Linear(n_attributes, channels, bias=False)
        self.shift = nn.Linear(n_attributes, channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """DCGAN's N(1, 0.02) scale for the y-independent part; the y-dependent part at exactly zero."""
        nn.init.normal_(self.weight, 1.0, 0.02)
        nn.init.zeros_(self.bias)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = y.to(self.gain.weight.dtype)
        scale = (self.weight + self.gain(y)).to(x.dtype)
        shift = (self.bias + self.shift(y)).to(x.dtype)
        return self.bn(x) * scale[:, :, None, None] + shift[:, :, None, None]


class Projection(nn.Module):
    """The projection discriminator's conditional term: <W y, sum over positions of D's last features>."""

    def __init__(self, n_attributes: int, channels: int):
        super().__init__()
        self.embed = nn.Linear(n_attributes, channels, bias=False)

    def forward(self, features: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pooled = features.sum(dim=(2, 3))
        return (self.embed(y.to(pooled.dtype)) * pooled).sum(dim=1)


def fade_at(images_seen: int, fade: tuple[int, int]) -> float:
    """0 before ``fade[0]`` images, 1 from ``fade[1]`` on, linear between (no fade when they are equal)."""
    start, end = int(fade[0]), int(fade[1])
    if end <= start:
        return 1.0
    return min(1.0, max(0.0, (int(images_seen) - start) / (end - start)))


class ConditionFade(nn.Module):
    """Scales a conditional model's attribute terms by a strength that the training loop moves from 0 to 1
    (``ModelConfig.condition_fade``): G first learns varied faces unconditioned, then the labels take hold.
    Conditioned from the first step, the conditional StyleGAN collapsed to a few faces per label on CelebA and its
    labels did nothing (SWD 75 against 42 with the fade, bench/results/model_quality_32px.md), as Shahbazi et al.
    (2023) found for StyleGAN 2 on small datasets. (MSG-GAN's and ProGAN's weak label control is not this: with the
    same fade their on-off stayed at +0.1-0.2, and MSG-GAN's SWD worsened from 45.7 to 59.5.) The strength is a
    persistent buffer, so checkpoints, G_ema and a resume carry it;
    a checkpoint from before the fade existed loads with strength 1, what it was trained with."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("strength", torch.ones(()))

    def set(self, images_seen: int, fade: tuple[int, int]) -> None:
        self.strength.fill_(fade_at(images_seen, fade))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.strength.to(x.dtype)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        state_dict.setdefault(prefix + "strength", torch.ones(()))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
