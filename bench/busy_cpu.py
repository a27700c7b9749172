"""Training speed when the machine is not FaceForge's alone: one run alone, beside a CPU-bound neighbour (a single
busy thread, as a browser tab or a compile would be), and beside a second FaceForge training; each with FaceForge's
remedies (thread count matched to the free cores, re-checked while training: faceforge/cpu_share.py) off and on.
Ratios are to the solo figure of the same process run.

    python bench/busy_cpu.py [--seconds 40] [--warmup 25] [--resolution 64] [--model dcgan]

Run it alone on the machine: anything else running is load it measures. Each case runs real `faceforge train`
processes (built-in faces) and reads their img/s from the progress lines after the warm-up (data, kernel timings
and the first load readings).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faceforge.device import cpu_name  # noqa: E402

# a busy single thread that ends with the bench, even when the bench is killed (its parent changes then)
NEIGHBOUR = ("import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n"
             "    for _ in range(50):\n        sum(i * i for i in range(10000))\n")


class Training:
    """One `faceforge train --json` process; collects (wall, images) from its stats lines."""

    def __init__(self, out: Path, *, adapt: bool, resolution: int, model: str, threads: int, name: str):
        cfg = {"perf": {"adapt_threads": adapt, "threads": threads}}
        cfg_path = out / f"{name}.json"
        cfg_path.write_text(json.dumps(cfg))
        cmd = [sys.executable, "-m", "faceforge", "train", "--config", str(cfg_path), "--data", "builtin:faces",
               "--model", model, "--attributes", "", "--resolution", str(resolution), "--steps", "100000",
               "--log-every", "2", "--metrics-every", "0", "--sample-every", "100000",
               "--checkpoint-every", "100000", "--out", str(out), "--name", name, "--json"]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                     cwd=ROOT)
        self.rows: list[tuple[float, int, int]] = []  # (monotonic time, images, threads)
        self.threads = threads
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if "threads" in event:  # in the first stats row, then whenever the thread count changes
                self.threads = int(event["threads"])
            if event.get("kind") == "stats" and "images" in event and "loss_g" in event:
                self.rows.append((time.monotonic(), int(event["images"]), self.threads))

    def started(self) -> bool:
        return len(self.rows) >= 2

    def rate(self, t0: float, t1: float) -> tuple[float, int]:
        inside = [r for r in self.rows if t0 <= r[0] <= t1]
        if len(inside) < 2:
            return float("nan"), self.threads
        (ta, ia, _), (tb, ib, th) = inside[0], inside[-1]
        return (ib - ia) / max(tb - ta, 1e-9), th

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure(case: str, *, adapt: bool, args, out: Path) -> list[tuple[float, int]]:
    runs = [Training(out, adapt=adapt, resolution=args.resolution, model=args.model, threads=args.threads,
                     name=f"{case}-{'on' if adapt else 'off'}-a")]
    neighbour = None
    if case == "neighbour":
        neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR])
    elif case == "two-runs":
        runs.append(Training(out, adapt=adapt, resolution=args.resolution, model=args.model, threads=args.threads,
                             name=f"{case}-{'on' if adapt else 'off'}-b"))
    try:
        deadline = time.monotonic() + 600
        while not all(r.started() for r in runs):
            if time.monotonic() > deadline or any(r.proc.poll() is not None for r in runs):
                raise RuntimeError(f"{case}: a training did not start")
            time.sleep(0.5)
        time.sleep(args.warmup)
        t0 = time.monotonic()
        time.sleep(args.seconds)
        return [r.rate(t0, time.monotonic()) for r in runs]
    finally:
        for r in runs:
            r.stop()
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=40.0, help="measured seconds per case")
    ap.add_argument("--warmup", type=float, default=25.0, help="seconds after the first stats before measuring")
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--model", default="dcgan")
    ap.add_argument("--threads", type=int, default=0, help="training threads (0 = every core)")
    ap.add_argument("--cases", default="solo,neighbour,two-runs", help="which cases to measure")
    ap.add_argument("--remedies", default="off,on", help="off, on or both")
    args = ap.parse_args()
    print(f"cpu: {cpu_name()}  cores: {os.cpu_count()}  model: {args.model} {args.resolution} px, batch 64")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for adapt in [r == "on" for r in args.remedies.split(",")]:
            for case in args.cases.split(","):
                rates = measure(case, adapt=adapt, args=args, out=out)
                results[(case, adapt)] = rates
                text = " + ".join(f"{r:.1f} img/s ({th} thr)" for r, th in rates)
                print(f"  remedies {'on ' if adapt else 'off'}  {case:<9}  {text}", flush=True)
    print("\nratio to the solo run (remedies off = the solo reference):")
    if ("solo", False) not in results:
        return 0
    solo = results[("solo", False)][0][0]
    for adapt in sorted({a for _, a in results}):
        row = []
        for case in [c for c in args.cases.split(",") if (c, adapt) in results]:
            total = sum(r for r, _ in results[(case, adapt)])
            row.append(f"{case} {total / solo:.2f}")
        print(f"  remedies {'on ' if adapt else 'off'}: " + "   ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
