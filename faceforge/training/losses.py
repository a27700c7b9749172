"""GAN objectives: non-saturating BCE (Goodfellow), WGAN-GP (Gulrajani), hinge (Miyato/SAGAN) and relativistic
average hinge (Jolicoeur-Martineau; MSG-GAN's default).

A relativistic loss judges each real image against the average fake and each fake against the average real, so
G's loss needs D's scores of real images too (:func:`relativistic`).

Each D loss returns a scalar to minimise; logits are D's raw outputs. Losses are computed in fp32 even under
autocast, because the log-sigmoid and the gradient penalty lose too much in bf16.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    real, fake = real.float(), fake.float()
    if kind == "bce":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "wgan-gp":
        return fake.mean() - real.mean()
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    if kind == "rahinge":
        return F.relu(1.0 - (real - fake.mean())).mean() + F.relu(1.0 + (fake - real.mean())).mean()
    raise ValueError(f"unknown loss {kind!r}")


def relativistic(kind: str) -> bool:
    """Does G's loss need D's scores of real images?"""
    return kind == "rahinge"


def g_loss(kind: str, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    fake = fake.float()
    if kind == "bce":
        return F.softplus(-fake).mean()  # non-saturating: maximise log D(G(z))
    if kind in ("wgan-gp", "hinge"):
        return -fake.mean()
    if kind == "rahinge":
        if real is None:
            raise ValueError("the relativistic loss needs D's scores of real images for G's step")
        real = real.float()
        return F.relu(1.0 + (real - fake.mean())).mean() + F.relu(1.0 - (fake - real.mean())).mean()
    raise ValueError(f"unknown loss {kind!r}")


def gradient_penalty(D, real, fake, y: torch.Tensor | None, generator=None, *,
                     alpha: torch.Tensor | None = None) -> torch.Tensor:
    """(||grad D(x_hat)||_2 - 1)^2 on random interpolates between real and fake images.

    ``real`` and ``fake`` may be lists of the same images at several scales (MSG-GAN's D reads them all): one
    mixing weight per sample for every scale, and the norm is over the gradients of all of them together.
    ``alpha`` (N, 1, 1, 1) gives the mixing weights (a multi-process run draws the global batch's and passes its
    slice); without it they are drawn from ``generator``. D may be DDP-wrapped: the penalty's graph goes through
    its forward, and ``autograd.grad`` differentiates only with respect to the images, so DDP's gradient hooks fire
    once, in the ordinary backward of D's whole loss."""
    many = isinstance(real, (list, tuple))
    reals, fakes = (list(real), list(fake)) if many else ([real], [fake])
    if alpha is None:
        alpha = torch.rand(reals[0].shape[0], 1, 1, 1, device=reals[0].device, generator=generator)
    x_hat = [(alpha * r.detach() + (1 - alpha) * f.detach()).requires_grad_(True) for r, f in zip(reals, fakes)]
    out = D(x_hat if many else x_hat[0], y)
    grads = torch.autograd.grad(out.float().sum(), x_hat, create_graph=True)
    norm = torch.cat([g.flatten(1) for g in grads], dim=1).norm(2, dim=1)
    return ((norm - 1.0) ** 2).mean()


def r1_gamma(setting: float, *, resolution: int, batch: int) -> float:
    """R1's weight: the setting, or for a negative setting that many times StyleGAN 2's heuristic
    0.0002 * resolution^2 / batch (-1: the heuristic itself)."""
    return setting if setting > 0 else -setting * 0.0002 * resolution**2 / batch


def r1_penalty(D, real, y: torch.Tensor | None) -> torch.Tensor:
    """||grad_x D(x)||^2 on real images (Mescheder et al. 2018): keeps D flat where the data is, without WGAN-GP's
    interpolates. ``real`` may be a multi-scale list."""
    many = isinstance(real, (list, tuple))
    reals = [r.detach().float().requires_grad_(True) for r in (real if many else [real])]
    out = D(reals if many else reals[0], y)
    grads = torch.autograd.grad(out.float().sum(), reals, create_graph=True)
    return sum(g.pow(2).flatten(1).sum(1) for g in grads).mean()
