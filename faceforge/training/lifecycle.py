"""How a run begins and goes on: :func:`start_run` makes a new run folder and trains it, :func:`resume_run`
continues one from its latest checkpoint (its config.json decides everything but, optionally, the total steps).

Both take the same callbacks: ``progress`` receives dicts with a ``kind`` (started, data, stats, sample,
checkpoint, message, health, finished); ``should_stop`` is polled between steps and inside them.

Under torchrun both run in every process (training/distributed.py): rank 0 chooses, checks and creates the run
folder, loads the data first (so the others read the cache it filled) and shares the folder's path or its error;
the other processes train the same run and write nothing.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from faceforge.config import TrainConfig
from faceforge.runs import LIVE_STATES, Run, next_run_dir
from faceforge.tasks import ProgressFn, StopFn
from faceforge.training import distributed
from faceforge.training.batches import load_training_data
from faceforge.training.loop import Trainer, TrainResult


def start_run(config: TrainConfig, *, runs_root: Path | None = None, run_dir: Path | None = None, dataset=None,
              progress: ProgressFn | None = None, should_stop: StopFn | None = None,
              dist: distributed.Single | None = None) -> TrainResult:
    """Train a new run of ``config`` (which is not changed; the result's ``config`` is the run's resolved one).

    The run goes into ``run_dir`` if given (it must not hold a run yet), else into a new numbered folder under
    ``runs_root`` (default: the user's runs folder) named after the dataset, which is therefore loaded first.
    ``dataset`` (anything with ``images``, ``labels``, ``attributes``, ``name``) replaces loading the config's.
    """
    if runs_root is not None and run_dir is not None:
        raise ValueError("give a runs_root (a new numbered folder in it) or a run_dir, not both")
    config.validate()
    dist = dist or distributed.from_env()
    distributed.check_distributable(config, world=dist.world, device=_device_named(config))

    def prepare() -> tuple[str, bool]:  # rank 0 (or the only process)
        nonlocal dataset, run_dir
        if dataset is None:
            dataset = load_training_data(config, progress=progress, should_stop=should_stop)
        if run_dir is None:
            from faceforge.paths import default_runs_dir

            root = Path(runs_root) if runs_root is not None else default_runs_dir()
            run_dir = next_run_dir(root, dataset_name=dataset.name, config=config)
        run = Run(run_dir)
        if run.exists():
            raise ValueError(f"{run.path} already holds a run; resume it instead")
        created = not run.path.exists()
        run.path.mkdir(parents=True, exist_ok=True)
        return str(run.path), created

    path, created = dist.decide(prepare)
    run = Run(Path(path)) if dist.writes else distributed.follower_view(Path(path))
    try:
        trainer = Trainer(run, config, dataset=dataset, progress=progress, should_stop=should_stop, dist=dist)
    except BaseException:  # stopped or failed while setting up: leave no empty run folder behind
        if dist.writes and created and run.path.is_dir() and not any(run.path.iterdir()):
            run.path.rmdir()
        raise
    return trainer.run()


def _device_named(config: TrainConfig) -> str:
    """The device the config asks for, without measuring anything (auto: CUDA > MPS > CPU)."""
    from faceforge.device import pick_device

    return pick_device(config.perf.device)


def resume_run(run_dir: Path, *, steps: int | None = None, dataset=None, progress: ProgressFn | None = None,
               should_stop: StopFn | None = None, dist: distributed.Single | None = None) -> TrainResult:
    """Continue the run in ``run_dir`` exactly where its latest readable checkpoint left it, up to ``steps`` in
    total (default: the total it had). Refused while another live process trains it or holds it paused.

    Any number of processes resumes a run any number wrote: the batch at a step is the same global batch."""
    dist = dist or distributed.from_env()
    run = Run(run_dir)

    def check() -> str:  # rank 0 (or the only process): the run's config, as JSON
        nonlocal dataset
        if not run.exists():
            raise FileNotFoundError(f"{run_dir} is not a FaceForge run folder (no config.json)")
        status = run.status()
        if status.get("state") in LIVE_STATES and int(status.get("pid", -1)) != os.getpid():
            raise ValueError(f"{run.path.name} is being trained by another process (pid {status.get('pid')}, "
                             f"{status['state']}); stop it there first, or wait until it ends")
        config = run.config()
        if dist.active and dataset is None:  # the others then read the cache this fills
            dataset = load_training_data(config, progress=progress, should_stop=should_stop)
        return config.to_json()

    config = TrainConfig.from_json(dist.decide(check))
    if steps is not None:
        config.schedule.steps = steps
    distributed.check_distributable(config, world=dist.world, device=_device_named(config))
    if not dist.writes:
        run = distributed.follower_view(run.path)
    trainer = Trainer(run, config, dataset=dataset, progress=progress, should_stop=should_stop, dist=dist)
    return trainer.run(resume=True)


def dump_event(event: dict[str, Any]) -> str:
    """A progress event as one JSON line (arrays left out), for logs and the CLI's --json mode."""
    return json.dumps({k: v for k, v in event.items() if not isinstance(v, np.ndarray)})
