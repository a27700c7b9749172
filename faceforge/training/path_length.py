"""StyleGAN 2's path-length regulariser (Karras et al. 2020, section 3.2), an option for models with W
(``LossConfig.pl_weight``; 0, the default, is off).

It asks that a fixed-size step in W moves the image by a fixed amount, whatever the face: the Jacobian of
synthesis, read through a random image-space projection y, ``|J_w^T y|``, is pulled towards its running mean. The
paper credits it with smoother, more linear W (better interpolation and editing) at some cost in training time (a
double backward through synthesis on half the batch every ``pl_every`` G steps), so on a CPU it stays off by
default. As the paper does, it runs lazily (every ``pl_every`` G steps, scaled by that interval), on
half the batch, with the running mean's decay 0.01. The mean is training state: the checkpoint carries it, so a
resume is exact. It stays a tensor on the training device (read to Python only at a checkpoint): no host sync in
the step.
"""
from __future__ import annotations

import math

import torch

DECAY = 0.01  # the running mean's update rate (the paper's pl_decay)
BATCH_SHRINK = 2  # the penalty's batch is the training batch divided by this


class PathLength:
    def __init__(self, *, weight: float, every: int):
        if weight < 0 or every < 1:
            raise ValueError(f"path length needs weight >= 0 and every >= 1, not {weight}, {every}")
        self.weight, self.every = float(weight), int(every)
        self.mean = torch.zeros(())

    def due(self, step: int) -> bool:
        return self.weight > 0 and step % self.every == 0

    def __call__(self, G, z: torch.Tensor, y: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        """The scaled penalty for this G step (add it to G's loss). G is in training mode: random noise inputs."""
        n = max(1, z.shape[0] // BATCH_SHRINK)
        yy = y[:n] if y is not None else None
        ws = G.truncate(G.mapping(z[:n], yy), 1.0)  # the mapping learns from it too, as in the paper
        image = G.synthesis(ws, noise="random").float()
        h, w = image.shape[-2:]
        project = torch.randn(image.shape, device=image.device, generator=generator) / math.sqrt(h * w)
        (grad,) = torch.autograd.grad((image * project).sum(), ws, create_graph=True)
        lengths = grad.float().pow(2).sum(dim=2).mean(dim=1).sqrt()
        self.mean = self.mean.to(lengths.device).lerp(lengths.detach().mean(), DECAY)
        return (lengths - self.mean).pow(2).mean() * (self.weight * self.every)

    def state_dict(self) -> dict[str, float]:
        return {"mean": float(self.mean)}

    def load_state_dict(self, state: dict[str, float] | None) -> None:
        self.mean = torch.tensor(float((state or {}).get("mean", 0.0)))
