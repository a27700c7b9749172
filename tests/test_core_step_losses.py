"""Every step's losses reach stats.jsonl (the plots show the oscillation a logging tick's mean hides) without
breaking its other readers, each quality measurement says how long it took (the time left counts the final one),
and the estimate says when it was measured while other programs used the CPU."""
from __future__ import annotations

import numpy as np
import pytest

from faceforge import cpu_share
from faceforge.curves import per_step_losses
from faceforge.runs import Run
from faceforge.training import start_run
from tests.helpers import random_dataset, tiny_config


def test_each_logging_tick_carries_the_losses_of_each_of_its_steps(tmp_path):
    cfg = tiny_config(steps=7)  # log_every 2: ticks at 2, 4, 6 and a short one at 7
    cfg.schedule.metrics_every, cfg.schedule.metrics_samples = 7, 16
    start_run(cfg, run_dir=tmp_path / "run", dataset=random_dataset())
    run = Run(tmp_path / "run")
    rows = [r for r in run.stats() if "loss_g" in r]
    assert [len(r["loss_g_steps"]) for r in rows] == [2, 2, 2, 1]
    for row in rows:  # the tick's mean is the mean of its steps
        assert np.mean(row["loss_g_steps"]) == pytest.approx(row["loss_g"], rel=1e-3, abs=1e-4)
        assert np.mean(row["loss_d_steps"]) == pytest.approx(row["loss_d"], rel=1e-3, abs=1e-4)
    assert per_step_losses(run.stats())[:, 0].tolist() == [1, 2, 3, 4, 5, 6, 7]
    scored = [r for r in run.stats() if "swd" in r]
    assert [r["step"] for r in scored] == [0, 7] and all(r["eval_s"] >= 0 for r in scored)
    progress = run.progress()  # the other readers of stats.jsonl still read it
    assert (progress.state, progress.step, progress.total_steps) == ("finished", 7, 7)


def test_the_estimate_says_it_was_measured_while_other_programs_used_the_cpu(monkeypatch):
    from faceforge.training.estimate import format_estimate
    from faceforge.training.estimate import estimate_run

    readings = iter([cpu_share.CpuTimes(wall=0.0, busy=0.0, own=0.0), cpu_share.CpuTimes(wall=10.0, busy=20.0,
                                                                                        own=10.0)])
    monkeypatch.setattr(cpu_share, "read_cpu_times", lambda: next(readings))  # a simulated neighbour: 1 core
    result = estimate_run(tiny_config(steps=3), dataset=random_dataset(), steps=1)
    assert result["others_busy_cores"] == 1.0
    result["cores"] = 2
    assert "Measured while other programs used 1.0 of 2 cores" in format_estimate(result)
    result["others_busy_cores"] = 0.1
    assert "other programs" not in format_estimate(result)
