"""The figures a snapshot adds for models that have more to show than a sample grid, chosen by capability:
one face at every scale a multi-scale G emits, and StyleGAN's style-mixing figure for a model with W."""
from __future__ import annotations

import numpy as np
import torch

from faceforge.imaging import to_uint8
from faceforge.models.layers import upsample
from faceforge.models.registry import Capabilities
from faceforge.models.styles import mixing_figure


@torch.no_grad()
def scales_strip(G: torch.nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> np.ndarray:
    """One face (``z[:1]``, ``y[:1]``) at every scale G emits (4 px up to the final size), each enlarged to the
    final size without smoothing and laid side by side: how a person sees MSG-GAN settle coarse shapes before fine
    ones. uint8 (H, W * scales, 3)."""
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()
    try:
        scales = G(z[:1].to(device), y[:1].to(device) if y is not None else None, scales=True)
    finally:
        G.train(was_training)
    size = scales[-1].shape[-1]
    return to_uint8(torch.cat([upsample(s.float(), size) for s in scales], dim=3))[0]


def snapshot_figures(G: torch.nn.Module, caps: Capabilities, *, grid_z: torch.Tensor, grid_y: torch.Tensor | None,
                     z_dim: int, seed: int) -> dict[str, np.ndarray]:
    """{"scales": strip} for a multi-scale model, {"mixing": figure} for a model with W, {} for the rest; the run's
    fixed noise makes each the same faces at every snapshot."""
    figures = {}
    if caps.multiscale:
        figures["scales"] = scales_strip(G, grid_z, grid_y)
    if caps.w_space:  # fixed z's: rows' coarse styles x columns' middle and fine ones (models/styles.py)
        figures["mixing"] = mixing_figure(G, z_dim=z_dim, seed=seed, y=grid_y[:1] if grid_y is not None else None)
    return figures
