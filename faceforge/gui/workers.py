"""The training worker thread, and what it needs: the stats-row layout the GUI keeps, start-up warm-up.

Rules they follow (docs/ARCHITECTURE.md): no widget is touched; signals carry plain numbers, dicts and numpy arrays;
the GUI thread never waits on them. ``TrainWorker`` wraps ``start_run``/``resume_run``: its ``progress`` callback
collects events into an outbox that is flushed as one ``progressed`` signal at most ~30 times a second, however
fast the steps come; its ``should_stop`` callback is where Stop is honoured (at a step boundary, so the core
writes a final snapshot and checkpoint) and where Pause blocks the training thread on a condition variable.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QThread, Signal

from faceforge.curves import per_step_losses
from faceforge.gui.errors import log_exception, readable
from faceforge.runs import STATS_COLUMNS, Run

log = logging.getLogger(__name__)

COL = {name: i for i, name in enumerate(STATS_COLUMNS)}
UPDATE_INTERVAL_S = 1 / 30


def rows_to_array(rows: list[dict[str, Any]]) -> np.ndarray:
    """stats.jsonl rows -> (n, len(STATS_COLUMNS)) float64; a missing field is NaN (old or partial rows)."""
    out = np.full((len(rows), len(STATS_COLUMNS)), np.nan)
    for i, row in enumerate(rows):
        for j, name in enumerate(STATS_COLUMNS):
            value = row.get(name)
            if isinstance(value, (int, float)):
                out[i, j] = value
    return out


@dataclass
class TrainUpdate:
    """Everything that happened since the previous update, coalesced."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, len(STATS_COLUMNS))))
    samples: list[tuple[int, str]] = field(default_factory=list)
    grid: tuple[int, np.ndarray] | None = None  # the newest snapshot grid, straight from memory
    messages: list[tuple[str, str]] = field(default_factory=list)  # (level, text)
    data_progress: tuple[int, int] | None = None  # dataset preparation (done, total)
    checkpoint_step: int | None = None
    step_losses: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # [step, loss_g, loss_d] per step
    health: list[dict[str, Any]] = field(default_factory=list)  # the core's health warnings: code, step, text
    cpu: dict[str, Any] | None = None  # the newest "cpu" event: busy, others, threads, text
    eval_s: float | None = None  # how long the newest quality measurement took
    scales: tuple[int, np.ndarray] | None = None  # a multi-scale model's newest strip (one face at every scale)
    mixing: tuple[int, np.ndarray] | None = None  # a W-space model's newest style-mixing figure


class _Outbox:
    """Events gathered on the training thread between two flushes."""

    def __init__(self) -> None:
        self.rows: list[list[float]] = []
        self.samples: list[tuple[int, str]] = []
        self.grid: tuple[int, np.ndarray] | None = None
        self.messages: list[tuple[str, str]] = []
        self.data_progress: tuple[int, int] | None = None
        self.checkpoint_step: int | None = None
        self.step_losses: list[np.ndarray] = []
        self.health: list[dict[str, Any]] = []
        self.cpu: dict[str, Any] | None = None
        self.eval_s: float | None = None
        self.scales: tuple[int, np.ndarray] | None = None
        self.mixing: tuple[int, np.ndarray] | None = None

    def empty(self) -> bool:
        return not (self.rows or self.samples or self.grid is not None or self.messages or self.health
                    or self.data_progress is not None or self.checkpoint_step is not None or self.cpu is not None)

    def take(self) -> TrainUpdate:
        rows = np.asarray(self.rows, np.float64).reshape(-1, len(STATS_COLUMNS))
        losses = np.concatenate(self.step_losses) if self.step_losses else np.zeros((0, 3))
        update = TrainUpdate(rows, self.samples, self.grid, self.messages, self.data_progress, self.checkpoint_step,
                             losses, self.health, self.cpu, self.eval_s, self.scales,
                             self.mixing)
        self.__init__()
        return update


#: Linux lets one thread (and the OpenMP threads it starts, which inherit it) run at a lower priority than the rest
#: of the process: training then takes every core while the GUI thread still runs first whenever it has work.
#: Measured with bench/ui_stall.py on 2 cores (Ice Lake Xeon), Quick-look model: 1 thread at normal priority 4.0
#: steps/s, worst GUI stall 51 ms; 2 threads at nice 10: 6.6 steps/s, worst stall 38 ms.
CAN_LOWER_THREAD_PRIORITY = sys.platform.startswith("linux") and hasattr(os, "setpriority")
TRAINING_NICE = 10


