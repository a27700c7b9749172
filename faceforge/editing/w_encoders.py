"""An encoder from a photo to W+ for runs whose model has a W space (``caps.w_space``): E_w(x) -> ws
(num_ws x w_dim), and with attributes an E_y as for the IcGAN encoders.

Trained like E_z (:mod:`faceforge.editing.encoders`) on *generated* pairs, whose ground truth is exact: draw z
and y, map z to w, and with probability ``mix`` let a second z's w take the layers from a random cut on (so the
pairs cover W+, not only the diagonal where every layer has the same w, and the encoder learns to read each
layer), then render x = synthesis(ws). E_w predicts the offset of each layer from w_avg (its last layer starts at
zero, so an untrained encoder guesses the average face, not noise). Its loss has two terms:

- in W+: the mean squared error of the predicted styles, divided by w's variance (so the weight of the term does
  not depend on the scale the mapping network learned);
- in pixels: the mean squared error between synthesis(predicted ws) and x, because equal errors in W do not
  matter equally to the picture, and the photo workflow judges the picture.

E_y (conditional runs) is the IcGAN's: trained on the run's real labelled data with a tenth held out for its
reliability score (:func:`~faceforge.editing.encoders.real_labelled_data`), or on the generated faces when the
data is not at hand (and the user is told). Files: ``RUN/encoders/encoders-<generator step>.pt`` as today, weights only through the
project's checkpoint IO, marked with their own ``kind`` so neither loader takes the other's file.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from faceforge.checkpoints import CheckpointError, save_checkpoint
from faceforge.editing.encoder_nets import ConvEncoder
from faceforge.editing.encoders import encoder_state
from faceforge.editing.encoder_quality import measure_reliability, split_holdout, y_from_output, y_losses
from faceforge.editing.w_codes import ws_to_code
from faceforge.runs import Run
from faceforge.tasks import Eta, ProgressFn, StopFn

W_ENCODER_FORMAT = "faceforge-w-encoder"


@dataclass
class WEncoderSpec:
    resolution: int
    num_ws: int
    w_dim: int
    n_attributes: int
    channels: int = 64
    hidden: int = 256

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def build_w_encoders(spec: WEncoderSpec) -> tuple[ConvEncoder, ConvEncoder | None]:
    E_w = ConvEncoder(spec.resolution, spec.num_ws * spec.w_dim, spec.channels, spec.hidden)
    last = E_w.head[-1]
    nn.init.zeros_(last.weight)  # offsets from w_avg start at 0: the first guess is the average face
    nn.init.zeros_(last.bias)
    E_y = ConvEncoder(spec.resolution, spec.n_attributes, spec.channels, spec.hidden) if spec.n_attributes else None
    return E_w, E_y


@dataclass
class WEncoders:
    """A trained W+ encoder (eval mode, no gradients) and the w_avg its offsets are from."""

    E_w: ConvEncoder
    E_y: ConvEncoder | None
    spec: WEncoderSpec
    w_avg: torch.Tensor
    attributes: list[str]
    generator_step: int
    path: Path | None = None
    steps: int = 0
    reliability: dict | None = None  # E_y's held-out score per attribute (empty: none measured)
    continuous: list[bool] | None = None  # per attribute: a standardised continuous column
    y_loss: str = "bce"

    def predict_ws(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_avg.to(x.device) + self.E_w(x).reshape(-1, self.spec.num_ws, self.spec.w_dim)

    def predict_y(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.E_y is None:
            return None
        mask = torch.tensor(self.continuous or [False] * self.spec.n_attributes, dtype=torch.bool)
        return y_from_output(self.E_y(x), mask, self.y_loss)

    def matches(self, gen) -> bool:
        return int(gen.step) == self.generator_step


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _pairs(gen, batch: int, noise: torch.Generator, mix: float, device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Generated training pairs' styles (batch, num_ws, w_dim) and y: mapped z, a second z's w from a random layer
    on with probability ``mix`` (per face)."""
    from faceforge.editing.encoders import _sample_labels

    G, n_ws = gen.G, gen.num_ws
    y = _sample_labels(gen.attribute_sample, gen.attribute_means, len(gen.attributes), batch, noise)
    y = y.to(device) if y is not None else None
    z = torch.randn(batch, gen.z_dim, generator=noise).to(device)
    z2 = torch.randn(batch, gen.z_dim, generator=noise).to(device)
    with torch.no_grad():
        w1, w2 = G.mapping(z, y).float(), G.mapping(z2, y).float()
    cut = torch.randint(1, max(2, n_ws), (batch, 1), generator=noise)
    mixed = torch.rand(batch, 1, generator=noise) < mix
    take2 = (torch.arange(n_ws)[None, :] >= cut) & mixed  # (batch, num_ws)
    take2 = take2.to(device)[:, :, None]
    ws = torch.where(take2, w2[:, None, :], w1[:, None, :])
    return ws, y


