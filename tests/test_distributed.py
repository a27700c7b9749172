"""Multi-process training (training/distributed.py): two CPU processes on a gloo group over loopback train what one
process trains, stop and resume in between, resume with another process count, and write one run folder.

One spawn of two processes runs every 2-process scenario (tests/ddp_worker.py); this process runs the 1-process
references. fp32 throughout (bf16 rounds differently when the batch is sliced)."""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from faceforge.checkpoints import load_checkpoint
from faceforge.config import ConfigError
from faceforge.models import available_models, capabilities
from faceforge.runs import Run
from faceforge.training.distributed import check_distributable
from ddp_worker import run_job, scenario_config, worker
from helpers import tiny_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn_two(jobs: list[dict], root: Path, timeout: float = 120.0) -> None:
    """Two processes of one gloo group; a hang (ranks out of step wait in a collective) fails instead of blocking."""
    context = mp.start_processes(worker, args=(2, _free_port(), jobs, str(root)), nprocs=2, start_method="spawn",
                                 join=False)
    deadline = time.monotonic() + timeout
    while not context.join(timeout=1.0):
        if time.monotonic() > deadline:
            for p in context.processes:
                p.kill()
            raise AssertionError(f"the two processes did not finish within {timeout:.0f} s (out of step?)")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    d = {name: str(root / name) for name in ("one-rahinge", "one-gp", "one-r1", "one-growing", "two-rahinge",
                                             "two-gp", "two-growing",
                                             "two-r1-resumed", "two-then-one", "one-then-two")}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each of the two processes has (torchrun's default); 2 cores, shared
    run_job({"kind": "start", "scenario": "r1", "dir": d["one-then-two"], "stop_at": 2})  # 1 process, stopped at 2
    jobs = [{"kind": "start", "scenario": "rahinge", "dir": d["two-rahinge"]},
            {"kind": "start", "scenario": "gp", "dir": d["two-gp"]},
            {"kind": "start", "scenario": "growing", "dir": d["two-growing"]},
            {"kind": "start", "scenario": "r1", "dir": d["two-r1-resumed"], "stop_at": 2},
            {"kind": "resume", "dir": d["two-r1-resumed"]},
            {"kind": "start", "scenario": "r1", "dir": d["two-then-one"], "stop_at": 2},
            {"kind": "resume", "dir": d["one-then-two"]}]
    try:
        _spawn_two(jobs, root)
        for name in ("rahinge", "gp", "r1", "growing"):
            run_job({"kind": "start", "scenario": name, "dir": d[f"one-{name}"]})
        run_job({"kind": "resume", "dir": d["two-then-one"]})  # 2 processes wrote it, 1 finishes it
    except mp.ProcessRaisedException as exc:
        errors = "\n".join(p.read_text() for p in sorted(root.glob("rank*.txt")))
        raise AssertionError(f"the 2-process run failed:\n{errors or exc}") from exc
    finally:
        torch.set_num_threads(threads)
    return {k: Path(v) for k, v in d.items()}


def _weights(path: Path) -> dict:
    return load_checkpoint(Run(path).latest_checkpoint())


def assert_same_training(a_dir: Path, b_dir: Path, *, atol: float = 1e-5, adam_noise: bool = False):
    """G, D and G_ema equal within float tolerance. ``adam_noise``: Adam divides by the gradient's own size, so a
    parameter whose gradient is zero but for rounding moves by up to the learning rate on rounding alone; allow a
    few such elements (at most 0.1%, each below 1e-3) and hold every other to ``atol``."""
    a, b = _weights(a_dir), _weights(b_dir)
    assert a["step"] == b["step"] == 4
    for key in ("G", "D", "G_ema"):
        diff = torch.cat([(ta.float() - b[key][name].float()).abs().flatten() for name, ta in a[key].items()])
        if adam_noise:
            off = int((diff > atol).sum())
            assert diff.max() < 1e-3 and off <= 1e-3 * diff.numel(), f"{key}: {off} of {diff.numel()} differ, " \
                                                                    f"by up to {diff.max():.2e}"
        else:
            assert diff.max() <= atol, f"{key} differs by {diff.max():.2e}"


@pytest.mark.parametrize("scenario", ["gp", "rahinge", "growing"])
def test_two_processes_train_what_one_process_trains(runs, scenario):
    """gp: WGAN-GP's per-sample weights drawn for the global batch and sliced, n_critic 2 (G's first forward in
    no_sync); rahinge: the relativistic loss reads every rank's scores; growing: a progressive model whose blocks
    not grown yet take no part (DDP looks for unused parameters). (R1 through autograd.grad in DDP: the resume
    tests, whose runs use it at every D step.) Every scenario allows Adam's rounding noise: gp held to 1e-5 in
    every element until MSG-GAN's G up-sampled with nearest neighbours, after which one bias of D's last layer (1
    of 16) came out 2.6e-5 apart; a wrong slice of the GP weights moves far more, and far more elements."""
    assert_same_training(runs[f"one-{scenario}"], runs[f"two-{scenario}"], adam_noise=True)
    if scenario == "growing":  # it did grow during the run
        assert [r["res"] for r in Run(runs["two-growing"]).stats() if "res" in r][-1] > 4


def test_a_stop_and_resume_with_two_processes_matches_one_straight_run(runs):
    run = Run(runs["two-r1-resumed"])
    assert any("resumed from ckpt-00000002" in line for line in run.events())
    assert_same_training(runs["one-r1"], runs["two-r1-resumed"])


@pytest.mark.parametrize("name", ["two-then-one", "one-then-two"])
def test_resume_with_another_process_count(runs, name):
    assert any("resumed from ckpt-00000002" in line for line in Run(runs[name]).events())
    assert_same_training(runs["one-r1"], runs[name])


def test_two_processes_write_one_run_folder_that_reads_like_any_other(runs):
    folder = runs["two-rahinge"]
    assert sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("two-rahinge")) == ["two-rahinge"]
    run = Run(folder)
    assert run.status()["state"] == "finished" and run.progress().step == 4
    rows = [r for r in run.stats() if "loss_g" in r]
    assert [r["step"] for r in rows] == [2, 4]  # one row per tick, not one per process
    events = run.events()
    assert sum("started" in line for line in events) == 1 and "2 processes" in events[0]
    assert [p.name for p in run.checkpoints()] == ["ckpt-00000004.pt"]
    # the logged losses are the whole batch's, as one process logs them
    one = [r for r in Run(runs["one-rahinge"]).stats() if "loss_g" in r]
    for a, b in zip(one, rows):
        assert a["loss_d"] == pytest.approx(b["loss_d"], abs=1e-4) and a["d_real"] == pytest.approx(b["d_real"],
                                                                                                   abs=1e-4)
    assert json.loads((folder / "config.json").read_text())["perf"]["precision"] == "fp32"


