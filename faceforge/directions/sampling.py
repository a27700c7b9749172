"""Samples for fitting directions: latents drawn from a seed, rendered by the run's generator in batches and scored
by an attribute classifier, with progress (ETA) and cancel between batches.

The latent space is the one an edit moves: z for a model that maps z straight to pixels, w (the mapping network's
output, one vector for every style layer) for a model whose registry capabilities say ``w_space``. Conditional
models draw every sample with the data's mean label, so a direction learns what the latent adds to the label.
"""
from __future__ import annotations

import time
from typing import Any, Protocol

import numpy as np
import torch

from faceforge.editing.generator import LoadedGenerator, seeded_z
from faceforge.models.styles import broadcast
from faceforge.tasks import Cancelled, Eta, ProgressFn, StopFn


class Scorer(Protocol):
    """What fitting needs of a classifier (faceforge.models.classifier.AttributeClassifier is one)."""

    names: list[str]
    kinds: list[str]
    resolution: int
    info: dict[str, Any]

    def score(self, images: Any) -> np.ndarray: ...


def latent_space(gen: LoadedGenerator) -> str:
    return "w" if gen.w_space else "z"


@torch.no_grad()
def sample_latents(gen: LoadedGenerator, *, n: int, seed: int, batch: int = 256) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(latents (n, D) float32 on the CPU, y) for ``seed``: z itself, or w = mapping(z, y) for a W model."""
    z = seeded_z(seed, n, gen.z_dim)
    y = gen.default_y(n, seed=seed, labels="mean")
    if not gen.w_space:
        return z, y
    device = next(gen.G.parameters()).device
    ws = [gen.G.mapping(z[i:i + batch].to(device), y[i:i + batch].to(device) if y is not None else None).float().cpu()
          for i in range(0, n, batch)]
    return torch.cat(ws), y


def render(gen: LoadedGenerator, latents: torch.Tensor, y: torch.Tensor | None) -> np.ndarray:
    """uint8 (N,H,W,3) faces of latents in the generator's own space (every style layer gets the same w)."""
    if gen.w_space:
        return gen.synthesize(broadcast(latents, gen.num_ws))
    return gen.images(latents, y)


def fit_resolution(images: np.ndarray, resolution: int) -> np.ndarray | torch.Tensor:
    """Faces at the classifier's resolution: unchanged when they match, else resized (area when shrinking)."""
    if images.shape[1] == resolution:
        return images
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    mode = "area" if images.shape[1] > resolution else "bilinear"
    return torch.nn.functional.interpolate(x, size=(resolution, resolution), mode=mode).clamp(-1, 1)


def score_latents(gen: LoadedGenerator, scorer: Scorer, latents: torch.Tensor, y: torch.Tensor | None, *,
                  batch: int = 64, progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> np.ndarray:
    """Render and score every latent, ``batch`` at a time: float32 (N, A) in the classifier's attribute order.

    Progress events: ``{"kind": "directions", "stage": "sampling", "done", "total", "eta_s"}`` after each batch
    (from the recent rate). Raises :class:`Cancelled` when ``should_stop()`` turns true."""
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    n = len(latents)
    out = np.empty((n, len(scorer.names)), np.float32)
    eta, t0 = Eta(), time.perf_counter()
    eta.update(0, n, 0.0)  # so the first batch already gives an estimate
    for start in range(0, n, batch):
        if stop():
            raise Cancelled(f"stopped after scoring {start} of {n} samples; nothing was saved")
        rows = slice(start, min(n, start + batch))
        images = render(gen, latents[rows], y[rows] if y is not None else None)
        out[rows] = scorer.score(fit_resolution(images, scorer.resolution))
        done = rows.stop
        emit({"kind": "directions", "stage": "sampling", "done": done, "total": n,
              "eta_s": eta.update(done, n, time.perf_counter() - t0)})
    return out