@dataclass
class WEncoderTrainResult:
    path: Path | None
    state: str  # finished | stopped
    step: int
    loss_w: float
    loss_pixel: float
    loss_y: float | None
    message: str = ""


def train_w_encoder(run: Run | Path, *, steps: int = 2000, batch_size: int = 32, lr: float = 5e-4,
                    pixel_weight: float = 1.0, mix: float = 0.5, progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None, gen=None, dataset=None, y_loss: str = "bce",
                    channels: int | None = None, log_every: int = 20, seed: int | None = None, device: str = "cpu",
                    keep: int = 2) -> WEncoderTrainResult:
    """Train E_w (and E_y for a conditional run) for the run's latest generator, on generated pairs.

    Events as :func:`~faceforge.editing.encoders.train_encoders` (``started``, ``stats`` with ``loss_z`` = the W+
    term, ``loss_pixel``, ``loss_y``, ``img_s``, ``eta``; ``checkpoint``, ``finished``), so the CLI's printer and
    the GUI's progress bar take both. Stopping (``should_stop``) saves nothing. ``dataset`` (images and labels)
    is E_y's real data; by default the run's own.
    """
    from faceforge.editing.encoders import real_labelled_batch, real_labelled_data
    from faceforge.editing.generator import LoadedGenerator

    run = run if isinstance(run, Run) else Run(Path(run))
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    gen = gen if gen is not None else LoadedGenerator.from_run(run, device=device)
    if not gen.w_space:
        raise ValueError(f"{gen.config.model.name} has no W space: train its IcGAN encoders instead")
    G = gen.G
    G.eval()
    dev = _device_of(G)
    n_attr = len(gen.attributes)
    spec = WEncoderSpec(resolution=gen.resolution, num_ws=gen.num_ws, w_dim=int(G.w_dim), n_attributes=n_attr,
                        channels=channels or gen.config.model.d_channels)
    seed = gen.config.seed if seed is None else seed
    torch.manual_seed(seed + 104723)
    E_w, E_y = build_w_encoders(spec)
    nets = [net.to(dev).train() for net in (E_w, E_y) if net is not None]
    opt = torch.optim.Adam([p for net in nets for p in net.parameters()], lr=lr, betas=(0.9, 0.999))
    noise = torch.Generator().manual_seed(seed + 11)
    w_avg = G.w_avg.detach().float().to(dev)
    with torch.no_grad():  # w's variance, so the W+ term's weight does not depend on the mapping's scale
        probe, _ = _pairs(gen, 512, torch.Generator().manual_seed(seed + 13), 0.0, dev)
        w_var = probe[:, 0].var(dim=0).mean().clamp_min(1e-8)
    labels_np, images_np = real_labelled_data(gen, dataset, emit, stop)
    real_y = labels_np is not None
    train_rows = held_out = None
    if real_y:  # E_y never sees the held-out rows; it is scored on them at the end
        train_rows, held_out = split_holdout(len(labels_np), seed=seed + 31)
        labels_t = torch.from_numpy(labels_np)
    continuous = [gen.scale(a).in_units for a in gen.attributes]
    cont_mask = torch.tensor(continuous, dtype=torch.bool)
    emit({"kind": "started", "step": 0, "total_steps": steps, "run_dir": str(run.path), "generator_step": gen.step,
          "attributes": list(gen.attributes),
          "y_source": "real data" if real_y else ("generated faces" if n_attr else "none"), "target": "W+"})
    acc = torch.zeros(4, device=dev)
    eta = Eta()
    t_start = tick_t0 = time.perf_counter()
    tick_step, step, state = 0, 0, "finished"
    last = (float("nan"), float("nan"), None)
    with torch.inference_mode(False), torch.enable_grad():
        while step < steps:
            if stop():
                state = "stopped"
                break
            ws, y = _pairs(gen, batch_size, noise, mix, dev)
            with torch.no_grad():
                x = G.synthesis(ws, noise="const")
            pred = w_avg + E_w(x).reshape(-1, spec.num_ws, spec.w_dim)
            loss_w = (pred - ws).pow(2).mean() / w_var
            loss_pix = nn.functional.mse_loss(G.synthesis(pred, noise="const"), x) if pixel_weight > 0 \
                else torch.zeros((), device=dev)
            loss = loss_w + pixel_weight * loss_pix
            loss_y = torch.zeros((), device=dev)
            if E_y is not None:
                if real_y:
                    x_y, target = real_labelled_batch(images_np, labels_t, train_rows, batch_size=batch_size,
                                                      noise=noise, device=dev)
                else:
                    x_y, target = x, y
                loss_y = y_losses(E_y(x_y), target, cont_mask, y_loss)
                loss = loss + loss_y
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            acc += torch.stack([loss_w.detach(), loss_pix.detach(), loss_y.detach(), torch.ones((), device=dev)])
            if step % log_every == 0 or step == steps:
                lw, lp, ly, count = acc.tolist()
                acc.zero_()
                now = time.perf_counter()
                last = (lw / count, lp / count, ly / count if E_y is not None else None)
                emit({"kind": "stats", "step": step, "total_steps": steps, "loss_z": last[0], "loss_pixel": last[1],
                      "loss_y": last[2], "img_s": (step - tick_step) * batch_size / max(now - tick_t0, 1e-9),
                      "wall": round(now - t_start, 3), "eta": eta.update(step, steps, now - t_start)})
                tick_t0, tick_step = now, step
    path, message, reliability = None, "", {}
    if state == "finished":
        for net in nets:
            net.eval()
        if E_y is not None and held_out is not None and len(held_out):
            reliability = measure_reliability(
                lambda xx: y_from_output(E_y(xx.to(dev)), cont_mask, y_loss), np.asarray(images_np[held_out]),
                labels_np[held_out], gen.attributes, continuous, [gen.scale(a).std for a in gen.attributes])
        path = run.encoder_path(gen.step)
        save_checkpoint(path, {
            "kind": W_ENCODER_FORMAT, "spec": spec.to_dict(),
            "E_w": {k: v.cpu() for k, v in E_w.state_dict().items()},
            "E_y": {k: v.cpu() for k, v in E_y.state_dict().items()} if E_y is not None else {},
            "w_avg": w_avg.cpu(), "attributes": list(gen.attributes), "generator_step": int(gen.step),
            "generator_checkpoint": Path(gen.source).name, "steps": step, "loss_w": last[0],
            "loss_pixel": last[1], "loss_y": last[2] if last[2] is not None else float("nan"),
            "y_source": "real" if real_y else "generated", "y_loss": y_loss, "continuous": continuous,
            "reliability": reliability,
        })
        run.prune_encoders(keep)
        run.log_event(f"W+ encoder trained for generator step {gen.step}: {step} steps, loss_w {last[0]:.4f}, "
                      f"pixel {last[1]:.4f} -> {path.name}")
        emit({"kind": "checkpoint", "step": step, "path": str(path)})
    else:
        message = "stopped before the end; no encoder was saved"
    emit({"kind": "finished", "state": state, "step": step, "message": message})
    return WEncoderTrainResult(path, state, step, last[0], last[1], last[2], message)


