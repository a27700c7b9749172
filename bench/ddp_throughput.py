"""Throughput of one training split over N processes (torchrun, gloo) against one process, on this machine.

    python bench/ddp_throughput.py [--model msggan] [--steps 120] [--batch 32] [--rounds 2]

Runs, in turn and ``--rounds`` times (so a load that comes and goes falls on every variant): one process with every
core's thread, one process with the default adaptive thread count, one process with one thread, and ``torchrun --nproc-per-node N`` (one thread each: torchrun's
default). Each is a fresh run of the same config (fp32, the same global batch); img/s is the median of its stats rows
after the first (warm-up) tick. Also reports how busy the CPU was with other programs meanwhile
(cpu_share.others_busy_cores, 2 s before each variant), since the machine may be shared. Writes bench/results/ddp_throughput.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _img_s(run_root: Path) -> float:
    (run,) = [p for p in run_root.iterdir() if p.is_dir()]
    rows = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines() if line.strip()]
    speeds = [r["img_s"] for r in rows if "img_s" in r][1:]
    return statistics.median(speeds)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="msggan")
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    from faceforge import cpu_share
    from faceforge.device import cpu_name

    cores = os.cpu_count() or 1
    common = ["-m", "faceforge", "train", "--model", args.model, "--attributes", "", "--builtin-count", "2000",
              "--steps", str(args.steps), "--batch-size", str(args.batch), "--precision", "fp32",
              "--log-every", "10", "--sample-every", str(args.steps), "--checkpoint-every", str(args.steps),
              "--metrics-every", "0", "--quiet"]
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    variants = {
        f"1 process, {cores} threads": [sys.executable, *common, "--threads", str(cores), "--fixed-threads"],
        # what a person gets by default: threads follow the cores other programs leave free (faceforge/cpu_share.py)
        "1 process, adaptive threads": [sys.executable, *common],
        "1 process, 1 thread": [sys.executable, *common, "--threads", "1", "--fixed-threads"],
        f"torchrun {args.nproc} processes x 1 thread": [torchrun, "--nproc-per-node", str(args.nproc), *common],
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results: dict[str, list[float]] = {name: [] for name in variants}
    busy: list[float] = []
    for _ in range(args.rounds):
        for name, cmd in variants.items():
            with tempfile.TemporaryDirectory() as tmp:
                before = cpu_share.read_cpu_times()  # other programs' load just before (2 s, nothing of ours)
                time.sleep(2.0)
                after = cpu_share.read_cpu_times()
                if before and after:
                    busy.append(cpu_share.others_busy_cores(before, after))
                t0 = time.perf_counter()
                subprocess.run([*cmd, "--out", tmp], check=True, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                results[name].append(round(_img_s(Path(tmp)), 1))
                print(f"{name}: {results[name][-1]} img/s ({time.perf_counter() - t0:.0f} s wall)", flush=True)
    report = {"cpu": cpu_name(), "cores": cores, "model": args.model, "batch": args.batch, "steps": args.steps,
              "precision": "fp32", "img_s": results,
              "median_img_s": {k: statistics.median(v) for k, v in results.items()},
              "others_busy_cores_mean": round(statistics.mean(busy), 2) if busy else None}
    out = ROOT / "bench" / "results" / "ddp_throughput.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["median_img_s"], indent=1), f"\nother programs' load: {report['others_busy_cores_mean']} "
          f"cores of {cores}, sampled for 2 s before each variant")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
