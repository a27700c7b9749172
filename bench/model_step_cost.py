"""Cost of one training step of each model, relative to DCGAN's: the README says a step of msggan, progan or
stylegan costs about what a DCGAN step costs, and this is the measurement behind that column. Each model runs the
app's real step (``Trainer.train_step``) with its own default loss and learning rates and the app's default widths,
on random images, unconditional; ProGAN at its final resolution (fully grown, alpha 1), not its 4x4 start. All
models live in ONE process and are timed in alternating rounds, so a shared machine's drift hits them alike; the
table gives each model's median ms per step over the rounds and the median of its per-round ratios to DCGAN.

    python bench/model_step_cost.py [--resolution 64] [--batch 64] [--rounds 5] [--steps 4] [--threads 2]
                                    [--precision fp32] [--models dcgan,msggan,progan,stylegan] [--out FILE.md]

StyleGAN's lazy R1 runs on every 16th step (loss.r1_every): with --steps 16 each round holds exactly one, its
amortised cost; with fewer steps the median over rounds mostly leaves it out.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from faceforge.config import TrainConfig  # noqa: E402
from faceforge.device import cpu_name  # noqa: E402
from faceforge.runs import Run  # noqa: E402
from faceforge.training.loop import Trainer  # noqa: E402
from faceforge.training.plans import apply_model_defaults, default_channels, plan_problem  # noqa: E402


class RandomImages:
    """``batch`` random images (uint8 NHWC, as every dataset is stored): the Trainer's ``data.batch`` hands them to
    the step as (batch, 3, R, R) floats in [-1, 1]. No labels: the models train unconditionally."""

    def __init__(self, *, batch: int, resolution: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.images = rng.integers(0, 256, size=(batch, resolution, resolution, 3), dtype=np.uint8)
        self.labels, self.attributes, self.name = None, [], "random"

    def __len__(self) -> int:
        return len(self.images)


def make_config(*, model: str, resolution: int, batch: int, precision: str, threads: int) -> TrainConfig:
    cfg = TrainConfig(seed=0)
    cfg.model.name = model
    cfg.model.resolution = cfg.data.resolution = resolution
    cfg.model.g_channels = cfg.model.d_channels = default_channels(resolution)
    apply_model_defaults(cfg)  # the model's own loss, n_critic, drift, R1, learning rates and betas
    cfg.model.phase_images = 0  # ProGAN: no growing, the full-size network from the first step (others ignore it)
    cfg.schedule.batch_size, cfg.schedule.metrics_every = batch, 0
    cfg.perf.device, cfg.perf.precision, cfg.perf.threads = "cpu", precision, threads
    cfg.perf.adapt_threads = False
    problem = plan_problem(cfg)
    if problem:
        raise SystemExit(f"{model}: {problem}")
    return cfg


def time_models(*, models: list[str], resolution: int, batch: int, precision: str, threads: int, rounds: int,
                steps: int, tmp: Path) -> tuple[dict[str, Trainer], dict[str, list[float]]]:
    """Each model's Trainer and its ms per step in each round (rounds alternate between the models)."""
    torch.set_num_threads(threads)
    data = RandomImages(batch=batch, resolution=resolution)
    trainers: dict[str, Trainer] = {}
    for name in models:
        cfg = make_config(model=name, resolution=resolution, batch=batch, precision=precision, threads=threads)
        trainers[name] = Trainer(Run(tmp / name), cfg, dataset=data)
    progan = trainers.get("progan")
    if progan is not None:
        progan._grow(progan.G, progan.D, images_seen=progan.images_seen)  # what train_step does before each step
        assert progan.stage() == {"res": resolution, "alpha": 1.0}, progan.stage()

    acc = torch.zeros(5)
    for trainer in trainers.values():  # warm-up: kernels chosen, buffers allocated, Adam's state created
        for _ in range(2):
            trainer.train_step(acc)
    ms: dict[str, list[float]] = {name: [] for name in trainers}
    for _ in range(rounds):
        for name, trainer in trainers.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                trainer.train_step(acc)
            ms[name].append((time.perf_counter() - t0) * 1e3 / steps)
            trainer.step_losses.clear()  # the loop clears them at each logging tick
    if not torch.isfinite(acc).all():
        print("warning: a loss went non-finite during the timed steps", file=sys.stderr)
    return trainers, ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=4, help="timed steps per model per round")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "auto"),
                    help="auto runs the app's speed measurement per model before timing")
    ap.add_argument("--models", default="dcgan,msggan,progan,stylegan")
    ap.add_argument("--out", type=Path, help="also write the report to this markdown file")
    args = ap.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    res, batch = args.resolution, args.batch

    with tempfile.TemporaryDirectory() as tmp:
        # the set-up choices the precision leaves open (memory format, DCGAN's GEMM layers) measured afresh per model
        os.environ["FACEFORGE_CACHE_DIR"] = str(Path(tmp) / "cache")
        trainers, ms = time_models(models=models, resolution=res, batch=batch, precision=args.precision,
                                   threads=args.threads, rounds=args.rounds, steps=args.steps, tmp=Path(tmp))

    header = (f"cpu: {cpu_name()}  torch {torch.__version__}  threads: {torch.get_num_threads()}  "
              f"precision: {args.precision}  resolution: {res} px  batch: {batch}  "
              f"({args.rounds} rounds of {args.steps} steps per model, after 2 warm-up steps)")
    lines = [header, ""]
    for name, trainer in trainers.items():
        p = trainer.config.perf
        lines.append(f"- {name}: {trainer.config.loss.kind}, channels {trainer.config.model.g_channels}, "
                     f"{p.precision} {'channels_last' if p.channels_last else 'NCHW'}, "
                     f"GEMM layers {', '.join(p.gemm_layers) if p.gemm_layers else 'none'}")
    lines += ["", "| model | loss | precision | ms/step (median) | img/s | x DCGAN step |", "|---|---|---|---|---|---|"]
    for name, trainer in trainers.items():
        med = statistics.median(ms[name])
        if "dcgan" in ms:
            ratio = f"{statistics.median(a / b for a, b in zip(ms[name], ms['dcgan'])):.2f}"
        else:
            ratio = "-"
        lines.append(f"| {name} | {trainer.config.loss.kind} | {trainer.config.perf.precision} | {med:,.0f} | "
                     f"{batch * trainer.config.loss.n_critic * 1e3 / med:,.1f} | {ratio} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
