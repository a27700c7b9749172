"""Does the fast path hurt learning? The same seeded 32x32 run in fp32 and in bf16 autocast (+ the chosen memory
format), compared by the quality score (SWD, diversity) after the same number of images.

    python bench/precision_quality.py [--steps 600] [--channels 32]

bf16 is emulated (slow) on CPUs without AVX512-BF16/AMX; the comparison of *quality* is still valid there.
Last line: ``fp32_swd=.. bf16_swd=.. fp32_div=.. bf16_div=.. images=..``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    from faceforge.config import TrainConfig
    from faceforge.data import load_dataset
    from faceforge.device import cpu_name
    from faceforge.runs import Run
    from faceforge.training import train

    print(f"cpu: {cpu_name()}")
    results = {}
    for precision in ("fp32", "bf16"):
        cfg = TrainConfig(seed=11)
        cfg.data.attributes = ["*"]
        cfg.model.g_channels = cfg.model.d_channels = args.channels
        cfg.schedule.steps, cfg.schedule.batch_size = args.steps, args.batch
        cfg.schedule.metrics_every = args.steps
        cfg.schedule.sample_every = cfg.schedule.checkpoint_every = args.steps
        cfg.perf.precision = precision
        ds = load_dataset(cfg.data)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.time()
            train(cfg, Path(tmp) / "run", dataset=ds)
            row = [r for r in Run(Path(tmp) / "run").stats() if "swd" in r][-1]
            results[precision] = (row["swd"], row["diversity"], row["images"], time.time() - t0)
        print(f"{precision}: SWD {results[precision][0]:.1f}, diversity {results[precision][1]:.3f} after "
              f"{results[precision][2]} images ({results[precision][3]:.0f} s)")
    f, b = results["fp32"], results["bf16"]
    print(f"fp32_swd={f[0]:.1f} bf16_swd={b[0]:.1f} fp32_div={f[1]:.3f} bf16_div={b[1]:.3f} images={f[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
