"""A label file with age in years, as a new user brings one: does the conditional model train, and does
`--set Age=20` vs `--set Age=70` give younger vs older faces?

The reproduction from the "your own labels" issue, built from the shared CelebA sample: a CSV with `Age` in years
drawn from CelebA's `Young` (1-35 when Young, 45-116 otherwise) and `Male` as 1/0. Two runs of cdcgan at 64 px,
the same seed and steps:
- "raw years": the ages fed to the network as they are (what FaceForge did before label scales existed; made here
  by recording an identity scale for Age);
- "standardised": today's default, Age standardised for the network and spoken in years everywhere else.
"Trains" means D(x) and D(G(z)) at least 0.1 apart on average over steps 120-200. Then an attribute classifier
trained on the same faces and labels (Age as a regression head, in years) rates 256 faces made with Age=20 and the
same z with Age=70.

    python bench/continuous_labels.py [--steps 200] [--data ../shared/data/celeba-10k] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "celeba-10k"


def make_csv(data: Path, out: Path, seed: int) -> Path:
    from faceforge.data import read_labels

    table = read_labels(data / "list_attr_celeba.txt")
    young = table.values[:, table.names.index("Young")] > 0
    male = table.values[:, table.names.index("Male")] > 0
    rng = np.random.default_rng(seed)
    ages = np.where(young, rng.integers(1, 36, len(young)), rng.integers(45, 117, len(young)))
    lines = ["filename,Age,Male"] + [f"{f},{a},{int(m)}" for f, a, m in zip(table.filenames, ages, male)]
    out.write_text("\n".join(lines) + "\n")
    return out


def train(data: Path, labels: Path, out: Path, *, steps: int, seed: int, raw_years: bool):
    from faceforge.config import TrainConfig
    from faceforge.training import start_run

    cfg = TrainConfig(seed=seed, name="raw-years" if raw_years else "standardised")
    cfg.data.source, cfg.data.labels, cfg.data.attributes = str(data / "images"), str(labels), ["Age", "Male"]
    cfg.model.name = "cdcgan"
    cfg.model.resolution = cfg.data.resolution = 64
    s = cfg.schedule
    s.steps, s.log_every, s.metrics_every, s.sample_every, s.checkpoint_every = steps, 10, 0, steps, steps
    if raw_years:  # before label scales: the years reached the network unchanged
        cfg.data.label_scales = {"Age": {"kind": "continuous", "mean": 0.0, "std": 1.0, "low": 1.0, "high": 116.0},
                                 "Male": {"kind": "binary"}}
    return start_run(cfg, runs_root=out)


def gap(run_dir: Path, lo: int = 120, hi: int = 200) -> float:
    from faceforge.runs import Run

    rows = [r for r in Run(run_dir).stats() if "d_real" in r and lo <= r["step"] <= hi]
    return float(np.mean([r["d_real"] - r["d_fake"] for r in rows])) if rows else float("nan")


def ages_of(run_dir: Path, clf, *, n: int = 256, seed: int = 7) -> tuple[float, float]:
    """The classifier's mean age for faces made with Age=20 and, same z and Male, Age=70 (in years)."""
    import torch

    from faceforge.data.label_scales import LabelScale
    from faceforge.editing.generator import LoadedGenerator, seeded_z

    gen = LoadedGenerator.from_run(run_dir)
    scales = gen_config_scales(run_dir)
    z = seeded_z(seed, n, gen.z_dim)
    male = torch.from_numpy(np.random.default_rng(seed).choice([-1.0, 1.0], n).astype(np.float32))
    out = []
    for years in (20.0, 70.0):
        age = float(LabelScale.from_dict(scales["Age"]).to_network(years))
        y = torch.stack([torch.full((n,), age), male], dim=1)
        out.append(float(clf.score(gen.images(z, y))[:, clf.names.index("Age")].mean()))
    return out[0], out[1]


def gen_config_scales(run_dir: Path) -> dict:
    from faceforge.runs import Run

    return Run(run_dir).config().data.label_scales


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--classifier-epochs", type=float, default=3.0)
    args = ap.parse_args()
    if not (args.data / "list_attr_celeba.txt").exists():
        print(f"skipped: no CelebA sample at {args.data}")
        return 0
    from faceforge.config import DataConfig
    from faceforge.data import load_dataset
    from faceforge.device import cpu_name
    from faceforge.training.classifier import train_classifier

    print(f"cpu: {cpu_name()}; cdcgan 64 px, batch 64, {args.steps} steps, seed {args.seed}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        labels = make_csv(args.data, tmp / "ages.csv", args.seed)
        results = {}
        for raw in (True, False):
            r = train(args.data, labels, tmp / "runs", steps=args.steps, seed=args.seed, raw_years=raw)
            results[raw] = r.run_dir
            print(f"  {'raw years   ' if raw else 'standardised'}: mean D(x) - D(G(z)) over steps 120-200 = "
                  f"{gap(r.run_dir):.3f}", flush=True)
        ds = load_dataset(DataConfig(source=str(args.data / "images"), labels=str(labels), attributes=["Age", "Male"],
                                     resolution=64))
        clf, metrics = train_classifier(ds.images, ds.labels, names=ds.attributes, kinds=["continuous", "binary"],
                                        resolution=64, seed=args.seed, epochs=args.classifier_epochs)
        age_m = metrics["attributes"]["Age"]
        print(f"  classifier: Age mean error {age_m['mae']:.1f} years held out (guessing the mean: "
              f"{age_m['mean_guess_mae']:.1f}); Male accuracy "
              f"{metrics['attributes']['Male']['accuracy']:.1%}")
        for raw, run_dir in results.items():
            young, old = ages_of(run_dir, clf)
            print(f"  {'raw years   ' if raw else 'standardised'}: --set Age=20 -> rated {young:.1f} years, "
                  f"--set Age=70 -> rated {old:.1f} years", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
