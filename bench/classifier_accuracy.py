"""Held-out accuracy and wall time of FaceForge's attribute classifier on CelebA faces, trained the way the app
trains it (faceforge.training.classifier.train_for_run on a run folder, all 40 attributes, default settings).

Needs the shared CelebA sample (a folder of images plus list_attr_celeba.txt; never part of the project). The run
folder is a temporary one; the decoded images land in the usual FaceForge cache, so a second run skips decoding.

    python bench/classifier_accuracy.py [--data ../shared/data/celeba-10k] [--resolution 64] [--epochs 3]
                                        [--batch 64] [--threads 0] [--keep DIR]

Prints the accuracy (and balanced accuracy) of Smiling, Male, Eyeglasses and Young, the means over all
attributes, the time spent loading and training, the CPU and the load average while it ran.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from faceforge.config import TrainConfig  # noqa: E402
from faceforge.device import cpu_name  # noqa: E402
from faceforge.runs import Run  # noqa: E402
from faceforge.tasks import format_duration  # noqa: E402
from faceforge.training.classifier import DEFAULT_BATCH, DEFAULT_EPOCHS, train_for_run  # noqa: E402

SHOWN = ("Smiling", "Male", "Eyeglasses", "Young")


def find_data(given: str | None) -> Path:
    candidates = [Path(given)] if given else [
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "celeba-10k",
        Path("/work/shared/data/celeba-10k")]
    for path in candidates:
        if (path / "list_attr_celeba.txt").is_file():
            return path
    sys.exit(f"no CelebA sample found (looked in {', '.join(map(str, candidates))}); pass --data")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data")
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--epochs", type=float, default=DEFAULT_EPOCHS)
    ap.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--keep", help="copy the trained classifier folder here")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = find_data(args.data)

    cfg = TrainConfig(seed=args.seed)
    cfg.data.source, cfg.data.labels = str(data / "images"), str(data / "list_attr_celeba.txt")
    cfg.data.resolution = cfg.model.resolution = args.resolution
    marks: dict[str, float] = {}

    def progress(event: dict) -> None:
        kind = event["kind"]
        marks.setdefault(kind, time.perf_counter())
        if kind in ("message", "estimate", "finished"):
            print(f"  {event.get('text') or event.get('message', '')}", flush=True)
        elif kind == "stats" and event["step"] % 200 == 0:
            print(f"  step {event['step']}/{event['total_steps']} loss {event['loss']:.3f} "
                  f"{event['img_s']:.0f} img/s, ETA {format_duration(event['eta_s'])}", flush=True)

    with tempfile.TemporaryDirectory(prefix="faceforge-clf-bench-") as tmp:
        run = Run(Path(tmp) / "00000-celeba-clf")
        run.write_config(cfg)
        t0 = time.perf_counter()
        clf, metrics = train_for_run(run.path, epochs=args.epochs, batch_size=args.batch, progress=progress)
        total = time.perf_counter() - t0
        if args.keep:
            shutil.copytree(run.path / "classifier", args.keep, dirs_exist_ok=True)
    load = os.getloadavg()

    per = metrics["attributes"]
    print(f"\n{len(per)} attributes, {metrics['n_train']:,} training / {metrics['n_holdout']:,} held-out faces at "
          f"{args.resolution} px, {metrics['steps']} steps of {args.batch} ({args.epochs:g} epochs)")
    for name in SHOWN:
        m = per[name]
        print(f"  {name:12s} accuracy {m['accuracy']:.1%}  balanced {m['balanced_accuracy']:.1%}  "
              f"(positive {m['positive_rate']:.1%}, majority guess {m['majority_accuracy']:.1%})")
    majority = sum(m["majority_accuracy"] for m in per.values()) / len(per)
    print(f"  mean over all {len(per)}: accuracy {metrics['mean_accuracy']:.1%}, balanced "
          f"{metrics['mean_balanced_accuracy']:.1%} (majority guess {majority:.1%})")
    loading = marks.get("started", t0) - t0
    print(f"wall: {format_duration(total)} in all = {format_duration(loading)} loading data + "
          f"{format_duration(metrics['seconds'])} training; {torch.get_num_threads()} threads on {cpu_name()}, "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end")
    print(f"precision: {clf.info['training']['perf']}")


if __name__ == "__main__":
    main()
