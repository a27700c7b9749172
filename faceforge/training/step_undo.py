"""What the first half of a training step changes before any weight moves, kept so a Stop can drop the step.

The noise generator's state, the global RNG (a model may draw from it while training: StyleGAN's style mixing and
per-pixel noise) and every buffer of G and D (BatchNorm statistics, StyleGAN's w_avg, a growing model's stage):
a few KB. Restoring them and dropping D's gradients leaves the run exactly at the previous step, so a resume
replays the dropped step bit for bit.
"""
from __future__ import annotations

import torch


class StepAbandoned(Exception):
    """Stop was asked for half-way through a step; the step was undone and the run is at the previous step."""


class StepUndo:
    def __init__(self, *, noise: torch.Generator, modules: tuple[torch.nn.Module, ...]):
        self.noise = noise
        self.buffers = [b for m in modules for b in m.buffers()]
        self.saved = (noise.get_state(), [b.clone() for b in self.buffers], torch.get_rng_state())

    @torch.no_grad()
    def abandon(self, optimizer: torch.optim.Optimizer) -> None:
        """Restore the step's start, drop the gradients it made, and raise :class:`StepAbandoned`."""
        optimizer.zero_grad(set_to_none=True)
        noise_state, buffers, rng = self.saved
        self.noise.set_state(noise_state)
        torch.set_rng_state(rng)
        for b, saved in zip(self.buffers, buffers):
            b.copy_(saved)
        raise StepAbandoned
