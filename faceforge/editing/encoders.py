"""IcGAN encoders (Perarnau et al., "Invertible Conditional GANs for image editing", 2016).

A conditional generator G(z, y) draws a face from a latent z (everything the labels do not say: identity, pose,
background) and attributes y. To edit a real photo we need the inverse: E_z: image -> z and E_y: image -> y. Then
``G(E_z(x), y')`` is the photo with its attributes changed to y'.

As in the paper (its "IND" variant, the one it found best), the two encoders are separate conv nets shaped like
the DCGAN discriminator:

- E_z is trained on *generated* pairs: sample z ~ N(0, I) and y from the data's label distribution, render
  x = G(z, y), and regress z from x (MSE). No real image is needed, and z's ground truth is exact.
- E_y is trained on the *real* labelled data, put on the network's scale with the run's label scales (binary
  -1/+1, continuous columns standardised): binary cross-entropy on (y + 1) / 2 for binary columns, MSE for
  continuous ones. A tenth of the rows is held out and E_y is scored on it (``reliability``), so its guesses can
  be shown with how far to trust them (:mod:`faceforge.editing.encoder_quality`). Without real data at hand it
  falls back to generated pairs (and says so).

Encoders live in ``RUN/encoders/encoders-<generator step>.pt``, saved with the same safe, weights-only checkpoint IO
as the run's checkpoints, together with the generator step they were trained for (an encoder trained for an older
generator still works, a bit less well; :func:`load_encoders` reports the mismatch).

:func:`encode`, :func:`reconstruct` and :func:`refine` (a short latent optimisation from E_z's guess, which keeps
identity much better than the encoder alone) are what the Edit pane and ``faceforge edit`` use.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from faceforge.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from faceforge.data.label_scales import apply_scales
from faceforge.editing.encoder_nets import ConvEncoder, EncoderSpec, build_encoders
from faceforge.editing.encoder_quality import measure_reliability, split_holdout, y_from_output, y_losses
from faceforge.runs import Run
from faceforge.tasks import Eta, ProgressFn, StopFn

ENCODER_FORMAT = "faceforge-encoders"


@dataclass
class Encoders:
    """A trained pair, in eval mode without gradients. ``predict_y`` turns E_y's raw output into y on the network's
    scale. ``reliability``: E_y's held-out score per attribute (empty when none was recorded)."""

    E_z: ConvEncoder
    E_y: ConvEncoder | None
    spec: EncoderSpec
    attributes: list[str]
    generator_step: int
    path: Path | None = None
    steps: int = 0
    continuous: list[bool] | None = None  # per attribute: standardised continuous column (MSE, unbounded)
    reliability: dict | None = None

    def predict_z(self, x: torch.Tensor) -> torch.Tensor:
        return self.E_z(x)

    def predict_y(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.E_y is None:
            return None
        return y_from_output(self.E_y(x), self._continuous_mask(), self.spec.y_loss)

    def _continuous_mask(self) -> torch.Tensor:
        return torch.tensor(self.continuous or [False] * self.spec.n_attributes, dtype=torch.bool)

    def matches(self, gen) -> bool:
        """Trained for exactly this generator checkpoint?"""
        return int(gen.step) == self.generator_step


# ------------------------------------------------------------------------------------------------------- helpers
def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N,H,W,3) uint8 -> (N,3,H,W) float in [-1, 1] (the generator's range)."""
    arr = np.ascontiguousarray(images)
    if not arr.flags.writeable:  # e.g. np.asarray(PIL image) or a memory-mapped cache: torch wants to own it
        arr = arr.copy()
    x = torch.from_numpy(arr)
    return x.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def _sample_labels(labels: np.ndarray | None, means: torch.Tensor | None, n_attr: int, n: int,
                   gen: torch.Generator) -> torch.Tensor | None:
    """y for generated training pairs: rows of the real labels (the data's joint distribution), or, without the
    data, independent -1/+1 draws with each attribute's rate from the checkpoint's attribute means."""
    if n_attr == 0:
        return None
    if labels is not None:
        idx = torch.randint(0, labels.shape[0], (n,), generator=gen)
        return labels[idx]
    p = ((means.float() + 1) / 2).clamp(0, 1) if means is not None and means.numel() == n_attr else \
        torch.full((n_attr,), 0.5)
    return torch.where(torch.rand(n, n_attr, generator=gen) < p, 1.0, -1.0)


def real_labelled_data(gen, dataset, emit, stop) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(labels on the network's scale, images) of the run's real labelled data for E_y, in the model's attribute
    order: ``dataset`` if given, else the run's own data (from the cache when it was built before); (None, None)
    for a model without attributes or when the data cannot be had (E_y then learns from generated faces, and the
    user is told)."""
    labels_np = images_np = None
    if gen.attributes:
        if dataset is None:
            try:
                from faceforge.data import load_dataset

                emit({"kind": "message", "level": "info", "text": "Loading the run's labelled data for E_y…"})
                dataset = load_dataset(gen.config.data, should_stop=stop,
                                       progress=lambda d, t: emit({"kind": "data", "done": d, "total": t}))
            except Exception as exc:  # noqa: BLE001 - any failure to find the data: fall back, and say so
                if stop():
                    raise
                emit({"kind": "message", "level": "warning",
                      "text": f"The run's data is not available ({exc}); E_y is trained on generated faces "
                              "instead (usually a little less accurate on real photos)."})
                dataset = None
        if dataset is not None and getattr(dataset, "labels", None) is not None:
            names = list(getattr(dataset, "attributes", gen.attributes))
            if names != list(gen.attributes):
                try:
                    order = [names.index(a) for a in gen.attributes]
                except ValueError:
                    raise ValueError(f"the dataset's attributes {names} do not include the model's "
                                     f"{gen.attributes}") from None
                labels_np = np.asarray(dataset.labels, np.float32)[:, order]
            else:
                labels_np = np.asarray(dataset.labels, np.float32)
            if gen.scales:  # the labels as the generator saw them (a continuous column standardised)
                labels_np = apply_scales(gen.attributes, labels_np, gen.scales)
            images_np = dataset.images
            if images_np.shape[1] != gen.resolution:
                raise ValueError(f"the dataset's images are {images_np.shape[1]} px, the model's {gen.resolution}")

    return labels_np, images_np


def real_labelled_batch(images_np, labels_t: torch.Tensor, train_rows: np.ndarray, *, batch_size: int,
                        noise: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the run's real labelled images (rows drawn from ``train_rows`` by ``noise``, read in file order)
    and their labels, for E_y to learn the attributes from real faces."""
    pick = torch.randint(0, len(train_rows), (batch_size,), generator=noise).numpy()
    idx = np.sort(train_rows[pick])
    return (images_to_tensor(np.asarray(images_np[idx])).to(device), labels_t[torch.from_numpy(idx)].to(device))


@dataclass
class EncoderTrainResult:
    path: Path | None  # the saved encoders (None when stopped before any were saved)
    state: str  # finished | stopped
    step: int
    loss_z: float
    loss_y: float | None
    message: str = ""


def train_encoders(run: Run | Path, *, steps: int = 2000, batch_size: int = 64, lr: float = 5e-4,
                   progress: ProgressFn | None = None, should_stop: StopFn | None = None, dataset=None,
                   gen=None, y_loss: str = "bce", channels: int | None = None, log_every: int = 20,
                   seed: int | None = None, device: str = "cpu", keep: int = 2) -> EncoderTrainResult:
    """Train E_z (on generated pairs) and E_y (on the run's real labelled data) for the run's latest generator.

    ``dataset`` is anything with ``.images`` (N,H,W,3) uint8 and ``.labels`` (N,A) in [-1,1] or None; by default
    the run's own data is loaded (``load_dataset(run.config().data)``, from the cache when it was built before).
    ``progress`` gets dicts like the training loop's: ``started``, ``stats`` (step, loss_z, loss_y, img_s, wall),
    ``message``, ``checkpoint``, ``finished``. ``should_stop`` is polled between steps; stopping saves nothing.
    ``gen`` (a LoadedGenerator) overrides the run's latest generator; ``device`` is where both train. Only the
    ``keep`` newest encoder files (by generator step) stay in the run folder. Stats events carry ``eta`` (seconds
    left, from the recent rate; None until two ticks are measured).
    """
    from faceforge.editing.generator import LoadedGenerator

    run = run if isinstance(run, Run) else Run(Path(run))
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    gen = gen if gen is not None else LoadedGenerator.from_run(run, device=device)
    n_attr = len(gen.attributes)
    config = gen.config
    if y_loss not in ("bce", "mse"):
        raise ValueError(f"y_loss must be bce or mse, not {y_loss!r}")

    labels_np, images_np = real_labelled_data(gen, dataset, emit, stop)

    spec = EncoderSpec(resolution=gen.resolution, z_dim=gen.z_dim, n_attributes=n_attr,
                       channels=channels or config.model.d_channels, y_loss=y_loss)
    seed = config.seed if seed is None else seed
    continuous = [gen.scale(a).in_units for a in gen.attributes]
    cont_mask = torch.tensor(continuous, dtype=torch.bool)
    train_rows = held_out = None
    if labels_np is not None:  # E_y never sees the held-out rows; it is scored on them at the end
        train_rows, held_out = split_holdout(len(labels_np), seed=seed + 31)
    torch.manual_seed(seed + 104729)
    E_z, E_y = build_encoders(spec)
    dev = _device_of(gen.G)
    E_z.to(dev)
    if E_y is not None:
        E_y.to(dev)
    opt_z = torch.optim.Adam(E_z.parameters(), lr=lr, betas=(0.9, 0.999))
    opt_y = torch.optim.Adam(E_y.parameters(), lr=lr, betas=(0.9, 0.999)) if E_y is not None else None
    noise = torch.Generator().manual_seed(seed + 7)
    labels_t = torch.from_numpy(labels_np) if labels_np is not None else None
    real_y = labels_np is not None  # E_y on real data; otherwise on generated pairs
    G = gen.G
    G.eval()
    emit({"kind": "started", "step": 0, "total_steps": steps, "run_dir": str(run.path),
          "generator_step": gen.step, "attributes": list(gen.attributes),
          "y_source": "real data" if real_y else ("generated faces" if n_attr else "none")})

    E_z.train()
    if E_y is not None:
        E_y.train()
    acc = torch.zeros(3, device=dev)
    eta = Eta()
    tick_t0, tick_step, t_start = time.perf_counter(), 0, time.perf_counter()
    last_z, last_y = float("nan"), None
    state = "finished"
    step = 0
    while step < steps:
        if stop():
            state = "stopped"
            break
        z = torch.randn(batch_size, spec.z_dim, generator=noise)
        y = _sample_labels(labels_t if labels_t is not None else gen.attribute_sample, gen.attribute_means, n_attr,
                           batch_size, noise)
        z, y = z.to(dev), (y.to(dev) if y is not None else None)
        with torch.no_grad():
            fake = G(z, y)
        loss_z = nn.functional.mse_loss(E_z(fake), z)
        opt_z.zero_grad(set_to_none=True)
        loss_z.backward()
        opt_z.step()
        loss_y_t = torch.zeros((), device=dev)
        if E_y is not None:
            if real_y:
                x, target = real_labelled_batch(images_np, labels_t, train_rows, batch_size=batch_size, noise=noise,
                                                device=dev)
            else:
                x, target = fake, y
            loss_y_t = y_losses(E_y(x), target, cont_mask, y_loss)
            opt_y.zero_grad(set_to_none=True)
            loss_y_t.backward()
            opt_y.step()
        step += 1
        acc += torch.stack([loss_z.detach(), loss_y_t.detach(), torch.ones((), device=dev)])
        if step % log_every == 0 or step == steps:
            lz, ly, count = acc.tolist()
            acc.zero_()
            now = time.perf_counter()
            last_z, last_y = lz / count, (ly / count if E_y is not None else None)
            emit({"kind": "stats", "step": step, "total_steps": steps, "loss_z": last_z, "loss_y": last_y,
                  "img_s": (step - tick_step) * batch_size * (2 if E_y is not None else 1) / max(now - tick_t0, 1e-9),
                  "wall": round(now - t_start, 3), "eta": eta.update(step, steps, now - t_start)})
            tick_t0, tick_step = now, step

    path = None
    message = ""
    reliability = {}
    if state == "finished":
        E_z.eval()
        if E_y is not None:
            E_y.eval()
            if held_out is not None and len(held_out):
                reliability = measure_reliability(
                    lambda x: y_from_output(E_y(x.to(dev)), cont_mask, y_loss), np.asarray(images_np[held_out]),
                    labels_np[held_out], gen.attributes, continuous, [gen.scale(a).std for a in gen.attributes])
        path = run.encoder_path(gen.step)
        save_checkpoint(path, {
            "kind": ENCODER_FORMAT,
            "spec": spec.to_dict(),
            "E_z": {k: v.cpu() for k, v in E_z.state_dict().items()},
            "E_y": {k: v.cpu() for k, v in E_y.state_dict().items()} if E_y is not None else {},
            "attributes": list(gen.attributes),
            "generator_step": int(gen.step),
            "generator_checkpoint": Path(gen.source).name,
            "steps": step,
            "y_source": "real" if real_y else "generated",
            "loss_z": last_z,
            "loss_y": last_y if last_y is not None else float("nan"),
            "continuous": continuous,
            "reliability": reliability,
        })
        run.prune_encoders(keep)
        run.log_event(f"encoders trained for generator step {gen.step}: {step} steps, loss_z {last_z:.4f}"
                      + (f", loss_y {last_y:.4f}" if last_y is not None else "") + f" -> {path.name}")
        emit({"kind": "checkpoint", "step": step, "path": str(path)})
    else:
        message = "stopped before the end; no encoders were saved"
    emit({"kind": "finished", "state": state, "step": step, "message": message})
    return EncoderTrainResult(path, state, step, last_z, last_y, message)


def encoder_state(run: Run | Path, *, kind: str, generator_step: int | None, path: Path | None, device: str,
                  missing: str, wrong_kind: str) -> tuple[Path, dict]:
    """The run's encoder file of ``kind`` (for ``generator_step``, else the newest; or ``path``) and its state,
    weights only. ``missing`` and ``wrong_kind`` finish the messages of the CheckpointError raised when there is no
    such file (with the command that makes one) or it holds another kind of encoder."""
    run = run if isinstance(run, Run) else Run(Path(run))
    if path is None:
        files = run.encoder_files()
        if generator_step is not None:
            files = [p for p in files if p == run.encoder_path(generator_step)] or files
        if not files:
            raise CheckpointError(f"run {run.name} has {missing} with `faceforge encoder train --run {run.path}` "
                                  "(a few minutes on a CPU)")
        path = files[-1]
    state = load_checkpoint(Path(path), map_location=device)
    if state.get("kind") != kind:
        raise CheckpointError(f"{Path(path).name} {wrong_kind}")
    return Path(path), state


def load_encoders(run: Run | Path, *, generator_step: int | None = None, path: Path | None = None,
                  device: str = "cpu") -> Encoders:
    """The run's encoders (for ``generator_step``, else the newest), weights only, in eval mode.

    Raises :class:`~faceforge.checkpoints.CheckpointError` with the command to run when there are none.
    """
    path, state = encoder_state(run, kind=ENCODER_FORMAT, generator_step=generator_step, path=path, device=device,
                                missing="no encoders yet: train them",
                                wrong_kind="is a FaceForge checkpoint but not an encoder file")
    try:
        spec = EncoderSpec(**state["spec"])
        E_z, E_y = build_encoders(spec)
        E_z.load_state_dict(state["E_z"])
        if E_y is not None:
            E_y.load_state_dict(state["E_y"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{Path(path).name} does not match its own description: {exc}") from None
    for net in (E_z, E_y):
        if net is not None:
            net.to(device).eval().requires_grad_(False)
    return Encoders(E_z=E_z, E_y=E_y, spec=spec, attributes=list(state.get("attributes", [])),
                    generator_step=int(state.get("generator_step", -1)), path=Path(path),
                    steps=int(state.get("steps", 0)), continuous=state.get("continuous"),
                    reliability=dict(state.get("reliability") or {}))


# -------------------------------------------------------------------------------------------- encode and refine
def _check_image(gen, image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.dtype} {image.shape}")
    r = gen.resolution
    if image.shape[:2] != (r, r):
        if image.shape[0] != image.shape[1]:
            raise ValueError(f"the image is {image.shape[1]}x{image.shape[0]}: align or crop the face to a square "
                             f"first (align_face / crop_box)")
        from PIL import Image

        image = np.asarray(Image.fromarray(image).resize((r, r), Image.BICUBIC, reducing_gap=3.0))
    return image


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.no_grad()
def encode(gen, encoders: Encoders, image: np.ndarray) -> tuple[torch.Tensor, torch.Tensor | None]:
    """An aligned face (H,W,3) uint8 at the model's resolution -> (z (1, z_dim), y (1, A) in [-1,1] or None), as
    ordinary CPU tensors (not inference tensors: a slider may change y in place)."""
    x = images_to_tensor(_check_image(gen, image)[None]).to(_device_of(encoders.E_z))
    z = encoders.predict_z(x).float().cpu()
    y = encoders.predict_y(x)
    y = y.float().cpu() if y is not None else None
    if gen.conditional and y is None:
        y = gen.default_y(1)
    return z.clone(), (y.clone() if y is not None else None)


def reconstruct(gen, encoders: Encoders, image: np.ndarray) -> np.ndarray:
    """G(E_z(x), E_y(x)): what the model makes of the photo, (H,W,3) uint8."""
    z, y = encode(gen, encoders, image)
    return gen.images(z, y)[0]


def refine(gen, image: np.ndarray, z0: torch.Tensor, y: torch.Tensor | None, steps: int = 200, *,
           lr: float = 0.05, prior: float = 0.01, optimise_y: bool = False, progress: ProgressFn | None = None,
           should_stop: StopFn | None = None, seconds: float | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Improve E_z's guess by gradient descent on z: Adam on ``pixel MSE(G(z, y), x) + prior * mean(z**2)`` (the
    second term is the Gaussian prior's log-density, which keeps z where the generator was trained, so edits
    stay faces). With ``optimise_y`` y is fitted too (kept in [-1.5, 1.5]); the caller's y is then only a start.

    Returns (z, y) as new tensors (y unchanged unless optimised). Stops early, returning the best so far, when
    ``should_stop()`` turns true or after ``seconds`` of wall time (comparisons at equal compute). ``progress`` gets ``{"kind": "refine", "step", "total_steps", "loss"}``.
    """
    with torch.inference_mode(False), torch.enable_grad():  # works even when called under inference_mode
        return _refine(gen, image, z0, y, steps, lr=lr, prior=prior, optimise_y=optimise_y, progress=progress,
                       should_stop=should_stop, seconds=seconds)


def _refine(gen, image, z0, y, steps, *, lr, prior, optimise_y, progress, should_stop, seconds=None):
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    G = gen.G
    G.eval()
    device = _device_of(G)
    target = images_to_tensor(_check_image(gen, image)[None]).to(device)
    z = z0.detach().clone().float().to(device).reshape(1, -1).requires_grad_(True)
    y_var = None
    if y is not None:
        y_var = y.detach().clone().float().to(device).reshape(1, -1)
        if optimise_y:
            y_var.requires_grad_(True)
    params = [z] + ([y_var] if optimise_y and y_var is not None else [])
    opt = torch.optim.Adam(params, lr=lr)
    best = (float("inf"), z.detach().clone(), None if y_var is None else y_var.detach().clone())
    every = max(1, steps // 50)
    t0 = time.perf_counter()
    for step in range(steps + 1):
        out = G(z, y_var)
        pix = nn.functional.mse_loss(out, target)
        loss = pix + prior * z.pow(2).mean()
        if loss.item() < best[0]:
            best = (loss.item(), z.detach().clone(), None if y_var is None else y_var.detach().clone())
        out_of_time = seconds is not None and time.perf_counter() - t0 >= seconds
        if step % every == 0 or step == steps or out_of_time:
            emit({"kind": "refine", "step": step, "total_steps": steps, "loss": float(pix.item())})
        if step == steps or stop() or out_of_time:
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if optimise_y and y_var is not None:
            with torch.no_grad():
                y_var.clamp_(-1.5, 1.5)
    _, z_best, y_best = best
    y_out = y_best.cpu() if optimise_y and y_best is not None else (y.detach().clone().float().reshape(1, -1)
                                                                    if y is not None else None)
    return z_best.cpu(), y_out
