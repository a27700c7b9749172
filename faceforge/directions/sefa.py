"""Unsupervised directions by SeFa (Shen & Zhou, "Closed-Form Factorization of Latent Semantics in GANs"): the
directions that the generator's first latent-reading weights stretch most are the eigenvectors of A^T A, where A
stacks those weights (each latent column scaled to unit norm, as the paper does). No sampling or classifier: a
few milliseconds, so every run gets components to look at and name.

A model offers the weights as ``G.latent_weights()`` (a list of (out, D) matrices in the latent an edit moves: the
style maps from w of a model with W, the first layer's map from z otherwise); a model without it is refused.
The components are stored like fitted directions (``RUN/directions/sefa.json``), named ``sefa-0``, ``sefa-1``...,
with their eigenvalue and spread, so ``--set dir:sefa-0=2`` moves along one.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from faceforge.directions.sampling import latent_space, sample_latents
from faceforge.directions.store import DirectionSet
from faceforge.editing.generator import LoadedGenerator

SPREAD_SAMPLES = 1024  # latents (not rendered) that measure each component's spread


def sefa_components(weights: list[torch.Tensor], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(the top-k eigenvectors of A^T A as unit rows (k, D), their eigenvalues) for A = the stacked ``weights``."""
    a = torch.cat([w.detach().float().cpu().reshape(w.shape[0], -1) for w in weights]).double().numpy()
    a = a / np.maximum(np.linalg.norm(a, axis=0, keepdims=True), 1e-12)
    values, vectors = np.linalg.eigh(a.T @ a)
    order = np.argsort(values)[::-1][:k]
    rows = vectors[:, order].T
    rows *= np.sign(rows[np.arange(len(rows)), np.abs(rows).argmax(1)])[:, None]  # a fixed sign per component
    return rows.astype(np.float32), values[order]


def sefa_directions(gen: LoadedGenerator, *, components: int = 8, seed: int = 0) -> DirectionSet:
    """The first ``components`` SeFa directions of the generator, as a DirectionSet in its edit space."""
    weights_of = getattr(gen.G, "latent_weights", None)
    if weights_of is None:
        raise ValueError(f"{gen.config.model.name} does not expose its latent weights, so SeFa cannot read it")
    t0 = time.perf_counter()
    normals, values = sefa_components(list(weights_of()), max(1, int(components)))
    latents, _ = sample_latents(gen, n=SPREAD_SAMPLES, seed=seed)
    x = latents.double().numpy()
    names = [f"sefa-{i}" for i in range(len(normals))]
    fits = {name: {"kind": "unsupervised", "eigenvalue": float(v), "spread": float((x @ n).std()),
                   "intercept": float(-(x @ n).mean())} for name, n, v in zip(names, normals, values)}
    meta = {"method": "sefa", "checkpoint": gen.source, "checkpoint_step": gen.step, "model": gen.config.model.name,
            "options": {"components": len(names), "seed": seed, "spread_samples": SPREAD_SAMPLES},
            "seconds": round(time.perf_counter() - t0, 3), "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    return DirectionSet(space=latent_space(gen), names=names, normals=normals, fits=fits, meta=meta)
