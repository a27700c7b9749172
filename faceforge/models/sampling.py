"""Sampling a generator: the run's fixed noise for comparable snapshot grids, and images from G in eval mode.

Used by training snapshots and by editing alike, so it sits below both (with the models).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from faceforge.imaging import to_uint8


def fixed_grid_inputs(*, n: int, z_dim: int, labels: np.ndarray | None, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The run's fixed noise (and fixed attributes): the same z and y at every snapshot so grids are comparable.

    For a conditional model the columns share a z and each row takes one real attribute combination from the data,
    so a row shows one set of attributes across identities and a column one identity across attributes.
    """
    gen = torch.Generator().manual_seed(seed + 7919)
    ncols = max(1, int(math.ceil(math.sqrt(n))))
    nrows = int(math.ceil(n / ncols))
    z_cols = torch.randn(ncols, z_dim, generator=gen)
    z = z_cols.repeat(nrows, 1)[:n] if labels is not None else torch.randn(n, z_dim, generator=gen)
    if labels is None:
        return z, None
    pick = torch.randint(0, labels.shape[0], (nrows,), generator=gen)
    y_rows = torch.from_numpy(np.asarray(labels[pick.numpy()], dtype=np.float32))
    y = y_rows.repeat_interleave(ncols, dim=0)[:n]
    return z, y


@torch.no_grad()
def generate(G: torch.nn.Module, z: torch.Tensor, y: torch.Tensor | None, *, batch: int = 64) -> np.ndarray:
    """Images from G in eval mode (BatchNorm statistics are never updated while sampling)."""
    was_training = G.training
    G.eval()
    try:
        device = next(G.parameters()).device
        out = []
        for i in range(0, z.shape[0], batch):
            zi = z[i : i + batch].to(device)
            yi = y[i : i + batch].to(device) if y is not None else None
            out.append(to_uint8(G(zi, yi)))
        return np.concatenate(out) if out else np.zeros((0, 1, 1, 3), np.uint8)
    finally:
        G.train(was_training)