def _first_model(**wanted) -> str:
    return next(n for n in available_models() if all(getattr(capabilities(n), k) == v for k, v in wanted.items()))


def test_runs_two_processes_cannot_compute_as_one_are_refused_in_words():
    bn = tiny_config(model=_first_model(batchnorm_d=True, conditioning="never"), attrs=())
    with pytest.raises(ConfigError, match="BatchNorm.*SyncBatchNorm.*CUDA"):
        check_distributable(bn, world=2, device="cpu")
    check_distributable(bn, world=2, device="cuda")  # SyncBatchNorm there (untested here: no GPU)
    check_distributable(bn, world=1, device="cpu")
    cfg = scenario_config("r1")
    check_distributable(cfg, world=2, device="cpu")
    cfg.schedule.batch_size = 9
    with pytest.raises(ConfigError, match="does not split evenly over 2 processes"):
        check_distributable(cfg, world=2, device="cpu")
    cfg.schedule.batch_size = 12  # 6 per process: groups of 4 would straddle two processes
    with pytest.raises(ConfigError, match="minibatch-stddev groups of 4"):
        check_distributable(cfg, world=2, device="cpu")
    with pytest.raises(ConfigError, match="MPS"):
        check_distributable(scenario_config("r1"), world=2, device="mps")


def test_torchrun_faceforge_train_writes_one_run_folder_that_faceforge_runs_shows(tmp_path, capsys):
    """The command line itself: before, two processes each trained a run of their own into two folders."""
    import subprocess
    import sys

    from faceforge.cli import main

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "runs"
    cmd = [str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc-per-node", "2", "-m", "faceforge",
           "train", "--model", "msggan", "--attributes", "", "--builtin-count", "64", "--channels", "8",
           "--steps", "4", "--batch-size", "8", "--log-every", "2", "--metrics-every", "0", "--precision", "fp32",
           "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = list(out.iterdir())
    assert done.stdout.count("finished at step 4") == 1 and done.stdout.count("step      4/4") == 1
    assert Run(run_dir).status()["state"] == "finished" and Run(run_dir).checkpoints()
    capsys.readouterr()
    assert main(["runs", str(out)]) == 0
    listed = capsys.readouterr().out
    assert run_dir.name in listed and "finished" in listed and "4/4" in listed
