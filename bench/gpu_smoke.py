"""GPU smoke test for the paths this repository cannot test on its CPU-only CI: one command for a person with a GPU.

    python bench/gpu_smoke.py                 # CUDA (or Apple MPS) as found; a few minutes
    python bench/gpu_smoke.py --compile       # also torch.compile
    python bench/gpu_smoke.py --device cpu    # the same checks on a CPU (how the script itself is tested)

What it checks, each printed PASS / FAIL with the reason, and a JSON summary at the end
(bench/results/gpu_smoke-DEVICE.json):

1. the speed choice on the device (``precision auto``: bf16 where the GPU has it, else fp16 with GradScaler;
   channels_last; cudnn.benchmark) and ``--dry-run``'s time and memory estimate;
2. for each model in the registry (norm-free and BatchNorm) a short run per precision (auto, fp32, bf16, fp16 where
   the device takes it): finite losses, a checkpoint, an exact resume (stop at half, resume: same weights as a
   straight run; fp32 only, since autocast kernels may be non-deterministic on a GPU);
3. with two or more CUDA GPUs: ``torchrun --nproc-per-node 2`` (NCCL) on a norm-free model and on a BatchNorm one
   (SyncBatchNorm), fp32, against one process: the weights agree within 1e-3, and one run folder is written.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS: list[dict] = []


def check(name: str, fn) -> object:
    t0 = time.perf_counter()
    try:
        out = fn()
        RESULTS.append({"check": name, "ok": True, "s": round(time.perf_counter() - t0, 1), "note": str(out or "")})
        print(f"PASS  {name}  {out or ''}", flush=True)
        return out
    except Exception as exc:  # noqa: BLE001 - every failure is reported, the rest still run
        RESULTS.append({"check": name, "ok": False, "note": f"{type(exc).__name__}: {exc}"})
        print(f"FAIL  {name}  {type(exc).__name__}: {exc}", flush=True)
        return None


def tiny(model: str, *, device: str, precision: str, steps: int = 6, compile_: bool = False):
    from faceforge.config import TrainConfig
    from faceforge.models import capabilities
    from faceforge.training.plans import apply_model_defaults

    cfg = TrainConfig(seed=1)
    cfg.model.name = model
    apply_model_defaults(cfg)
    cfg.model.resolution = cfg.data.resolution = 32
    cfg.model.g_channels = cfg.model.d_channels = 16
    cfg.data.attributes = ["smile", "glasses"] if capabilities(model).conditioning == "required" else []
    cfg.data.builtin_count = 256
    s = cfg.schedule
    s.steps, s.batch_size, s.log_every, s.sample_every, s.checkpoint_every, s.metrics_every = steps, 16, 2, 100, 100, 0
    cfg.perf.device, cfg.perf.precision, cfg.perf.compile = device, precision, compile_
    cfg.perf.adapt_threads = False
    return cfg


def weights(run_dir: Path) -> dict:
    from faceforge.checkpoints import load_checkpoint
    from faceforge.runs import Run

    return load_checkpoint(Run(run_dir).latest_checkpoint())


def max_diff(a: dict, b: dict) -> float:
    return max(float((a[k][n].float() - b[k][n].float()).abs().max()) for k in ("G", "D") for n in a[k])


def single_runs(device: str, model: str, precision: str, compile_: bool, tmp: Path) -> str:
    from faceforge.training import resume_run, start_run

    result = start_run(tiny(model, device=device, precision=precision, compile_=compile_),
                       run_dir=tmp / f"{model}-{precision}")
    rows = [r for r in json.loads("[" + ",".join((result.run_dir / "stats.jsonl").read_text().split()) + "]")
            if "loss_g" in r]
    if not rows or not all(abs(r["loss_g"]) < 1e6 and abs(r["loss_d"]) < 1e6 for r in rows):
        raise RuntimeError(f"losses not finite: {rows[-1] if rows else 'no rows'}")
    note = f"{result.config.perf.precision}, channels_last={result.config.perf.channels_last}, " \
           f"{rows[-1]['img_s']:.0f} img/s"
    if precision == "fp32":  # exact resume: stop at 3, resume to 6, against the straight run
        flag = {"stop": False}
        half = tmp / f"{model}-{precision}-resumed"
        start_run(tiny(model, device=device, precision=precision), run_dir=half,
                  should_stop=lambda: flag["stop"],
                  progress=lambda e: flag.update(stop=e["kind"] == "stats" and e["step"] >= 2 or flag["stop"]))
        resume_run(half)
        d = max_diff(weights(result.run_dir), weights(half))
        if d > 1e-5:
            raise RuntimeError(f"resume differs from the straight run by {d:.2e}")
        note += f"; resume exact ({d:.1e})"
    return note


def two_gpus(model: str, tmp: Path) -> str:
    from faceforge.training import start_run

    one = tmp / f"one-{model}"
    start_run(tiny(model, device="cuda", precision="fp32"), run_dir=one)
    cfg = tiny(model, device="cuda", precision="fp32")
    out = tmp / f"two-{model}"
    out.mkdir()
    cmd = [str(Path(sys.executable).with_name("torchrun")), "--nproc-per-node", "2", "-m", "faceforge", "train",
           "--config", str(one / "config.json"), "--steps", str(cfg.schedule.steps), "--out", str(out), "--quiet"]
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    d = max_diff(weights(one), weights(run))
    if d > 1e-3:
        raise RuntimeError(f"2 GPUs differ from 1 by {d:.2e}")
    return f"weights agree within {d:.1e}; one run folder {run.name}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto")
    ap.add_argument("--compile", action="store_true", help="also train through torch.compile")
    ap.add_argument("--models", default="", help="comma-separated subset of the registry's models")
    args = ap.parse_args()
    import torch

    from faceforge.device import pick_device
    from faceforge.models import available_models

    device = pick_device(args.device)
    if args.device == "auto" and device == "cpu":
        print("No CUDA or MPS device here: nothing to smoke-test (use --device cpu to run the checks on the CPU).")
        return 0
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name()}, {torch.cuda.device_count()} GPUs, bf16 "
             f"{torch.cuda.is_bf16_supported()})" if device == "cuda" else ""), flush=True)
    models = [m for m in (args.models.split(",") if args.models else available_models())]
    precisions = ["auto", "fp32"] + (["bf16", "fp16"] if device == "cuda" else ["bf16"] if device == "cpu" else [])
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FACEFORGE_RUNS_DIR": str(tmp / "runs")}
        check("dry-run estimate", lambda: subprocess.run(
            [sys.executable, "-m", "faceforge", "train", "--model", models[0], "--attributes", "", "--device", device,
             "--builtin-count", "256", "--dry-run"], check=True, env=env, capture_output=True, text=True
        ).stdout.strip().splitlines()[0])
        for model in models:
            for precision in precisions:
                check(f"{model} {precision}", lambda: single_runs(device, model, precision, False, tmp))
            if args.compile:
                check(f"{model} torch.compile", lambda: single_runs(device, model, "auto", True, tmp))
        if device == "cuda" and torch.cuda.device_count() >= 2:
            from faceforge.models import capabilities

            for model in models:
                if not capabilities(model).conditioning == "required":
                    check(f"torchrun 2 GPUs {model}", lambda: two_gpus(model, tmp))
        else:
            print("(fewer than two CUDA GPUs: the NCCL / SyncBatchNorm checks are skipped)")
    out = ROOT / "bench" / "results" / f"gpu_smoke-{device}.json"
    out.write_text(json.dumps({"device": device, "torch": torch.__version__, "results": RESULTS}, indent=1) + "\n")
    failed = [r["check"] for r in RESULTS if not r["ok"]]
    print(f"\n{len(RESULTS) - len(failed)} passed, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else "")
          + f"; {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
