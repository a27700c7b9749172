"""Training FaceForge's attribute classifier (faceforge/models/classifier.py) on a dataset's own labels.

A seeded share of the rows (``holdout``) is kept out of training and scored at the end, so the accuracy stored with
the classifier is what it gets on faces it never saw. Binary attributes report accuracy and balanced accuracy
(the mean of the hit rates on positives and on negatives: a classifier that never says "Eyeglasses" is 93%
accurate on CelebA and 50% balanced); continuous ones report the mean absolute error in the column's units and the
correlation with the truth.

The defaults aim at a few minutes on a CPU for 10,000 faces at 64 px (bench/classifier_accuracy.py measures it):
a small net, a few epochs, a cosine learning rate. Horizontal flips double the data for free; an attribute that a
mirror turns into its opposite (the built-in faces' ``head_tilt``) has its label negated with the image.
"""
from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from faceforge.config import is_builtin
from faceforge.device import PerfChoice, choose_perf
from faceforge.models.classifier import (AttributeClassifier, ClassifierSpec, classifier_dir, images_to_input,
                                         infer_kinds)
from faceforge.runs import Run
from faceforge.tasks import Cancelled, ProgressFn, StopFn, format_duration
from faceforge.training.speed import Measuring, optimizer_kwargs

DEFAULT_EPOCHS = 3.0  # CelebA 10k at 64 px: 88.6% mean held-out accuracy after 3 epochs, 89.2% after 6 (twice the time)
DEFAULT_BATCH = 64
ETA_STEPS = 5  # steps timed after the first (which allocates and picks kernels) before the first ETA
BUILTIN_MIRROR_ODD = ("head_tilt",)  # built-in attributes a horizontal flip negates (faceforge/data/synthetic.py)


def split_rows(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, held-out rows), both sorted; the same for the same (n, holdout, seed) on every machine."""
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"holdout must be in [0, 1), not {holdout}")
    perm = np.random.default_rng([int(seed), 0xC1F]).permutation(n)
    k = min(n - 1, int(round(n * holdout))) if holdout > 0 else 0
    return np.sort(perm[k:]), np.sort(perm[:k])


def heldout_metrics(scores: np.ndarray, truth: np.ndarray, *, names: Sequence[str], kinds: Sequence[str],
                    train_mean: Sequence[float]) -> dict[str, Any]:
    """Per-attribute quality of ``scores`` (AttributeClassifier.score) against the true labels, plus means.

    Binary: accuracy, balanced accuracy, the positive rate and the accuracy of always guessing the majority (the
    number to beat). Continuous: mean absolute error and the same for always guessing the training mean, and the
    correlation."""
    per: dict[str, dict[str, Any]] = {}
    for j, (name, kind) in enumerate(zip(names, kinds)):
        s, y = scores[:, j].astype(np.float64), truth[:, j].astype(np.float64)
        if kind == "binary":
            pos, said = y > 0, s > 0.5
            recalls = [float((said[m] == pos[m]).mean()) for m in (pos, ~pos) if m.any()]
            rate = float(pos.mean())
            per[name] = {"kind": kind, "accuracy": float((said == pos).mean()),
                         "balanced_accuracy": float(np.mean(recalls)), "positive_rate": rate,
                         "majority_accuracy": max(rate, 1.0 - rate)}
        else:
            corr = float(np.corrcoef(s, y)[0, 1]) if s.std() > 0 and y.std() > 0 else float("nan")
            per[name] = {"kind": kind, "mae": float(np.abs(s - y).mean()),
                         "mean_guess_mae": float(np.abs(train_mean[j] - y).mean()), "corr": corr}
    binary = [m for m in per.values() if m["kind"] == "binary"]
    continuous = [m for m in per.values() if m["kind"] == "continuous"]
    out: dict[str, Any] = {"attributes": per, "n_holdout": int(len(truth))}
    if binary:
        out["mean_accuracy"] = float(np.mean([m["accuracy"] for m in binary]))
        out["mean_balanced_accuracy"] = float(np.mean([m["balanced_accuracy"] for m in binary]))
    if continuous:
        out["mean_corr"] = float(np.nanmean([m["corr"] for m in continuous]))
    return out


def _probe(net: nn.Module, spec: ClassifierSpec, batch: int, perf_dtype: torch.dtype | None,
           channels_last: bool, reps: int = 2) -> float:
    """Seconds for one forward+backward of a throwaway copy of the net in this precision and memory format."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = copy.deepcopy(net).to(memory_format=fmt)
    x = torch.randn(batch, 3, spec.resolution, spec.resolution, generator=torch.Generator().manual_seed(0))
    x = x.contiguous(memory_format=fmt)
    best = float("inf")
    for i in range(reps + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=perf_dtype or torch.bfloat16, enabled=perf_dtype is not None):
            out = net(x)
        out.float().square().mean().backward()
        if i:  # the first pass allocates and picks kernels
            best = min(best, time.perf_counter() - t0)
    return best


