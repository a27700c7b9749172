"""How well does each placement of the attributes (ModelConfig.conditioning) make cdcgan obey them?

For each placement and seed: train cdcgan on CelebA at 64 px with the three attributes, then generate faces with
one attribute forced to +1 and the same z and other attributes forced to -1 (the other attributes drawn from the
data's rows), and ask an independent attribute classifier, trained on the same images, how many of each are
positive. "Control" is the positive rate with the attribute on minus off: 1.0 is perfect, 0 is no control. The
same measure on held-out real faces (label +1 vs -1) is the classifier's own ceiling. The final SWD (x1e3, lower
is better) of each run says what the placement costs in image quality.

    python bench/conditioning_control.py [--steps 1000] [--batch 64] [--seeds 0,1] [--placements input,cbn]
    python bench/conditioning_control.py --steps 20 --channels 16 --faces 128 --classifier-stub   # smoke test

Prints a markdown table with the CPU's name (and writes it to --out if given). Skips, saying why, when the data
folder is absent. Each (placement, seed) result is kept in bench/results/conditioning_control/ (committed) and not
trained again, so the table, a few CPU hours at 64 px on 2 cores, can be filled over several sessions; the table
covers every result kept for these settings and names each CPU. The classifier is kept under --cache (beside the
project) and reused while it lasts. ``--classifier-stub`` replaces the classifier by a fixed brightness rule, only to check the
plumbing: its numbers mean nothing.
"""
from __future__ import annotations

import argparse
import json
import inspect
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-10k"  # beside the project, never in it
HELD_OUT = 1000  # real faces kept from the classifier: its ceiling on unseen data
RESULTS = Path(__file__).resolve().parent / "results" / "conditioning_control"
CACHE = Path(__file__).resolve().parents[2] / "bench-runs" / "conditioning_control"


# -------------------------------------------------------------------------------- the project's moving APIs
def _train(config, run_dir: Path, dataset):
    """The project's training entry point: ``start_run`` once it exists, else today's ``train``."""
    try:
        from faceforge.training import start_run
    except ImportError:
        from faceforge.training import train

        return train(config, run_dir, dataset=dataset)
    return start_run(config, run_dir=run_dir, dataset=dataset)


def _loop_trains_auxiliary_classifier() -> bool:
    """acgan needs two lines in Trainer.train_step (see training/conditioning_loss.py); without them its D head
    never learns and G gets no signal about y, so its row would measure the missing lines, not the placement."""
    from faceforge.training import loop

    return "auxiliary_loss" in inspect.getsource(loop)


class StubClassifier:
    """For the smoke test only: "positive" = the image's channel (j mod 3) brighter than the real faces' median."""

    def __init__(self, images: np.ndarray, n_attributes: int):
        self.n = n_attributes
        self.median = np.median(images.reshape(len(images), -1, 3).mean(1), axis=0)

    def score(self, images: np.ndarray) -> np.ndarray:
        means = images.reshape(len(images), -1, 3).mean(1)
        return np.stack([1 / (1 + np.exp(-(means[:, j % 3] - self.median[j % 3]))) for j in range(self.n)], 1)


def _classifier(images, labels, *, names, kinds, resolution, seed, stub: bool, epochs: float | None):
    if stub:
        return StubClassifier(images, len(names))
    try:
        from faceforge.training.classifier import train_classifier
    except ImportError as exc:
        raise SystemExit(f"faceforge.training.classifier is not available ({exc}); use --classifier-stub to check "
                         "the bench's plumbing without it") from None
    more = {} if epochs is None else {"epochs": epochs}
    classifier, metrics = train_classifier(images, labels, names=names, kinds=kinds, resolution=resolution, seed=seed,
                                           **more)
    print("classifier's held-out balanced accuracy: " + ", ".join(
        f"{name} {m.get('balanced_accuracy', float('nan')):.2f}" for name, m in metrics.get("attributes", {}).items()),
        flush=True)
    return classifier


