"""Fitting directions for a run: sample, render, score with FaceForge's attribute classifier, fit one SVM per
attribute (faceforge/directions/svm.py), save ``RUN/directions/NAME.json`` + ``.npy`` (store.py).

What the fit depends on is recorded with it (checkpoint and its hash, seed, samples, share, validation, classifier
file and its hash, and the classifier's own held-out accuracy per attribute, which bounds how much a direction's
accuracy can mean), so ``faceforge directions fit`` with the same options gives the same file.
"""
from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceforge.directions.sampling import Scorer, latent_space, sample_latents, score_latents
from faceforge.directions.store import DirectionSet, directions_dir
from faceforge.fileio import file_sha256
from faceforge.directions.svm import DEFAULT_SHARE, DEFAULT_VALIDATION, fit_direction
from faceforge.editing.generator import LoadedGenerator
from faceforge.tasks import Cancelled, ProgressFn, StopFn, format_duration

DEFAULT_SAMPLES = 4000  # with the 5% share, 200 faces on each side of the SVM


@dataclass
class FitOptions:
    """How directions are fitted; all of it is written into the directions file."""

    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    share: float = DEFAULT_SHARE  # the top and bottom share by score kept for the SVM
    validation: float = DEFAULT_VALIDATION  # of the kept samples, held out to measure the fit
    batch: int = 64  # faces rendered and scored at a time
    C: float = 1.0  # the SVM's regularisation (smaller: wider margin)
    relevance: bool = False  # models with W: also rank the style layers per direction (relevance.py)
    relevance_samples: int = 128


def choose_attributes(names: list[str], wanted: list[str] | None) -> list[str]:
    """The classifier's attributes to fit (all of them for None), spelled as it spells them."""
    if not wanted:
        return list(names)
    lookup = {n.lower(): n for n in names}
    out = []
    for name in wanted:
        key = lookup.get(str(name).strip().lower())
        if key is None:
            raise ValueError(f"the classifier has no attribute {name!r}; it has: {', '.join(names)}")
        out.append(key)
    return out


def fit_directions(gen: LoadedGenerator, scorer: Scorer, *, attributes: list[str] | None = None,
                   options: FitOptions | None = None, progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> DirectionSet:
    """Directions for ``attributes`` (default: every attribute ``scorer`` has) in the generator's latent space.

    Progress: ``sampling`` events while faces are scored, then ``{"kind": "directions", "stage": "fit",
    "attribute", "done", "total", ...accuracies}`` per attribute. Raises :class:`Cancelled` on ``should_stop``."""
    opts = options or FitOptions()
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    chosen = choose_attributes(list(scorer.names), attributes)
    t0 = time.perf_counter()
    latents, y = sample_latents(gen, n=opts.samples, seed=opts.seed)
    scores = score_latents(gen, scorer, latents, y, batch=opts.batch, progress=emit, should_stop=stop)
    x = latents.numpy()
    held_out = (scorer.info.get("metrics") or {}).get("attributes", {})
    normals, fits = [], {}
    for i, name in enumerate(chosen):
        if stop():
            raise Cancelled(f"stopped before fitting {name}; nothing was saved")
        j = scorer.names.index(name)
        fitted = fit_direction(x, scores[:, j], share=opts.share, validation=opts.validation,
                               seed=opts.seed, C=opts.C)
        normals.append(fitted.normal)
        fits[name] = {"kind": scorer.kinds[j], **fitted.summary(),
                      "score_mean": float(scores[:, j].mean()), "score_std": float(scores[:, j].std()),
                      "classifier_held_out": _held_out(held_out.get(name))}
        emit({"kind": "directions", "stage": "fit", "attribute": name, "done": i + 1, "total": len(chosen),
              "val_accuracy": fitted.val_accuracy, "remainder_accuracy": fitted.remainder_accuracy})
    meta = {"space_note": "z: the generator's input" if latent_space(gen) == "z"
            else "w: the mapping network's output; an edit adds to the styles of the layers it is applied to",
            "checkpoint": str(Path(gen.source).resolve()) if Path(gen.source).exists() else gen.source,
            "checkpoint_step": gen.step, "model": gen.config.model.name, "labels": "mean" if gen.conditional else None,
            "options": asdict(opts), "classifier": _classifier_record(scorer),
            "seconds": round(time.perf_counter() - t0, 1), "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "versions": _versions()}
    if Path(gen.source).is_file():
        meta["checkpoint_sha256"] = file_sha256(Path(gen.source))
    dirs = DirectionSet(space=latent_space(gen), names=chosen, normals=np.stack(normals), fits=fits, meta=meta)
    if opts.relevance and gen.w_space:
        from faceforge.directions.relevance import layer_relevance

        for name in chosen:
            dirs.fits[name]["layers"] = layer_relevance(
                gen, scorer, dirs, name, samples=opts.relevance_samples, seed=opts.seed, batch=opts.batch,
                progress=emit, should_stop=stop).to_json()
        dirs.meta["seconds"] = round(time.perf_counter() - t0, 1)
    return dirs


def fit_for_run(run_dir: Path, *, classifier: Path | None = None, attributes: list[str] | None = None,
                options: FitOptions | None = None, name: str | None = None, device: str = "cpu",
                progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> tuple[DirectionSet, Path]:
    """Fit directions with the run's latest checkpoint and its classifier (``RUN/classifier/``, or ``classifier``)
    and save them as ``RUN/directions/NAME.json`` (NAME defaults to ``step-NNNNNNNN``). Nothing is written when
    stopped. Returns the set and its JSON path."""
    from faceforge.models.classifier import WEIGHTS_NAME, classifier_dir, load_classifier
    from faceforge.runs import Run

    emit = progress or (lambda event: None)
    run = Run(Path(run_dir))
    gen = LoadedGenerator.from_run(run, device=device)
    source = Path(classifier) if classifier else classifier_dir(run.path)
    scorer = load_classifier(source, device=device)
    scorer.info.setdefault("path", str((source / WEIGHTS_NAME if source.is_dir() else source).resolve()))
    opts = options or FitOptions(seed=run.config().seed)
    emit({"kind": "message", "level": "info", "text": f"{opts.samples} samples in {latent_space(gen)} from step "
          f"{gen.step}, scored by {len(scorer.names)}-attribute classifier"})
    dirs = fit_directions(gen, scorer, attributes=attributes, options=opts, progress=emit, should_stop=should_stop)
    path = dirs.save(directions_dir(run.path), name or f"step-{gen.step:08d}")
    run.log_event(f"directions fitted for {', '.join(dirs.names)} in {format_duration(dirs.meta['seconds'])} "
                  f"-> {path.relative_to(run.path)}")
    emit({"kind": "finished", "state": "finished", "path": str(path)})
    return dirs, path


def _held_out(metrics: dict | None) -> dict[str, float]:
    keep = ("accuracy", "balanced_accuracy", "mae", "corr")
    return {k: float(v) for k, v in (metrics or {}).items() if k in keep and v is not None}


def _classifier_record(scorer: Scorer) -> dict[str, Any]:
    info = scorer.info or {}
    path = info.get("path")
    record = {"path": path, "names": list(scorer.names), "kinds": list(scorer.kinds), "resolution": scorer.resolution,
              "seed": info.get("seed"), "data": info.get("data")}
    if path and Path(path).is_file():
        record["sha256"] = file_sha256(Path(path))
    return record


def _versions() -> dict[str, str]:
    import sklearn
    import torch

    return {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "scikit-learn": sklearn.__version__}
