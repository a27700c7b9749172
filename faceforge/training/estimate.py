"""Cost of a run before the user commits: a short dry run of the real training step on the chosen device."""
from __future__ import annotations

import os
import tempfile
import time
from types import SimpleNamespace

import numpy as np
import torch

from faceforge import cpu_share
from faceforge.config import TrainConfig, is_builtin
from faceforge.tasks import format_duration
from faceforge.models import attributes_used
from faceforge.runs import Run


def _rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Placeholder(SimpleNamespace):
    def __len__(self) -> int:
        return len(self.images)


def placeholder_dataset(config: TrainConfig, n: int = 256) -> _Placeholder:
    """Random images of the run's shape, for timing only (the cost of a step does not depend on pixel values)."""
    r = config.model.resolution
    rng = np.random.default_rng(0)
    n_attr = 8 if config.data.attributes == ["*"] else len(config.data.attributes)
    n_attr = attributes_used(config.model.name, max(n_attr, 1))
    labels = rng.choice([-1.0, 1.0], (n, n_attr)).astype(np.float32) if n_attr else None
    return _Placeholder(images=rng.integers(0, 255, (n, r, r, 3), dtype=np.uint8), labels=labels,
                        attributes=[f"a{i}" for i in range(n_attr)], name="estimate")


def estimate_run(config: TrainConfig, *, dataset=None, steps: int = 3) -> dict:
    """Seconds per 1,000 steps and peak memory of training with ``config``, measured, not guessed.

    The first step (allocation, kernel selection) is excluded from the time; memory is the growth of the process
    (CPU) or the peak allocation (CUDA) during the dry run, plus the dataset held in memory. The load other
    programs put on the CPU meanwhile is measured too, so the estimate can say it was taken on a busy machine.
    """
    from faceforge.training.loop import Trainer

    before = cpu_share.read_cpu_times()
    ds = dataset if dataset is not None else placeholder_dataset(config)
    rss0 = _rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(Run(tmp), config, dataset=ds)
        progressive = trainer.caps.progressive
        if progressive:  # time the full-size network the run grows into: its 4x4 start would promise far too much
            trainer.images_seen = 1 << 62
        if trainer.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        acc = torch.zeros(5, device=trainer.device)
        trainer.train_step(acc)
        acc.tolist()
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.train_step(acc)
        acc.tolist()
        per_step = (time.perf_counter() - t0) / steps
        if trainer.device.type == "cuda":
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            peak = max(_rss_mb() - rss0, 0.0)
        data_mb = 0.0 if dataset is not None else (
            config.data.builtin_count * config.model.resolution**2 * 3 / 2**20 if is_builtin(config.data.source) else 0.0)
        after = cpu_share.read_cpu_times()
        others = cpu_share.others_busy_cores(before, after) if before and after else None
        return {
            # cores other programs kept busy while it was measured (None: not known): a busy machine's estimate
            # is slower than the run will be once they finish
            "others_busy_cores": round(others, 2) if others is not None else None,
            "cores": os.cpu_count() or 1,
            "seconds_per_step": per_step,
            "seconds_per_1000_steps": per_step * 1000,
            "img_per_s": config.schedule.batch_size * config.loss.n_critic / per_step,
            "peak_memory_mb": peak + data_mb,
            "device": trainer.perf.device,
            "precision": trainer.perf.precision,
            "reason": trainer.perf_reason,
            # a growing model was timed at its final size: the early, smaller phases go faster than this
            "full_size_only": progressive,
            "stage": trainer.stage(),
        }


def estimate_with_threads(config: TrainConfig, threads: int | None = None) -> dict:
    """:func:`estimate_run` with the torch thread count training will have (set for the calling thread only: a GUI
    pool's other tasks are unaffected), so the estimate is of the run that will happen."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return estimate_run(config, steps=3)
    finally:
        torch.set_num_threads(before)


def format_estimate(result: dict) -> str:
    """The estimate in words for the New-run dialog and the status bar."""
    parts = []
    secs = result.get("seconds_per_1000_steps")
    if isinstance(secs, (int, float)):
        parts.append(f"{format_duration(secs)} per 1,000 steps")
    mem = result.get("peak_memory_mb")
    if isinstance(mem, (int, float)):
        parts.append(f"peak memory ≈ {mem:,.0f} MB")
    where = " ".join(str(result[k]) for k in ("device", "precision") if result.get(k))
    if where:
        parts.append(where)
    text = " · ".join(parts) or "Estimate returned nothing"
    if result.get("full_size_only"):
        text += " (at full size; the smaller early phases go faster)"
    others = result.get("others_busy_cores")
    if isinstance(others, (int, float)) and others >= cpu_share.BUSY_CORES:
        text += (f". Measured while other programs used {others:.1f} of {result.get('cores', '?')} cores: training "
                 "will be faster when they finish (the time left follows the measured speed)")
    return text
