"""Nothing lost: kill `faceforge train` at random moments and resume; the run always continues, no checkpoint or
stats file is ever corrupt, and at most one checkpoint interval of work is lost. (bench/faults.py does 20 kills.)"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faceforge.checkpoints import load_checkpoint
from faceforge.runs import Run, list_runs

ROOT = Path(__file__).resolve().parents[1]
CKPT_EVERY = 10


def _train_cmd(out: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "faceforge", "train", "--data", "builtin:faces", "--builtin-count", "256",
            "--channels", "8", "--batch-size", "8", "--steps", str(steps), "--log-every", "5",
            "--sample-every", str(CKPT_EVERY), "--checkpoint-every", str(CKPT_EVERY), "--metrics-every", "0",
            "--precision", "fp32", "--out", str(out), "--quiet"]


def _env(tmp: Path) -> dict:
    env = dict(os.environ)
    env.update(FACEFORGE_CACHE_DIR=str(tmp / "cache"), PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return env


def check_run_is_intact(run: Run) -> int:
    """Every checkpoint loads, every stats line but possibly a torn last one parses; returns the checkpoint step."""
    ckpts = run.checkpoints()
    assert ckpts, "no checkpoint survived"
    # only finished checkpoints are listed: never a temp file a kill left mid-write (.ckpt-N.pt.XXXX.tmp)
    assert ckpts == sorted(run.checkpoints_dir.glob("ckpt-*.pt")), [p.name for p in ckpts]
    for path in ckpts:
        load_checkpoint(path)  # raises on any corruption
    lines = run.stats_path.read_text().splitlines() if run.stats_path.exists() else []
    for line in lines[:-1]:
        json.loads(line)
    return int(load_checkpoint(ckpts[-1])["step"])


def leave_a_torn_checkpoint(run: Run, step: int) -> None:
    """What a kill in the middle of writing the next checkpoint leaves: half of it, under its temp name. Planted
    on every kill (the random kills rarely land inside a write), so the resume and the checks above always meet one."""
    half = run.latest_checkpoint().read_bytes()
    (run.checkpoints_dir / f".ckpt-{step:08d}.pt.killed.tmp").write_bytes(half[: len(half) // 2])


def kill_and_resume(tmp_path: Path, *, kills: int, seed: int, steps: int = 400,
                    max_delay: float = 0.4) -> tuple[Run, int]:
    rng = random.Random(seed)
    out = tmp_path / "runs"
    env = _env(tmp_path)
    proc = subprocess.Popen(_train_cmd(out, steps), cwd=ROOT, env=env)
    run = None
    done = 0
    for k in range(kills):
        deadline = time.time() + 120
        while time.time() < deadline:  # wait until this process is training (its pid in status.json) past a checkpoint
            runs = list_runs(out)
            if (runs and runs[0].checkpoints() and proc.poll() is None
                    and runs[0].status().get("pid") == proc.pid):
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, max_delay))
        if proc.poll() is not None:
            break  # it finished before we could kill it
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done += 1
        run = list_runs(out)[0]
        logged = [r["step"] for r in run.stats() if "loss_g" in r]
        ckpt_step = check_run_is_intact(run)
        if logged:
            assert max(logged) - ckpt_step <= CKPT_EVERY, "more than one checkpoint interval of work lost"
        leave_a_torn_checkpoint(run, ckpt_step + CKPT_EVERY)
        if run.status()["state"] == "finished":  # it finished between our last look and the kill: nothing to resume
            break
        assert run.status()["state"] == "interrupted"
        proc = subprocess.Popen(_train_cmd(out, steps)[:4] + ["--resume", str(run.path), "--quiet"], cwd=ROOT,
                                env=env)
    assert proc.wait(timeout=300) == 0
    run = list_runs(out)[0]
    check_run_is_intact(run)
    steps_logged = [r["step"] for r in run.stats() if "loss_g" in r]
    assert steps_logged == sorted(set(steps_logged)), "a resumed curve must not double back"
    assert steps_logged[-1] == steps and run.status()["state"] == "finished"
    return run, done


@pytest.mark.slow
def test_sigkill_at_random_moments_always_resumes(tmp_path):
    _, done = kill_and_resume(tmp_path, kills=3, seed=1234)
    assert done == 3
