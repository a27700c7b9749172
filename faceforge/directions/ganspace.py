"""Unsupervised directions by GANSpace (Härkönen et al., "GANSpace: Discovering Interpretable GAN Controls", 2020):
the principal components of what the generator makes of random latents.

- A model with W: PCA of N sampled w = mapping(z, y) (the same latent space and draw as :mod:`.sampling`, so the
  components live where fitted directions and SeFa live); each component is already a direction in w.
- A z-only model: PCA of an early activation of G (the output of its first layer, flattened), then, as the paper
  does, the least-squares map back to z: regress the z's on their activations' PCA coordinates, U = argmin
  sum_j ||U x_j - z_j||^2, and take U's columns (made unit) as the directions in z. The layer is the model's
  ``G.early_layer()`` when it names one, else the first module with weights; a forward hook reads it and stops
  the pass there, so the rest of G never runs.

Stored like SeFa's components (``RUN/directions/ganspace.json``): names ``ganspace-0``..., kind "unsupervised",
spread (the std of the samples along it, so amounts mean the same as everywhere) and the share of the variance
each explains; ``--set dir:ganspace-0=2`` moves along one.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from faceforge.directions.sampling import latent_space
from faceforge.directions.store import DirectionSet
from faceforge.editing.generator import LoadedGenerator, seeded_z
from faceforge.tasks import Cancelled, Eta, ProgressFn, StopFn

DEFAULT_SAMPLES = 4000
DEFAULT_COMPONENTS = 8
FULL_SVD_LIMIT = 512  # beyond this many rows and columns a randomised SVD finds the top components (30x faster
#                         at 4000 x 2048 with the same components, cosine > 0.99)


class _Reached(Exception):
    """Raised by the hook once the early layer has run: the rest of G is not needed."""


def pca(x: np.ndarray, k: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(components (k, M) unit rows, their variances (k,), the mean (M,), the total variance) of the rows of x.
    Signs are fixed (each component's largest coordinate positive), so the same samples give the same file."""
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    mean = x.mean(0)
    centred = x - mean
    n = max(1, len(x) - 1)
    k = max(1, min(int(k), *centred.shape))
    if min(centred.shape) <= FULL_SVD_LIMIT:
        _, s, vt = torch.linalg.svd(centred, full_matrices=False)
        s, vt = s[:k], vt[:k]
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            _, s, v = torch.svd_lowrank(centred, q=min(k + 10, *centred.shape), niter=6)
        s, vt = s[:k], v[:, :k].T
    rows = vt.numpy().copy()
    rows *= np.sign(rows[np.arange(len(rows)), np.abs(rows).argmax(1)])[:, None]
    return rows, (s.numpy() ** 2) / n, mean.numpy(), float(centred.pow(2).sum()) / n


def early_layer(G: nn.Module) -> tuple[str, nn.Module]:
    """The layer whose output GANSpace reads in a z-only model: ``G.early_layer()`` if the model names one, else
    the first module (in registration order) that has weights of its own."""
    chosen = G.early_layer() if hasattr(G, "early_layer") else None
    for name, module in G.named_modules():
        if chosen is not None and module is chosen:
            return name, module
        if chosen is None and len(list(module.children())) == 0 and any(True for _ in module.parameters(recurse=False)):
            return name, module
    raise ValueError("the generator has no layer with weights for GANSpace to read")


@torch.no_grad()
def early_activations(G: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """(N, features) float32 on the CPU: the early layer's output for (z, y), flattened; G stops there."""
    _, layer = early_layer(G)
    seen: list[torch.Tensor] = []

    def hook(_module, _inputs, output):
        seen.append(output.detach().float().flatten(1).cpu())
        raise _Reached

    handle = layer.register_forward_hook(hook)
    try:
        G(z, y)
    except _Reached:
        pass
    finally:
        handle.remove()
    if not seen:
        raise ValueError("the generator's early layer did not run")
    return seen[0]


def ganspace_directions(gen: LoadedGenerator, *, components: int = DEFAULT_COMPONENTS,
                        samples: int = DEFAULT_SAMPLES, seed: int = 0, batch: int = 256,
                        progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> DirectionSet:
    """The first ``components`` GANSpace directions of the generator, as a DirectionSet in its edit space (see the
    module doc). Progress: ``{"kind": "directions", "stage": "ganspace", "done", "total", "eta_s"}`` per batch;
    raises :class:`Cancelled` when ``should_stop()`` turns true (nothing is returned)."""
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    t0 = time.perf_counter()
    n = max(int(samples), 2)
    z = seeded_z(seed, n, gen.z_dim)
    y = gen.default_y(n, seed=seed, labels="mean")
    G = gen.G
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()
    layer_name = None if gen.w_space else early_layer(G)[0]
    rows, eta = [], Eta()
    eta.update(0, n, 0.0)
    try:
        for start in range(0, n, batch):
            if stop():
                raise Cancelled(f"GANSpace stopped after {start} of {n} samples; nothing was saved")
            zz = z[start:start + batch].to(device)
            yy = None if y is None else y[start:start + batch].to(device)
            with torch.no_grad():
                rows.append(G.mapping(zz, yy).float().cpu() if gen.w_space else early_activations(G, zz, yy))
            done = min(n, start + batch)
            emit({"kind": "directions", "stage": "ganspace", "done": done, "total": n,
                  "eta_s": eta.update(done, n, time.perf_counter() - t0)})
    finally:
        G.train(was_training)
    features = torch.cat(rows).double().numpy()
    k = max(1, int(components))
    axes, variances, mean, total = pca(features, k, seed=seed)
    if gen.w_space:
        normals = axes
        x = features
    else:
        coords = (features - mean) @ axes.T  # (N, k) PCA coordinates of the activations
        u = np.linalg.lstsq(coords, z.double().numpy(), rcond=None)[0]  # (k, z_dim): coords @ u ~ z
        normals = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
        x = z.double().numpy()
    normals = normals.astype(np.float32)
    names = [f"ganspace-{i}" for i in range(len(normals))]
    fits: dict[str, dict[str, Any]] = {}
    for name, normal, var in zip(names, normals, variances):
        along = x @ normal.astype(np.float64)
        fits[name] = {"kind": "unsupervised", "spread": float(along.std()), "intercept": float(-along.mean()),
                      "variance": float(var), "explained_variance": float(var / total) if total > 0 else 0.0}
    meta = {"method": "ganspace", "checkpoint": gen.source, "checkpoint_step": gen.step,
            "model": gen.config.model.name,
            "pca_of": "w (the mapping network's output)" if gen.w_space else f"the early activation {layer_name!r} "
                      f"({features.shape[1]} values), mapped back to z by least squares",
            "options": {"components": len(names), "samples": n, "seed": seed},
            "seconds": round(time.perf_counter() - t0, 3), "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    return DirectionSet(space=latent_space(gen), names=names, normals=normals, fits=fits, meta=meta)
