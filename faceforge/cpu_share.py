"""Sharing the CPU: how many cores other programs are using right now, how many threads training should run with,
and which other FaceForge trainings are live on this machine.

Why: intra-op parallelism (OpenMP) splits every convolution into one chunk per thread and waits for the slowest.
When another program keeps one of two cores busy, a 2-thread step waits on the thread that shares a core, and the
run falls to about a third of its speed; with one thread it keeps about two thirds (bench/busy_cpu.py). So a
training run measures what the other processes use (``/proc/stat`` minus its own CPU time), runs with the cores
that are actually free, and checks again while it trains, because load comes and goes. An idle machine is left
alone: the configured thread count is the ceiling, never raised above it.

Two FaceForge trainings see each other as load and settle at one thread each; each also registers itself in a
per-user folder so the other can name it ("another FaceForge training is running: …"). Linux only for the
measurement; elsewhere :func:`read_cpu_times` returns None and the thread count stays as configured.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from faceforge import paths
from faceforge.fileio import atomic_write_text
from faceforge.processes import pid_alive

#: a process using this much of a core or more counts as a neighbour worth giving a core to
BUSY_CORES = 0.5
#: readings closer together than this are too noisy to act on (scheduler ticks are 10 ms)
MIN_INTERVAL_S = 1.0


@dataclass(frozen=True)
class CpuTimes:
    """One reading: the machine's busy and total CPU seconds, and this process's own CPU seconds."""

    wall: float
    busy: float  # seconds of CPU time all cores spent not idle (steal included: the hypervisor took it)
    own: float  # seconds of CPU time this process used (all its threads)


def read_cpu_times() -> CpuTimes | None:
    """The machine-wide busy time from /proc/stat and this process's CPU time; None where /proc/stat is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            first = fh.readline().split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    ticks = [int(v) for v in first[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already counted in user/nice]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    busy = sum(ticks[:8]) - idle
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return CpuTimes(wall=time.monotonic(), busy=busy / hz, own=time.process_time())


def others_busy_cores(before: CpuTimes, after: CpuTimes) -> float | None:
    """How many cores' worth of CPU other processes used between two readings (0 on an idle machine)."""
    wall = after.wall - before.wall
    if wall < MIN_INTERVAL_S:
        return None
    others = (after.busy - before.busy) - (after.own - before.own)
    return max(0.0, others / wall)


def threads_for(*, cores: int, others: float, ceiling: int) -> int:
    """Threads to train with when other processes use ``others`` cores of ``cores``: the free cores, rounded so
    that a neighbour using half a core or more gets its core, between 1 and ``ceiling``."""
    free = cores - others
    return max(1, min(ceiling, int(free + (1.0 - BUSY_CORES) - 1e-9)))


@dataclass
class ThreadDecision:
    threads: int
    others: float  # cores other processes used over the last interval
    changed: bool
    text: str  # for a person: why this many threads ("" when nothing worth saying)


class ThreadGovernor:
    """Decides the training thread count from load readings, with hysteresis: a change needs two readings in a row
    that agree, so one compile or one browser tab loading a page does not make the run switch back and forth.

    ``reader`` is injectable so tests can simulate load (no timing in tests)."""

    def __init__(self, *, ceiling: int, cores: int | None = None, reader=read_cpu_times, interval_s: float = 5.0):
        self.ceiling = max(1, int(ceiling))
        self.cores = cores or os.cpu_count() or 1
        self.reader = reader
        self.interval_s = interval_s
        self.threads = self.ceiling
        self.others = 0.0
        self._last = reader()
        self._pending: int | None = None

    @property
    def enabled(self) -> bool:
        return self._last is not None and self.cores > 1 and self.ceiling > 1

    def due(self, now: float | None = None) -> bool:
        if not self.enabled:
            return False
        now = time.monotonic() if now is None else now
        return now - self._last.wall >= self.interval_s

    def update(self) -> ThreadDecision | None:
        """Take a reading; return the decision, or None when there is no reading (not Linux, or too soon)."""
        if not self.enabled:
            return None
        reading = self.reader()
        if reading is None:
            return None
        others = others_busy_cores(self._last, reading)
        if others is None:
            return None
        self._last = reading
        self.others = others
        wanted = threads_for(cores=self.cores, others=others, ceiling=self.ceiling)
        changed = False
        if wanted != self.threads:
            if self._pending == wanted:  # second reading in a row: act
                self.threads, changed, self._pending = wanted, True, None
            else:
                self._pending = wanted
        else:
            self._pending = None
        return ThreadDecision(self.threads, others, changed, self.describe())

    def describe(self) -> str:
        """The notice a person sees while the CPU is shared, or "" when training has the machine."""
        if self.others < BUSY_CORES:
            return ""
        used = f"{self.others:.1f} of {self.cores} cores"
        if self.threads < self.ceiling:
            return (f"CPU busy: other programs use {used}; training on {self.threads} of {self.ceiling} threads "
                    "so neither waits on the other (it speeds up again when they finish)")
        return f"CPU busy: other programs use {used}; training is slower until they finish"


# ----------------------------------------------------------------------------------------- live FaceForge trainings
def _live_dir() -> Path:
    path = paths.cache_dir() / "live-trainings"
    path.mkdir(parents=True, exist_ok=True)
    return path


class LiveTraining:
    """This process's entry in the per-user list of FaceForge trainings running now (one small JSON file per
    process, removed on exit; a dead process's file is ignored and cleaned up by the next reader)."""

    def __init__(self, run_dir: Path, *, threads: int):
        self.path = _live_dir() / f"{os.getpid()}.json"
        self.run_dir = Path(run_dir)
        self.update(threads=threads)

    def update(self, *, threads: int) -> None:
        try:
            atomic_write_text(self.path, json.dumps({"pid": os.getpid(), "run_dir": str(self.run_dir),
                                                     "threads": int(threads), "since": time.time()}))
        except OSError:
            pass  # a read-only cache folder only costs the other trainings the name of this one

    def close(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass

    def __enter__(self) -> "LiveTraining":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def other_live_trainings() -> list[dict]:
    """The other FaceForge trainings running on this machine for this user: [{pid, run_dir, threads}]."""
    out = []
    for path in sorted(_live_dir().glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            pid = int(entry["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid == os.getpid():
            continue
        if not pid_alive(pid):
            try:
                path.unlink()
            except OSError:
                pass
            continue
        out.append(entry)
    return out


def sharing_notice(others: list[dict]) -> str:
    """What to tell a person who starts a training while others run."""
    if not others:
        return ""
    names = ", ".join(Path(e.get("run_dir", "?")).name for e in others[:3])
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    what = "another FaceForge training is" if len(others) == 1 else f"{len(others)} other FaceForge trainings are"
    return (f"{what} running on this machine ({names}{more}): they share the cores, so each runs slower; "
            "the thread counts adjust so that together they lose little")