def default_training_threads() -> int:
    """All cores where the training thread can yield to the GUI (Linux), else one core fewer than the machine has,
    so the GUI thread always finds a free one."""
    cores = os.cpu_count() or 2
    return cores if CAN_LOWER_THREAD_PRIORITY else max(1, cores - 1)


def lower_this_thread_priority() -> bool:
    """Give the calling thread (and the threads it starts from now on) a lower scheduling priority; Linux only."""
    if not CAN_LOWER_THREAD_PRIORITY:
        return False
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < TRAINING_NICE:  # never raise it (a user may run us at nice 15)
            os.setpriority(os.PRIO_PROCESS, tid, TRAINING_NICE)
        return True
    except OSError:
        return False


class TrainWorker(QThread):
    """Trains one run on its own thread: a new run from ``config`` (``start_run``), or ``run_dir`` resumed up to
    ``steps`` (``resume_run``).

    Signals: ``runStarted(dict)`` once the run folder is known; ``progressed(TrainUpdate)`` throttled;
    ``pausedChanged(bool)`` when the thread actually blocks/unblocks; ``runFinished(dict)`` always, last, with
    state (finished | stopped | cancelled | failed | disk-full), step, message and run_dir.
    """

    runStarted = Signal(object)
    progressed = Signal(object)
    pausedChanged = Signal(bool)
    runFinished = Signal(object)

    def __init__(self, *, config=None, run_dir: Path | None = None, runs_root: Path | None = None,
                 steps: int | None = None, threads: int | None = None, parent=None):
        super().__init__(parent)
        if (config is None) == (run_dir is None):
            raise ValueError("TrainWorker needs a config (new run) or a run_dir (resume), not both")
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.runs_root = runs_root
        self.steps = steps
        self.threads = threads
        self._cond = threading.Condition()
        self._paused = False
        self._stopping = False
        self._outbox = _Outbox()
        self._last_flush = 0.0
        self._step = 0
        self._total = 0
        self.result: dict[str, Any] | None = None

    # ---------------------------------------------------------------- control (any thread)
    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def stop(self) -> None:
        """Ask the loop to stop at the next step boundary (it then saves a snapshot and a checkpoint)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def paused(self) -> bool:
        return self._paused

    # ---------------------------------------------------------------- training thread
    def _should_stop(self) -> bool:
        if self._paused and not self._stopping:
            self._flush(force=True)
            self._write_status("paused")  # so other windows and `faceforge runs` see it paused, not stalled
            self.pausedChanged.emit(True)
            with self._cond:
                while self._paused and not self._stopping:
                    self._cond.wait()
            self._write_status("running")
            self.pausedChanged.emit(False)
        else:
            self._flush()
        return self._stopping

    def _write_status(self, state: str) -> None:
        if self.run_dir is None or not self._total:  # still preparing data: no run folder state to change yet
            return
        try:
            Run(self.run_dir).write_status(state, step=self._step, total_steps=self._total)
        except OSError:  # a full disk must not turn a pause into a crash; the core reports disk trouble itself
            pass

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        box = self._outbox
        if kind == "stats":
            box.rows.append([float(event.get(c, np.nan)) for c in STATS_COLUMNS])
            box.step_losses.append(per_step_losses([event]))
            if isinstance(event.get("eval_s"), (int, float)):
                box.eval_s = float(event["eval_s"])
            self._step = int(event.get("step", self._step))
        elif kind == "sample":
            box.samples.append((int(event["step"]), str(event["path"])))
            if event.get("grid") is not None:
                box.grid = (int(event["step"]), event["grid"])
            if event.get("scales") is not None:
                box.scales = (int(event["step"]), event["scales"])
            if event.get("mixing") is not None:
                box.mixing = (int(event["step"]), event["mixing"])
        elif kind == "message":
            box.messages.append((str(event.get("level", "info")), str(event.get("text", ""))))
        elif kind == "health":  # the core's plain-language health monitor (collapse, D winning, ...)
            box.health.append({"code": str(event.get("code", "")), "step": int(event.get("step", self._step)),
                               "text": str(event.get("text", ""))})
        elif kind == "cpu":  # other programs use the CPU: the core adapted its thread count
            box.cpu = {k: event.get(k) for k in ("busy", "others", "threads", "text")}
        elif kind == "data":
            box.data_progress = (int(event.get("done", 0)), int(event.get("total", 0)))
        elif kind == "checkpoint":
            box.checkpoint_step = int(event.get("step", 0))
        elif kind == "started":
            freeze_heap()  # the model, the data and every module training needed are loaded by now
            self._flush(force=True)
            self.run_dir = Path(event["run_dir"])
            self._step = int(event.get("step", 0))
            self._total = int(event.get("total_steps", 0))
            self.runStarted.emit({k: v for k, v in event.items() if not isinstance(v, np.ndarray)})
            return
        elif kind == "finished":
            self.result = {"state": event.get("state", "finished"), "step": int(event.get("step", 0)),
                           "message": event.get("message", "")}
            return
        self._flush()

    def _flush(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self._outbox.empty() or (not force and now - self._last_flush < UPDATE_INTERVAL_S):
            return
        self._last_flush = now
        self.progressed.emit(self._outbox.take())

    def run(self) -> None:  # the thread's body
        from faceforge.training import resume_run, start_run

        freeze_heap()  # whatever the app loaded so far, e.g. the Dataset tab's faces
        lower_this_thread_priority()  # before torch starts its OpenMP threads for this thread: they inherit it
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        result: dict[str, Any]
        try:
            callbacks = dict(progress=self._on_event, should_stop=self._should_stop)
            if self.config is not None:
                res = start_run(self.config, runs_root=self.runs_root, **callbacks)
            else:
                res = resume_run(self.run_dir, steps=self.steps, **callbacks)
            result = self.result or {"state": res.state, "step": res.step, "message": res.message}
        except BaseException as exc:  # noqa: BLE001 - the thread must always report back
            if self._stopping and _is_cancelled(exc):
                result = {"state": "cancelled", "step": self._step, "message": "stopped before training started"}
            else:
                log_exception(exc, "training")
                result = {"state": "failed", "step": self._step, "message": readable(exc)}
                self._mark_failed(result["message"])
        self._flush(force=True)
        result["run_dir"] = str(self.run_dir) if self.run_dir is not None else None
        self.result = result
        self.runFinished.emit(result)

    def _mark_failed(self, message: str) -> None:
        """Training raised after writing status 'running' with our pid: left alone, the run would look alive for
        as long as the app runs. Record the failure so the run list shows it and Resume is offered."""
        if self.run_dir is None:
            return
        try:
            run = Run(self.run_dir)
            if run.exists() and run.status().get("state") == "running":
                run.write_status("failed", step=self._step, total_steps=self._total, message=message)
                run.log_event(f"failed at step {self._step}: {message}", level="error")
        except OSError as exc:
            log.warning("could not record the failure in %s: %s", self.run_dir, exc)


def warm_up_training_imports() -> None:
    """Import what the first training step would import lazily, on a pool thread at start-up.

    Creating the first torch optimiser imports torch._dynamo (and sympy through it): about two seconds of
    module loading that otherwise lands inside the first Start and stalls the event loop in bursts (GIL-bound
    imports). Done here, it overlaps with the user looking at the window.
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()  # importing creates ~a million objects: no point scanning them again and again meanwhile
    try:
        import torch._dynamo  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - an optimisation only
        log.info("warm-up import failed: %s", exc)
    finally:
        freeze_heap()
        if enabled:
            gc.enable()


def freeze_heap() -> None:
    """Move every object alive now out of the cyclic garbage collector's reach (``gc.freeze``).

    With torch, sympy and Qt loaded the heap holds millions of long-lived objects, and a full collection - which
    can be triggered by any allocation on any thread and holds the GIL throughout - took 100-300 ms: the GUI
    thread froze that long (found with py-spy --gil --native). Frozen objects are still freed by reference
    counting; only cycles among them would stay, and modules, models and datasets live for the run anyway.
    """
    import gc

    gc.freeze()


def _is_cancelled(exc: BaseException) -> bool:
    try:
        from faceforge.tasks import Cancelled
    except ImportError:
        return False
    return isinstance(exc, Cancelled)