def load_w_encoder(run: Run | Path, *, generator_step: int | None = None, path: Path | None = None,
                   device: str = "cpu") -> WEncoders:
    """The run's W+ encoder (for ``generator_step``, else the newest), weights only, in eval mode."""
    path, state = encoder_state(run, kind=W_ENCODER_FORMAT, generator_step=generator_step, path=path, device=device,
                                missing="no W+ encoder yet: train it",
                                wrong_kind="is not a W+ encoder (encoders made before this model had a W space, "
                                           "or for another model): train the encoder again")
    try:
        spec = WEncoderSpec(**state["spec"])
        E_w, E_y = build_w_encoders(spec)
        E_w.load_state_dict(state["E_w"])
        if E_y is not None:
            E_y.load_state_dict(state["E_y"])
        w_avg = state["w_avg"].float().reshape(spec.w_dim)
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{Path(path).name} does not match its own description: {exc}") from None
    for net in (E_w, E_y):
        if net is not None:
            net.to(device).eval().requires_grad_(False)
    return WEncoders(E_w=E_w, E_y=E_y, spec=spec, w_avg=w_avg.to(device), attributes=list(state.get("attributes", [])),
                     generator_step=int(state.get("generator_step", -1)), path=Path(path),
                     steps=int(state.get("steps", 0)), reliability=dict(state.get("reliability") or {}),
                     continuous=state.get("continuous"), y_loss=str(state.get("y_loss", "bce")))


