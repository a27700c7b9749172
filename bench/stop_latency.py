"""How long Stop takes: a 64 px run (64 channels, batch 64) trains in a thread; Stop is requested at random
moments; the time until the stop's checkpoint is written, and until ``train`` has also written the stop's sample
grid and returned, is measured. Target <= 1 s on CPU.

    python bench/stop_latency.py [--trials 5]
Last line: ``median_stop_s=.. worst_stop_s=.. step_s=..``.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceforge.device import cpu_name  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()
    from faceforge.config import TrainConfig
    from faceforge.data import load_dataset
    from faceforge.training import start_run

    print(f"cpu: {cpu_name()}")
    cfg = TrainConfig()
    cfg.data.attributes = ["*"]
    cfg.data.builtin_count = 512
    cfg.model.resolution = cfg.data.resolution = 64
    cfg.schedule.steps, cfg.schedule.metrics_every, cfg.schedule.sample_every = 10_000, 0, 10_000
    ds = load_dataset(cfg.data)
    rng = random.Random(0)
    latencies, to_checkpoint = [], []
    for trial in range(args.trials):
        flag, started = threading.Event(), threading.Event()
        out = {}
        checkpoint_at = []

        def progress(event):
            if event["kind"] == "started":
                started.set()
            elif event["kind"] == "checkpoint":
                checkpoint_at.append(time.perf_counter())

        with tempfile.TemporaryDirectory() as tmp:
            def run():
                out["result"] = start_run(cfg, run_dir=Path(tmp) / "run", dataset=ds, should_stop=flag.is_set, progress=progress)
            t = threading.Thread(target=run)
            t.start()
            started.wait()
            time.sleep(2 + rng.uniform(0, 3))  # a few steps in, at a random moment within one
            t0 = time.perf_counter()
            flag.set()
            t.join()
            latencies.append(time.perf_counter() - t0)
        to_checkpoint.append(checkpoint_at[-1] - t0)
        step = out["result"].step
        print(f"trial {trial}: stopped at step {step}: checkpoint written after {to_checkpoint[-1]:.2f} s, "
              f"start_run() returned (grid written too) after {latencies[-1]:.2f} s")
    cfg2 = cfg
    from faceforge.training.estimate import estimate_run

    step_s = estimate_run(cfg2, dataset=ds, steps=3)["seconds_per_step"]
    print(f"median_checkpoint_s={statistics.median(to_checkpoint):.2f} worst_checkpoint_s={max(to_checkpoint):.2f}")
    print(f"median_stop_s={statistics.median(latencies):.2f} worst_stop_s={max(latencies):.2f} step_s={step_s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