def _choose_perf(net: nn.Module, spec: ClassifierSpec, batch: int, *, device: str, precision: str,
                 channels_last: bool | None, emit: ProgressFn, stop: StopFn) -> PerfChoice:
    """Precision and memory format as the GAN trainer chooses them (device.choose_perf): timed on this net where
    left open, and remembered per machine."""
    say = lambda text: emit({"kind": "message", "level": "info", "text": text})  # noqa: E731
    measuring = Measuring(should_stop=stop, say=say)
    key = {"classifier": {"resolution": spec.resolution, "channels": spec.channels, "hidden": spec.hidden,
                          "outputs": len(spec.names)}, "batch": batch}

    def probe(prec: str, cl: bool) -> float:
        measuring.check()
        dtype = torch.bfloat16 if prec == "bf16" else None
        return measuring.remember("classifier-step", {**key, "precision": prec, "channels_last": cl},
                                  lambda: _probe(net, spec, batch, dtype, cl))

    perf = choose_perf(device=device, precision=precision, channels_last=channels_last, probe=probe)
    say(f"Classifier speed: {perf.reason}{measuring.note()}")
    return perf


def train_classifier(images: np.ndarray, labels: np.ndarray, *, names: Sequence[str],
                     kinds: Sequence[str] | None = None, resolution: int | None = None, seed: int = 0,
                     epochs: float = DEFAULT_EPOCHS, steps: int | None = None, batch_size: int = DEFAULT_BATCH,
                     holdout: float = 0.1, lr: float = 2e-3, channels: int = 32, flip: bool = True,
                     flip_negates: Sequence[str] = (), device: str = "cpu", precision: str = "auto",
                     channels_last: bool | None = None, log_every: int = 20, progress: ProgressFn | None = None,
                     should_stop: StopFn | None = None) -> tuple[AttributeClassifier, dict[str, Any]]:
    """Train a classifier on uint8 (N,R,R,3) ``images`` and float (N,A) ``labels`` (binary ones +1/-1).

    ``kinds`` defaults to :func:`~faceforge.models.classifier.infer_kinds`; ``steps`` overrides ``epochs``.
    ``flip_negates`` names the attributes whose label changes sign with a mirrored face (names not among the
    attributes are ignored, so one list serves every subset of a dataset's columns).
    ``progress`` gets ``started``, ``message``, ``estimate`` (seconds per step and ETA after the first few timed
    steps), ``stats`` (loss, img/s, ETA) and ``finished`` events; ``should_stop`` is polled every step and raises
    :class:`~faceforge.tasks.Cancelled`. Nothing is written to disk. Returns the classifier (eval mode, no
    gradients; ``info`` holds the seed, settings and metrics) and the held-out metrics (:func:`heldout_metrics`).
    """
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    labels = np.asarray(labels, np.float32)
    n = len(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be square (N,R,R,3), got {images.shape}")
    resolution = int(resolution or images.shape[1])
    if images.shape[1] != resolution:
        raise ValueError(f"the images are {images.shape[1]} px but resolution {resolution} was asked for")
    if labels.shape != (n, len(names)):
        raise ValueError(f"labels must be ({n}, {len(names)}) for {n} images and {len(names)} names, "
                         f"got {labels.shape}")
    if n < 2:
        raise ValueError("a classifier needs at least 2 labelled images")
    kinds = list(kinds) if kinds is not None else infer_kinds(labels)
    negated = [list(names).index(a) for a in flip_negates if a in names]
    train_rows, held_rows = split_rows(n, holdout, seed)

    mean = [0.0 if k == "binary" else float(labels[train_rows, j].mean()) for j, k in enumerate(kinds)]
    std = [1.0 if k == "binary" else float(labels[train_rows, j].std()) or 1.0 for j, k in enumerate(kinds)]
    spec = ClassifierSpec(names=list(names), kinds=kinds, resolution=resolution, mean=mean, std=std,
                          channels=channels)
    with torch.random.fork_rng(devices=[]):  # seeded initialisation without moving the caller's global RNG
        torch.manual_seed(int(seed))
        clf = AttributeClassifier(spec)
    net = clf.net
    batch = min(int(batch_size), len(train_rows))
    total = int(steps) if steps is not None else max(1, math.ceil(epochs * len(train_rows) / batch))
    perf = _choose_perf(net, spec, batch, device=device, precision=precision, channels_last=channels_last,
                        emit=emit, stop=stop)
    dev = torch.device(perf.device)
    fmt = torch.channels_last if perf.channels_last else torch.contiguous_format
    net.to(dev, memory_format=fmt).train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4, **optimizer_kwargs(dev, True))
    binary = torch.tensor([k == "binary" for k in kinds], device=dev)
    mean_t, std_t = torch.tensor(mean, device=dev), torch.tensor(std, device=dev)
    labels_t = torch.from_numpy(labels)
    gen = torch.Generator().manual_seed(int(seed) + 1)
    warm = max(1, total // 20)

    emit({"kind": "started", "step": 0, "total_steps": total, "n_train": len(train_rows),
          "n_holdout": len(held_rows), "attributes": list(names), "kinds": kinds, "batch_size": batch})
    order, pos = torch.empty(0, dtype=torch.long), 0
    loss_sum = torch.zeros((), device=dev)
    t_start = time.perf_counter()
    t_timed = tick_t = t_start
    tick_step = 0
    for step in range(1, total + 1):
        if stop():
            raise Cancelled(f"classifier training stopped at step {step - 1} of {total}; nothing was saved")
        if pos + batch > len(order):
            order, pos = torch.randperm(len(train_rows), generator=gen), 0
        rows = np.sort(train_rows[order[pos:pos + batch].numpy()])
        pos += batch
        x = images_to_input(np.asarray(images[rows]), resolution)
        y = labels_t[rows].clone()
        if flip:
            mirrored = torch.rand(len(rows), generator=gen) < 0.5
            x = torch.where(mirrored[:, None, None, None], x.flip(3), x)
            if negated:
                y[:, negated] = torch.where(mirrored[:, None], -y[:, negated], y[:, negated])
        x, y = x.to(dev).contiguous(memory_format=fmt), y.to(dev)
        for group in opt.param_groups:  # short warm-up, then cosine to zero: the last steps settle the weights
            group["lr"] = lr * min(1.0, step / warm) * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / total))
        with torch.autocast(dev.type, dtype=perf.autocast_dtype or torch.bfloat16,
                            enabled=perf.autocast_dtype is not None):
            out = net(x)
        out = out.float()
        target = torch.where(binary, (y > 0).float(), (y - mean_t) / std_t)
        bce = nn.functional.binary_cross_entropy_with_logits(out, target, reduction="none")
        loss = torch.where(binary, bce, (out - target).square()).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.detach()

        now = time.perf_counter()
        if step == 1:
            t_timed = now  # the first step allocates and picks kernels: the ETA starts after it
        per_step = (now - t_timed) / (step - 1) if step > 1 else now - t_start
        eta = per_step * (total - step)
        if step == min(total, 1 + ETA_STEPS):
            emit({"kind": "estimate", "step": step, "total_steps": total, "seconds_per_step": per_step,
                  "eta_s": eta, "text": f"about {format_duration(eta)} left"})
        if step % log_every == 0 or step == total:
            emit({"kind": "stats", "step": step, "total_steps": total, "loss": loss_sum.item() / (step - tick_step),
                  "img_s": (step - tick_step) * batch / max(now - tick_t, 1e-9), "wall": round(now - t_start, 3),
                  "eta_s": eta})
            loss_sum.zero_()
            tick_t, tick_step = now, step

    if stop():
        raise Cancelled("classifier training stopped before the held-out check; nothing was saved")
    net.to(memory_format=torch.contiguous_format).eval().requires_grad_(False)  # as load_classifier returns it
    held = np.asarray(images[held_rows]) if len(held_rows) else None
    metrics = heldout_metrics(clf.score(held), labels[held_rows], names=names, kinds=kinds, train_mean=mean) \
        if held is not None else {"attributes": {}, "n_holdout": 0}
    seconds = time.perf_counter() - t_start
    metrics.update(n_train=len(train_rows), steps=total, seconds=round(seconds, 1))
    clf.info = {"seed": int(seed), "metrics": metrics,
                "training": {"steps": total, "epochs": round(total * batch / len(train_rows), 2),
                             "batch_size": batch, "holdout": holdout, "lr": lr, "flip": flip,
                             "flip_negates": [names[j] for j in negated], "perf": perf.reason,
                             "seconds": round(seconds, 1)}}
    emit({"kind": "finished", "state": "finished", "step": total, "metrics": metrics,
          "message": f"classifier trained in {format_duration(seconds)}" + _summary(metrics)})
    return clf, metrics