@torch.no_grad()
def encode_w(gen, encoders: WEncoders, image: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
    """An aligned face -> (its W+ code (1, num_ws, w_dim), y (1, A) or None): E_w's styles, kept as a code relative
    to the mean w of E_y's y (editing/w_codes.py), so the attribute sliders move it."""
    from faceforge.editing.encoders import _check_image, images_to_tensor

    x = images_to_tensor(_check_image(gen, image)[None]).to(_device_of(encoders.E_w))
    ws = encoders.predict_ws(x).float().cpu()
    y = encoders.predict_y(x)
    y = y.float().cpu().clone() if y is not None else (gen.default_y(1) if gen.conditional else None)
    return ws_to_code(gen.G, ws, y).clone(), y


def measure_w_step_seconds(gen, *, batch_size: int, channels: int | None = None, steps: int = 3) -> float:
    """Seconds one W+ encoder training step takes here (median after a warm-up), on a throwaway encoder."""
    spec = WEncoderSpec(resolution=gen.resolution, num_ws=gen.num_ws, w_dim=int(gen.G.w_dim),
                        n_attributes=len(gen.attributes), channels=channels or gen.config.model.d_channels)
    nets = [net for net in build_w_encoders(spec) if net is not None]
    opt = torch.optim.Adam([p for net in nets for p in net.parameters()], lr=1e-4)
    times = []
    with torch.inference_mode(False), torch.enable_grad():
        for i in range(steps + 1):
            t0 = time.perf_counter()
            ws, _ = _pairs(gen, batch_size, torch.Generator().manual_seed(i), 0.5, _device_of(gen.G))
            with torch.no_grad():
                x = gen.G.synthesis(ws, noise="const")
            pred = nets[0](x).reshape(-1, spec.num_ws, spec.w_dim) + ws
            loss = gen.G.synthesis(pred, noise="const").sub(x).pow(2).mean() + sum(n(x).pow(2).mean() for n in nets[1:])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]))
