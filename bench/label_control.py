"""How well a conditional run's faces obey their labels, judged by an independent attribute classifier.

    python bench/label_control.py RUN [RUN ...] [--faces 512] [--seed 0] [--out results.md]

For each run (a run folder with attributes; its latest checkpoint, G_ema): the same z and the other attributes drawn
from the training rows, each attribute forced +1 and then -1, and the positive rate the classifier gives to each;
"control" is the rate on minus the rate off (1.0 is perfect, 0 is no control), as in
``bench/conditioning_control.py``, which trains cdcgan runs for each placement; this one judges runs already made
(any model). The classifier is trained once per (data, resolution, attributes) on the run's own training images
with HELD_OUT faces kept out, its held-out control on real faces (label +1 against -1) printed as the ceiling, and
kept under --cache (beside the project) for the next call.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from conditioning_control import CACHE, HELD_OUT, control, real_control  # noqa: E402


def judge(config, *, cache: Path, seed: int):
    """The classifier for this run's data, resolution and attributes (trained, or loaded from the cache), and its
    control on held-out real faces."""
    from faceforge.data.dataset import load_dataset
    from faceforge.models.classifier import load_classifier
    from faceforge.training.classifier import train_classifier

    ds = load_dataset(config.data)
    names = list(config.data.attributes)
    labels = np.asarray(ds.labels, np.float32)  # the run's attributes, in its order, on the network's scale
    order = np.random.default_rng([seed, 11]).permutation(len(ds))
    held, train = np.sort(order[:HELD_OUT]), np.sort(order[HELD_OUT:])
    key = f"{config.data.source}|{config.data.resolution}|{','.join(names)}|{seed}"
    key = hashlib.sha1(key.encode()).hexdigest()[:12]
    folder = cache / f"judge-{key}"
    if (folder / "classifier.json").exists():
        classifier = load_classifier(folder)
    else:
        classifier, metrics = train_classifier(np.asarray(ds.images[train]), labels[train], names=names,
                                               resolution=config.data.resolution, seed=seed)
        folder.mkdir(parents=True, exist_ok=True)
        classifier.save(folder, metadata={"held_out": HELD_OUT, "seed": seed})
    return classifier, real_control(classifier, np.asarray(ds.images[held]), labels[held])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--faces", type=int, default=512, help="faces per attribute and value")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--out", type=Path, help="also append the markdown rows here")
    args = ap.parse_args()

    from faceforge.editing.generator import LoadedGenerator

    gens = [LoadedGenerator.from_run(run) for run in args.runs]
    if not gens[0].conditional:
        raise SystemExit(f"{args.runs[0].name} has no attributes: nothing to control")
    classifier, ceiling = judge(gens[0].config, cache=args.cache, seed=args.seed)
    names = gens[0].attributes
    from faceforge.device import cpu_name

    cpu = cpu_name()
    lines = [f"| run | model | images | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(names),
             "| real faces (held out) | - | - | " + " | ".join(f"{v:+.2f}" for v in ceiling) + " |"]
    for run, gen in zip(args.runs, gens):
        if gen.attributes != names:
            raise SystemExit(f"{run.name} has attributes {gen.attributes}, the first run {names}: judge them apart")
        rows = gen.attribute_sample.numpy() if gen.attribute_sample is not None else np.ones((1, len(names)))
        values = control(classifier, gen, rows, n=args.faces, seed=args.seed)
        images = gen.step * gen.config.schedule.batch_size
        lines.append(f"| {run.name} | {gen.config.model.name} | {images:,} | "
                     + " | ".join(f"{v:+.2f}" for v in values) + " |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + f"\n\n(classifier and faces on {cpu})\n"
    print(text)
    if args.out:
        with args.out.open("a") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
