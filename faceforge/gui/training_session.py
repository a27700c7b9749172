"""The one training run this window drives: start, pause, resume, stop, and a clean end.

Separate from the Train pane so the window (menus, toolbar, close handling, tests) and the pane talk to the same
object. ``finished`` is emitted only after the worker thread has really ended (QThread.finished), so whoever
reacts to it - closing the window, starting the next run - never races a thread that is still unwinding.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from faceforge.gui.workers import TrainWorker

log = logging.getLogger(__name__)


class TrainingSession(QObject):
    started = Signal(object)  # the core's "started" event (run_dir, step, total_steps, perf, attributes)
    progressed = Signal(object)  # TrainUpdate, at most ~30 per second
    pausedChanged = Signal(bool)
    finished = Signal(object)  # {"state", "step", "message", "run_dir"}
    stateChanged = Signal(str)  # idle | preparing | running | paused | stopping

    def __init__(self, parent: QObject | None = None, *, threads: int | None = None):
        super().__init__(parent)
        self.worker: TrainWorker | None = None
        self.threads = threads
        self.state = "idle"
        self.run_dir: Path | None = None
        self.total_steps = 0
        self.last_result: dict[str, Any] | None = None

    @property
    def active(self) -> bool:
        return self.worker is not None

    def start_new(self, config, *, runs_root: Path) -> None:
        self._start(TrainWorker(config=config, runs_root=runs_root, threads=self.threads))

    def resume(self, run_dir: Path, *, steps: int | None = None) -> None:
        self._start(TrainWorker(run_dir=Path(run_dir), steps=steps, threads=self.threads))
        self.run_dir = Path(run_dir)

    def _start(self, worker: TrainWorker) -> None:
        if self.worker is not None:
            raise RuntimeError("a training run is already in progress")
        self.worker = worker
        self.run_dir = None
        self.last_result = None
        worker.runStarted.connect(self._on_started)
        worker.progressed.connect(self.progressed)
        worker.pausedChanged.connect(self._on_paused)
        worker.finished.connect(self._on_thread_finished)  # QThread.finished: run() has returned
        self._set_state("preparing")
        worker.start()

    def pause(self) -> None:
        if self.worker is not None and self.state in ("preparing", "running"):
            self.worker.pause()
            self._set_state("paused")

    def resume_training(self) -> None:
        if self.worker is not None and self.state == "paused":
            self.worker.resume()
            self._set_state("running" if self.run_dir is not None else "preparing")

    def toggle_pause(self) -> None:
        if self.state == "paused":
            self.resume_training()
        else:
            self.pause()

    def stop(self) -> None:
        """Stop at the next step boundary; the core then writes a snapshot and a checkpoint (resumable)."""
        if self.worker is not None and self.state != "stopping":
            self.worker.stop()
            self._set_state("stopping")

    def wait(self, timeout_ms: int = 60000) -> bool:
        """Block until the worker thread ends - only for application shutdown and tests, never for the UI."""
        return self.worker.wait(timeout_ms) if self.worker is not None else True

    def _on_started(self, info: dict) -> None:
        self.run_dir = Path(info["run_dir"])
        self.total_steps = int(info.get("total_steps", 0))
        if self.state == "preparing":
            self._set_state("running")
        self.started.emit(info)

    def _on_paused(self, paused: bool) -> None:
        self.pausedChanged.emit(paused)

    def _on_thread_finished(self) -> None:
        worker = self.worker
        if worker is None:
            return
        result = dict(worker.result or {"state": "failed", "step": 0, "message": "the training thread ended early"})
        if result.get("run_dir"):
            self.run_dir = Path(result["run_dir"])
        self.worker = None
        self.last_result = result
        worker.deleteLater()
        self._set_state("idle")
        self.finished.emit(result)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)