# ----------------------------------------------------------------------------------------------- measuring
def control(classifier, gen, rows: np.ndarray, *, n: int, seed: int) -> list[float]:
    """Per attribute: positive rate with it forced +1 minus forced -1, same z and other attributes."""
    import torch

    from faceforge.editing.generator import seeded_z

    z = seeded_z(seed, n, gen.z_dim)
    base = torch.from_numpy(rows[np.random.default_rng([seed, 5]).integers(0, len(rows), n)].astype(np.float32))
    out = []
    for j in range(base.shape[1]):
        rates = []
        for value in (1.0, -1.0):
            y = base.clone()
            y[:, j] = value
            rates.append(float((classifier.score(gen.images(z, y))[:, j] > 0.5).mean()))
        out.append(rates[0] - rates[1])
    return out


def real_control(classifier, images: np.ndarray, labels: np.ndarray) -> list[float]:
    positive = classifier.score(images) > 0.5
    return [float(positive[labels[:, j] > 0, j].mean() - positive[labels[:, j] <= 0, j].mean())
            if (labels[:, j] > 0).any() and (labels[:, j] <= 0).any() else float("nan")
            for j in range(labels.shape[1])]


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--attributes", default="Smiling,Male,Eyeglasses")
    ap.add_argument("--placements", default="input,projection,acgan,cbn")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--faces", type=int, default=512, help="faces per attribute and value")
    ap.add_argument("--classifier-stub", action="store_true", help="smoke test only: a fixed rule, not a classifier")
    ap.add_argument("--classifier-epochs", type=float, help="default: the classifier's own")
    ap.add_argument("--out", type=Path, help="also write the markdown table here")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where the classifier is kept between runs")
    args = ap.parse_args()

    images_dir, labels_file = args.data / "images", args.data / "list_attr_celeba.txt"
    if not (images_dir.is_dir() and labels_file.is_file()):
        print(f"skipped: {args.data} has no images/ folder and list_attr_celeba.txt")
        return 0

    from faceforge.config import TrainConfig
    from faceforge.data import load_dataset
    from faceforge.data.label_scales import detect_kind
    from faceforge.device import cpu_name
    from faceforge.editing.generator import LoadedGenerator
    from faceforge.runs import Run

    names = args.attributes.split(",")
    placements = args.placements.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    base = TrainConfig()
    base.data.source, base.data.labels, base.data.attributes = str(images_dir), str(labels_file), names
    base.data.resolution = base.model.resolution = args.resolution
    base.model.name = "cdcgan"
    base.model.g_channels = base.model.d_channels = args.channels
    base.schedule.steps, base.schedule.batch_size = args.steps, args.batch
    base.schedule.metrics_every = base.schedule.sample_every = base.schedule.checkpoint_every = args.steps
    ds = load_dataset(base.data)
    labels = np.asarray(ds.labels, np.float32)
    kinds = [detect_kind(labels[:, j]) for j in range(labels.shape[1])]
    print(f"cpu: {cpu_name()}; {len(ds)} images; attributes {', '.join(ds.attributes)} ({', '.join(kinds)})",
          flush=True)

    t0 = time.time()
    train_images, train_labels = np.asarray(ds.images[:-HELD_OUT]), labels[:-HELD_OUT]
    kept = args.cache / f"classifier-{args.resolution}px-{'+'.join(names)}"
    if not args.classifier_stub and (kept / "classifier.pt").exists():
        from faceforge.models.classifier import load_classifier

        classifier = load_classifier(kept)
    else:
        classifier = _classifier(train_images, train_labels, names=list(ds.attributes), kinds=kinds,
                                 resolution=args.resolution, seed=0, stub=args.classifier_stub,
                                 epochs=args.classifier_epochs)
        if not args.classifier_stub:
            classifier.save(kept)
    ceiling = real_control(classifier, np.asarray(ds.images[-HELD_OUT:]), labels[-HELD_OUT:])
    print(f"classifier ready in {time.time() - t0:.0f} s; on held-out real faces: "
          + ", ".join(f"{a} {c:+.2f}" for a, c in zip(ds.attributes, ceiling)), flush=True)

    aux_ok = _loop_trains_auxiliary_classifier()
    results: dict[str, list[tuple[list[float], float, float]]] = {}
    stem = f"{args.resolution}px-{args.channels}ch-{args.steps}x{args.batch}-{'+'.join(names)}"
    for placement in placements:
        label = placement
        if placement == "acgan" and not aux_ok:
            label = "acgan (loop without its loss!)"
            print("acgan: Trainer.train_step does not call conditioning_loss.auxiliary_loss yet, so its D head is "
                  "never trained: this row measures the missing lines, not the placement", flush=True)
        for seed in seeds:
            saved = RESULTS / f"{stem}-{placement}-s{seed}.json"
            if saved.exists() and not args.classifier_stub:
                print(f"{placement} seed {seed}: kept from before ({saved.name})", flush=True)
                continue
            cfg = TrainConfig.from_dict(base.to_dict())
            cfg.seed, cfg.model.conditioning = seed, placement
            with tempfile.TemporaryDirectory() as tmp:
                run_dir = Path(tmp) / "run"
                start = time.time()
                result = _train(cfg, run_dir, ds)
                minutes = (time.time() - start) / 60
                if result.state != "finished":
                    raise SystemExit(f"{placement} seed {seed}: training ended {result.state}: {result.message}")
                swd = [r for r in Run(run_dir).stats() if "swd" in r][-1]["swd"]
                gen = LoadedGenerator.from_run(run_dir)
                scores = control(classifier, gen, labels, n=args.faces, seed=seed)
            if not args.classifier_stub:
                RESULTS.mkdir(parents=True, exist_ok=True)
                saved.write_text(json.dumps({"cpu": cpu_name(), "placement": placement, "seed": seed,
                                             "attributes": list(ds.attributes), "control": scores, "swd": swd,
                                             "minutes": minutes}, indent=1) + "\n")
            else:
                results.setdefault(label, []).append((scores, swd, minutes))
            print(f"{placement} seed {seed}: control " + ", ".join(f"{a} {c:+.2f}" for a, c in
                  zip(ds.attributes, scores)) + f"; SWD {swd:.1f}; {minutes:.1f} min", flush=True)

    cpus = {cpu_name()}
    for path in sorted(RESULTS.glob(f"{stem}-*.json")) if not args.classifier_stub else []:
        kept_result = json.loads(path.read_text())
        if kept_result["placement"] in placements:
            cpus.add(kept_result["cpu"])
            results.setdefault(kept_result["placement"], []).append(
                (kept_result["control"], kept_result["swd"], kept_result["minutes"]))
    header = ["placement", "seeds", *(f"{a} on-off" for a in ds.attributes), "mean on-off", "SWD", "min/run"]
    rows = []
    for placement, runs in results.items():
        per_attr = [statistics.mean(r[0][j] for r in runs) for j in range(len(ds.attributes))]
        rows.append([placement, str(len(runs)), *(f"{c:+.2f}" for c in per_attr), f"{statistics.mean(per_attr):+.2f}",
                     f"{statistics.mean(r[1] for r in runs):.1f}", f"{statistics.mean(r[2] for r in runs):.1f}"])
    rows.append(["real faces (held out)", "-", *(f"{c:+.2f}" for c in ceiling),
                 f"{statistics.mean(ceiling):+.2f}", "-", "-"])
    stub = " **STUB classifier: the control numbers mean nothing**" if args.classifier_stub else ""
    text = (f"CPU: {'; '.join(sorted(cpus))}. cdcgan {args.resolution} px, {args.channels} channels, {args.steps} steps of "
            f"{args.batch} (seeds per row: the table's column); {args.faces} faces per attribute and value.{stub}\n\n"
            + _table(rows, header))
    print("\n" + text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
