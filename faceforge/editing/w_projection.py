"""Projection of a photo into W+ by optimisation, starting from the W+ encoder's guess (Abdal et al.,
"Image2StyleGAN", 2019, with the StyleGAN 2 paper's idea of keeping w where the mapping network puts it).

The loss on the styles ws (1, num_ws, w_dim):

    pixel * MSE(x', x)  +  perceptual * (1 - MS-SSIM(x', x))  +  prior * P(ws)  +  layers * L(ws)

**The perceptual term is MS-SSIM, not D's features.** Both are at hand without downloads; MS-SSIM was chosen
because (1) it compares local structure and contrast at several scales, which is what a pixel MSE misses (MSE
alone is satisfied by a blurred average face; Zhao et al., "Loss functions for image restoration with neural
networks", 2017, found MS-SSIM + a pixel term the best of the plain losses); (2) it means the same thing for every
run, while D's features are whatever helped D separate real from fake at its last step: they change with each
checkpoint, are weakest early in a run (when D is barely trained, exactly when a user tries a photo), are not
kept by the generator files the editor loads (only G_ema is), and an optimiser can move them without moving the
picture (D is no inverse of G); (3) it has no weights, so projection costs one generator pass and no D pass.
The cost of the choice: the reconstruction scores report MS-SSIM too, so the benchmark also reports pixel error
and an attribute classifier's reading, which the loss does not optimise.

**The prior keeps w on the mapping network's distribution**, so edits act on a face the generator knows rather
than on an off-manifold code that reproduces the photo and breaks under any change. P is the squared Mahalanobis
distance of each layer's w from the distribution of mapped w (mean and covariance from WPrior.SAMPLES mapped z,
with the data's own attribute rows for a conditional run), per dimension: about 1 for a typical w. L keeps the
layers of W+ close to each other (their spread around their own mean, over w's variance): W+ may differ per
layer, but the further it goes from one w for all the less the generator's training covers it.

:func:`project` is called like :func:`faceforge.editing.encoders.refine` (progress events ``refine``, with the
time left as ``eta``; ``should_stop`` ends it early with the best styles so far) and works on the same W+ codes
the editor keeps (:mod:`faceforge.editing.w_codes`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from faceforge.editing.ms_ssim import ms_ssim
from faceforge.editing.w_codes import code_to_ws, ws_to_code
from faceforge.tasks import Eta, ProgressFn, StopFn


@dataclass
class WPrior:
    """Mean (w_dim,) and whitening matrix (w_dim, w_dim) of the mapped w; ``var``: their mean variance."""

    mean: torch.Tensor
    whiten: torch.Tensor
    var: float

    SAMPLES = 4096

    @classmethod
    @torch.no_grad()
    def estimate(cls, gen, *, samples: int | None = None, seed: int = 5) -> "WPrior":
        """From ``samples`` mapped z (y drawn from the checkpoint's label rows); remembered on G."""
        cache = gen.G.__dict__.setdefault("_faceforge_w_prior", {})
        n = int(samples or cls.SAMPLES)
        if n in cache:
            return cache[n]
        device = next(gen.G.parameters()).device
        z = torch.randn(n, gen.z_dim, generator=torch.Generator().manual_seed(seed))
        y = gen.default_y(n, seed=seed, labels="data")
        w = torch.cat([gen.G.mapping(z[i:i + 1024].to(device), None if y is None else y[i:i + 1024].to(device))
                       .float().cpu() for i in range(0, n, 1024)]).double()
        mean = w.mean(dim=0)
        cov = torch.cov(w.T) if w.shape[1] > 1 else w.var(dim=0).reshape(1, 1)
        d = cov.shape[0]
        cov = cov + torch.eye(d, dtype=cov.dtype) * (1e-3 * cov.diagonal().mean().clamp_min(1e-12))
        L = torch.linalg.cholesky(cov)
        whiten = torch.linalg.solve_triangular(L, torch.eye(d, dtype=L.dtype), upper=False).T  # x @ whiten ~ N(0, I)
        prior = cls(mean=mean.float(), whiten=whiten.float().contiguous(), var=float(cov.diagonal().mean()))
        cache[n] = prior
        return prior

    def distance(self, ws: torch.Tensor) -> torch.Tensor:
        """Mean squared Mahalanobis distance per dimension of each layer's w: about 1 on the distribution."""
        u = (ws - self.mean.to(ws.device)) @ self.whiten.to(ws.device)
        return u.pow(2).mean()

    def layer_spread(self, ws: torch.Tensor) -> torch.Tensor:
        """How far the layers are from their own mean, over w's variance (0 when every layer has one w)."""
        return (ws - ws.mean(dim=1, keepdim=True)).pow(2).mean() / self.var


@dataclass
class ProjectionWeights:
    pixel: float = 1.0
    perceptual: float = 0.5
    prior: float = 0.01
    layers: float = 0.01


def project(gen, image: np.ndarray, code0: torch.Tensor, y: torch.Tensor | None, steps: int = 200, *,
            lr: float = 0.02, weights: ProjectionWeights | None = None, progress: ProgressFn | None = None,
            should_stop: StopFn | None = None, seconds: float | None = None,
            prior: WPrior | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Optimise a photo's W+ code (from the encoder, :func:`~faceforge.editing.w_encoders.encode_w`) so the face
    matches the photo. Returns (code, y) as new CPU tensors, y unchanged. ``seconds`` caps the wall time (for
    comparisons at equal compute); ``should_stop`` ends it early with the best code so far."""
    with torch.inference_mode(False), torch.enable_grad():
        return _project(gen, image, code0, y, steps, lr=lr, weights=weights or ProjectionWeights(),
                        progress=progress, should_stop=should_stop, seconds=seconds, prior=prior)


def _project(gen, image, code0, y, steps, *, lr, weights, progress, should_stop, seconds, prior):
    from faceforge.editing.encoders import _check_image, images_to_tensor

    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    G = gen.G
    G.eval()
    device = next(G.parameters()).device
    prior = prior or WPrior.estimate(gen)
    target = images_to_tensor(_check_image(gen, image)[None]).to(device)
    y_in = None if y is None else y.detach().float().reshape(1, -1)
    ws = code_to_ws(G, code0.detach().float().cpu(), y_in).to(device).clone().requires_grad_(True)
    opt = torch.optim.Adam([ws], lr=lr)
    best = (float("inf"), ws.detach().clone())
    every = max(1, steps // 50)
    eta, t0 = Eta(), time.perf_counter()
    for step in range(steps + 1):
        out = G.synthesis(ws, noise="const")
        pix = nn.functional.mse_loss(out, target)
        sim = ms_ssim(out, target).mean()
        data = weights.pixel * pix + weights.perceptual * (1 - sim)
        loss = data + weights.prior * prior.distance(ws) + weights.layers * prior.layer_spread(ws)
        if data.item() < best[0]:
            best = (data.item(), ws.detach().clone())
        elapsed = time.perf_counter() - t0
        out_of_time = seconds is not None and elapsed >= seconds
        if step % every == 0 or step == steps or out_of_time:
            emit({"kind": "refine", "step": step, "total_steps": steps, "loss": float(pix.item()),
                  "ms_ssim": float(sim.item()), "eta": eta.update(step, steps, elapsed)})
        if step == steps or out_of_time or stop():
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return ws_to_code(G, best[1].cpu(), y_in).clone(), (None if y is None else y.detach().clone().float().reshape(1, -1))
