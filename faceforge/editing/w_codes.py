"""A photo's place in W+, kept as a *code*: its per-layer styles minus the mean w of its attributes.

A photo projected into W+ has styles ws (1, num_ws, w_dim) that no z maps to. The editing layer keeps them as
``code = ws - mean_w(y)``, where ``mean_w(y)`` is the mean of ``mapping(z, y)`` over a fixed set of z (the centre
of the faces with attributes y). A code renders as ``synthesis(mean_w(y') + psi * code)``:

- with y' the photo's own attributes and psi 1 it is exactly the projected styles;
- setting an attribute moves the face by how that attribute moves the average w (``mean_w(y') - mean_w(y)``),
  the same change for every layer, so a conditional W run edits a photo through the same sliders as today;
- truncation psi pulls the photo towards the average face *with its attributes* (a per-y truncation), which
  keeps y where the model-wide w_avg would not.

A code is a 3-dimensional latent (N, num_ws, w_dim) where a z is 2-dimensional (N, z_dim), so
``LoadedGenerator.images``, the fast renderer, interpolation and recipes tell them apart by shape and the rest of
the photo workflow passes it along unchanged.
"""
from __future__ import annotations

import torch

MEAN_W_SAMPLES = 512  # z per attribute row for mean_w: the mean's error is about 4% of w's spread
MEAN_W_SEED = 271828
_CACHE_LIMIT = 64


def is_code(z: torch.Tensor | None) -> bool:
    """A W+ code (N, num_ws, w_dim) rather than a z (N, z_dim)."""
    return z is not None and z.dim() == 3


def mean_w(G, y: torch.Tensor | None, n: int = 1) -> torch.Tensor:
    """(n, w_dim): the mean of ``G.mapping(z, y_i)`` over MEAN_W_SAMPLES fixed z, for each row of y (or the one
    unconditional mean). Remembered on G per y row (sliders ask for the same rows again and again); made as
    ordinary tensors even when a renderer asks under inference mode, so a later optimisation may use them."""
    with torch.inference_mode(False), torch.no_grad():
        return _mean_w(G, None if y is None else y.clone(), n)


def _mean_w(G, y: torch.Tensor | None, n: int) -> torch.Tensor:
    device = next(G.parameters()).device
    cache = G.__dict__.setdefault("_faceforge_mean_w", {})
    z = cache.get("z")
    if z is None:
        z = torch.randn(MEAN_W_SAMPLES, _z_dim(G),
                        generator=torch.Generator().manual_seed(MEAN_W_SEED))
        cache["z"] = z
    rows = [None] * n if y is None else list(y.reshape(-1, y.shape[-1]).float().cpu())
    out = []
    for row in rows:
        key = None if row is None else tuple(round(float(v), 6) for v in row)
        hit = cache.get(("w", key))
        if hit is None:
            yy = None if row is None else row.reshape(1, -1).expand(len(z), -1).to(device)
            hit = G.mapping(z.to(device), yy).float().mean(dim=0).cpu()
            if len(cache) > _CACHE_LIMIT:
                for k in [k for k in list(cache) if k not in ("z", "z_dim")]:  # list(): atomic, other threads insert
                    cache.pop(k, None)
            cache[("w", key)] = hit
        out.append(hit)
    return torch.stack(out)


def remember_z_dim(G, z_dim: int) -> None:
    """Tell G's mean-w memory how wide z is (a model need not keep it; LoadedGenerator knows it)."""
    G.__dict__.setdefault("_faceforge_mean_w", {})["z_dim"] = int(z_dim)


def _z_dim(G) -> int:
    z_dim = G.__dict__.get("_faceforge_mean_w", {}).get("z_dim") or getattr(G, "z_dim", None)
    if z_dim is None:
        raise ValueError("this generator does not say how wide z is; load it through LoadedGenerator")
    return int(z_dim)


def code_to_ws(G, code: torch.Tensor, y: torch.Tensor | None, truncation: float = 1.0) -> torch.Tensor:
    """(N, num_ws, w_dim) styles of codes under attributes y (rows of y, or one y for all codes)."""
    n = code.shape[0]
    centre = mean_w(G, y, 1 if y is None else y.reshape(-1, y.shape[-1]).shape[0])
    if centre.shape[0] != n:
        centre = centre.expand(n, -1)
    return centre.to(code.device, code.dtype).unsqueeze(1) + float(truncation) * code


def ws_to_code(G, ws: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """The code of styles ws made under attributes y (the inverse of :func:`code_to_ws` at truncation 1)."""
    n = ws.shape[0]
    centre = mean_w(G, y, 1 if y is None else y.reshape(-1, y.shape[-1]).shape[0])
    if centre.shape[0] != n:
        centre = centre.expand(n, -1)
    return ws.float().cpu() - centre.unsqueeze(1)
