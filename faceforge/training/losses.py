"""GAN objectives: non-saturating BCE (Goodfellow), WGAN-GP (Gulrajani) and hinge (Miyato/SAGAN).

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
    raise ValueError(f"unknown loss {kind!r}")


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    fake = fake.float()
    if kind == "bce":
        return F.softplus(-fake).mean()  # non-saturating: maximise log D(G(z))
    if kind in ("wgan-gp", "hinge"):
        return -fake.mean()
    raise ValueError(f"unknown loss {kind!r}")


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None, generator=None) -> torch.Tensor:
    """(||grad D(x_hat)||_2 - 1)^2 on random interpolates between real and fake images."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, generator=generator)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = D(x_hat, y)
    (grad,) = torch.autograd.grad(out.float().sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()