def _summary(metrics: dict[str, Any]) -> str:
    parts = [f"{label} {metrics[key]:{fmt}}" for key, label, fmt in (
        ("mean_accuracy", "held-out accuracy", ".1%"), ("mean_balanced_accuracy", "balanced", ".1%"),
        ("mean_corr", "correlation", ".2f")) if key in metrics]
    return (": " + ", ".join(parts)) if parts else ""


def train_for_run(run_dir: Path, *, seed: int | None = None, epochs: float = DEFAULT_EPOCHS,
                  steps: int | None = None, batch_size: int = DEFAULT_BATCH, holdout: float = 0.1,
                  progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                  cache_root: Path | None = None, **options: Any) -> tuple[AttributeClassifier, dict[str, Any]]:
    """Train on ALL labelled attributes of the run's data (``attributes = ["*"]``) and save the result into
    ``RUN/classifier/`` (written only when training finished: a stop leaves the folder as it was). ``options``
    go to :func:`train_classifier`; the seed defaults to the run's."""
    from faceforge.data import load_dataset

    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    run = Run(Path(run_dir))
    config = run.config()
    data_cfg = config.data.replace(attributes=["*"])
    if not is_builtin(data_cfg.source) and not data_cfg.labels:
        raise ValueError(f"run {run.name} has no labels file, so there is nothing to train a classifier on")
    emit({"kind": "message", "level": "info", "text": "Loading the run's labelled data (cached after the first time)…"})
    dataset = load_dataset(data_cfg, cache_root=cache_root, should_stop=stop,
                           progress=lambda done, total: emit({"kind": "data", "done": done, "total": total}))
    if dataset.labels is None or not dataset.attributes:
        raise ValueError(f"the data of run {run.name} has no attribute labels")
    options.setdefault("flip_negates", BUILTIN_MIRROR_ODD if is_builtin(data_cfg.source) else ())
    seed = config.seed if seed is None else int(seed)
    clf, metrics = train_classifier(dataset.images, dataset.labels, names=dataset.attributes,
                                    resolution=data_cfg.resolution, seed=seed, epochs=epochs, steps=steps,
                                    batch_size=batch_size, holdout=holdout, progress=emit, should_stop=stop,
                                    **options)
    data = {"source": data_cfg.source, "labels": data_cfg.labels, "resolution": data_cfg.resolution,
            "crop": data_cfg.crop, "n_images": len(dataset), "attributes": ["*"], "run": run.name}
    if is_builtin(data_cfg.source):
        data.update(builtin_count=data_cfg.builtin_count, builtin_seed=data_cfg.builtin_seed)
    path = clf.save(classifier_dir(run.path), metadata={**clf.info, "data": data})
    run.log_event(f"attribute classifier trained on {len(dataset):,} images ({len(clf.names)} attributes)"
                  + _summary(metrics) + f" -> {path.relative_to(run.path)}")
    emit({"kind": "checkpoint", "step": metrics["steps"], "path": str(path)})
    return clf, metrics
