"""Style layers of a W-space model: which layers are "coarse", "middle" and "fine", and the style-mixing figure.

A W-space model (registry ``Capabilities.w_space``) exposes ``G.mapping(z, y) -> w``, ``G.truncate(w, psi) -> ws``
(N, ``G.num_ws``, ``G.w_dim``) and ``G.synthesis(ws, noise=)``. Its ``num_ws`` per-layer styles run from coarse
(pose, face shape: the first, low-resolution layers) to fine (colour, micro-texture). Both editing (``--mix``) and
the training snapshot's mixing figure name layer ranges, so the rule lives here, below both.

The rule (one place): with more than 8 style layers, StyleGAN's own split: coarse = [0, 4), middle = [4, 8),
fine = [8, num_ws). With 8 or fewer (a 32 px StyleGAN has 8, toy models fewer), those fixed bounds would leave fine
empty, so the layers are split by thirds: coarse = [0, round(n/3)), middle = [round(n/3), round(2n/3)),
fine = the rest (8 layers: 0-2, 3-4, 5-7). A range written "a-b" is inclusive of both ends ("0-3" is layers
0, 1, 2, 3, the same as coarse at 64 px and up); a single number "a" is that one layer.
"""
from __future__ import annotations

import numpy as np
import torch

from faceforge.imaging import make_grid, to_uint8

NAMED_RANGES = ("coarse", "middle", "fine")
FIXED_SPLIT = (4, 8)  # StyleGAN's coarse/middle and middle/fine bounds, used when num_ws > 8
MIXING_SEED_OFFSET = 4099  # the mixing figure's z's come from the run's seed + this (the grid uses + 7919)


def named_ranges(num_ws: int) -> dict[str, tuple[int, int]]:
    """{"coarse": (0, a), "middle": (a, b), "fine": (b, num_ws)} as half-open layer ranges, by the rule above."""
    if num_ws > FIXED_SPLIT[1]:
        a, b = FIXED_SPLIT
    else:
        a, b = int(round(num_ws / 3)), int(round(2 * num_ws / 3))
    return {"coarse": (0, a), "middle": (a, b), "fine": (b, num_ws)}


def parse_layers(text: str, num_ws: int) -> tuple[int, int]:
    """"coarse" | "middle" | "fine" | "a-b" (inclusive) | "a" -> a half-open range [start, stop) of style layers;
    ValueError with the choices for anything else, or a range that is empty or outside 0..num_ws-1."""
    spec = str(text).strip().lower()
    ranges = named_ranges(num_ws)
    if spec in ranges:
        start, stop = ranges[spec]
    else:
        try:
            first, _, last = spec.partition("-")
            start, stop = int(first), int(last if last else first) + 1
        except ValueError:
            raise ValueError(f"layers must be coarse, middle, fine or a range such as 0-3, not {text!r}") from None
    if not 0 <= start < stop <= num_ws:
        where = ", ".join(f"{k} = {a}-{b - 1}" if b > a else f"{k} = none" for k, (a, b) in ranges.items())
        raise ValueError(f"layers {text!r} are not a non-empty range of this model's {num_ws} style layers "
                         f"(0-{num_ws - 1}; {where})")
    return start, stop


def mix_styles(ws: torch.Tensor, other: torch.Tensor, layers: tuple[int, int]) -> torch.Tensor:
    """``ws`` with the style layers in [start, stop) taken from ``other`` (both (N, num_ws, w_dim))."""
    start, stop = layers
    out = ws.clone()
    out[:, start:stop] = other[:, start:stop]
    return out


def broadcast(w: torch.Tensor, num_ws: int) -> torch.Tensor:
    """One w per face -> the same style at every layer, (N, num_ws, w_dim)."""
    return w.unsqueeze(1).repeat(1, num_ws, 1)


@torch.no_grad()
def mixing_figure(G: torch.nn.Module, *, z_dim: int, seed: int, y: torch.Tensor | None = None,
                  n: int = 4) -> np.ndarray:
    """StyleGAN's style-mixing figure from fixed z's (the same at every snapshot of a run): the top row shows
    ``n`` column sources, the left column ``n`` row sources, and cell (i, j) row i's coarse styles with column j's
    middle and fine ones, so a person sees the coarse layers take pose and shape while training goes on. ``y`` (one
    label row, or None) conditions every face alike. uint8 (H, W, 3), eval mode and constant noise."""
    draw = torch.Generator().manual_seed(int(seed) + MIXING_SEED_OFFSET)
    z = torch.randn(2 * n, z_dim, generator=draw)
    was_training = G.training
    G.eval()
    try:
        device = next(G.parameters()).device
        yy = y.reshape(1, -1).repeat(2 * n, 1).to(device) if y is not None else None
        ws = broadcast(G.mapping(z.to(device), yy), G.num_ws)
        rows, cols = ws[:n], ws[n:]
        coarse = named_ranges(G.num_ws)["coarse"]
        cells = [mix_styles(cols, rows[i : i + 1].expand_as(cols), coarse) for i in range(n)]
        faces = to_uint8(G.synthesis(torch.cat([cols, rows, *cells]), noise="const"))
    finally:
        G.train(was_training)
    col_faces, row_faces, cell_faces = faces[:n], faces[n : 2 * n], faces[2 * n :]
    blank = np.full_like(faces[:1], 255)
    ordered = [blank, col_faces]
    for i in range(n):
        ordered += [row_faces[i : i + 1], cell_faces[i * n : (i + 1) * n]]
    return make_grid(np.concatenate(ordered), ncols=n + 1)
