"""Does the fast path hurt learning? The same seeded 32x32 run in fp32 and in bf16 autocast (+ the chosen memory
format), compared by the quality score (SWD, diversity) after the same number of images.

    python bench/precision_quality.py [--steps 1000] [--channels 32] [--seeds 2]

bf16 is emulated (slow) on CPUs without AVX512-BF16/AMX; the comparison of *quality* is still valid there.
Means over the seeds; last line: ``fp32_swd=.. bf16_swd=.. fp32_div=.. bf16_div=.. images=.. seeds=..``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()

    from faceforge.config import TrainConfig
    from faceforge.data import load_dataset
    from faceforge.device import cpu_name
    from faceforge.runs import Run
    from faceforge.training import start_run

    print(f"cpu: {cpu_name()}")
    results: dict[str, list[tuple[float, float, int, float]]] = {"fp32": [], "bf16": []}
    seeds = [11 + i for i in range(args.seeds)]
    for seed in seeds:  # two seeds per precision: the fp32 seed-to-seed spread is the yardstick for "similar"
        for precision in ("fp32", "bf16"):
            cfg = TrainConfig(seed=seed)
            cfg.data.attributes = ["*"]
            cfg.model.g_channels = cfg.model.d_channels = args.channels
            cfg.schedule.steps, cfg.schedule.batch_size = args.steps, args.batch
            cfg.schedule.metrics_every = args.steps
            cfg.schedule.sample_every = cfg.schedule.checkpoint_every = args.steps
            cfg.perf.precision = precision
            ds = load_dataset(cfg.data)
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.time()
                start_run(cfg, run_dir=Path(tmp) / "run", dataset=ds)
                row = [r for r in Run(Path(tmp) / "run").stats() if "swd" in r][-1]
                results[precision].append((row["swd"], row["diversity"], row["images"], time.time() - t0))
            r = results[precision][-1]
            print(f"seed {seed} {precision}: SWD {r[0]:.1f}, diversity {r[1]:.3f} after {r[2]} images ({r[3]:.0f} s)",
                  flush=True)
    mean = {p: (statistics.mean(x[0] for x in v), statistics.mean(x[1] for x in v)) for p, v in results.items()}
    spread = {p: max(x[0] for x in v) - min(x[0] for x in v) for p, v in results.items()}
    print(f"SWD spread between seeds: fp32 {spread['fp32']:.1f}, bf16 {spread['bf16']:.1f}")
    print(f"fp32_swd={mean['fp32'][0]:.1f} bf16_swd={mean['bf16'][0]:.1f} fp32_div={mean['fp32'][1]:.3f} "
          f"bf16_div={mean['bf16'][1]:.3f} images={results['fp32'][0][2]} seeds={len(seeds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
