"""A training run's side of sharing the CPU (faceforge/cpu_share.py): register as a live training, say when other
FaceForge trainings share the machine, and every few seconds match the thread count to the free cores.

A change of thread count can change the last bits of results (the order of float additions), so a run that
adapted reproduces a run that did not only up to rounding; ``perf.adapt_threads = false`` (``--fixed-threads``)
keeps bit-exact reproducibility on a busy machine. On an idle machine nothing changes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from faceforge import cpu_share


class CpuSharing:
    """Owned by the Trainer for the length of ``run()``. ``emit(kind, **fields)`` is the Trainer's progress hook."""

    def __init__(self, run_dir: Path, *, enabled: bool, emit: Callable[..., None], reader=None):
        self.emit = emit
        self.ceiling = torch.get_num_threads()
        self.governor = (cpu_share.ThreadGovernor(ceiling=self.ceiling, reader=reader or cpu_share.read_cpu_times)
                         if enabled else None)
        self.live = cpu_share.LiveTraining(run_dir, threads=self.ceiling)
        self._notice = ""
        others = cpu_share.other_live_trainings()
        if others:
            emit("message", level="warning", text=cpu_share.sharing_notice(others))

    @property
    def threads(self) -> int:
        return self.governor.threads if self.governor is not None else self.ceiling

    def tick(self) -> dict | None:
        """Call between steps. Returns {"threads": n} for the stats row when the thread count changed."""
        gov = self.governor
        if gov is None or not gov.due():
            return None
        decision = gov.update()
        if decision is None:
            return None
        if decision.text != self._notice:  # say it when the situation changes, not every reading
            self._notice = decision.text
            self.emit("cpu", busy=bool(decision.text), others=round(decision.others, 2), threads=decision.threads,
                      text=decision.text or "The CPU is free again: training at full speed")
        if not decision.changed:
            return None
        torch.set_num_threads(decision.threads)  # this thread's OpenMP team; the GUI's threads are unaffected
        self.live.update(threads=decision.threads)
        return {"threads": decision.threads}

    def close(self) -> None:
        if self.governor is not None and torch.get_num_threads() != self.ceiling:
            torch.set_num_threads(self.ceiling)  # leave the calling thread as it was given to us
        self.live.close()


class NoSharing:
    """What the processes of a multi-process run other than rank 0 have: torchrun set their threads, and only rank 0
    registers the run as a live training."""

    threads = 0

    def tick(self) -> None:
        return None

    def close(self) -> None:
        pass
