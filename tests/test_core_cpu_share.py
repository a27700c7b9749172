"""The thread-count decision and the 'CPU busy' notice, from simulated load readings (no timing)."""
import os
import subprocess
import sys

from faceforge import cpu_share
from faceforge.cpu_share import CpuTimes, ThreadGovernor, others_busy_cores, threads_for


class FakeLoad:
    """A machine whose other processes use ``others`` cores while this process uses ``own`` cores."""

    def __init__(self):
        self.t, self.busy, self.own = 0.0, 0.0, 0.0
        self.others, self.own_rate = 0.0, 2.0

    def advance(self, seconds):
        self.t += seconds
        self.busy += (self.others + self.own_rate) * seconds
        self.own += self.own_rate * seconds

    def __call__(self):
        return CpuTimes(wall=self.t, busy=self.busy, own=self.own)


def test_threads_match_the_cores_other_programs_leave_free():
    assert threads_for(cores=2, others=0.0, ceiling=2) == 2  # idle: nothing changes
    assert threads_for(cores=2, others=0.2, ceiling=2) == 2  # background noise is not a neighbour
    assert threads_for(cores=2, others=0.67, ceiling=2) == 1  # one busy thread sharing our cores
    assert threads_for(cores=2, others=1.0, ceiling=2) == 1
    assert threads_for(cores=2, others=2.0, ceiling=2) == 1  # never zero
    assert threads_for(cores=8, others=1.0, ceiling=8) == 7
    assert threads_for(cores=8, others=0.0, ceiling=4) == 4  # the configured count is a ceiling, never raised


def test_others_exclude_this_process():
    a = CpuTimes(wall=0.0, busy=0.0, own=0.0)
    b = CpuTimes(wall=10.0, busy=27.0, own=20.0)  # we used 2 cores, the machine 2.7: others 0.7
    assert abs(others_busy_cores(a, b) - 0.7) < 1e-9
    assert others_busy_cores(a, CpuTimes(wall=0.5, busy=1, own=1)) is None  # too short to trust


def test_governor_steps_down_under_a_neighbour_and_back_up_when_it_leaves():
    load = FakeLoad()
    gov = ThreadGovernor(ceiling=2, cores=2, reader=load, interval_s=5)
    assert gov.enabled and gov.threads == 2
    load.advance(5)
    d = gov.update()
    assert d.threads == 2 and not d.changed and d.text == ""  # idle: solo speed kept
    load.others = 0.7  # a compile starts
    load.advance(5)
    d = gov.update()
    assert d.threads == 2 and not d.changed  # one reading is not enough (hysteresis)
    assert d.text.startswith("CPU busy") and "0.7 of 2 cores" in d.text
    load.advance(5)
    d = gov.update()
    assert d.changed and d.threads == 1 and "training on 1 of 2 threads" in d.text
    load.others, load.own_rate = 1.0, 1.0  # with one thread the neighbour gets its whole core
    for _ in range(3):
        load.advance(5)
        d = gov.update()
        assert d.threads == 1 and not d.changed  # stable: no flapping
    load.others = 0.0  # it finished
    load.advance(5)
    assert gov.update().threads == 1
    load.advance(5)
    d = gov.update()
    assert d.changed and d.threads == 2 and d.text == ""


def test_governor_is_off_without_a_reading_or_with_one_thread():
    assert not ThreadGovernor(ceiling=2, cores=2, reader=lambda: None).enabled
    assert ThreadGovernor(ceiling=2, cores=2, reader=lambda: None).update() is None
    assert not ThreadGovernor(ceiling=1, cores=2, reader=FakeLoad()).enabled


def test_live_trainings_see_each_other_and_forget_dead_ones(tmp_path):
    mine = cpu_share.LiveTraining(tmp_path / "00001-a", threads=2)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (mine.path.parent / f"{other.pid}.json").write_text(
            f'{{"pid": {other.pid}, "run_dir": "{tmp_path / "00002-b"}", "threads": 2}}')
        others = cpu_share.other_live_trainings()
        assert [e["pid"] for e in others] == [other.pid]  # not ourselves
        notice = cpu_share.sharing_notice(others)
        assert "another FaceForge training" in notice and "00002-b" in notice
    finally:
        other.kill()
        other.wait()
    assert cpu_share.other_live_trainings() == []  # its process is gone
    assert not (mine.path.parent / f"{other.pid}.json").exists()
    mine.close()
    assert not mine.path.exists()


def test_reading_the_machine_works_here():
    reading = cpu_share.read_cpu_times()
    if not os.path.exists("/proc/stat"):
        assert reading is None
    else:
        assert reading.busy > 0 and reading.own > 0


def test_a_run_trains_on_the_free_cores_and_records_the_thread_count(tmp_path, monkeypatch):
    """A simulated neighbour using one of two cores: the run drops to one thread, says so once, records the
    change in stats.jsonl, and gives the thread back its count when it ends."""
    import pytest
    import torch

    from helpers import random_dataset, tiny_config

    from faceforge.runs import Run
    from faceforge.training import start_run

    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two cores to share")
    load = FakeLoad()
    calls = []

    def reading():  # every reading is 5 s after the one before; the neighbour starts at the fourth
        calls.append(1)
        load.others = 1.0 if len(calls) >= 4 else 0.0
        load.advance(5)
        return load()

    monkeypatch.setattr(cpu_share, "read_cpu_times", reading)
    before = torch.get_num_threads()
    cfg = tiny_config(steps=10)
    cfg.perf.adapt_threads, cfg.perf.threads = True, 2
    events = []
    start_run(cfg, run_dir=tmp_path / "run", dataset=random_dataset(), progress=events.append)
    rows = [r for r in Run(tmp_path / "run").stats() if "threads" in r]
    assert rows[0]["threads"] == 2 and rows[-1]["threads"] == 1 and len(rows) == 2  # first row, then the change
    cpu = [e for e in events if e["kind"] == "cpu"]
    assert all(e["busy"] and "other programs use 1.0 of 2 cores" in e["text"] for e in cpu)
    assert cpu[-1]["threads"] == 1 and "training on 1 of 2 threads" in cpu[-1]["text"]
    assert torch.get_num_threads() == 2  # the caller's thread is given back its count
    torch.set_num_threads(before)
    assert cpu_share.other_live_trainings() == [] and not list(cpu_share._live_dir().glob("*.json"))
