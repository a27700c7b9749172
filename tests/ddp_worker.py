"""What each process of the 2-process tests (tests/test_distributed.py) runs: joins a gloo group on loopback the way
torchrun would describe it (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), then trains the scenarios it is given
into the folders it is given."""
from __future__ import annotations

import os
import traceback
from pathlib import Path

import torch

from helpers import random_dataset, tiny_config


def scenario_config(name: str, *, steps: int = 4):
    """The runs the tests compare: msggan (norm-free, minibatch stddev in groups of 4 = one rank's share of 8)."""
    if name == "growing":  # progan: grows 4 -> 8 px within the run (blocks not grown yet are unused parameters)
        cfg = tiny_config(model="progan", loss="wgan-gp", steps=steps, attrs=())
        cfg.model.phase_images = 8
        # 4 and 8 px steps taken as two updates of 4 images, split over the processes (stddev groups of 2)
        cfg.model.growth_batch, cfg.model.mbstd_group = 4, 2
        cfg.schedule.sample_every = cfg.schedule.checkpoint_every = 100
        return cfg
    cfg = tiny_config(model="msggan", loss={"rahinge": "rahinge", "gp": "wgan-gp", "r1": "hinge"}[name],
                      steps=steps, attrs=())
    cfg.model.conditioning = "projection"
    cfg.schedule.sample_every = cfg.schedule.checkpoint_every = 100  # checkpoints at a stop and at the end
    if name == "gp":
        cfg.loss.n_critic = 2  # G's first forward of the step runs in no_sync and is never trained through
    if name == "r1":
        cfg.loss.r1_gamma, cfg.loss.r1_every = 1.0, 1
    return cfg


def stop_after(step: int):
    """should_stop and progress for a run that is stopped once it has logged ``step``."""
    flag = {"stop": False}

    def progress(event):
        if event["kind"] == "stats" and event.get("step", 0) >= step:
            flag["stop"] = True

    return (lambda: flag["stop"]), progress


def run_job(job: dict) -> None:
    from faceforge.training import resume_run, start_run

    ds = random_dataset(n=64, n_attr=0)
    if job["kind"] == "start":
        stop, progress = stop_after(job["stop_at"]) if job.get("stop_at") else (None, None)
        start_run(scenario_config(job["scenario"]), run_dir=Path(job["dir"]), dataset=ds, should_stop=stop,
                  progress=progress)
    else:
        resume_run(Path(job["dir"]), dataset=ds)


def worker(rank: int, world: int, port: int, jobs: list[dict], errors: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from faceforge.training import distributed

    try:
        for job in jobs:
            run_job(job)
    except BaseException:
        Path(errors, f"rank{rank}.txt").write_text(traceback.format_exc(), encoding="utf-8")
        distributed.close_current(together=False)  # the other rank may be stuck elsewhere: no barrier
        raise
    distributed.close_current()
