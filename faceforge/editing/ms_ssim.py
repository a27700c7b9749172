"""MS-SSIM (Wang, Simoncelli and Bovik, "Multi-scale structural similarity for image quality assessment", 2003)
and the pixel errors used to score and to fit reconstructions of photos.

Our own small implementation, so nothing is downloaded and nothing new is installed: a Gaussian window (sigma
1.5), luminance only at the coarsest scale, contrast-structure at every scale, the paper's five scale weights.
The paper's 11-tap window over five scales needs 176 px or more; FaceForge's faces are 32 to 128 px, so the window
is 7 taps and the scales are as many as keep the coarsest one at least as wide as the window (3 at 32 px, 4 at
64, 5 at 128), the weights of the scales used renormalised to sum to 1. Negative contrast-structure terms are
clamped at 0 before the product (as the common PyTorch ports do), so the value is in [0, 1] and differentiable
everywhere, which lets the projection use ``1 - ms_ssim`` as a loss.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW, SIGMA = 7, 1.5
C1, C2 = 0.01 ** 2, 0.03 ** 2  # for images in [0, 1]


def _window(channels: int, device, dtype) -> torch.Tensor:
    ax = torch.arange(WINDOW, dtype=torch.float64) - (WINDOW - 1) / 2
    g = torch.exp(-(ax ** 2) / (2 * SIGMA ** 2))
    g = (g / g.sum()).to(device=device, dtype=dtype)
    return g.reshape(1, 1, 1, -1).repeat(channels, 1, 1, 1)


def _blur(x: torch.Tensor, win: torch.Tensor) -> torch.Tensor:
    c = x.shape[1]
    x = F.conv2d(x, win, groups=c)  # separable: along the width, then along the height
    return F.conv2d(x, win.transpose(2, 3), groups=c)


def n_scales(size: int) -> int:
    """How many scales fit an image ``size`` pixels wide (the coarsest at least WINDOW wide), at most 5."""
    k = 1
    while k < len(WEIGHTS) and size // (2 ** k) >= WINDOW:
        k += 1
    return k


def ms_ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image MS-SSIM (N,) of two (N,3,H,W) batches in [-1, 1] (the generator's range); 1 is identical."""
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(f"ms_ssim needs two (N,C,H,W) batches of one shape, got {tuple(a.shape)}, {tuple(b.shape)}")
    x, y = (a.float() + 1) / 2, (b.float() + 1) / 2
    levels = n_scales(min(x.shape[2:]))
    weights = torch.tensor(WEIGHTS[:levels], device=x.device)
    weights = weights / weights.sum()
    win = _window(x.shape[1], x.device, x.dtype)
    terms = []
    for level in range(levels):
        mx, my = _blur(x, win), _blur(y, win)
        sxx = _blur(x * x, win) - mx * mx
        syy = _blur(y * y, win) - my * my
        sxy = _blur(x * y, win) - mx * my
        cs = ((2 * sxy + C2) / (sxx + syy + C2)).mean(dim=(1, 2, 3))
        if level == levels - 1:
            lum = ((2 * mx * my + C1) / (mx * mx + my * my + C1)).mean(dim=(1, 2, 3))
            terms.append(torch.relu(cs * lum))
        else:
            terms.append(torch.relu(cs))
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    stacked = torch.stack(terms, dim=1)  # (N, levels)
    return torch.prod(stacked.clamp_min(1e-8) ** weights, dim=1)


def _as_tensor(images) -> torch.Tensor:
    if isinstance(images, torch.Tensor):
        return images.float()
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    return torch.from_numpy(np.array(arr, dtype=np.uint8)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


@torch.no_grad()
def reconstruction_scores(originals, reconstructions) -> dict[str, list[float]]:
    """Per face: ``mse`` and ``l1`` on the [-1, 1] scale, ``psnr`` in dB (for [0, 1] images) and ``ms_ssim``, of
    uint8 (N,H,W,3) arrays (or (N,3,H,W) tensors in [-1, 1])."""
    a, b = _as_tensor(originals), _as_tensor(reconstructions)
    mse = (a - b).pow(2).mean(dim=(1, 2, 3))
    l1 = (a - b).abs().mean(dim=(1, 2, 3))
    psnr = 10 * torch.log10(1.0 / (mse / 4).clamp_min(1e-12))
    return {"mse": mse.tolist(), "l1": l1.tolist(), "psnr": psnr.tolist(), "ms_ssim": ms_ssim(a, b).tolist()}
