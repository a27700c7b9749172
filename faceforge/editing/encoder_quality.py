"""How far to trust the IcGAN encoders, and how long training them takes, measured rather than promised.

- **Reliability.** E_y's reading of a photo is a guess. Training keeps a slice of the labelled data out of E_y's
  training set and scores E_y on it afterwards: for a binary attribute, how often the sign matches the label
  (accuracy); for a continuous one, the mean error in the column's units. The numbers are saved with the encoders
  and shown beside every estimate.
- **Duration.** :func:`measure_step_seconds` times a few real steps (generator forward, both encoders forward and
  backward) on throwaway encoders, so "about 9 min" is said before the user commits, not "a few minutes".
"""
from __future__ import annotations

import time
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

HOLDOUT_FRACTION = 0.1
MIN_HOLDOUT = 16  # fewer labelled rows than this in the slice: no reliability is measured (said as unknown)


def split_holdout(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, held out): a seeded tenth of the rows is held out when that is at least MIN_HOLDOUT."""
    order = np.random.default_rng(seed).permutation(n)
    k = int(n * HOLDOUT_FRACTION)
    if k < MIN_HOLDOUT:
        return np.arange(n), np.zeros(0, np.int64)
    return np.sort(order[k:]), np.sort(order[:k])


def y_losses(out: torch.Tensor, target: torch.Tensor, continuous: torch.Tensor, y_loss: str) -> torch.Tensor:
    """E_y's loss: binary columns by BCE on (y + 1) / 2 (or MSE with ``y_loss="mse"``), continuous columns (on
    the network's standardised scale, unbounded) always by MSE."""
    if y_loss == "mse" or bool(continuous.all()):
        return nn.functional.mse_loss(out, target)
    bce = nn.functional.binary_cross_entropy_with_logits(out, (target + 1) / 2, reduction="none")
    mse = (out - target) ** 2
    return torch.where(continuous.to(out.device), mse, bce).mean()


def y_from_output(out: torch.Tensor, continuous: torch.Tensor, y_loss: str) -> torch.Tensor:
    """E_y's raw output -> y on the network's scale (binary columns in [-1, 1] via tanh for BCE)."""
    if y_loss != "bce":
        return out.clamp(-1.5, 1.5)
    return torch.where(continuous.to(out.device), out.clamp(-4.0, 4.0), torch.tanh(out / 2))


@torch.no_grad()
def measure_reliability(predict, images: np.ndarray, labels: np.ndarray, attributes: Sequence[str],
                        continuous: Sequence[bool], stds: Sequence[float], *, batch: int = 128) -> dict[str, dict]:
    """{attribute: {"accuracy": fraction} or {"mae": error in units}, "n": rows} on held-out labelled rows."""
    from faceforge.editing.encoders import images_to_tensor

    preds = [predict(images_to_tensor(np.asarray(images[i:i + batch]))).cpu().numpy()
             for i in range(0, len(images), batch)]
    pred = np.concatenate(preds) if preds else np.zeros((0, len(attributes)))
    out = {}
    for j, name in enumerate(attributes):
        if continuous[j]:
            out[name] = {"mae": float(np.abs(pred[:, j] - labels[:, j]).mean() * stds[j]), "n": len(labels)}
        else:
            out[name] = {"accuracy": float(((pred[:, j] > 0) == (labels[:, j] > 0)).mean()), "n": len(labels)}
    return out


def describe_reliability(entry: Mapping | None, unit: str = "") -> str:
    """One attribute's reliability in words: "right 87% of the time on 205 held-out faces" / "unknown"."""
    if not entry:
        return "reliability unknown (these encoders recorded no held-out score)"
    if "accuracy" in entry:
        return f"right {entry['accuracy']:.0%} of the time on {entry.get('n', 0)} held-out faces"
    return f"off by {entry['mae']:.3g}{unit} on average on {entry.get('n', 0)} held-out faces"


def measure_step_seconds(gen, *, batch_size: int, channels: int | None = None, steps: int = 3) -> float:
    """Seconds one encoder training step takes here (the median of ``steps`` after a warm-up), on throwaway
    encoders of the real size: what ``train_encoders`` will spend per step, give or take other programs."""
    from faceforge.editing.encoder_nets import EncoderSpec, build_encoders

    n_attr = len(gen.attributes)
    spec = EncoderSpec(resolution=gen.resolution, z_dim=gen.z_dim, n_attributes=n_attr,
                       channels=channels or gen.config.model.d_channels)
    nets = [net for net in build_encoders(spec) if net is not None]
    opt = torch.optim.Adam([p for net in nets for p in net.parameters()], lr=1e-4)
    z = torch.randn(batch_size, gen.z_dim)
    y = gen.default_y(batch_size)
    times = []
    with torch.inference_mode(False), torch.enable_grad():
        for _ in range(steps + 1):
            t0 = time.perf_counter()
            with torch.no_grad():
                fake = gen.G(z, y)
            loss = sum(net(fake).pow(2).mean() for net in nets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]))
